import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type AnyNotifier, createNotifier, defineRule, type JobRecord, type NotifierOptions } from '../src/index.js';
import type { NotifierInternalOptions } from '../src/queue/index.js';
import { type FakeVendor, startFakeClock, stopFakeClock } from './helpers/fake-vendor.js';
import { rejection } from './helpers/rejection.js';

const HOUR = 3600_000;
const MIN = 60_000;

const reminder = defineRule({
  id: 'visit-reminder',
  input: z.object({ visitId: z.string(), name: z.string(), phone: z.string(), visitAt: z.coerce.date() }),
  to: 'phone',
  text: '{{name}}, напоминаем: приём {{visitAt|datetime}}',
  sendAt: (d) => d.visitAt.getTime() - 24 * HOUR,
  notAfter: (d) => d.visitAt,
  replaceKey: (d) => `visit:${d.visitId}`,
});
const confirmation = defineRule({
  id: 'order-confirmed',
  to: 'phone',
  text: 'Заказ {{orderId}} принят',
  priority: 'high',
});
const promo = defineRule({ id: 'promo', to: 'phone', text: 'Скидка {{n}}', priority: 'low' });

let vendor: FakeVendor;
let notifier: AnyNotifier;
const logged: [string | undefined, object][] = [];
const logger = {
  debug() {},
  info() {},
  warn() {},
  error: (obj: object, msg?: string) => logged.push([msg, obj]),
};

function make(options: Partial<NotifierOptions> & NotifierInternalOptions = {}): AnyNotifier {
  notifier = createNotifier({
    client: vendor,
    rules: [reminder, confirmation, promo],
    logger,
    backoff: { minMs: 1_000, maxMs: 10_000 },
    line: { checkIntervalMs: false, probeMinMs: 1_000, probeMaxMs: 5_000 },
    ...options,
  });
  return notifier;
}

/** Lets queued promise work run between fake-clock steps. */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

beforeEach(() => {
  vendor = startFakeClock();
  logged.length = 0;
});
afterEach(() => stopFakeClock(vendor, notifier));

