import { startEmulator } from '@olchat-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { finished } from '../../../test/helpers/waiting.js';
import { CONTENT_SECURITY_POLICY } from '../src/dashboard/answers.js';
import { createActionGuard, TOKEN_TTL_MS } from '../src/dashboard/guard.js';
import { MESSAGES } from '../src/dashboard/i18n.js';
import { createDashboard, type DashboardOptions, type DashboardRequest } from '../src/dashboard/index.js';
import {
  createNotifier,
  defineRule,
  type HandlerResponse,
  type JobRecord,
  MemoryLimiterStore,
  MemoryQueue,
  type AnyNotifier as Notifier,
  OlchatClient,
  type OlchatClientOptions,
  ValidationError,
} from '../src/index.js';
import { maskPhone } from '../src/phone.js';

// Scaled-down limits keep the file quick; the limiter itself is proven at vendor scale elsewhere.
const limits = { sendText: { points: 5, durationMs: 500 }, sendFile: { points: 5, durationMs: 500 } };
const HOST = 'admin.example.test:8080';
const ORIGIN = `http://${HOST}`;
const BASE = '/admin/olchat';
const PHONE = '79123456789';
const MASKED = '+7 912 ***-**-89';

let emu: Awaited<ReturnType<typeof startEmulator>>;
const store = new MemoryLimiterStore();
const open: Notifier[] = [];

beforeAll(async () => {
  emu = await startEmulator({ limits });
});
afterEach(async () => {
  for (const notifier of open.splice(0)) {
    await notifier.close({ timeoutMs: 1000 });
    await notifier.client.close();
  }
  emu.clearFaults();
  emu.reset();
});
afterAll(async () => {
  await emu.close();
});

const orderReceived = defineRule({
  id: 'order-received',
  input: z.object({ name: z.string(), phone: z.string() }),
  to: 'phone',
  text: 'Здравствуйте, {{name}}! Заказ получен.',
});

function makeNotifier(clientOptions: Partial<OlchatClientOptions> = {}): Notifier {
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limits,
    limiterStore: store,
    retry: { minDelayMs: 20, maxDelayMs: 60 },
    ...clientOptions,
  });
  const notifier = createNotifier({ client, rules: [orderReceived], queue: new MemoryQueue() });
  open.push(notifier);
  return notifier;
}

/** A request as the Express adapter hands it over: below the mount point, the mount point beside it. */
function get(path: string): DashboardRequest {
  return { method: 'GET', path, headers: { host: HOST, accept: 'text/html' }, basePath: BASE };
}

