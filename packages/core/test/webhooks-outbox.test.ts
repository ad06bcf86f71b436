import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../src/logger.js';
import { type HeapEntry, MinHeap } from '../src/util/heap.js';
import { MemoryWebhookOutbox, WEBHOOK_RETRY_SCHEDULE, type WebhookDelivery } from '../src/webhooks/index.js';
import { nextAttemptAt, parseRetryAfter } from '../src/webhooks/schedule.js';

const HOUR = 3_600_000;

function delivery(id: string, nextAt: number, extra: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    id,
    endpoint: 'http://a.example/',
    type: 'message.sent',
    body: `{"id":"${id}"}`,
    attempt: 0,
    nextAt,
    createdAt: nextAt,
    ...extra,
  };
}

function recordingLogger() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('the retry schedule', () => {
  it('spans at least 24 h from the first attempt to the last, starting at once', () => {
    const total = WEBHOOK_RETRY_SCHEDULE.reduce((sum, ms) => sum + ms, 0);
    expect(WEBHOOK_RETRY_SCHEDULE[0]).toBe(0);
    expect(total).toBeGreaterThanOrEqual(24 * HOUR);
    expect(total).toBe(27 * HOUR + 35 * 60_000 + 5_000);
    // Each wait at least as long as the one before: growing backoff.
    for (let i = 1; i < WEBHOOK_RETRY_SCHEDULE.length; i++) {
      expect(WEBHOOK_RETRY_SCHEDULE[i]).toBeGreaterThanOrEqual(WEBHOOK_RETRY_SCHEDULE[i - 1] as number);
    }
  });

  it('jitter only lengthens a wait (by at most 10 %), a Retry-After asking for longer wins, and the end is undefined', () => {
    const schedule = [0, 5_000, 300_000];
    expect(nextAttemptAt(schedule, 1, 1_000, undefined, () => 0)).toBe(6_000);
    expect(nextAttemptAt(schedule, 1, 1_000, undefined, () => 0.999)).toBeLessThanOrEqual(1_000 + 5_500);
    expect(nextAttemptAt(schedule, 1, 1_000, 60_000, () => 0)).toBe(61_000);
    expect(nextAttemptAt(schedule, 2, 1_000, 60_000, () => 0)).toBe(301_000);
    expect(nextAttemptAt(schedule, 1, 0, 1_000 * HOUR, () => 0)).toBe(10 * HOUR); // a huge Retry-After is capped
    expect(nextAttemptAt(schedule, 3, 1_000)).toBeUndefined();
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(90_000).toUTCString(), 30_000)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('MinHeap', () => {
  it('pops in order whatever was pushed and removed from the middle (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean()), { maxLength: 200 }), (ops) => {
        const heap = new MinHeap<number>((a, b) => a < b);
        const kept: number[] = [];
        const entries = ops.map(([value]) => heap.push(value));
        ops.forEach(([value, drop], i) => {
          if (drop) expect(heap.remove(entries[i] as HeapEntry<number>)).toBe(true);
          else kept.push(value);
        });
        expect(heap.size).toBe(kept.length);
        const out: number[] = [];
        while (heap.size > 0) out.push(heap.pop() as number);
        expect(out).toEqual(kept.sort((a, b) => a - b));
        for (const entry of entries) expect(heap.remove(entry)).toBe(false); // all out already
      }),
    );
  });
});

describe('MemoryWebhookOutbox', () => {
  it('hands out due deliveries earliest first, per endpoint, and knows when the next is due', async () => {
    const outbox = new MemoryWebhookOutbox();
    await outbox.add([
      delivery('c', 300),
      delivery('a', 100),
      delivery('b', 200),
      delivery('x', 50, { endpoint: 'http://b.example/' }),
    ]);
    expect(await outbox.nextDue(['http://a.example/'])).toBe(100);
    expect(await outbox.nextDue(['http://a.example/', 'http://b.example/'])).toBe(50);
    const claimed = await outbox.claim('http://a.example/', 5, 250, 10_000);
    expect(claimed.map((d) => [d.id, d.attempt])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    // Being attempted: not due, not handed out again.
    expect(await outbox.claim('http://a.example/', 5, 250, 10_000)).toEqual([]);
    expect(await outbox.nextDue(['http://a.example/'])).toBe(300);
    expect(await outbox.retry(claimed[0] as never, 260)).toBe(true);
    expect(await outbox.retry(claimed[0] as never, 270)).toBe(false); // that claim is over
    await outbox.complete(claimed[1] as never);
    expect(await outbox.size()).toBe(3);
    const again = await outbox.claim('http://a.example/', 5, 1_000, 10_000);
    expect(again.map((d) => [d.id, d.attempt, d.body])).toEqual([
      ['a', 2, '{"id":"a"}'],
      ['c', 1, '{"id":"c"}'],
    ]);
  });

  it('is bounded: at most 10 000 kept by default, the oldest waiting ones dropped with one warning', async () => {
    const { logger, lines } = recordingLogger();
    const outbox = new MemoryWebhookOutbox({ logger });
    const base = Date.now();
    for (let i = 0; i < 10_000; i++) {
      await outbox.add([delivery(`d${i}`, base + i, { createdAt: base + i })]);
    }
    // The oldest is being attempted: never dropped from under its attempt.
    const busy = await outbox.claim('http://a.example/', 1, base + 1_000_000, 1_000);
    expect(busy.map((d) => d.id)).toEqual(['d0']);
    expect(await outbox.size()).toBe(10_000);
    for (let i = 10_000; i < 10_005; i++) {
      await outbox.add([delivery(`d${i}`, base + 5_000_000, { createdAt: base + i })]);
    }
    expect(await outbox.size()).toBe(10_000);
    expect(outbox.dropped).toBe(5);
    const warnings = lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1); // not one line per drop
    expect(warnings[0]?.msg).toContain('10000 undelivered webhooks');
    expect(warnings[0]?.obj).toMatchObject({ endpoint: 'http://a.example', webhookId: 'd1' });
    // d1..d5 are gone, d0 (in flight) and d6 on stay.
    const rest = await outbox.claim('http://a.example/', 20_000, base + 10_000_000, 1_000);
    const ids = new Set(rest.map((d) => d.id));
    expect([1, 2, 3, 4, 5].some((i) => ids.has(`d${i}`))).toBe(false);
    expect(ids.has('d6') && ids.has('d10004')).toBe(true);
    expect(await outbox.retry(busy[0] as never, base)).toBe(true);
  });

  it('stores an event for an endpoint once, however often it is added', async () => {
    const outbox = new MemoryWebhookOutbox();
    await outbox.add([
      delivery('same', 1),
      delivery('same', 1),
      delivery('same', 1, { endpoint: 'http://b.example/' }),
    ]);
    expect(await outbox.size()).toBe(2);
  });
});
