import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  type AnyNotifier,
  createNotifier,
  defineRule,
  type JobRecord,
  MemoryLimiterStore,
  MemoryQueue,
  OlchatClient,
  type Priority,
} from '@olchat-kit/core';
import { olchatDashboard } from '@olchat-kit/express';
import { startEmulator } from '@olchat-kit/testing';
import express from 'express';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { chromiumMissing, launchChromium } from '../helpers/chromium.js';
import { finished } from '../helpers/waiting.js';
import { ADMIN, type Emulator, isAuthorized, makeNotifier, startVendor } from './helpers.js';

const screenshots = fileURLToPath(new URL('../../test-results/dashboard/', import.meta.url));
const PHONES = ['79123456789', '79031234567', '77011234567', '79265550011'];

const orderReceived = defineRule({
  id: 'order-received',
  input: z.object({ name: z.string(), phone: z.string(), orderId: z.number() }),
  to: 'phone',
  text: 'Здравствуйте, {{name}}! Заказ №{{orderId}} принят.',
});
const visitReminder = defineRule({
  id: 'visit-reminder',
  input: z.object({ phone: z.string(), time: z.string() }),
  to: 'phone',
  text: 'Напоминаем о записи на {{time}}.',
});
const rules = [orderReceived, visitReminder];

let emu: Emulator;
let notifier: AnyNotifier;
let outageEmu: Emulator | undefined;
let outage: AnyNotifier | undefined;
let server: Server | undefined;
let browser: Browser | undefined;
let origin = '';
const jobs: { sent: JobRecord[]; failed?: JobRecord; ambiguous?: JobRecord; scheduled: string[] } = {
  sent: [],
  scheduled: [],
};

/** What went wrong in a page: console errors and warnings (CSP violations among them), uncaught errors, requests elsewhere. */
interface Trouble {
  console: string[];
  errors: string[];
  foreign: string[];
  failed: string[];
}

async function openPage(context: BrowserContext): Promise<{ page: Page; trouble: Trouble }> {
  const page = await context.newPage();
  const trouble: Trouble = { console: [], errors: [], foreign: [], failed: [] };
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') trouble.console.push(message.text());
  });
  page.on('pageerror', (error) => trouble.errors.push(error.message));
  page.on('request', (request) => {
    if (!request.url().startsWith(`${origin}/`)) trouble.foreign.push(request.url());
  });
  page.on('requestfailed', (request) => trouble.failed.push(request.url()));
  return { page, trouble };
}

function expectNoTrouble(trouble: Trouble): void {
  expect(trouble).toEqual({ console: [], errors: [], foreign: [], failed: [] });
}

/** A queue with some history: sent, failed, AMBIGUOUS and scheduled jobs of a few rules. */
async function fillQueue(): Promise<void> {
  const names = ['Анна', 'Дарина', 'Ерлан', 'Олег'];
  const sends = PHONES.map((phone, i) =>
    notifier
      .trigger(
        'order-received',
        { name: names[i], phone, orderId: 1040 + i },
        { meta: { orderId: 1040 + i, note: i === 0 ? '<script>alert(1)</script>' : 'ok' } },
      )
      .then((job) => finished(notifier, job.id)),
  );
  jobs.sent.push(...(await Promise.all(sends)));
  emu.fail('500');
  const failed = await notifier.trigger('order-received', { name: 'Ирина', phone: PHONES[1], orderId: 1049 });
  jobs.failed = await finished(notifier, failed.id);
  emu.fail('timeout');
  const ambiguous = await notifier.trigger(
    'visit-reminder',
    { phone: PHONES[2], time: '18:30' },
    { meta: { visit: 'V-7' } },
  );
  jobs.ambiguous = await finished(notifier, ambiguous.id);
  emu.clearFaults();
  for (const [i, minutes] of [90, 24 * 60, 15].entries()) {
    const job = await notifier.trigger(
      'visit-reminder',
      { phone: PHONES[i] as string, time: '10:00' },
      { sendAt: Date.now() + minutes * 60_000, priority: i === 2 ? 'high' : 'normal', meta: { visit: `V-${i}` } },
    );
    jobs.scheduled.push(job.id);
  }
}

/**
 * An outage at the vendor's real limits: OLChat says the WhatsApp session is down, and 200 jobs wait
 * in their lanes (5 sends per 3 s: a couple of minutes of work once the line is back).
 */