function post(
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = { origin: ORIGIN },
): DashboardRequest {
  const body = new URLSearchParams(fields).toString();
  return {
    method: 'POST',
    path,
    headers: {
      host: HOST,
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
    basePath: BASE,
    body: (async function* () {
      yield body;
    })(),
  };
}

async function page(
  dashboard: ReturnType<typeof createDashboard>,
  path: string,
): Promise<HandlerResponse & { body: string }> {
  const answer = await dashboard.handle(get(path));
  if (!answer?.body) throw new Error(`no page at ${path}`);
  return answer as HandlerResponse & { body: string };
}

/** The token in the first form of a page, as a browser would send it back. */
function tokenIn(html: string): string {
  const token = /name="token" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no form with a token on the page');
  return token;
}

/** The ids of the rows of the recent-jobs table, with the status each shows. */
function recentRows(html: string): { id: string; status: string }[] {
  const table = /<table id="jobs">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
  return [...table.matchAll(/<tr data-job="([^"]+)" data-status="([^"]+)">/g)].map(([, id, status]) => ({
    id: id as string,
    status: status as string,
  }));
}

async function scheduledJob(notifier: Notifier, options: { meta?: Record<string, unknown>; replaceKey?: string } = {}) {
  return notifier.send({ phone: PHONE, text: 'Напоминание о записи' }, { sendAt: Date.now() + 60_000, ...options });
}

async function sentJob(notifier: Notifier): Promise<JobRecord> {
  const job = await notifier.trigger('order-received', { name: 'Анна', phone: '+7 912 345-67-89' });
  return finished(notifier, job.id);
}

describe('createDashboard: the page', () => {
  it('shows the line, counts, ETA, next scheduled and recent jobs with masked phones, under the security headers', async () => {
    const notifier = makeNotifier();
    const sent = await sentJob(notifier);
    expect(sent.status).toBe('sent');
    const scheduled = await scheduledJob(notifier);
    const dashboard = createDashboard(notifier);
    const answer = await page(dashboard, '/');

    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
    });
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    const html = answer.body;
    expect(html).toContain('<html lang="ru">');
    // The line answered a send: it is up, since a moment ago.
    expect(notifier.lineInfo().state).toBe('up');
    expect(html).toMatch(/class="state state-up">работает</);
    expect(html).toContain(
      '<a href="/admin/olchat/?status=sent" data-count="sent"><b>1</b><span>отправлено</span></a>',
    );
    expect(html).toContain(
      '<a href="/admin/olchat/?status=scheduled" data-count="scheduled"><b>1</b><span>запланировано</span></a>',
    );
    expect(html).toContain('<p><strong id="eta">Очередь пуста</strong></p>');
    const next = /<section id="scheduled"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    expect(next).toContain(`data-job="${scheduled.id}"`);
    // Newest first; the two may share a millisecond, so their order is not asserted.
    expect(recentRows(html)).toHaveLength(2);
    expect(recentRows(html)).toEqual(
      expect.arrayContaining([
        { id: scheduled.id, status: 'scheduled' },
        { id: sent.id, status: 'sent' },
      ]),
    );
    expect(html).toContain(MASKED);
    expect(html).not.toMatch(/79123456789|912 345|345-67/);
    // Every link, form and resource points into the dashboard: nothing is fetched from elsewhere.
    const targets = [...html.matchAll(/\s(?:href|src|action)="([^"]*)"/g)].map((m) => m[1] as string);
    expect(targets.length).toBeGreaterThan(10);
    for (const target of targets) expect(target.startsWith(`${BASE}/`), target).toBe(true);
    expect(html).not.toMatch(/<script|\sstyle="|\son[a-z]+=/i);
  });

  it('filters recent jobs by status through ?status= links', async () => {
    const notifier = makeNotifier();
    const sent = await sentJob(notifier);
    const scheduled = await scheduledJob(notifier);
    const dashboard = createDashboard(notifier);

    const onlyScheduled = (await page(dashboard, '/?status=scheduled')).body;
    expect(recentRows(onlyScheduled)).toEqual([{ id: scheduled.id, status: 'scheduled' }]);
    expect(onlyScheduled).toContain('<a href="/admin/olchat/?status=scheduled" aria-current="page">запланировано</a>');
    expect(recentRows((await page(dashboard, '/?status=sent')).body)).toEqual([{ id: sent.id, status: 'sent' }]);
    expect((await page(dashboard, '/?status=failed')).body).toContain('Нет сообщений со статусом «ошибка».');
    // An unknown status is no filter at all.
    expect(recentRows((await page(dashboard, '/?status=bogus')).body)).toHaveLength(2);
  });

  it("prints the app's data as text: meta and replace keys are escaped", async () => {
    const notifier = makeNotifier();
    const attack = '<script>alert(1)</script>';
    const job = await scheduledJob(notifier, {
      meta: { note: attack, quote: '"><img src=x onerror=alert(2)>' },
      replaceKey: `"'><b>key</b>`,
    });
    const dashboard = createDashboard(notifier);
    const detail = (await page(dashboard, `/jobs/${job.id}`)).body;
    expect(detail).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(detail).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(detail).toContain('&quot;&#39;&gt;&lt;b&gt;key&lt;/b&gt;');
    expect(detail).not.toContain('<script>');
    expect(detail).not.toContain('<img');
    expect(detail).not.toContain('<b>key');
    // The meta as the app gave it, as JSON.
    const meta = /<pre id="meta">([\s\S]*?)<\/pre>/.exec(detail)?.[1] ?? '';
    const unescaped = meta
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'");
    expect(JSON.parse(unescaped.replace(/&amp;/g, '&'))).toEqual({
      note: attack,
      quote: '"><img src=x onerror=alert(2)>',
    });
  });

  it("shows a job's every field, and a plain 404 page for an unknown id", async () => {
    const notifier = makeNotifier();
    const sent = await sentJob(notifier);
    const dashboard = createDashboard(notifier, { timeZone: 'UTC' });
    const detail = (await page(dashboard, `/jobs/${encodeURIComponent(sent.id)}`)).body;
    expect(detail).toContain(`<code>${sent.id}</code>`);
    expect(detail).toContain('<span class="badge badge-sent">отправлено</span>');
    expect(detail).toContain('<dt>Правило</dt><dd>order-received</dd>');
    expect(detail).toContain(`<dt>Телефон</dt><dd>${MASKED}</dd>`);
    expect(detail).toContain('<dt>Приоритет</dt><dd>обычный</dd>');
    expect(detail).toContain('<dt>Попыток отправки</dt><dd>1</dd>');
    expect(detail).toContain(`<dt>ID сообщения в OLChat</dt><dd>${sent.messageId}</dd>`);
    const created = new Date(sent.createdAt).toISOString();
    expect(detail).toContain(`<time datetime="${created}">`);
    expect(detail).toContain('Время указано по часовому поясу UTC.');

    const missing = await dashboard.handle(get('/jobs/no-such-job'));
    expect(missing?.status).toBe(404);
    expect(missing?.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(missing?.body).toContain('Сообщение не найдено');
  });

  it('shows what was sent: the text or the file, as text; with storeText: false, that it was not kept', async () => {
    const notifier = makeNotifier();
    const sent = await sentJob(notifier);
    const attack = '<img src=x onerror=alert(1)> & "quotes"';
    const file = await notifier.send(
      { phone: PHONE, file: { url: 'https://shop.example/a.pdf?x=<b>', caption: attack } },
      { sendAt: Date.now() + 60_000 },
    );
    const dashboard = createDashboard(notifier);
    const detail = (await page(dashboard, `/jobs/${sent.id}`)).body;
    expect(detail).toContain('<dt>Текст</dt><dd><pre id="text">Здравствуйте, Анна! Заказ получен.</pre></dd>');
    const fileDetail = (await page(dashboard, `/jobs/${file.id}`)).body;
    expect(fileDetail).toContain('<code id="file-url">https://shop.example/a.pdf?x=&lt;b&gt;</code>');
    expect(fileDetail).toContain('<pre id="caption">&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;</pre>');
    expect(fileDetail).not.toContain('<img');

    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limits, limiterStore: store });
    const forgetful = createNotifier({ client, rules: [orderReceived], storeText: false });
    open.push(forgetful);
    const dropped = await sentJob(forgetful);
    const plain = (await page(createDashboard(forgetful), `/jobs/${dropped.id}`)).body;
    expect(plain).toContain('<dt>Текст</dt><dd><span class="muted">не хранится (storeText: false)</span></dd>');
    expect(plain).not.toContain('Анна');
  });

  it("finds a customer's messages by phone in any spelling, through a POST; shows them masked", async () => {
    const notifier = makeNotifier();
    const sent = await sentJob(notifier);
    const scheduled = await scheduledJob(notifier);
    const other = await notifier.send({ phone: '79001112233', text: 'другому' }, { sendAt: Date.now() + 60_000 });
    const dashboard = createDashboard(notifier);
    const overview = (await page(dashboard, '/')).body;
    expect(overview).toContain(`<form class="search" method="post" action="${BASE}/search" role="search">`);
    for (const spelling of ['8 (912) 345-67-89', '9123456789', '+79123456789']) {
      const answer = await dashboard.handle(post('/search', { phone: spelling }));
      expect(answer?.status).toBe(200);
      const body = answer?.body as string;
      expect(body).toContain(`Сообщения на ${MASKED}`);
      const rows = [...body.matchAll(/<tr data-job="([^"]+)"/g)].map((m) => m[1]);
      expect(rows).toEqual([scheduled.id, sent.id]);
      expect(body).not.toContain(other.id);
      expect(body).not.toMatch(/79123456789|912 345|345-67/);
    }
    const none = await dashboard.handle(post('/search', { phone: '+7 999 000-11-22' }));
    expect(none?.body).toContain('Сообщений на +7 999 ***-**-22 нет');
    const invalid = await dashboard.handle(post('/search', { phone: '12345' }));
    expect(invalid?.status).toBe(200);
    expect(invalid?.body).toContain('Это не номер телефона России или Казахстана');
    // No phone in a URL: a GET only goes back to the overview.
    expect((await dashboard.handle(get('/search?phone=79123456789')))?.status).toBe(303);
    const english = createDashboard(notifier, { lang: 'en' });
    expect((await english.handle(post('/search', { phone: PHONE })))?.body).toContain(`Messages to ${MASKED}`);
  });

  it('speaks English by option', async () => {
    const notifier = makeNotifier();
    await sentJob(notifier);
    await scheduledJob(notifier);
    const dashboard = createDashboard(notifier, { lang: 'en', title: 'Shop <notifications>' });
    const html = (await page(dashboard, '/')).body;
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<h1>Shop &lt;notifications&gt;</h1>');
    expect(html).toContain('WhatsApp line');
    expect(html).toMatch(/class="state state-up">up</);
    expect(html).toContain('<b>1</b><span>scheduled</span></a>');
    expect(html).toContain('Nothing waiting');
    expect(html).toContain('Recent messages');
    expect(html).not.toMatch(/[а-яё]/i);
  });
});

