import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { startEmulator } from '@olchat-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLimiterStore, OlchatClient, ValidationError } from '../src/index.js';
import { rejection } from './helpers/rejection.js';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
const phone = '+7 (912) 345-67-89';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Partial<ConstructorParameters<typeof OlchatClient>[0]> = {}, emuOptions = {}) {
  const emu: Emulator = await startEmulator(emuOptions);
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limiterStore: new MemoryLimiterStore(),
    retry: { minDelayMs: 10, maxDelayMs: 50 },
    ...options,
  });
  cleanups.push(
    () => emu.close(),
    () => client.close(),
  );
  return { emu, client };
}

describe('OlchatClient against the emulator', () => {
  it('sends a text with the vendor parameters and reads the message id', async () => {
    const { emu, client } = await setup();
    const result = await client.sendText({ phone, text: 'Здравствуйте! Заказ №42 принят 🎉' });
    expect(result.messageId).toBe(emu.messages[0]?.id);
    expect(emu.messages[0]).toMatchObject({
      method: 'sendText',
      phone: '79123456789',
      text: 'Здравствуйте! Заказ №42 принят 🎉',
      sendToImol: false,
    });
  });

  it('sends a file with a caption and send_to_imol=Y', async () => {
    const { emu, client } = await setup();
    await client.sendFile({
      phone: '8 701 234 56 78',
      url: 'https://shop.example/invoice-42.pdf?x=1&y=2',
      caption: 'Счёт',
      sendToImol: true,
    });
    expect(emu.messages[0]).toMatchObject({
      method: 'sendFile',
      phone: '77012345678',
      url: 'https://shop.example/invoice-42.pdf?x=1&y=2',
      caption: 'Счёт',
      sendToImol: true,
    });
  });

  it('checks a phone, the line and a message status', async () => {
    const { client } = await setup({}, { delivery: { deliveredAfterMs: 0 } });
    expect((await client.checkPhone({ phone })).exists).toBe(true);
    expect((await client.checkPhone({ phone: '+7 912 345 00 00' })).exists).toBe(false);
    expect((await client.checkStatus()).connected).toBe(true);
    const sent = await client.sendText({ phone, text: 'hi' });
    expect((await client.checkMessageStatus({ phone, messageId: sent.messageId as string })).status).toBe('delivered');
  });

  it('a bad phone or empty text is a validation error and never reaches the server', async () => {
    const { emu, client } = await setup();
    for (const bad of ['+1 202 555 0143', '12345', '', 'девять']) {
      const error = await rejection(client.sendText({ phone: bad, text: 'x' }));
      expect(error).toBeInstanceOf(ValidationError);
    }
    expect((await rejection(client.sendText({ phone, text: '  ' }))).code).toBe('VALIDATION');
    expect((await rejection(client.sendFile({ phone, url: 'ftp://x/y' }))).code).toBe('VALIDATION');
    expect((await rejection(client.sendFile({ phone, url: 'javascript:alert(1)' }))).code).toBe('VALIDATION');
    expect((await rejection(client.checkMessageStatus({ phone, messageId: '' }))).code).toBe('VALIDATION');
    expect(emu.requests).toHaveLength(0);
  });

  it('a wrong token gives a typed error whose message, stack, cause and JSON hold no token', async () => {
    const emu = await startEmulator();
    cleanups.push(() => emu.close());
    const secret = 'wrong-secret-token-123';
    const logged: string[] = [];
    const log = (obj: object, msg?: string) => logged.push(JSON.stringify(obj) + (msg ?? ''));
    const client = new OlchatClient({
      token: secret,
      baseUrl: emu.baseUrl,
      limiterStore: new MemoryLimiterStore(),
      logger: { debug: log, info: log, warn: log, error: log },
    });
    cleanups.push(() => client.close());
    const error = await rejection(client.sendText({ phone, text: 'x' }));
    expect(error.code).toBe('HTTP');
    expect(error.status).toBe(401);
    const everything = [
      error.message,
      error.stack,
      JSON.stringify(error),
      JSON.stringify(error.cause ?? null),
      String(error),
      JSON.stringify(client),
      ...logged,
    ].join('\n');
    expect(everything).not.toContain(secret);
    expect(logged.length).toBeGreaterThan(0);
  });

  it('a vendor answer that echoes the token keeps it out of the result', async () => {
    const secret = 'echoed-secret-token-42';
    const server = createHttpServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: true, message_id: 'm1', url: req.url }));
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as { port: number };
    const client = new OlchatClient({
      token: secret,
      baseUrl: `http://127.0.0.1:${port}/wa`,
      limiterStore: new MemoryLimiterStore(),
    });
    cleanups.push(() => client.close());
    const result = await client.sendText({ phone, text: 'x' });
    expect(result.messageId).toBe('m1');
    expect(JSON.stringify(result)).not.toContain(secret);
    expect(JSON.stringify(result)).toContain('/wa/***/sendText');
  });

  it.each([
    ['lowercased', (url: string) => url.toLowerCase()],
    ['uppercased', (url: string) => url.toUpperCase()],
    ['decoded, lowercased', (url: string) => decodeURIComponent(url).toLowerCase()],
    ['percent-encoded again', (url: string) => encodeURIComponent(url)],
    ['percent-encoded again, lowercased', (url: string) => encodeURIComponent(url).toLowerCase()],
  ])('an error page that echoes the URL %s keeps the token out of the error', async (_how, echo) => {
    // Mixed case and characters that are percent-encoded in the URL (`:` `=` `&` → %3A %3D %26).
    const secret = 'Echo3d:Secret=Token&Kz';
    const echoed: string[] = [];
    const server = createHttpServer((req, res) => {
      const shown = echo(req.url ?? '');
      echoed.push(shown);
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end(`<html><body><h1>Not Found</h1><p>The requested URL ${shown} was not found.</p></body></html>`);
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as { port: number };
    const logged: string[] = [];
    const log = (obj: unknown, msg?: string) => logged.push(`${msg} ${JSON.stringify(obj)}`);
    const client = new OlchatClient({
      token: secret,
      baseUrl: `http://127.0.0.1:${port}/wa`,
      limiterStore: new MemoryLimiterStore({ assumeRecentUse: false }),
      logger: { debug: log, info: log, warn: log, error: log },
    });
    cleanups.push(() => client.close());
    const error = await rejection(client.sendText({ phone, text: 'x' }));
    expect(error).toMatchObject({ code: 'HTTP', status: 404 });
    // The page really carried the token, in a form a plain search for it would miss.
    expect(echoed[0]).not.toContain(secret);
    expect(echoed[0]?.toLowerCase()).toMatch(/echo3d(:|%3a|%253a)secret/);
    const everything = [
      (error as { body?: string }).body,
      error.message,
      String(error),
      JSON.stringify(error),
      JSON.stringify(error.cause ?? null),
      ...logged,
    ].join('\n');
    expect((error as { body?: string }).body).toContain('The requested URL');
    expect((error as { body?: string }).body).toContain('***');
    for (const form of [secret, encodeURIComponent(secret), encodeURIComponent(encodeURIComponent(secret))]) {
      expect(everything.toLowerCase()).not.toContain(form.toLowerCase());
    }
    expect(everything.toLowerCase()).not.toContain('secret=token');
  });

  it('retries 429, 502 and 503 and delivers once', async () => {
    const { emu, client } = await setup();
    emu.fail('429');
    emu.fail('502');
    emu.fail('503');
    const result = await client.sendText({ phone, text: 'after the storm' });
    expect(result.messageId).toBeDefined();
    expect(emu.messages).toHaveLength(1);
    expect(emu.requests).toHaveLength(4);
    expect(emu.violations).toHaveLength(0);
  });

  it('honours Retry-After on a 429', async () => {
    const { emu, client } = await setup();
    emu.fail('429'); // the emulator says Retry-After: 1
    const started = performance.now();
    await client.sendText({ phone, text: 'patience' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('does not retry a 500: the vendor may have processed it', async () => {
    const { emu, client } = await setup();
    emu.fail('500');
    const error = await rejection(client.sendText({ phone, text: 'x' }));
    expect(error).toMatchObject({ code: 'HTTP', status: 500 });
    expect(emu.requests).toHaveLength(1);
  });

  it('gives up after the configured retries with the last error', async () => {
    const { emu, client } = await setup({ retry: { retries: 2, minDelayMs: 5, maxDelayMs: 10 } });
    emu.fail('502', 10);
    const error = await rejection(client.sendText({ phone, text: 'x' }));
    expect(error).toMatchObject({ code: 'HTTP', status: 502 });
    expect(emu.requests).toHaveLength(3);
    expect(emu.messages).toHaveLength(0);
  });

  it('a timeout after the request was written is AMBIGUOUS and is sent exactly once', async () => {
    const { emu, client } = await setup({ timeoutMs: 300 });
    emu.fail('timeout');
    const error = await rejection(client.sendText({ phone, text: 'did it arrive?' }));
    expect(error.code).toBe('AMBIGUOUS');
    expect(emu.requests).toHaveLength(1);
    expect(emu.messages).toHaveLength(1);
  });

  it('a dropped connection after writing is AMBIGUOUS and not repeated', async () => {
    const { emu, client } = await setup();
    emu.fail('drop');
    const error = await rejection(client.sendText({ phone, text: 'x' }));
    expect(error.code).toBe('AMBIGUOUS');
    expect(emu.requests).toHaveLength(1);
  });

  it('repeats an ambiguous send only when the user opted in', async () => {
    // A timeout that ends the hanging request soon, yet leaves the real second send ample time on a loaded machine.
    const { emu, client } = await setup({
      timeoutMs: 2_000,
      retry: { ambiguous: true, minDelayMs: 5, maxDelayMs: 10 },
    });
    emu.fail('timeout');
    await client.sendText({ phone, text: 'twice is fine' });
    expect(emu.messages).toHaveLength(2);
  });

  it('a refused connection is NETWORK, retried, and delivered once the server is up', async () => {
    // Reserve a free port, then start the emulator on it only after the first attempts were refused.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const client = new OlchatClient({
      token: 'test-token',
      baseUrl: `http://127.0.0.1:${port}/rest/webhook/wa`,
      limiterStore: new MemoryLimiterStore(),
      retry: { retries: 8, minDelayMs: 100, maxDelayMs: 200 },
    });
    cleanups.push(() => client.close());
    const attempts: string[] = [];
    const sending = client.sendText(
      { phone, text: 'eventually' },
      { onNotAccepted: ({ error }) => void attempts.push(error.code) },
    );
    await new Promise((resolve) => setTimeout(resolve, 250));
    const emu = await startEmulator({ port });
    cleanups.push(() => emu.close());
    await sending;
    expect(attempts[0]).toBe('NETWORK');
    expect(emu.messages).toHaveLength(1);
  });

  it('a refused connection with no retries left is a NETWORK error', async () => {
    const client = new OlchatClient({
      token: 't',
      baseUrl: 'http://127.0.0.1:9/wa',
      limiterStore: new MemoryLimiterStore(),
      retry: { retries: 0 },
    });
    cleanups.push(() => client.close());
    expect((await rejection(client.sendText({ phone, text: 'x' }))).code).toBe('NETWORK');
  });

  it('a 200 that says failure is VENDOR_ERROR', async () => {
    const { client } = await setup();
    const error = await rejection(client.checkMessageStatus({ phone, messageId: 'no-such-id' }));
    expect(error.code).toBe('VENDOR_ERROR');
  });

  it('calls beforeAttempt once per attempt, after the slot is taken', async () => {
    const { emu, client } = await setup();
    emu.fail('502');
    const seen: number[] = [];
    await client.sendText({ phone, text: 'x' }, { beforeAttempt: ({ attempt }) => void seen.push(attempt) });
    expect(seen).toEqual([1, 2]);
  });

  it('OLCHAT_BASE_URL points a client without baseUrl at another server (the emulator in tests)', async () => {
    const emu = await startEmulator();
    cleanups.push(() => emu.close());
    process.env.OLCHAT_BASE_URL = emu.baseUrl;
    try {
      const client = new OlchatClient({ token: emu.token, limiterStore: new MemoryLimiterStore() });
      cleanups.push(() => client.close());
      await client.sendText({ phone, text: 'через переменную окружения' });
      expect(emu.messages).toHaveLength(1);
    } finally {
      delete process.env.OLCHAT_BASE_URL;
    }
  });

  it('OLCHAT_TOKEN is the token of a client given none', async () => {
    const emu = await startEmulator({ tokens: ['token-from-the-environment'] });
    cleanups.push(() => emu.close());
    const saved = process.env.OLCHAT_TOKEN;
    process.env.OLCHAT_TOKEN = 'token-from-the-environment';
    try {
      const client = new OlchatClient({ baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
      cleanups.push(() => client.close());
      await client.sendText({ phone, text: 'токен из окружения' });
      expect(emu.messages).toHaveLength(1);
      // An explicit token still wins.
      const explicit = new OlchatClient({
        token: 'other',
        baseUrl: emu.baseUrl,
        limiterStore: new MemoryLimiterStore(),
      });
      cleanups.push(() => explicit.close());
      expect((await rejection(explicit.sendText({ phone, text: 'x' }))).status).toBe(401);
    } finally {
      restoreEnv('OLCHAT_TOKEN', saved);
    }
  });

  it('no token and no OLCHAT_TOKEN: a ValidationError that names both', () => {
    const saved = process.env.OLCHAT_TOKEN;
    delete process.env.OLCHAT_TOKEN;
    try {
      for (const options of [{}, { token: undefined }, { token: '' }, undefined]) {
        const error = (() => {
          try {
            new OlchatClient(options);
          } catch (thrown) {
            return thrown;
          }
        })();
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).message).toBe(
          "No OLChat token: pass { token } or set OLCHAT_TOKEN (the webhook token from OLChat's connector settings)",
        );
        expect((error as ValidationError).issues).toEqual([{ path: 'token', message: 'Missing' }]);
      }
    } finally {
      restoreEnv('OLCHAT_TOKEN', saved);
    }
  });

  it('a malformed token, given or from OLCHAT_TOKEN, is refused without showing it', () => {
    const saved = process.env.OLCHAT_TOKEN;
    const secret = 'secret with spaces/and-slash';
    try {
      process.env.OLCHAT_TOKEN = secret;
      for (const options of [{}, { token: secret }]) {
        let error: unknown;
        try {
          new OlchatClient(options);
        } catch (thrown) {
          error = thrown;
        }
        expect(error).toBeInstanceOf(ValidationError);
        const shown = JSON.stringify([(error as Error).message, (error as Error).stack, error]);
        expect(shown).toContain(options.token === undefined ? 'OLCHAT_TOKEN' : 'token');
        expect(shown).not.toContain('secret');
      }
    } finally {
      restoreEnv('OLCHAT_TOKEN', saved);
    }
  });

  describe('a reserved slot (a queue takes the slot first, then picks the job)', () => {
    // One send a minute: a call that had to wait for the slot would not finish within the test.
    const oneAMinute = { limits: { sendText: { points: 1, durationMs: 60_000 } } };

    it('carries the call it is given, ahead of a call that was already waiting', async () => {
      const { emu, client } = await setup(oneAMinute);
      const reservation = await client.reserveSlot('sendText', { priority: 'low' });
      const waiting = rejection(client.sendText({ phone, text: 'waited' }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(emu.messages).toHaveLength(0);
      await client.sendText({ phone, text: 'reserved' }, { reservation });
      expect(reservation.spent).toBe(true);
      expect(emu.messages.map((m) => m.text)).toEqual(['reserved']);
      await client.close();
      expect((await waiting).code).toBe('CLOSED');
      expect(emu.requests).toHaveLength(1);
    });

    it('given back unused, frees the slot at once', async () => {
      const { emu, client } = await setup(oneAMinute);
      const reservation = await client.reserveSlot('sendText');
      await reservation.release();
      expect(reservation.spent).toBe(true);
      await client.sendText({ phone, text: 'next' });
      expect(emu.messages.map((m) => m.text)).toEqual(['next']);
    });

    it('once spent, a call given it again waits for a slot of its own: never two requests on one slot', async () => {
      const { emu, client } = await setup({ limits: { sendText: { points: 2, durationMs: 60_000 } } });
      const reservation = await client.reserveSlot('sendText');
      await client.sendText({ phone, text: 'one' }, { reservation });
      await client.sendText({ phone, text: 'two' }, { reservation });
      const third = rejection(client.sendText({ phone, text: 'three' }, { reservation }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(emu.messages.map((m) => m.text)).toEqual(['one', 'two']);
      await client.close();
      expect((await third).code).toBe('CLOSED');
    });

    it('for another method or another client is a VALIDATION error, and stays unspent', async () => {
      const { client } = await setup(oneAMinute);
      const other = new OlchatClient({
        token: 'other',
        baseUrl: 'http://127.0.0.1:9',
        limiterStore: new MemoryLimiterStore(),
      });
      cleanups.push(() => other.close());
      const fileSlot = await client.reserveSlot('sendFile');
      expect((await rejection(client.sendText({ phone, text: 'x' }, { reservation: fileSlot }))).code).toBe(
        'VALIDATION',
      );
      const elsewhere = await other.reserveSlot('sendText');
      expect((await rejection(client.sendText({ phone, text: 'x' }, { reservation: elsewhere }))).code).toBe(
        'VALIDATION',
      );
      expect([fileSlot.spent, elsewhere.spent]).toEqual([false, false]);
      await expect(client.reserveSlot('checkPhone' as 'sendText')).rejects.toBeInstanceOf(ValidationError);
    });
  });

  it('close() makes waiting calls fail with CLOSED', async () => {
    const { client } = await setup({ limits: { sendText: { points: 1, durationMs: 60_000 } } });
    await client.sendText({ phone, text: 'first' });
    const waiting = rejection(client.sendText({ phone, text: 'second' }));
    await client.close();
    expect((await waiting).code).toBe('CLOSED');
  });
});

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
