import { EXIT, run } from '@olchat-kit/cli';
import { startEmulator } from '@olchat-kit/testing';
import { describe, expect, it } from 'vitest';

function capture(env: Record<string, string>, stop: Promise<string> = new Promise(() => {})) {
  const out = { stdout: '', stderr: '' };
  const io = {
    stdout: {
      write: (text: string) => {
        out.stdout += text;
      },
    },
    stderr: {
      write: (text: string) => {
        out.stderr += text;
      },
    },
    env,
    waitForStop: () => stop,
  };
  return { io, out };
}

describe('run(argv, io) in-process, as the package README shows it', () => {
  it('send resolves with EXIT.OK and writes the id; a rejected token resolves with EXIT.TOKEN_REJECTED', async () => {
    const emu = await startEmulator({ tokens: ['in-process-token'] });
    try {
      const ok = capture({ OLCHAT_TOKEN: 'in-process-token', OLCHAT_BASE_URL: emu.baseUrl });
      expect(await run(['send', '--phone', '89123456789', '--text', 'hi'], ok.io)).toBe(EXIT.OK);
      expect(ok.out.stdout).toBe(`${emu.messages[0]?.id}\n`);

      const rejected = capture({ OLCHAT_TOKEN: 'another-token', OLCHAT_BASE_URL: emu.baseUrl });
      expect(await run(['check'], rejected.io)).toBe(EXIT.TOKEN_REJECTED);
      expect(rejected.out.stderr).not.toContain('another-token');
    } finally {
      await emu.close();
    }
  });

  it('emulator runs until io.waitForStop() resolves, then closes its server and resolves with EXIT.OK', async () => {
    let stop: (signal: string) => void = () => {};
    const { io, out } = capture({}, new Promise((resolve) => (stop = resolve)));
    const running = run(['emulator', '--port', '0'], io);
    await expect.poll(() => out.stdout, { timeout: 10_000 }).toContain('export OLCHAT_TOKEN=test-token');
    const inbox = /Inbox: (\S+)/.exec(out.stdout)?.[1] as string;
    expect((await fetch(inbox)).status).toBe(200);
    stop('SIGTERM');
    expect(await running).toBe(EXIT.OK);
    expect(out.stdout).toContain('Stopped (SIGTERM).');
    await expect(fetch(inbox)).rejects.toThrow();
  });
});