describe('scheduled sends', () => {
  it('a reminder waits until 24 h before the visit, says the date in Russian, and goes out then', async () => {
    make();
    const job = await notifier.trigger('visit-reminder', {
      visitId: 'v1',
      name: 'Анна',
      phone: '+7 912 345-67-89',
      visitAt: '2026-11-30T10:00:00+03:00',
    });
    expect(job.status).toBe('scheduled');
    expect(notifier.stats()).toMatchObject({ scheduled: 1, queued: 0 });
    const record = await notifier.get(job.id);
    expect(record).toMatchObject({
      sendAt: Date.parse('2026-11-29T10:00:00+03:00'),
      notAfter: Date.parse('2026-11-30T10:00:00+03:00'),
      replaceKey: 'visit:v1',
      priority: 'normal',
    });
    await vi.advanceTimersByTimeAsync(22 * HOUR - 1);
    expect(vendor.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(vendor.sent).toEqual([
      {
        phone: '79123456789',
        text: 'Анна, напоминаем: приём 30 ноября в 10:00',
        at: Date.parse('2026-11-29T10:00:00+03:00'),
      },
    ]);
    expect(await notifier.get(job.id)).toMatchObject({ status: 'sent' });
  });

  it('dates render in the recipient’s zone: Almaty for +7 7xx numbers', async () => {
    make();
    await notifier.trigger('visit-reminder', {
      visitId: 'v2',
      name: 'Айгуль',
      phone: '+7 701 234 56 78',
      visitAt: '2026-11-30T10:00:00+03:00',
    });
    await vi.advanceTimersByTimeAsync(24 * HOUR);
    expect(vendor.sent[0]?.text).toBe('Айгуль, напоминаем: приём 30 ноября в 12:00');
  });

  it('many schedules share one timer and go out in time order, across midnight', async () => {
    make();
    const start = Date.now();
    const offsets = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 200) * 5 * MIN); // shuffled, up to ~16 h
    for (const [i, offset] of offsets.entries()) {
      await notifier.send({ phone: '79123456789', text: `№${i}` }, { sendAt: start + offset + MIN });
    }
    expect(notifier.stats().scheduled).toBe(200);
    expect(vi.getTimerCount()).toBeLessThanOrEqual(3);
    await vi.advanceTimersByTimeAsync(17 * HOUR);
    expect(vendor.sent).toHaveLength(200);
    const times = vendor.sent.map((s) => s.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.every((at, i) => at === start + (offsets[Number(vendor.sent[i]?.text.slice(1))] ?? 0) + MIN)).toBe(
      true,
    );
  });

  it('a deadline the data already passed is no error: the trigger succeeds, the job ends expired at once, its keys freed', async () => {
    make({ maxQueued: 1 });
    const expired: JobRecord[] = [];
    notifier.on('expired', (record) => expired.push(record));
    // A visit 30 min ahead: its reminder was due 24 h before it, and may not go later than the visit.
    const visit = { visitId: 'v3', name: 'Анна', phone: '79123456789', visitAt: new Date(Date.now() - MIN) };
    const late = await notifier.trigger('visit-reminder', visit, { idempotencyKey: 'booking-3' });
    expect(late.status).toBe('expired');
    expect(await notifier.get(late.id)).toMatchObject({
      status: 'expired',
      attempts: 0,
      notAfter: visit.visitAt.getTime(),
      error: { code: 'EXPIRED' },
    });
    expect(expired.map((r) => r.id)).toEqual([late.id]);
    // Never sent: its idempotency key makes a new job.
    const again = await notifier.trigger('visit-reminder', visit, { idempotencyKey: 'booking-3' });
    expect(again.id).not.toBe(late.id);
    // The same for explicit options: a notAfter already past, or a sendAt at or after notAfter.
    const now = Date.now();
    const m = { phone: '79123456789', text: 'x' };
    expect((await notifier.send(m, { notAfter: now - 1 })).status).toBe('expired');
    expect((await notifier.send(m, { sendAt: now + HOUR, notAfter: now + MIN })).status).toBe('expired');
    expect((await notifier.send(m, { sendAt: now + MIN, notAfter: now + MIN })).status).toBe('expired');
    expect(notifier.stats()).toMatchObject({ scheduled: 0, queued: 0, sending: 0, expired: 5 });
    // It takes no room in the queue: with the queue full (maxQueued 1), one more is still recorded.
    await notifier.send(m, { sendAt: now + 3 * HOUR });
    expect((await rejection(notifier.send(m))).code).toBe('QUEUE_FULL');
    expect((await notifier.send(m, { notAfter: now - 1 })).status).toBe('expired');
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(vendor.attempts).toBe(0);
  });

  it('refuses bad dates, lanes and meta before anything is queued', async () => {
    make();
    const m = { phone: '79123456789', text: 'x' };
    expect((await rejection(notifier.send(m, { sendAt: new Date('nope') }))).code).toBe('VALIDATION');
    expect((await rejection(notifier.send(m, { sendAt: 'tomorrow' as never }))).code).toBe('VALIDATION');
    expect((await rejection(notifier.send(m, { priority: 'urgent' as never }))).code).toBe('VALIDATION');
    expect((await rejection(notifier.send(m, { meta: { blob: 'x'.repeat(5_000) } }))).code).toBe('VALIDATION');
    expect(notifier.stats()).toMatchObject({ scheduled: 0, queued: 0 });
  });

  it('a text too long for the vendor’s request line is refused at trigger time, never queued to fail later', async () => {
    make();
    const long = 'Ваш заказ собран и передан в доставку. '.repeat(70); // ~2 700 Cyrillic characters
    const refused = await rejection(notifier.send({ phone: '79123456789', text: long }));
    expect(refused.code).toBe('VALIDATION');
    expect((refused as { issues?: { path: string }[] }).issues?.[0]?.path).toBe('text');
    expect(notifier.stats()).toMatchObject({ scheduled: 0, queued: 0, sending: 0 });
    await settle();
    expect(vendor.attempts).toBe(0);
  });
});

