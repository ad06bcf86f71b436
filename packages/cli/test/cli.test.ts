import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CliResult,
  cleanEnv,
  type EmulatorProcess,
  ensureBuilt,
  runCli,
  startEmulatorProcess,
} from './cli-process.js';

// A token nobody would print by accident: every run below is searched for it.
const TOKEN = 'tok-Secret-7f3a9c41e2';
const WRONG_TOKEN = 'tok-Wrong-0b6d5e88aa';
const PHONE_TYPED = '+7 (912) 345-67-89';
const PHONE = '79123456789';

function expectNoSecrets(result: CliResult, ...secrets: string[]): void {
  for (const secret of secrets) {
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  }
}

/** A port where nothing listens: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

beforeAll(ensureBuilt, 180_000);

describe('olchat-kit emulator', () => {
  let running: EmulatorProcess | undefined;
  afterEach(async () => {
    await running?.stop('SIGKILL');
    running = undefined;
  });

  it('prints exports that check and send work with; SIGINT stops it with exit 0 and frees the port', async () => {
    running = await startEmulatorProcess(['--port', '0', '--token', TOKEN]);
    const env = cleanEnv(running.exports);
    expect(running.exports.OLCHAT_TOKEN).toBe(TOKEN); // the emulator's token is printed on purpose
    expect(running.exports.OLCHAT_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rest\/webhook\/wa$/);

    const check = await runCli(['check'], env);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/Token\s+accepted/);
    expect(check.stdout).toMatch(/Line\s+connected/);
    expectNoSecrets(check, TOKEN);

    const send = await runCli(['send', '--phone', PHONE_TYPED, '--text', 'Заказ №7 готов'], env);
    expect(send.code, send.stderr).toBe(0);
    const messageId = send.stdout.trim();
    expectNoSecrets(send, TOKEN);

    // The inbox page's data: the message arrived in the emulator process, under the printed id.
    const inbox = (await (await fetch(`${running.inboxUrl}inbox.json`)).json()) as {
      messages: { id: string; phone: string; text?: string }[];
    };
    expect(inbox.messages).toEqual([expect.objectContaining({ id: messageId, phone: PHONE, text: 'Заказ №7 готов' })]);
    expect((await fetch(running.inboxUrl)).headers.get('content-type')).toContain('text/html');

    const exit = await running.stop('SIGINT');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(running.output().stdout).toContain('Stopped (SIGINT)');
    expect(running.output().stderr).toBe('');
    await expect(fetch(running.inboxUrl)).rejects.toThrow();
  });

  it('SIGTERM stops it with exit 0 too', async () => {
    running = await startEmulatorProcess(['--port', '0']);
    expect(running.exports.OLCHAT_TOKEN).toBe('test-token');
    expect(await running.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('--disconnected makes check report the line down (exit 1); --read-after 0 marks messages read', async () => {
    running = await startEmulatorProcess(['--port', '0', '--disconnected', '--read-after', '0']);
    const env = cleanEnv(running.exports);
    const check = await runCli(['check'], env);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/Line\s+disconnected/);

    const send = await runCli(['send', '--phone', PHONE, '--text', 'x'], env);
    expect(send.code, send.stderr).toBe(0);
    const inbox = (await (await fetch(`${running.inboxUrl}inbox.json`)).json()) as { messages: { status: string }[] };
    expect(inbox.messages.map((m) => m.status)).toEqual(['read']);
  });

  it('a taken port: a clear message and exit 1', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(['emulator', '--port', String(port)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`port ${port} is in use`);
      expect(result.stdout).toBe('');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('bad options exit 64 before listening', async () => {
    for (const args of [
      ['--port', 'abc'],
      ['--port', '70000'],
      ['--delivered-after', '500', '--read-after', '100'],
    ]) {
      const result = await runCli(['emulator', ...args]);
      expect(result.code, args.join(' ')).toBe(64);
      expect(result.stderr).toContain('olchat-kit emulator:');
    }
  });
});

describe('olchat-kit check', () => {
  let emu: Emulator;
  beforeEach(async () => {
    emu = await startEmulator({ tokens: [TOKEN] });
  });
  afterEach(async () => {
    await emu.close();
  });
  const envFor = (token = TOKEN, baseUrl = emu.baseUrl) => cleanEnv({ OLCHAT_TOKEN: token, OLCHAT_BASE_URL: baseUrl });

  it('connected: exit 0, in one request', async () => {
    const result = await runCli(['check'], envFor());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`OLChat  ${emu.baseUrl}`);
    expect(emu.requests.map((r) => r.method)).toEqual(['checkStatus']);
    expect(result.stdout).not.toContain('\u001b['); // not a terminal: no colours
    expectNoSecrets(result, TOKEN);
  });

  it('the line disconnected: exit 1', async () => {
    emu.setConnected(false);
    const result = await runCli(['check'], envFor());
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Token\s+accepted/);
    expect(result.stdout).toMatch(/Line\s+disconnected/);
    expect(result.stderr).toContain('not connected');
    expectNoSecrets(result, TOKEN);
  });

  it('a wrong token: exit 2, and neither token is printed', async () => {
    const result = await runCli(['check'], envFor(WRONG_TOKEN));
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/Token\s+rejected/);
    expect(result.stderr).toContain('401');
    expectNoSecrets(result, TOKEN, WRONG_TOKEN);
  });

  it('nothing listening: exit 3', async () => {
    const result = await runCli(['check'], envFor(TOKEN, `http://127.0.0.1:${await closedPort()}/rest/webhook/wa`));
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('ECONNREFUSED');
    expectNoSecrets(result, TOKEN);
  });

  it('a 503 or a 429: exit 3 after one attempt, no retries', async () => {
    emu.fail('503');
    const unavailable = await runCli(['check'], envFor());
    expect(unavailable.code).toBe(3);
    expect(unavailable.stderr).toContain('503');
    emu.fail('429');
    const limited = await runCli(['check'], envFor());
    expect(limited.code).toBe(3);
    expect(emu.requests.map((r) => r.status)).toEqual([503, 429]);
    expectNoSecrets(unavailable, TOKEN);
    expectNoSecrets(limited, TOKEN);
  });

  it('a timeout: exit 3 within --timeout', async () => {
    emu.fail('timeout');
    const result = await runCli(['check', '--timeout', '300'], envFor());
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('300 ms');
  });

  it('no OLCHAT_TOKEN, a malformed one or a bad base URL: exit 64 and nothing asked', async () => {
    const missing = await runCli(['check'], cleanEnv({ OLCHAT_BASE_URL: emu.baseUrl }));
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain('OLCHAT_TOKEN is not set');
    const malformed = await runCli(['check'], envFor(`${TOKEN}/x`));
    expect(malformed.code).toBe(64);
    expectNoSecrets(malformed, TOKEN);
    const badUrl = await runCli(['check'], envFor(TOKEN, 'not a url'));
    expect(badUrl.code).toBe(64);
    expect(badUrl.stderr).toContain('OLCHAT_BASE_URL must be an http(s) URL');
    expect(emu.requests).toEqual([]);
  });

  it('a token passed as an argument is refused without being echoed', async () => {
    for (const args of [['--token', TOKEN], [`--token=${TOKEN}`], [TOKEN]]) {
      const result = await runCli(['check', ...args], cleanEnv({ OLCHAT_BASE_URL: emu.baseUrl }));
      expect(result.code, args.join(' ')).toBe(64);
      expectNoSecrets(result, TOKEN);
    }
    // Pasted into the wrong option, it would be quoted back in the reason: every line is scrubbed.
    const asPhone = await runCli(['send', '--phone', TOKEN, '--text', 'x'], envFor());
    expect(asPhone.code).toBe(64);
    expect(asPhone.stderr).toContain('Not a Russian or Kazakh phone number: "***"');
    const asCommand = await runCli([TOKEN], cleanEnv());
    expect(asCommand.code).toBe(64);
    expectNoSecrets(asCommand, TOKEN);
  });
});

describe('olchat-kit send', () => {
  let emu: Emulator;
  beforeEach(async () => {
    emu = await startEmulator({ tokens: [TOKEN] });
  });
  afterEach(async () => {
    await emu.close();
  });
  const env = () => cleanEnv({ OLCHAT_TOKEN: TOKEN, OLCHAT_BASE_URL: emu.baseUrl });

  it('a text: prints the message id the emulator gave, to a normalized phone', async () => {
    const result = await runCli(['send', '--phone', PHONE_TYPED, '--text', 'Привет!', '--imol'], env());
    expect(result.code, result.stderr).toBe(0);
    expect(emu.messages).toHaveLength(1);
    expect(emu.messages[0]).toMatchObject({ method: 'sendText', phone: PHONE, text: 'Привет!', sendToImol: true });
    expect(result.stdout).toBe(`${emu.messages[0]?.id}\n`);
    expect(result.stderr).toBe('');
    expectNoSecrets(result, TOKEN);
  });

  it('a file with a caption', async () => {
    const url = 'https://shop.example/invoice.pdf';
    const result = await runCli(['send', '--phone', '8 912 345 67 89', '--file', url, '--caption', 'Счёт'], env());
    expect(result.code, result.stderr).toBe(0);
    expect(emu.messages[0]).toMatchObject({
      method: 'sendFile',
      phone: PHONE,
      url,
      caption: 'Счёт',
      sendToImol: false,
    });
  });

  it('a bad phone: exit 64 with the reason, nothing sent', async () => {
    const result = await runCli(['send', '--phone', '12345', '--text', 'x'], env());
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('Not a Russian or Kazakh phone number');
    expect(result.stdout).toBe('');
    expect(emu.requests).toEqual([]);
  });

  it('wrong option combinations: exit 64, nothing sent', async () => {
    for (const args of [
      ['--text', 'x'],
      ['--phone', PHONE],
      ['--phone', PHONE, '--text', 'x', '--file', 'https://a.example/f.pdf'],
      ['--phone', PHONE, '--text', 'x', '--caption', 'c'],
      ['--phone', PHONE, '--file', 'ftp://a.example/f.pdf'],
      ['--phone', PHONE, '--text', ''],
      ['--phone', PHONE, '--text', 'x', '--imol=yes'],
    ]) {
      const result = await runCli(['send', ...args], env());
      expect(result.code, args.join(' ')).toBe(64);
      expect(result.stderr).toContain('olchat-kit send:');
    }
    expect(emu.requests).toEqual([]);
  });

  it('a rejected token: exit 2; OLChat down: exit 3; no answer after writing: exit 4', async () => {
    const rejected = await runCli(['send', '--phone', PHONE, '--text', 'x'], {
      ...env(),
      OLCHAT_TOKEN: WRONG_TOKEN,
    });
    expect(rejected.code).toBe(2);
    expectNoSecrets(rejected, TOKEN, WRONG_TOKEN);

    emu.fail('502');
    const down = await runCli(['send', '--phone', PHONE, '--text', 'x'], env());
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('502');

    emu.fail('timeout');
    const unknown = await runCli(['send', '--phone', PHONE, '--text', 'x', '--timeout', '300'], env());
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('may have been sent');
    expect(emu.messages).toHaveLength(1); // the emulator did take it: exit 4 is the honest answer
    expectNoSecrets(down, TOKEN);
    expectNoSecrets(unknown, TOKEN);
  });
});

describe('olchat-kit help and usage', () => {
  it('--help lists the commands and exit codes; <command> --help and help <command> show its options', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const word of ['emulator', 'check', 'send', 'Exit codes', '64']) expect(help.stdout).toContain(word);
    for (const command of ['emulator', 'check', 'send']) {
      const own = await runCli([command, '--help']);
      expect(own.code, command).toBe(0);
      expect(own.stdout).toContain(`Usage: olchat-kit ${command}`);
      expect((await runCli(['help', command])).stdout).toBe(own.stdout);
    }
  });

  it('--version prints the package version', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });
  });

  it('an unknown command, an unknown option, or nothing at all: exit 64 with a message on stderr', async () => {
    const unknown = await runCli(['chek']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('unknown command chek');
    expect(unknown.stdout).toBe('');
    const flag = await runCli(['check', '--verbose']);
    expect(flag.code).toBe(64);
    expect(flag.stderr).toContain('unknown option --verbose');
    const nothing = await runCli([]);
    expect(nothing.code).toBe(64);
    expect(nothing.stderr).toContain('Usage: olchat-kit');
  });
});