describe('createDashboard: actions', () => {
  it("cancels a scheduled job from the page's form, then shows it cancelled with a message", async () => {
    const notifier = makeNotifier();
    const job = await scheduledJob(notifier);
    const dashboard = createDashboard(notifier);
    const token = tokenIn((await page(dashboard, '/')).body);

    const answer = await dashboard.handle(post(`/jobs/${job.id}/cancel`, { token, back: 'list', status: 'scheduled' }));
    expect(answer?.status).toBe(303);
    expect(answer?.headers.location).toBe(`${BASE}/?flash=cancelled&job=${job.id}&status=scheduled`);
    expect((await notifier.get(job.id))?.status).toBe('cancelled');
    const after = (await page(dashboard, `/?flash=cancelled&job=${job.id}`)).body;
    expect(after).toContain(`<p class="flash" role="status">Сообщение ${job.id} отменено.</p>`);
    expect(recentRows(after)).toEqual([{ id: job.id, status: 'cancelled' }]);
    // A crafted link cannot make the page claim anything: the flash names only a job it is true of.
    const crafted = (await page(dashboard, '/?flash=cancelled&job=%3Cb%3Eall%20jobs%3C%2Fb%3E')).body;
    expect(crafted).not.toContain('class="flash"');
    expect(crafted).not.toContain('all jobs');

    // From the job's own page it goes back there; a second cancel is refused with the reason.
    const again = await dashboard.handle(post(`/jobs/${job.id}/cancel`, { token, back: 'job' }));
    expect(again?.status).toBe(409);
    expect(again?.body).toContain('а у этого статус «отменено»');
  });

  it('refuses an action without a valid token, or sent from another site: 403, and nothing is done', async () => {
    const notifier = makeNotifier();
    const job = await scheduledJob(notifier);
    const dashboard = createDashboard(notifier);
    const token = tokenIn((await page(dashboard, '/')).body);
    const [issued, nonce, mac] = token.split('.') as [string, string, string];
    const otherDashboard = createDashboard(notifier);
    const foreignToken = tokenIn((await page(otherDashboard, '/')).body);
    const path = `/jobs/${job.id}/cancel`;

    const refusals: [string, DashboardRequest][] = [
      ['no token', post(path, {})],
      ['an empty token', post(path, { token: '' })],
      // The first character carries six bits of the mac: changing it always changes the mac.
      ['a tampered mac', post(path, { token: `${issued}.${nonce}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}` })],
      [
        'a mac spelt another way (spare bits of its last character)',
        post(path, { token: `${issued}.${nonce}.${respell(mac)}` }),
      ],
      ['a tampered nonce', post(path, { token: `${issued}.${nonce.slice(1)}x.${mac}` })],
      ['a token of another dashboard (another secret)', post(path, { token: foreignToken })],
      ['another site', post(path, { token }, { origin: 'https://evil.example' })],
      ['another port of the same host', post(path, { token }, { origin: 'http://admin.example.test:9999' })],
      ['Origin: null (a sandboxed frame)', post(path, { token }, { origin: 'null' })],
      ['Sec-Fetch-Site: cross-site', post(path, { token }, { origin: ORIGIN, 'sec-fetch-site': 'cross-site' })],
      ['Sec-Fetch-Site: same-site', post(path, { token }, { origin: ORIGIN, 'sec-fetch-site': 'same-site' })],
      ['a Referer from another site', post(path, { token }, { referer: 'https://evil.example/x' })],
      ['neither Origin nor Referer', post(path, { token }, {})],
    ];
    for (const [name, request] of refusals) {
      const answer = await dashboard.handle(request);
      expect(answer?.status, name).toBe(403);
      expect(answer?.headers['content-security-policy'], name).toBe(CONTENT_SECURITY_POLICY);
      expect(answer?.body, name).toContain('Запрос отклонён');
    }
    expect((await notifier.get(job.id))?.status).toBe('scheduled');

    // A GET never acts.
    expect((await dashboard.handle(get(`${path}?token=${token}`)))?.status).toBe(405);
    expect((await notifier.get(job.id))?.status).toBe('scheduled');

    // The same token with the Referer of the dashboard's own page (a browser that sends no Origin) works.
    const byReferer = await dashboard.handle(
      post(path, { token }, { referer: `${ORIGIN}${BASE}/`, 'sec-fetch-site': 'same-origin' }),
    );
    expect(byReferer?.status).toBe(303);
    expect((await notifier.get(job.id))?.status).toBe('cancelled');
  });

  it('tokens last TOKEN_TTL_MS; dashboards sharing a secret accept each other’s', () => {
    const guard = createActionGuard();
    const now = Date.now();
    const token = guard.issue(now);
    expect(guard.verify(token, now + TOKEN_TTL_MS - 1000)).toBe(true);
    expect(guard.verify(token, now + TOKEN_TTL_MS + 1000)).toBe(false);
    expect(guard.verify(guard.issue(now + 10 * 60_000), now)).toBe(false); // from the future
    expect(guard.verify(`${token}.extra`, now)).toBe(false);
    expect(guard.verify(['a', 'b'], now)).toBe(false);

    const secret = 'a-secret-shared-by-every-process-1234';
    expect(createActionGuard({ secret }).verify(createActionGuard({ secret }).issue(now), now)).toBe(true);
    expect(createActionGuard().verify(createActionGuard().issue(now), now)).toBe(false);
  });

  it('accepts an origin named in allowedOrigins (a proxy that rewrites Host)', async () => {
    const notifier = makeNotifier();
    const job = await scheduledJob(notifier);
    const dashboard = createDashboard(notifier, { allowedOrigins: ['https://admin.example.com'] });
    const token = tokenIn((await page(dashboard, '/')).body);
    const request = post(`/jobs/${job.id}/cancel`, { token }, { origin: 'https://admin.example.com' });
    request.headers.host = '127.0.0.1:3000';
    expect((await dashboard.handle(request))?.status).toBe(303);
    expect((await notifier.get(job.id))?.status).toBe('cancelled');
  });

  it('retries a failed job; an AMBIGUOUS one only with the confirmation ticked', async () => {
    // A 500 is not proof the vendor did nothing: the job fails at once. A hang is AMBIGUOUS.
    // Ends the hanging request soon, yet leaves the retried sends ample time on a loaded machine.
    const notifier = makeNotifier({ timeoutMs: 2_000 });
    emu.fail('500');
    const failed = await finished(notifier, (await notifier.send({ phone: PHONE, text: 'Первое' })).id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'HTTP', status: 500 } });
    emu.fail('timeout');
    const ambiguous = await finished(notifier, (await notifier.send({ phone: PHONE, text: 'Второе' })).id);
    expect(ambiguous).toMatchObject({ status: 'failed', error: { code: 'AMBIGUOUS' } });
    emu.clearFaults();

    const dashboard = createDashboard(notifier);
    const list = (await page(dashboard, '/?status=failed')).body;
    const token = tokenIn(list);
    const rowOf = (id: string) => new RegExp(`<tr data-job="${id}"[\\s\\S]*?</tr>`).exec(list)?.[0] ?? '';
    expect(rowOf(failed.id)).toMatch(/<code title="[^"]+">HTTP 500<\/code>/);
    expect(rowOf(failed.id)).toContain(`action="${BASE}/jobs/${failed.id}/retry"`);
    // The AMBIGUOUS row offers no one-click retry: only its page, where the confirmation is.
    expect(rowOf(ambiguous.id)).toContain('<code');
    expect(rowOf(ambiguous.id)).not.toContain('/retry"');
    const detail = (await page(dashboard, `/jobs/${ambiguous.id}`)).body;
    expect(detail).toContain('<input type="checkbox" name="ambiguous" value="true" required>');

    const failedSent = finished(notifier, failed.id, ['sent']);
    const retried = await dashboard.handle(post(`/jobs/${failed.id}/retry`, { token, back: 'list', status: 'failed' }));
    expect(retried?.status).toBe(303);
    expect(retried?.headers.location).toBe(`${BASE}/?flash=retried&job=${failed.id}&status=failed`);
    expect((await failedSent).status).toBe('sent');

    const unconfirmed = await dashboard.handle(post(`/jobs/${ambiguous.id}/retry`, { token, back: 'job' }));
    expect(unconfirmed?.status).toBe(409);
    expect(unconfirmed?.body).toContain('отметьте подтверждение');
    expect((await notifier.get(ambiguous.id))?.status).toBe('failed');

    const ambiguousSent = finished(notifier, ambiguous.id, ['sent']);
    const confirmed = await dashboard.handle(
      post(`/jobs/${ambiguous.id}/retry`, { token, back: 'job', ambiguous: 'true' }),
    );
    expect(confirmed?.status).toBe(303);
    expect(confirmed?.headers.location).toBe(`${BASE}/jobs/${ambiguous.id}?flash=retried`);
    expect((await ambiguousSent).status).toBe('sent');

    // A sent job cannot be retried: the page says why.
    const again = await dashboard.handle(post(`/jobs/${failed.id}/retry`, { token }));
    expect(again?.status).toBe(409);
    expect(again?.body).toContain('а у этого статус «отправлено»');
  });

  it('answers a form it cannot read with a 4xx page, and an unknown job with 404', async () => {
    const notifier = makeNotifier();
    await scheduledJob(notifier);
    const dashboard = createDashboard(notifier);
    const token = tokenIn((await page(dashboard, '/')).body);
    const huge = await dashboard.handle(post('/jobs/x/cancel', { token, pad: 'x'.repeat(10_000) }));
    expect(huge?.status).toBe(413);
    const unknown = await dashboard.handle(post('/jobs/no-such-job/cancel', { token }));
    expect(unknown?.status).toBe(404);
  });
});

