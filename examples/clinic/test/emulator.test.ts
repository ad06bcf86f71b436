import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type AnyNotifier, MemoryLimiterStore, OlchatClient } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClinicApp } from '../app.js';
import { clinicDate, clinicInstant, formatClinicTime } from '../clinic-time.js';
import { createClinicNotifier } from '../olchat.js';

// Real time and the real HTTP emulator: what a developer sees running the example.

const DAY_MS = 24 * 3600_000;
/** A visit three days from now at 10:00 at the clinic, as the form sends it, and what messages say of it. */
function threeDaysAhead() {
  const date: string = clinicDate(Date.now() + 3 * DAY_MS);
  const visitAt = clinicInstant(date, '10:00') as number;
  return { date, time: '10:00', visitAt, words: formatClinicTime(visitAt) };
}

describe('against the OLChat emulator', () => {
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  let client: OlchatClient;
  let notifier: AnyNotifier;

  beforeEach(async () => {
    emu = await startEmulator();
    client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
    notifier = createClinicNotifier({ client });
  });
  afterEach(async () => {
    await notifier.close({ timeoutMs: 5_000 });
    await client.close();
    await emu.close();
  });

  it('a booking sends the confirmation to the WhatsApp inbox and schedules the reminder', async () => {
    const app = createClinicApp({ notifier, publicUrl: 'https://clinic.example' });
    expect((await request(app).get('/').expect(200)).text).toContain('<form method="post" action="/visits"');
    const visit = threeDaysAhead();
    const res = await request(app)
      .post('/visits')
      .type('form')
      .send({ name: 'Анна', phone: '8 912 345-67-89', service: 'cardiologist', date: visit.date, time: visit.time })
      .expect(303);
    const id = /^\/visits\/([\w-]+)/.exec(String(res.headers.location))?.[1];
    const [message] = await emu.waitForMessages(1, 15_000);
    expect(message).toMatchObject({
      phone: '79123456789',
      text: `Анна, вы записаны к кардиологу на ${visit.words}. Перенести или отменить запись: https://clinic.example/visits/${id}`,
    });
    const [reminder] = await notifier.list({ status: 'scheduled' });
    expect(reminder).toMatchObject({
      ruleId: 'visit-reminder',
      sendAt: visit.visitAt - DAY_MS,
      notAfter: visit.visitAt,
      replaceKey: `visit:${id}`,
    });
    await expect
      .poll(async () => (await request(app).get(`/visits/${id}`)).text, { timeout: 10_000 })
      .toContain('Подтверждение записи: отправлено');
  });
});

describe('node server.js', () => {
  const serverScript = fileURLToPath(new URL('../server.js', import.meta.url));
  const built = existsSync(fileURLToPath(new URL('../../../packages/core/dist/index.js', import.meta.url)));

  it('runs against OLCHAT_TOKEN and OLCHAT_BASE_URL (the emulator), never printing the token', async () => {
    expect(built, 'build first: pnpm -r build (pnpm test does)').toBe(true);
    const emu = await startEmulator({ tokens: ['clinic-account-token'] });
    const server = spawn(process.execPath, [serverScript], {
      env: { ...process.env, PORT: '0', OLCHAT_TOKEN: 'clinic-account-token', OLCHAT_BASE_URL: emu.baseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    try {
      const site = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no site URL within 20 s:\n${output}`)), 20_000);
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /Clinic \(booking form\): (\S+)/.exec(output);
          if (match?.[1] && output.includes('Press Ctrl+C')) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        };
        server.stdout.on('data', read);
        server.stderr.on('data', read);
      });
      const visit = threeDaysAhead();
      const res = await fetch(`${site}visits`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          name: 'Айгуль',
          phone: '+7 701 234 56 78',
          service: 'online',
          date: visit.date,
          time: visit.time,
        }),
      });
      expect(res.status).toBe(303);
      const [message] = await emu.waitForMessages(1, 15_000);
      expect(message?.phone).toBe('77012345678');
      expect(message?.text).toMatch(/^Айгуль, вы записаны на онлайн-консультацию терапевта на \d+ [а-я]+ в 12:00\./);
      // The link in the message opens the visit's page on this server.
      const manageUrl = /(http:\/\/\S+)$/.exec(message?.text ?? '')?.[1] as string;
      expect(manageUrl.startsWith(`${site}visits/`)).toBe(true);
      expect(await (await fetch(manageUrl)).text()).toContain('Ваша запись');
      expect(output).not.toContain('clinic-account-token');
    } finally {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
      await emu.close();
    }
  }, 60_000);

  it('refuses to start without OLCHAT_TOKEN and says where to get one', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
    delete env.OLCHAT_TOKEN;
    const server = spawn(process.execPath, [serverScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    server.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise((resolve) => server.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('npx olchat-kit emulator');
  }, 30_000);
});
