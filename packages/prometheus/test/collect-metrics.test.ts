import {
  type AnyNotifier,
  createNotifier,
  defineRule,
  type JobRecord,
  MemoryLimiterStore,
  MemoryQueue,
  type NotifierOptions,
  OlchatClient,
  type OlchatClientOptions,
  OlchatError,
} from '@olchat-kit/core';
import type { NotifierInternalOptions } from '@olchat-kit/core/queue';
import { startEmulator } from '@olchat-kit/testing';
import { type OpenMetricsContentType, Registry, register } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { collectMetrics, type MetricsCollector } from '../src/index.js';
import { type Exposition, parseExposition, samplesOf, sampleValue } from './helpers/exposition.js';

// Scaled-down vendor limits keep the file quick; the limiter itself is proven in core's tests.
const limits = { sendText: { points: 5, durationMs: 500 }, sendFile: { points: 5, durationMs: 500 } };
let emu: Awaited<ReturnType<typeof startEmulator>>;
const store = new MemoryLimiterStore();
const open: AnyNotifier[] = [];
const collectors: MetricsCollector[] = [];

beforeAll(async () => {
  emu = await startEmulator({ limits, latencyMs: [0, 20] });
});
afterEach(async () => {
  for (const collector of collectors.splice(0)) collector.stop();
  for (const notifier of open.splice(0)) {
    await notifier.close({ timeoutMs: 5000 });
    await notifier.client.close();
  }
  emu.setConnected(true);
  emu.reset();
});
afterAll(async () => {
  await emu.close();
});

const orderReceived = defineRule({
  id: 'order-received',
  input: z.object({ name: z.string().min(1), phone: z.string(), orderId: z.string() }),
  to: 'phone',
  text: 'Здравствуйте, {{name}}! Мы получили вашу заявку №{{orderId}}',
});

function make(
  options: {
    client?: Partial<OlchatClientOptions>;
    notifier?: Partial<NotifierOptions> & NotifierInternalOptions;
  } = {},
): AnyNotifier {
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limits,
    limiterStore: store,
    // One request per attempt, as the notifier's own worker asks: every 429 reaches the metrics.
    retry: { retries: 0 },
    ...options.client,
  });
  const notifier = createNotifier({
    client,
    rules: [orderReceived],
    queue: new MemoryQueue(),
    backoff: { minMs: 20, maxMs: 100 },
    line: { checkIntervalMs: false },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...options.notifier,
  });
  open.push(notifier);
  return notifier;
}

function collect(notifier: AnyNotifier, registry = new Registry(), prefix?: string): MetricsCollector {
  const collector = collectMetrics(notifier, prefix === undefined ? { registry } : { registry, prefix });
  collectors.push(collector);
  return collector;
}

async function scrape(collector: MetricsCollector): Promise<Exposition> {
  return parseExposition(await collector.registry.metrics());
}

function ended(notifier: AnyNotifier, id: string): Promise<JobRecord> {
  const statuses = ['sent', 'failed', 'expired', 'cancelled'] as const;
  return new Promise((resolve) => {
    const check = (record: JobRecord) => {
      if (record.id !== id) return;
      for (const status of statuses) notifier.off(status, check);
      resolve(record);
    };
    for (const status of statuses) notifier.on(status, check);
    void notifier.get(id).then((r) => r && (statuses as readonly string[]).includes(r.status) && check(r));
  });
}

/** A bucket's upper bound as Prometheus reads it. */
const le = (text: string | undefined) => (text === '+Inf' ? Number.POSITIVE_INFINITY : Number(text));

const order = (i: number) => ({ name: `Покупатель ${i}`, phone: `+7 912 345-67-${10 + i}`, orderId: `A-${i}` });