describe('cancel and replace', () => {
  const visit = (visitAt: string) => ({ visitId: 'v9', name: 'Олег', phone: '79123456789', visitAt });

  it('a moved visit replaces its pending reminder; a cancelled one sends nothing', async () => {
    make();
    const cancelled: JobRecord[] = [];
    notifier.on('cancelled', (r) => cancelled.push(r));
    const first = await notifier.trigger('visit-reminder', visit('2026-11-30T10:00:00+03:00'));
    const moved = await notifier.trigger('visit-reminder', visit('2026-12-02T15:30:00+03:00'));
    expect(await notifier.get(first.id)).toMatchObject({ status: 'cancelled' });
    expect(cancelled.map((r) => r.id)).toEqual([first.id]);
    await vi.advanceTimersByTimeAsync(4 * 24 * HOUR);
    expect(vendor.sent.map((s) => s.text)).toEqual(['Олег, напоминаем: приём 2 декабря в 15:30']);
    expect(await notifier.get(moved.id)).toMatchObject({ status: 'sent' });

    const again = await notifier.trigger('visit-reminder', visit('2026-12-10T09:00:00+03:00'));
    expect(await notifier.cancel({ replaceKey: 'visit:v9' })).toBe(true);
    expect(await notifier.cancel({ replaceKey: 'visit:v9' })).toBe(false);
    expect(await notifier.cancel(again.id)).toBe(false);
    await vi.advanceTimersByTimeAsync(10 * 24 * HOUR);
    expect(vendor.sent).toHaveLength(1);
    expect(notifier.stats()).toMatchObject({ cancelled: 2, sent: 1, scheduled: 0 });
  });

  it('two triggers with one replace key at once leave exactly one pending job', async () => {
    make();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        notifier.trigger('visit-reminder', visit(`2026-12-0${(i % 8) + 1}T10:00:00+03:00`)),
      ),
    );
    const records = await Promise.all(results.map((r) => notifier.get(r.id)));
    expect(records.filter((r) => r?.status === 'scheduled')).toHaveLength(1);
    expect(records.filter((r) => r?.status === 'cancelled')).toHaveLength(9);
    expect(notifier.stats()).toMatchObject({ scheduled: 1, cancelled: 9 });
  });

  it('cancel while sending answers false and the send completes', async () => {
    make();
    vendor.mode = 'hang';
    const job = await notifier.send({ phone: '79123456789', text: 'Уже в пути' });
    await settle();
    expect(await notifier.get(job.id)).toMatchObject({ status: 'sending' });
    expect(await notifier.cancel(job.id)).toBe(false);
    vendor.release();
    await settle();
    expect(await notifier.get(job.id)).toMatchObject({ status: 'sent' });
    expect(vendor.sent).toHaveLength(1);
  });
});

describe('lanes', () => {
  it('high goes before normal before low, first come first served within a lane', async () => {
    // Pacing and the per-recipient cap off: the order, not the guard (one phone, four promos).
    make({ concurrency: 1, guard: { pacing: false, perRecipient: false } });
    vendor.mode = 'hang';
    await notifier.trigger('promo', { phone: '79120000000', n: 'first' }); // taken at once, hangs
    await settle();
    for (let i = 0; i < 3; i++) await notifier.trigger('promo', { phone: '79120000000', n: `${i}` });
    await notifier.send({ phone: '79120000000', text: 'обычное' });
    await notifier.trigger('order-confirmed', { phone: '79120000000', orderId: 'A-1' });
    await notifier.trigger('order-confirmed', { phone: '79120000000', orderId: 'A-2' });
    vendor.mode = 'ok';
    vendor.release();
    await vi.advanceTimersByTimeAsync(100);
    expect(vendor.sent.map((s) => s.text)).toEqual([
      'Скидка first',
      'Заказ A-1 принят',
      'Заказ A-2 принят',
      'обычное',
      'Скидка 0',
      'Скидка 1',
      'Скидка 2',
    ]);
  });
});