describe('createDashboard: lanes and the flag', () => {
  it('pauses and resumes a lane from its row; the row says which, the flash only while true', async () => {
    const notifier = makeNotifier();
    const dashboard = createDashboard(notifier);
    const overview = (await page(dashboard, '/')).body;
    const token = tokenIn(overview);
    const row = (html: string, lane: string) =>
      new RegExp(`<tr data-lane-row="${lane}">[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';
    expect(row(overview, 'low')).toContain(`action="${BASE}/lanes/low/pause"`);
    expect(row(overview, 'low')).toContain(`action="${BASE}/lanes/low/clear"`);
    expect(row(overview, 'low')).toContain('отправляет');

    const paused = await dashboard.handle(post('/lanes/low/pause', { token }));
    expect(paused?.status).toBe(303);
    expect(paused?.headers.location).toBe(`${BASE}/?flash=paused&lane=low`);
    expect(notifier.lanes().low.paused).toBe(true);
    const after = (await page(dashboard, '/?flash=paused&lane=low')).body;
    expect(after).toContain('Приоритет «низкий» приостановлен');
    expect(row(after, 'low')).toContain('на паузе');
    expect(row(after, 'low')).toContain(`action="${BASE}/lanes/low/resume"`);
    // A crafted link cannot make the page claim what is not so.
    expect((await page(dashboard, '/?flash=paused&lane=high')).body).not.toContain('приостановлен');

    const resumed = await dashboard.handle(post('/lanes/low/resume', { token }));
    expect(resumed?.headers.location).toBe(`${BASE}/?flash=resumed&lane=low`);
    expect(notifier.lanes().low.paused).toBe(false);
  });

  it('clears a lane’s backlog only after the confirmation step', async () => {
    const notifier = makeNotifier();
    await notifier.pause('low');
    const jobs = [];
    for (let i = 0; i < 3; i++)
      jobs.push(await notifier.send({ phone: PHONE, text: `Акция ${i}` }, { priority: 'low' }));
    const kept = await scheduledJob(notifier);
    const dashboard = createDashboard(notifier);
    const token = tokenIn((await page(dashboard, '/')).body);

    const ask = await dashboard.handle(post('/lanes/low/clear', { token }));
    expect(ask?.status).toBe(200);
    expect(ask?.body).toContain('Отменить все запланированные сообщения и сообщения в очереди с приоритетом «низкий»');
    expect(ask?.body).toContain('name="confirm" value="yes"');
    for (const job of jobs) expect((await notifier.get(job.id))?.status).toBe('queued');

    const done = await dashboard.handle(
      post('/lanes/low/clear', { token: tokenIn(ask?.body as string), confirm: 'yes' }),
    );
    expect(done?.status).toBe(200);
    expect(done?.body).toContain('Отменено сообщений с приоритетом «низкий»: 3.');
    for (const job of jobs) expect((await notifier.get(job.id))?.status).toBe('cancelled');
    expect((await notifier.get(kept.id))?.status).toBe('scheduled');
  });

  it('lane actions refuse cross-site requests and a missing token: 403, nothing done', async () => {
    const notifier = makeNotifier();
    await notifier.send({ phone: PHONE, text: 'Акция' }, { priority: 'low', sendAt: Date.now() + 60_000 });
    const dashboard = createDashboard(notifier);
    const token = tokenIn((await page(dashboard, '/')).body);
    const attempts = [
      post('/lanes/low/pause', { token }, { origin: 'https://evil.example' }),
      post('/lanes/low/pause', {}),
      post('/lanes/low/clear', { token, confirm: 'yes' }, { origin: ORIGIN, 'sec-fetch-site': 'cross-site' }),
      post('/lanes/resume', { token: 'forged.token.mac' }),
    ];
    for (const request of attempts) expect((await dashboard.handle(request))?.status).toBe(403);
    expect(notifier.lanes().low.paused).toBe(false);
    expect(notifier.stats().scheduled).toBe(1);
    expect((await dashboard.handle(get('/lanes/low/pause')))?.status).toBe(405);
  });

  it('shows a flagged line with its end, and lifts it (and every pause) with one button', async () => {
    const notifier = makeNotifier();
    await notifier.pause('normal');
    emu.setFlagged(true);
    await notifier.refreshLine();
    expect(notifier.line).toBe('flagged');
    const dashboard = createDashboard(notifier, { lang: 'en' });
    const html = (await page(dashboard, '/')).body;
    expect(html).toContain('<p class="state state-flagged">flagged for spam</p>');
    expect(html).toContain('Normal and low messages wait until');
    expect(html).toContain('waiting until');
    expect(html).toContain(`action="${BASE}/lanes/resume"`);
    emu.setFlagged(false);
    const lifted = await dashboard.handle(post('/lanes/resume', { token: tokenIn(html) }));
    expect(lifted?.headers.location).toBe(`${BASE}/?flash=resumedAll`);
    expect(notifier.line).toBe('up');
    expect(Object.values(notifier.lanes()).every((lane) => lane.open)).toBe(true);
    expect((await page(dashboard, '/?flash=resumedAll')).body).toContain('Every pause and the flag are lifted.');
  });
});

describe('createDashboard: routes and options', () => {
  it('serves only its own paths, its stylesheet with a long cache when versioned, and 405 for other methods', async () => {
    const dashboard = createDashboard(makeNotifier());
    expect(dashboard.routes).toEqual([
      '/',
      '/search',
      '/jobs/:id',
      '/jobs/:id/cancel',
      '/jobs/:id/retry',
      '/lanes/:lane/pause',
      '/lanes/:lane/resume',
      '/lanes/:lane/clear',
      '/lanes/resume',
      '/assets/dashboard.css',
      '/assets/icon.svg',
    ]);
    for (const path of [
      '/other',
      '/jobs',
      '/jobs/a/b',
      '/jobs/a/delete',
      '/assets/x.js',
      '/lanes',
      '/lanes/urgent/pause',
      '/lanes/low/drop',
      '/lanes/pause',
    ]) {
      expect(await dashboard.handle(get(path)), path).toBeUndefined();
    }
    const html = (await page(dashboard, '/')).body;
    const cssHref = /<link rel="stylesheet" href="([^"]+)">/.exec(html)?.[1] ?? '';
    expect(cssHref).toMatch(/^\/admin\/olchat\/assets\/dashboard\.css\?v=[0-9a-f]{12}$/);
    const css = await dashboard.handle(get(cssHref.slice(BASE.length)));
    expect(css?.status).toBe(200);
    expect(css?.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css?.headers['cache-control']).toContain('immutable');
    expect(css?.body).not.toMatch(/@import|url\(/);
    expect((await dashboard.handle(get('/assets/dashboard.css')))?.headers['cache-control']).toBe('no-cache');
    const put = await dashboard.handle({ ...get('/'), method: 'PUT' });
    expect(put?.status).toBe(405);
    expect(put?.headers.allow).toBe('GET, HEAD');
  });

  it('links below the basePath option when given, else below where the adapter mounted it', async () => {
    const dashboard = createDashboard(makeNotifier(), { basePath: '/ops/queue/' });
    const answer = await dashboard.handle({ method: 'GET', path: '/', headers: { host: HOST } });
    expect(answer?.body).toContain('href="/ops/queue/?status=failed"');
    // A proxy serves the app below /ops: the option wins over where the adapter mounted it.
    expect((await dashboard.handle(get('/')))?.body).toContain('href="/ops/queue/?status=failed"');
    expect((await createDashboard(makeNotifier()).handle(get('/')))?.body).toContain(`href="${BASE}/?status=failed"`);
  });

  it('refuses bad options at setup with a ValidationError naming the option', () => {
    const notifier = makeNotifier();
    const cases: [string, DashboardOptions][] = [
      ['lang', { lang: 'de' as never }],
      ['title', { title: ' ' }],
      ['pageSize', { pageSize: 0 }],
      ['pageSize', { pageSize: 501 }],
      ['timeZone', { timeZone: 'Mars/Olympus' }],
      ['basePath', { basePath: 'admin' }],
      ['basePath', { basePath: '//evil.example' }],
      ['secret', { secret: 'short' }],
      ['allowedOrigins.0', { allowedOrigins: ['https://admin.example.com/path'] }],
    ];
    for (const [path, options] of cases) {
      let error: unknown;
      try {
        createDashboard(notifier, options);
      } catch (caught) {
        error = caught;
      }
      expect(error, path).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.path, path).toBe(path);
    }
    expect(() => createDashboard({} as never)).toThrow(ValidationError);
  });
});

describe('dashboard wording', () => {
  it('masks phones: the country and operator codes and the last two digits', () => {
    expect(maskPhone('79123456789')).toBe('+7 912 ***-**-89');
    expect(maskPhone('77011234567')).toBe('+7 701 ***-**-67');
    expect(maskPhone(undefined)).toBe('—');
    expect(maskPhone('123')).toBe('***');
  });

  it('says the ETA in words, with Russian plural forms', () => {
    const { ru, en } = MESSAGES;
    expect(ru.etaIn(60_000)).toBe('примерно через 1 минуту');
    expect(ru.etaIn(100_000)).toBe('примерно через 2 минуты');
    expect(ru.etaIn(4 * 60_000 + 10_000)).toBe('примерно через 4 минуты');
    expect(ru.etaIn(21 * 60_000 + 12_000)).toBe('примерно через 21 минуту');
    expect(ru.etaIn(11 * 60_000)).toBe('примерно через 11 минут');
    expect(ru.etaIn(2 * 3600_000 + 5 * 60_000 + 10_000)).toBe('примерно через 2 часа 5 минут');
    expect(ru.etaIn(5 * 3600_000)).toBe('примерно через 5 часов');
    expect(ru.etaIn(26 * 3600_000)).toBe('примерно через 1 день 2 часа');
    expect(ru.ago(2_000)).toBe('только что');
    expect(ru.ago(42_000)).toBe('42 секунды назад');
    expect(ru.ago(22 * 60_000)).toBe('22 минуты назад');
    expect(en.etaIn(3600_000 + 60_000)).toBe('in about 1 hour 1 minute');
    expect(en.ago(2 * 60_000)).toBe('2 minutes ago');
  });
});

/** The same bytes in base64url, spelt differently: the last character's two spare bits flipped on. */
function respell(mac: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(mac.at(-1) as string);
  return `${mac.slice(0, -1)}${alphabet[last | 0b11]}`;
}