describe('collectMetrics on a real notifier and the emulator', () => {
  it('registers every metric of DESIGN with its type, the fixed series at 0 from the start', async () => {
    const m = await scrape(collect(make()));
    expect(Object.fromEntries(m.types)).toEqual({
      olchat_messages_total: 'counter',
      olchat_queue_jobs: 'gauge',
      olchat_queue_eta_seconds: 'gauge',
      olchat_send_duration_seconds: 'histogram',
      olchat_limiter_wait_seconds: 'histogram',
      olchat_vendor_rate_limited_total: 'counter',
      olchat_line_up: 'gauge',
      olchat_delivery_total: 'counter',
    });
    for (const name of m.types.keys()) expect(m.help.get(name)?.length, name).toBeGreaterThan(10);
    expect(sampleValue(m, 'olchat_vendor_rate_limited_total')).toBe(0);
    for (const status of ['delivered', 'read', 'undelivered']) {
      expect(sampleValue(m, 'olchat_delivery_total', { status })).toBe(0);
    }
    for (const state of ['scheduled', 'queued', 'sending']) {
      expect(sampleValue(m, 'olchat_queue_jobs', { state })).toBe(0);
    }
    expect(sampleValue(m, 'olchat_queue_eta_seconds')).toBe(0);
    expect(sampleValue(m, 'olchat_send_duration_seconds_count')).toBe(0);
  });

  it('counts sent messages by rule, ad-hoc sends under rule="", and times each request', async () => {
    const notifier = make();
    const collector = collect(notifier);
    const jobs = [
      await notifier.trigger('order-received', order(1)),
      await notifier.trigger('order-received', order(2)),
      await notifier.send({ phone: '79123456700', text: 'Ваш заказ готов' }),
    ];
    for (const job of jobs) expect((await ended(notifier, job.id)).status).toBe('sent');

    const m = await scrape(collector);
    expect(sampleValue(m, 'olchat_messages_total', { rule: 'order-received', status: 'sent' })).toBe(2);
    expect(sampleValue(m, 'olchat_messages_total', { rule: '', status: 'sent' })).toBe(1);
    // A rule's other endings exist at 0 once it has been seen: increase() catches its first failure.
    for (const status of ['failed', 'expired', 'cancelled']) {
      expect(sampleValue(m, 'olchat_messages_total', { rule: 'order-received', status })).toBe(0);
    }
    for (const histogram of ['olchat_send_duration_seconds', 'olchat_limiter_wait_seconds']) {
      expect(sampleValue(m, `${histogram}_count`), histogram).toBe(3);
      const buckets = samplesOf(m, `${histogram}_bucket`).map((s) => [le(s.labels.le), s.value] as const);
      const counts = buckets.map(([, count]) => count);
      expect(counts, `${histogram} buckets are cumulative`).toEqual([...counts].sort((a, b) => a - b));
      expect(buckets.at(-1)).toEqual([Number.POSITIVE_INFINITY, 3]);
    }
    const sum = sampleValue(m, 'olchat_send_duration_seconds_sum') as number;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(30); // seconds, not milliseconds
    // The buckets suit 50 ms to 10 s for a request, and reach hours for a wait.
    const bounds = (name: string) => samplesOf(m, `${name}_bucket`).map((s) => le(s.labels.le));
    expect(bounds('olchat_send_duration_seconds')).toEqual(expect.arrayContaining([0.05, 10]));
    expect(Math.max(...bounds('olchat_limiter_wait_seconds').filter(Number.isFinite))).toBeGreaterThanOrEqual(3600);
    expect(sampleValue(m, 'olchat_vendor_rate_limited_total')).toBe(0);
  });

  it('counts a failed send as failed, and its request in the duration', async () => {
    const notifier = make();
    const collector = collect(notifier);
    emu.fail('500');
    const job = await notifier.trigger('order-received', order(3));
    expect((await ended(notifier, job.id)).status).toBe('failed');

    const m = await scrape(collector);
    expect(sampleValue(m, 'olchat_messages_total', { rule: 'order-received', status: 'failed' })).toBe(1);
    expect(sampleValue(m, 'olchat_messages_total', { rule: 'order-received', status: 'sent' })).toBe(0);
    expect(sampleValue(m, 'olchat_send_duration_seconds_count')).toBe(1);
    expect(sampleValue(m, 'olchat_vendor_rate_limited_total')).toBe(0);
  });

  it('counts each 429 the vendor answered, while the job goes out on its next attempt', async () => {
    const notifier = make();
    const collector = collect(notifier);
    emu.fail('429');
    const job = await notifier.send({ phone: '79123456701', text: 'Повтор после 429' });
    expect((await ended(notifier, job.id)).status).toBe('sent');
    expect(emu.requests.filter((r) => r.fault === '429')).toHaveLength(1);

    const m = await scrape(collector);
    expect(sampleValue(m, 'olchat_vendor_rate_limited_total')).toBe(1);
    expect(sampleValue(m, 'olchat_messages_total', { rule: '', status: 'sent' })).toBe(1);
    expect(sampleValue(m, 'olchat_send_duration_seconds_count')).toBe(2);
  });

  it('counts a cancelled scheduled job, and shows it scheduled until then', async () => {
    const notifier = make();
    const collector = collect(notifier);
    const job = await notifier.send({ phone: '79123456702', text: 'Позже' }, { sendAt: Date.now() + 60_000 });
    expect(job.status).toBe('scheduled');
    let m = await scrape(collector);
    expect(sampleValue(m, 'olchat_queue_jobs', { state: 'scheduled' })).toBe(1);
    expect(sampleValue(m, 'olchat_messages_total', { rule: '', status: 'cancelled' })).toBeUndefined();

    expect(await notifier.cancel(job.id)).toBe(true);
    m = await scrape(collector);
    expect(sampleValue(m, 'olchat_messages_total', { rule: '', status: 'cancelled' })).toBe(1);
    expect(sampleValue(m, 'olchat_queue_jobs', { state: 'scheduled' })).toBe(0);
    expect(emu.messages).toHaveLength(0);
  });

  it('reads the queue gauges and the ETA at scrape time, with no event in between', async () => {
    // One request a minute: the first message goes, the rest stay queued (a job waiting for its
    // slot is still `queued`; `sending` is a request on the wire).
    const notifier = make({
      // The first message must go at once and the rest wait a minute: an empty window at the start
      // (the emulator is this file's own, nothing used it before).
      client: {
        limits: { sendText: { points: 1, durationMs: 60_000 } },
        limiterStore: new MemoryLimiterStore({ assumeRecentUse: false }),
      },
      notifier: { concurrency: 1 },
    });
    const collector = collect(notifier);
    const jobs = [];
    for (let i = 0; i < 6; i++) jobs.push(await notifier.send({ phone: `791234567${10 + i}`, text: `Заказ ${i}` }));
    await vi.waitFor(() => expect(notifier.stats()).toMatchObject({ sent: 1, sending: 0, queued: 5 }), {
      timeout: 10_000,
    });

    let m = await scrape(collector);
    const stats = notifier.stats();
    expect(sampleValue(m, 'olchat_queue_jobs', { state: 'queued' })).toBe(5);
    expect(sampleValue(m, 'olchat_queue_jobs', { state: 'sending' })).toBe(0);
    expect(sampleValue(m, 'olchat_queue_jobs', { state: 'scheduled' })).toBe(0);
    expect(sampleValue(m, 'olchat_queue_eta_seconds')).toBe(stats.etaMs / 1000);
    expect(stats.etaMs / 1000).toBeGreaterThanOrEqual(4 * 60); // 5 waiting at 1 a minute

    // The gauges have no listener: only reading the notifier at scrape time sees these changes.
    const last = jobs.at(-1)?.id as string;
    expect(await notifier.cancel(last)).toBe(true);
    await notifier.send({ phone: '79123456799', text: 'Вечером' }, { sendAt: Date.now() + 3_600_000 });
    m = await scrape(collector);
    expect(sampleValue(m, 'olchat_queue_jobs', { state: 'queued' })).toBe(4);
    expect(sampleValue(m, 'olchat_queue_jobs', { state: 'scheduled' })).toBe(1);
    expect(sampleValue(m, 'olchat_queue_eta_seconds')).toBe(notifier.stats().etaMs / 1000);
    expect(sampleValue(m, 'olchat_queue_eta_seconds')).toBeLessThan(stats.etaMs / 1000);
    await notifier.close({ timeoutMs: 100 }); // the job waiting a minute for its slot is let go
  });

  it('shows the line: NaN while unknown, 1 up, 0 down or flagged for spam', async () => {
    const notifier = make();
    const collector = collect(notifier);
    const line = async () => sampleValue(await scrape(collector), 'olchat_line_up');
    expect(notifier.line).toBe('unknown');
    expect(await line()).toBeNaN();

    await notifier.refreshLine();
    expect(notifier.line).toBe('up');
    expect(await line()).toBe(1);

    emu.setConnected(false);
    await notifier.refreshLine();
    expect(notifier.line).toBe('down');
    expect(await line()).toBe(0);

    emu.setConnected(true);
    await notifier.refreshLine();
    expect(await line()).toBe(1);

    // The vendor suspects the number of spam: normal and low are held, the line counts as not up.
    emu.setFlagged(true);
    await notifier.refreshLine();
    expect(notifier.line).toBe('flagged');
    expect(await line()).toBe(0);
    emu.setFlagged(false);
    await notifier.resume();
    expect(await line()).toBe(1);
  });

  it('never puts a phone, a job id, a key, meta or a text in the output: rule ids and fixed words only', async () => {
    const notifier = make();
    const collector = collect(notifier);
    const secrets: string[] = [emu.token];
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const data = order(20 + i);
      const job = await notifier.trigger('order-received', data, {
        idempotencyKey: `idem-key-${i}`,
        meta: { crmDeal: `deal-${i}` },
      });
      ids.push(job.id);
      secrets.push(data.phone, data.phone.replace(/\D/g, ''), data.name, data.orderId, `idem-key-${i}`, `deal-${i}`);
    }
    for (const id of ids) await ended(notifier, id);
    emu.fail('500');
    const adHoc = await notifier.send(
      { phone: '79123456777', text: 'Секретный текст' },
      { replaceKey: 'replace-me', meta: { note: 'private-note' } },
    );
    ids.push(adHoc.id);
    secrets.push('79123456777', 'Секретный текст', 'replace-me', 'private-note');
    const scheduled = await notifier.send({ phone: '79123456778', text: 'Потом' }, { sendAt: Date.now() + 60_000 });
    await notifier.cancel(scheduled.id);
    ids.push(scheduled.id);
    secrets.push('79123456778');
    await ended(notifier, adHoc.id);

    const text = await collector.registry.metrics();
    for (const secret of [...secrets, ...ids]) expect(text).not.toContain(secret);

    const m = parseExposition(text);
    const labelNames = new Set(m.samples.flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual(['le', 'rule', 'state', 'status']);
    const rules = new Set(samplesOf(m, 'olchat_messages_total').map((s) => s.labels.rule));
    expect([...rules].sort()).toEqual(['', 'order-received']);
    const statuses = new Set(m.samples.map((s) => s.labels.status).filter((s) => s !== undefined));
    for (const status of statuses) {
      expect(['sent', 'failed', 'expired', 'cancelled', 'delivered', 'read', 'undelivered']).toContain(status);
    }
    expect(sampleValue(m, 'olchat_messages_total', { rule: '', status: 'failed' })).toBe(1);
    expect(sampleValue(m, 'olchat_messages_total', { rule: '', status: 'cancelled' })).toBe(1);
  });
});