describe('outages and deadlines', () => {
  it('a refused vendor pauses the line; nothing burns attempts while down; all go out once it is back', async () => {
    make();
    const lines: string[] = [];
    notifier.on('line', (e) => lines.push(`${e.state}:${e.reason ?? ''}`));
    vendor.mode = 'refused';
    const jobs = [];
    for (let i = 0; i < 30; i++) jobs.push(await notifier.send({ phone: '79123456789', text: `№${i}` }));
    await vi.advanceTimersByTimeAsync(10 * MIN);
    expect(notifier.line).toBe('down');
    expect(lines).toEqual(['down:vendor_unreachable']);
    // Three failures opened the breaker; while down only status probes reach the vendor.
    expect(vendor.attempts).toBeLessThanOrEqual(10);
    expect(vendor.statusChecks).toBeGreaterThan(0);
    expect(notifier.stats()).toMatchObject({ queued: 30, failed: 0, expired: 0 });
    vendor.mode = 'ok';
    await vi.advanceTimersByTimeAsync(30_000);
    expect(notifier.line).toBe('up');
    expect(vendor.sent).toHaveLength(30);
    expect(new Set(vendor.sent.map((s) => s.text)).size).toBe(30);
    expect(notifier.stats()).toMatchObject({ queued: 0, sent: 30, failed: 0 });
  });

  it('a deadline that passes during an outage ends the job expired with its last error, and frees its key', async () => {
    make({ maxQueued: 1 });
    const expired: JobRecord[] = [];
    notifier.on('expired', (r) => expired.push(r));
    vendor.mode = '503';
    const job = await notifier.send(
      { phone: '79123456789', text: 'Ваш код 1234' },
      { notAfter: Date.now() + 15 * MIN, idempotencyKey: 'code-1234' },
    );
    await vi.advanceTimersByTimeAsync(15 * MIN + 31_000);
    expect(expired.map((r) => [r.id, r.status, r.error?.code, r.error?.status])).toEqual([
      [job.id, 'expired', 'HTTP', 503],
    ]);
    expect(vendor.sent).toHaveLength(0);
    vendor.mode = 'ok';
    const again = await notifier.send({ phone: '79123456789', text: 'Ваш код 1234' }, { idempotencyKey: 'code-1234' });
    expect(again.id).not.toBe(job.id);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(vendor.sent).toHaveLength(1);
  });

  it('a refused token fails at once with HTTP and does not pause the line', async () => {
    make();
    vendor.mode = '401';
    const failed: JobRecord[] = [];
    notifier.on('failed', (r) => failed.push(r));
    for (let i = 0; i < 5; i++) await notifier.send({ phone: '79123456789', text: `№${i}` });
    await settle();
    expect(failed.map((r) => r.error?.code)).toEqual(['HTTP', 'HTTP', 'HTTP', 'HTTP', 'HTTP']);
    expect(notifier.line).not.toBe('down');
    expect(notifier.lineInfo().reason).toBe('token_rejected');
  });

  it('retry() puts a failed or expired job back; an AMBIGUOUS one only when asked to', async () => {
    make();
    vendor.mode = '401';
    const job = await notifier.send({ phone: '79123456789', text: 'снова' });
    await settle();
    expect(await notifier.get(job.id)).toMatchObject({ status: 'failed' });
    vendor.mode = 'ok';
    expect(await notifier.retry(job.id)).toEqual({ id: job.id, status: 'queued' });
    await settle();
    expect(await notifier.get(job.id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect((await rejection(notifier.retry(job.id))).code).toBe('CONFLICT');
    expect(await notifier.retry('no-such-job')).toBeUndefined();
  });

  it('backpressure: past maxQueued, trigger and send reject QUEUE_FULL and nothing is queued', async () => {
    make({ maxQueued: 3 });
    vendor.mode = 'hang';
    for (let i = 0; i < 3; i++) await notifier.send({ phone: '79123456789', text: `№${i}` });
    const full = await rejection(notifier.send({ phone: '79123456789', text: 'лишнее' }));
    expect(full.code).toBe('QUEUE_FULL');
    expect((full as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
    expect((await rejection(notifier.trigger('promo', { phone: '79123456789', n: '1' }))).code).toBe('QUEUE_FULL');
    expect(notifier.stats()).toMatchObject({ scheduled: 0, queued: 0, sending: 3 });
  });
});

describe('quiet hours', () => {
  it('hold normal and low until 09:00 in the recipient’s zone; high passes; a deadline inside them expires', async () => {
    vi.setSystemTime(new Date('2026-11-28T22:30:00+03:00'));
    make({ quietHours: { start: '21:00', end: '09:00' } });
    const moscow = await notifier.send({ phone: '79123456789', text: 'Москва' });
    const almaty = await notifier.send({ phone: '77012345678', text: 'Алматы' });
    await notifier.trigger('order-confirmed', { phone: '79123456789', orderId: 'N-1' });
    const late = await notifier.send(
      { phone: '79123456789', text: 'не позже 8' },
      {
        notAfter: Date.parse('2026-11-29T08:00:00+03:00'),
      },
    );
    await settle();
    expect(vendor.sent.map((s) => s.text)).toEqual(['Заказ N-1 принят']);
    expect(await notifier.get(moscow.id)).toMatchObject({
      status: 'scheduled',
      sendAt: Date.parse('2026-11-29T09:00:00+03:00'),
    });
    // 09:00 in Almaty comes before 09:00 in Moscow.
    await vi.advanceTimersByTimeAsync(Date.parse('2026-11-29T09:00:00+03:00') - Date.now() - 1);
    expect(vendor.sent.map((s) => s.text)).toEqual(['Заказ N-1 принят', 'Алматы']);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(vendor.sent.map((s) => s.text)).toEqual(['Заказ N-1 принят', 'Алматы', 'Москва']);
    expect(await notifier.get(late.id)).toMatchObject({ status: 'expired', error: { code: 'EXPIRED' } });
    expect(await notifier.get(almaty.id)).toMatchObject({ status: 'sent' });
  });
});

describe('listeners', () => {
  it('a listener that throws or rejects is logged; the queue goes on and the process lives', async () => {
    make();
    notifier.on('sent', () => {
      throw new Error('listener bug');
    });
    notifier.on('sent', async () => {
      throw new Error('async listener bug');
    });
    const sent: string[] = [];
    notifier.on('sent', (r) => sent.push(r.id));
    const a = await notifier.send({ phone: '79123456789', text: 'раз' });
    const b = await notifier.send({ phone: '79123456789', text: 'два' });
    await settle();
    expect(sent.sort()).toEqual([a.id, b.id].sort());
    expect(logged.filter(([msg]) => String(msg).includes("'sent' listener threw"))).toHaveLength(4);
  });

  it('close() called twice resolves both callers', async () => {
    make();
    vendor.mode = 'hang';
    await notifier.send({ phone: '79123456789', text: 'висит' });
    await settle();
    const first = notifier.close({ timeoutMs: 1_000 });
    const second = notifier.close({ timeoutMs: 1_000 });
    vendor.release();
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);
  });
});

describe('the line status', () => {
  it('refreshLine(maxAgeMs) asks the vendor at most once per maxAgeMs, also while it does not answer', async () => {
    make();
    vendor.mode = 'refused';
    await notifier.refreshLine();
    expect(vendor.statusChecks).toBe(1);
    for (let i = 0; i < 5; i++) await notifier.refreshLine(10_000);
    expect(vendor.statusChecks).toBe(1);
    expect(notifier.lineInfo()).toMatchObject({ state: 'down', reason: 'vendor_unreachable' });
    vendor.mode = 'ok';
    await vi.advanceTimersByTimeAsync(1_000); // the breaker's own first probe
    expect(notifier.lineInfo().state).toBe('up');
  });
});
