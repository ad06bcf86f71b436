import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '@olchat-kit/testing';
import { describe, expect, it } from 'vitest';

const APP = fileURLToPath(new URL('./fixtures/commonjs-app.cjs', import.meta.url));
const packages = ['core', 'express', 'koa', 'redis', 'testing', 'prometheus', 'cli'];
const built = (pkg: string) => fileURLToPath(new URL(`../packages/${pkg}/dist/index.js`, import.meta.url));

describe('a CommonJS app', () => {
  it('require()s every built package and sends an order confirmation through the emulator', async () => {
    for (const pkg of packages)
      expect(existsSync(built(pkg)), 'build first: pnpm -r build (pnpm test does)').toBe(true);
    const emu = await startEmulator();
    const child = spawn(process.execPath, [APP], {
      env: { ...process.env, OLCHAT_TOKEN: emu.token, OLCHAT_BASE_URL: emu.baseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the app did not start within 30 s:\n${output}`)), 30_000);
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          const found = /listening (\S+)/.exec(output)?.[1];
          if (found) {
            clearTimeout(timer);
            resolve(found);
          }
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
        void exited.then((code) => reject(new Error(`the app exited with ${code}:\n${output}`)));
      });
      const answer = await fetch(`${url}/order`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'Анна', phone: '+7 912 345-67-89' }),
      });
      expect(answer.status, output).toBe(200);
      expect(await answer.json()).toEqual({ job: { id: expect.any(String), status: 'queued' } });
      const [message] = await emu.waitForMessages(1, 15_000);
      expect(message).toMatchObject({ phone: '79123456789', text: 'Здравствуйте, Анна! Мы получили ваш заказ.' });
      child.kill('SIGTERM');
      expect(await exited, output).toBe(0);
      // Node ≥ 20.19 loads them without a flag and without a warning on the app's console.
      expect(output).not.toMatch(/ERR_|Warning|Error/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await emu.close();
    }
  }, 60_000);
});