describe('registering', () => {
  it('refuses a second collector on one registry before changing anything; a prefix makes room', async () => {
    const notifier = make();
    const registry = new Registry();
    const first = collect(notifier, registry);
    const before = registry.getMetricsAsArray();

    const error = (() => {
      try {
        collectMetrics(notifier, { registry });
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(OlchatError);
    expect(error).toMatchObject({ code: 'VALIDATION' });
    expect((error as Error).message).toContain('olchat_messages_total is already registered');
    expect(registry.getMetricsAsArray()).toEqual(before);

    const second = collect(notifier, registry, 'shop2_');
    expect(Object.values(second.names).every((name) => name.startsWith('shop2_olchat_'))).toBe(true);
    const job = await notifier.send({ phone: '79123456703', text: 'Дважды учтено' });
    await ended(notifier, job.id);
    const m = parseExposition(await registry.metrics());
    expect(sampleValue(m, 'olchat_messages_total', { rule: '', status: 'sent' })).toBe(1);
    expect(sampleValue(m, 'shop2_olchat_messages_total', { rule: '', status: 'sent' })).toBe(1);
    expect(first.names.messages).toBe('olchat_messages_total');
  });

  it('refuses a prefix that would make a bad metric name, and a registry that is not one', () => {
    const notifier = make();
    expect(() => collectMetrics(notifier, { registry: new Registry(), prefix: '9shop' })).toThrow(/prefix/);
    expect(() => collectMetrics(notifier, { registry: {} as Registry })).toThrow(/Registry/);
    expect(() => collectMetrics({} as AnyNotifier)).toThrow(/notifier/);
  });

  it('stop() removes the listeners and the metrics; collecting again starts from zero', async () => {
    const notifier = make();
    const registry = new Registry();
    const collector = collectMetrics(notifier, { registry });
    const first = await notifier.send({ phone: '79123456704', text: 'Первое' });
    await ended(notifier, first.id);
    const detached = registry.getSingleMetric('olchat_messages_total');
    expect(detached).toBeDefined();

    collector.stop();
    collector.stop(); // twice is fine
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    expect(await registry.metrics()).not.toContain('olchat_');

    const second = await notifier.send({ phone: '79123456705', text: 'Второе' });
    await ended(notifier, second.id);
    const counted = (await detached?.get())?.values.reduce((sum, v) => sum + v.value, 0);
    expect(counted, 'a stopped collector still listened').toBe(1);

    const again = collect(notifier, registry);
    const m = await scrape(again);
    expect(samplesOf(m, 'olchat_messages_total')).toHaveLength(0);
  });

  it("uses prom-client's global register by default", async () => {
    const notifier = make();
    const collector = collectMetrics(notifier);
    collectors.push(collector);
    expect(collector.registry).toBe(register);
    expect(register.getSingleMetric('olchat_line_up')).toBeDefined();
    expect(await register.metrics()).toContain('# TYPE olchat_queue_eta_seconds gauge');
    collector.stop();
    expect(register.getSingleMetric('olchat_line_up')).toBeUndefined();
  });

  it('works on an OpenMetrics registry, and stop() still unregisters its counters', async () => {
    const notifier = make();
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const collector = collectMetrics(notifier, { registry });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE olchat_messages counter');
    expect(text).toContain('olchat_vendor_rate_limited_total 0');
    collector.stop();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });
});