async function startOutage(): Promise<AnyNotifier> {
  outageEmu = await startEmulator({ connected: false });
  const client = new OlchatClient({
    token: outageEmu.token,
    baseUrl: outageEmu.baseUrl,
    limiterStore: new MemoryLimiterStore(),
  });
  const down = createNotifier({ client, rules, queue: new MemoryQueue() });
  await down.refreshLine(0);
  const lanes: [Priority, number][] = [
    ['high', 12],
    ['normal', 160],
    ['low', 28],
  ];
  for (const [priority, count] of lanes) {
    for (let i = 0; i < count; i++) {
      await down.trigger('visit-reminder', { phone: PHONES[i % PHONES.length] as string, time: '12:00' }, { priority });
    }
  }
  return down;
}

describe.skipIf(chromiumMissing !== undefined)(
  `the dashboard in a real browser (Chromium), behind basic auth on Express${chromiumMissing ? `: skipped, ${chromiumMissing}` : ''}`,
  () => {
    beforeAll(async () => {
      mkdirSync(screenshots, { recursive: true });
      emu = await startVendor();
      // Ends the hanging request soon, yet leaves the other sends ample time on a loaded machine.
      notifier = makeNotifier(emu, { timeoutMs: 2_000 }, rules);
      await fillQueue();

      const app = express();
      const basicAuth: express.RequestHandler = (req, res, next) => {
        if (isAuthorized(req.headers, ADMIN.username, ADMIN.password)) return next();
        res.set('WWW-Authenticate', 'Basic realm="admin", charset="UTF-8"').status(401).send('Authentication required');
      };
      app.use('/admin/olchat', basicAuth, olchatDashboard(notifier));
      app.use(
        '/admin/en/olchat',
        basicAuth,
        olchatDashboard(notifier, { lang: 'en', title: 'Flower shop · WhatsApp' }),
      );
      outage = await startOutage();
      app.use('/admin/outage', basicAuth, olchatDashboard(outage));
      server = createServer(app);
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      for (const open of [notifier, outage]) {
        await open?.close({ timeoutMs: 1000 });
        await open?.client.close();
      }
      await emu?.close();
      await outageEmu?.close();
    });

    async function adminContext(): Promise<BrowserContext> {
      return (browser as Browser).newContext({
        httpCredentials: { username: ADMIN.username, password: ADMIN.password },
        viewport: { width: 1280, height: 900 },
      });
    }

    it('asks for the credentials without them', async () => {
      const context = await (browser as Browser).newContext();
      for (const path of ['/admin/olchat/', `/admin/olchat/jobs/${jobs.scheduled[1]}`, '/admin/en/olchat/']) {
        const response = await context.request.get(`${origin}${path}`);
        expect(response.status(), path).toBe(401);
        expect(response.headers()['www-authenticate']).toContain('Basic');
      }
      await context.close();
    });

    it('renders the overview under its CSP with no violation or error, styled by its own stylesheet', async () => {
      const context = await adminContext();
      const { page, trouble } = await openPage(context);
      const response = await page.goto(`${origin}/admin/olchat`);
      expect(response?.status()).toBe(200);
      await expect(page.locator('h1').textContent()).resolves.toBe('Очередь WhatsApp');
      await expect(page.locator('#line .state').textContent()).resolves.toBe('работает');
      await expect(page.locator('[data-count="sent"] b').textContent()).resolves.toBe(String(PHONES.length));
      await expect(page.locator('[data-count="scheduled"] b').textContent()).resolves.toBe('3');
      // The soonest scheduled job first.
      await expect(page.locator('#scheduled tbody tr').first().getAttribute('data-job')).resolves.toBe(
        jobs.scheduled[2],
      );
      const text = (await page.locator('body').textContent()) ?? '';
      expect(text).toContain('+7 912 ***-**-89');
      expect(text).not.toContain('79123456789');
      // The stylesheet loaded (a CSP that blocked it would leave the header unstyled).
      // Runs in the page; the tests' TypeScript has no DOM types, hence the cast.
      type Styles = { getComputedStyle(element: unknown): { backgroundColor: string } };
      const headerBackground = await page
        .locator('header')
        .evaluate((el) => (globalThis as unknown as Styles).getComputedStyle(el).backgroundColor);
      expect(headerBackground).toBe('rgb(22, 48, 63)');
      await page.screenshot({ path: `${screenshots}overview-ru.png`, fullPage: true });
      expectNoTrouble(trouble);
      await context.close();
    });

    it('filters by status through the links, and opens a job with its error and meta shown as text', async () => {
      const context = await adminContext();
      const { page, trouble } = await openPage(context);
      await page.goto(`${origin}/admin/olchat/`);
      await Promise.all([
        page.waitForURL(/\?status=failed$/),
        page.locator('.filters a', { hasText: 'ошибка' }).click(),
      ]);
      const statuses = await page
        .locator('#jobs tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
      expect(statuses).toEqual(['failed', 'failed']);
      await expect(page.locator('.filters a[aria-current="page"]').textContent()).resolves.toBe('ошибка');

      const failedRow = page.locator(`#jobs tr[data-job="${jobs.failed?.id}"]`);
      await Promise.all([page.waitForURL(/\/jobs\//), failedRow.getByRole('link', { name: 'Подробнее' }).click()]);
      await expect(page.locator('#error-code').textContent()).resolves.toBe('HTTP');
      await page.screenshot({ path: `${screenshots}job-failed-ru.png`, fullPage: true });

      const sent = jobs.sent.find((job) => job.meta?.note !== 'ok') as JobRecord;
      await page.goto(`${origin}/admin/olchat/jobs/${sent.id}`);
      await expect(page.locator('#meta').textContent()).resolves.toContain('"note": "<script>alert(1)</script>"');
      expectNoTrouble(trouble);
      await context.close();
    });

    it('finds a customer by phone through the search box, and shows what was sent, as text', async () => {
      const context = await adminContext();
      const { page, trouble } = await openPage(context);
      await page.goto(`${origin}/admin/olchat/`);
      await page.getByLabel('Телефон клиента').fill('8 (903) 123-45-67');
      await Promise.all([page.waitForURL(/\/search$/), page.getByRole('button', { name: 'Найти' }).click()]);
      await expect(page.locator('#results h2').textContent()).resolves.toBe('Сообщения на +7 903 ***-**-67');
      const rows = await page
        .locator('#jobs tbody tr')
        .evaluateAll((r) => r.map((row) => row.getAttribute('data-job')));
      const expected = (await notifier.find({ phone: '79031234567' })).map((record) => record.id);
      expect(rows).toEqual(expected);
      expect(rows.length).toBeGreaterThan(0);
      await page.screenshot({ path: `${screenshots}search-ru.png`, fullPage: true });
      const sent = jobs.sent.find((job) => job.phone === '79031234567') as JobRecord;
      await Promise.all([
        page.waitForURL(/\/jobs\//),
        page.locator(`#jobs tr[data-job="${sent.id}"]`).getByRole('link', { name: 'Подробнее' }).click(),
      ]);
      await expect(page.locator('#text').textContent()).resolves.toBe((await notifier.get(sent.id))?.text);
      await page.goto(`${origin}/admin/olchat/`);
      await page.getByLabel('Телефон клиента').fill('12345');
      await Promise.all([page.waitForURL(/\/search$/), page.getByRole('button', { name: 'Найти' }).click()]);
      await expect(page.locator('#search-invalid').textContent()).resolves.toContain('Это не номер телефона');
      expectNoTrouble(trouble);
      await context.close();
    });

    it('cancels a scheduled job with its button: back on the page, it shows as cancelled', async () => {
      const context = await adminContext();
      const { page, trouble } = await openPage(context);
      await page.goto(`${origin}/admin/olchat/`);
      const id = jobs.scheduled[0] as string;
      const row = page.locator(`#scheduled tr[data-job="${id}"]`);
      await Promise.all([page.waitForURL(/flash=cancelled/), row.getByRole('button', { name: 'Отменить' }).click()]);
      await expect(page.locator('.flash').textContent()).resolves.toBe(`Сообщение ${id} отменено.`);
      await expect(page.locator(`#jobs tr[data-job="${id}"]`).getAttribute('data-status')).resolves.toBe('cancelled');
      await expect(page.locator(`#jobs tr[data-job="${id}"] .badge`).textContent()).resolves.toBe('отменено');
      await expect(page.locator(`#scheduled tr[data-job="${id}"]`).count()).resolves.toBe(0);
      expect((await notifier.get(id))?.status).toBe('cancelled');
      await page.screenshot({ path: `${screenshots}cancelled-ru.png`, fullPage: true });
      expectNoTrouble(trouble);
      await context.close();
    });

    it('retries an AMBIGUOUS job only once the confirmation is ticked', async () => {
      const context = await adminContext();
      const { page, trouble } = await openPage(context);
      const id = jobs.ambiguous?.id as string;
      await page.goto(`${origin}/admin/olchat/jobs/${id}`);
      await expect(page.locator('#error-code').textContent()).resolves.toBe('AMBIGUOUS');
      await page.screenshot({ path: `${screenshots}job-ambiguous-ru.png`, fullPage: true });
      const retry = page.getByRole('button', { name: 'Повторить' });
      await retry.click(); // the browser holds the form back: the box is required
      expect(page.url()).toBe(`${origin}/admin/olchat/jobs/${id}`);
      expect((await notifier.get(id))?.status).toBe('failed');
      await page.getByLabel('Понимаю, что клиент может получить сообщение дважды').check();
      const sentAgain = finished(notifier, id, ['sent']);
      await Promise.all([page.waitForURL(/flash=retried/), retry.click()]);
      await expect(page.locator('.flash').textContent()).resolves.toBe(`Сообщение ${id} снова в очереди.`);
      expect((await sentAgain).status).toBe('sent');
      expectNoTrouble(trouble);
      await context.close();
    });

    it('speaks English at the mount configured for it', async () => {
      const context = await adminContext();
      const { page, trouble } = await openPage(context);
      await page.goto(`${origin}/admin/en/olchat/`);
      await expect(page.locator('h1').textContent()).resolves.toBe('Flower shop · WhatsApp');
      await expect(page.locator('#line .state').textContent()).resolves.toBe('up');
      await expect(page.locator('#recent h2').textContent()).resolves.toBe('Recent messages');
      await page.screenshot({ path: `${screenshots}overview-en.png`, fullPage: true });
      expectNoTrouble(trouble);
      await context.close();
    });

    it('shows an outage: the line down with its reason, the waiting lanes and the ETA in words', async () => {
      const context = await adminContext();
      const { page, trouble } = await openPage(context);
      await page.goto(`${origin}/admin/outage/`);
      await expect(page.locator('#line .state').textContent()).resolves.toBe('не работает — WhatsApp-сессия отключена');
      await expect(page.locator('[data-lane="high"]').textContent()).resolves.toBe('12');
      await expect(page.locator('[data-lane="normal"]').textContent()).resolves.toBe('160');
      await expect(page.locator('[data-lane="low"]').textContent()).resolves.toBe('28');
      // 200 waiting at 5 per 3 s: 39 more windows after the first, about two minutes.
      await expect(page.locator('#eta').textContent()).resolves.toBe('примерно через 2 минуты');
      await page.screenshot({ path: `${screenshots}outage-ru.png`, fullPage: false });
      expectNoTrouble(trouble);
      await context.close();
    });

    it('pauses a lane from its row, and clears a campaign backlog only after confirming it', async () => {
      const context = await adminContext();
      const { page, trouble } = await openPage(context);
      // Each page is let settle (its icon loaded) before the next is asked for: a request cut short
      // by leaving the page would count as trouble.
      const settled = () => page.waitForLoadState('networkidle');
      await page.goto(`${origin}/admin/outage/`);
      await settled();
      const low = page.locator('tr[data-lane-row="low"]');
      await Promise.all([page.waitForURL(/flash=paused/), low.getByRole('button', { name: 'Приостановить' }).click()]);
      await expect(page.locator('.flash').textContent()).resolves.toBe(
        'Приоритет «низкий» приостановлен: его сообщения ждут.',
      );
      await expect(page.locator('[data-lane-state="low"]').textContent()).resolves.toBe('на паузе');
      await settled();
      expect(outage?.lanes().low.paused).toBe(true);

      await Promise.all([
        page.waitForURL(/lanes\/low\/clear/),
        low.getByRole('button', { name: 'Очистить очередь…' }).click(),
      ]);
      await expect(page.locator('#clear .notice').textContent()).resolves.toContain('с приоритетом «низкий»');
      await settled();
      await page.screenshot({ path: `${screenshots}clear-confirm-ru.png`, fullPage: false });
      expect(outage?.stats().queued).toBe(200);
      await page.getByRole('button', { name: 'Да, отменить эти сообщения' }).click();
      await expect(page.locator('#notice p').first().textContent()).resolves.toBe(
        'Отменено сообщений с приоритетом «низкий»: 28.',
      );
      expect(outage?.stats()).toMatchObject({ queued: 172, cancelled: 28 });
      await settled();
      await page.goto(`${origin}/admin/outage/`);
      await settled();
      await expect(page.locator('[data-lane="low"]').textContent()).resolves.toBe('0');
      expectNoTrouble(trouble);
      await context.close();
    });
  },
);
