import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '@olchat-kit/testing';
import { describe, expect, it } from 'vitest';

const demoScript = fileURLToPath(new URL('../demo.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../../packages/core/dist/index.js', import.meta.url)));

describe('pnpm demo with OLCHAT_TOKEN set', () => {
  it('starts no emulator of its own and sends through the configured OLChat', async () => {
    expect(built, 'build first: pnpm -r build (pnpm test does)').toBe(true);
    // Stands in for the real OLChat: the demo only knows it by OLCHAT_TOKEN and OLCHAT_BASE_URL.
    const olchat = await startEmulator({ tokens: ['real-account-token'] });
    const demo = spawn(process.execPath, [demoScript], {
      env: { ...process.env, PORT: '0', OLCHAT_TOKEN: 'real-account-token', OLCHAT_BASE_URL: olchat.baseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    try {
      const site = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no site URL within 20 s:\n${output}`)), 20_000);
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /Site \(order form\):\s+(\S+)/.exec(output);
          if (match?.[1] && output.includes('Press Ctrl+C')) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        };
        demo.stdout.on('data', read);
        demo.stderr.on('data', read);
      });
      expect(output).toContain('Sending through the real OLChat');
      expect(output).not.toContain('WhatsApp inbox (emulator)');
      expect(output).not.toContain('real-account-token');
      const res = await fetch(`${site}order`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'Марат', phone: '+7 777 123 45 67', bouquet: 'roses' }),
      });
      expect(res.status).toBe(303);
      const [message] = await olchat.waitForMessages(1, 10_000);
      expect(message?.text).toContain('Здравствуйте, Марат!');
    } finally {
      const exited = new Promise((resolve) => demo.once('exit', resolve));
      demo.kill('SIGTERM');
      await exited;
      await olchat.close();
    }
  }, 60_000);
});
