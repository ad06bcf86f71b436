import { createNotifier, defineRule, type JobStats, OlchatClient } from '@olchat-kit/core';
import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import {
  type RedisQueue,
  type RedisQueueOptions,
  RedisUnavailableError,
  redisLimiterStore,
  redisQueue,
} from '../src/index.js';
import { RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;
let emu: Emulator;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  emu = await startEmulator();
});

afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
  emu.reset();
});

afterAll(async () => {
  await emu?.close();
  await redis?.destroy();
});

const PHONE = '79123456789';
const orderReceived = defineRule({
  id: 'order-received',
  to: 'phone',
  text: 'Заказ №{{orderId}} принят',
  dedupeKey: (data) => String(data.orderId),
  when: (data) => data.orderId !== 'test',
});

/**
 * One "process": its own Redis connections (limiter, queue) and its own client. Processes made
 * here share Redis exactly as separate Node processes would.
 */
function processOn(name: string, options: Partial<RedisQueueOptions> = {}, notifierOptions = {}) {
  const limiterStore = redisLimiterStore({ connection: redis.connection });
  const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore });
  const queue: RedisQueue = redisQueue({ connection: redis.connection, name, ...options });
  const notifier = createNotifier({
    client,
    queue,
    rules: [orderReceived],
    secret: 'olchat-kit-test-secret-0123456789',
    ...notifierOptions,
  });
  let closed = false;
  const close = async (timeoutMs = 5_000) => {
    if (closed) return;
    closed = true;
    await notifier.close({ timeoutMs });
    await client.close();
    await limiterStore.close();
  };
  cleanup.push(close);
  return { notifier, queue, close };
}

/** The queue's counts of the notifier's stats (without its ETA). */
function counts({ etaMs: _eta, guard: _guard, ...stats }: JobStats & { etaMs: number; guard?: unknown }): JobStats {
  return stats;
}

/** A queue with no worker: a process that only reads, or only adds. */
function reader(name: string, options: Partial<RedisQueueOptions> = {}): RedisQueue {
  const queue = redisQueue({ connection: redis.connection, name, ...options });
  cleanup.push(() => queue.close({ timeoutMs: 1_000 }));
  return queue;
}

describe('redisQueue', () => {
  it('a job is in Redis when trigger() resolves; any process reads it; it is sent', async () => {
    const shop = processOn('basic');
    const other = reader('basic');
    const job = await shop.notifier.trigger('order-received', { phone: '+7 912 345-67-89', orderId: '42' });
    expect(job.status).toBe('queued');
    const seen = await other.get(job.id);
    expect(seen).toMatchObject({ id: job.id, ruleId: 'order-received' });
    expect(['queued', 'sending', 'sent']).toContain(seen?.status);
    await waitFor(async () => (await other.get(job.id))?.status === 'sent', 10_000, 'sent');
    const record = await other.get(job.id);
    expect(record).toMatchObject({ status: 'sent', attempts: 1, messageId: emu.messages[0]?.id });
    expect(emu.messages.map((m) => m.text)).toEqual(['Заказ №42 принят']);
    expect(await other.get('no-such-job')).toBeUndefined();
  });

  it('a deadline already past is no error: the trigger succeeds, the job is expired for every process, its key freed', async () => {
    const shop = processOn('expired-at-once');
    const other = reader('expired-at-once');
    const expired: string[] = [];
    shop.notifier.on('expired', (record) => expired.push(record.id));
    const message = { phone: PHONE, text: 'Напоминаем о приёме' };
    const options = { idempotencyKey: 'visit-5', notAfter: Date.now() - 60_000 };
    const job = await shop.notifier.send(message, options);
    expect(job.status).toBe('expired');
    expect(expired).toEqual([job.id]);
    expect(await other.get(job.id)).toMatchObject({ status: 'expired', attempts: 0, error: { code: 'EXPIRED' } });
    const again = await shop.notifier.send(message, options);
    expect(again.id).not.toBe(job.id);
    const inverted = await shop.notifier.send(message, { sendAt: Date.now() + 120_000, notAfter: Date.now() + 60_000 });
    expect(inverted.status).toBe('expired');
    await sleep(300);
    expect(emu.messages).toHaveLength(0);
  });

  it('the same idempotency key from two processes at once: one job, one message', async () => {
    const a = processOn('idempotent');
    const b = processOn('idempotent');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).notifier.send({ phone: PHONE, text: 'Once only' }, { idempotencyKey: 'payment-7' }),
      ),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    await emu.waitForMessages(1, 10_000);
    await sleep(500);
    expect(emu.messages).toHaveLength(1);
    // Later, from either process: still the first job, with its outcome.
    await waitFor(async () => (await a.notifier.get(results[0]?.id ?? ''))?.status === 'sent', 5_000, 'sent');
    const again = await b.notifier.send({ phone: PHONE, text: 'Once only' }, { idempotencyKey: 'payment-7' });
    expect(again).toEqual({ id: results[0]?.id, status: 'sent' });
    expect(emu.messages).toHaveLength(1);
  });

  it("a rule's dedupe key holds across processes; when() false is recorded as skipped and never sent", async () => {
    const a = processOn('dedupe');
    const b = processOn('dedupe');
    const first = await a.notifier.trigger('order-received', { phone: PHONE, orderId: '1001' });
    const second = await b.notifier.trigger('order-received', { phone: PHONE, orderId: '1001' });
    expect(second.id).toBe(first.id);
    const skipped = await b.notifier.trigger('order-received', { phone: PHONE, orderId: 'test' });
    expect(skipped.status).toBe('skipped');
    expect(await a.notifier.get(skipped.id)).toMatchObject({ status: 'skipped', attempts: 0 });
    await emu.waitForMessages(1, 10_000);
    await sleep(500);
    expect(emu.messages.map((m) => m.text)).toEqual(['Заказ №1001 принят']);
  });

  it('close() stops taking jobs and leaves the queued ones in Redis for the next process', async () => {
    const first = processOn('handover', {}, { concurrency: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await first.notifier.send({ phone: PHONE, text: `h-${i}` })).id);
    await emu.waitForMessages(5, 10_000); // the first five go out at once; the rest wait for slots
    await first.close(300); // two jobs are waiting for a slot: out of time, they go back
    const sentByFirst = emu.messages.length;
    expect(sentByFirst).toBeLessThan(12);

    const next = processOn('handover');
    await emu.waitForMessages(12, 20_000);
    await waitFor(
      async () => (await Promise.all(ids.map((id) => next.notifier.get(id)))).every((r) => r?.status === 'sent'),
      5_000,
      'every record sent',
    );
    for (let i = 0; i < 12; i++) expect(emu.messages.filter((m) => m.text === `h-${i}`)).toHaveLength(1);
  }, 30_000);

  it('stats() answers at once, from a snapshot shared by every process', async () => {
    const shop = processOn('stats');
    const watcher = reader('stats');
    const before = counts(shop.notifier.stats());
    const none = { scheduled: 0, queued: 0, sending: 0, sent: 0, failed: 0, cancelled: 0, expired: 0 };
    expect(before).toEqual(none);
    emu.fail('500'); // one of the five is answered 500: failed, not retried
    for (let i = 0; i < 5; i++) await shop.notifier.send({ phone: PHONE, text: `s-${i}` });
    // Counted at once by the process that added them, before any refresh from Redis.
    const local = counts(shop.notifier.stats());
    expect(local.queued + local.sending + local.sent + local.failed).toBe(5);
    await emu.waitForMessages(4, 5_000);
    // Another process sees the shared totals within a refresh or two.
    const totals = { ...none, sent: 4, failed: 1 };
    await waitFor(() => JSON.stringify(watcher.stats()) === JSON.stringify(totals), 5_000, 'the shared totals');
    await waitFor(
      () => JSON.stringify(counts(shop.notifier.stats())) === JSON.stringify(totals),
      3_000,
      'the same here',
    );
  }, 20_000);

  it('finished records expire, but an idempotency key still returns its first job', async () => {
    const shop = processOn('expiry', { keepFinishedMs: 500 });
    const plain = await shop.notifier.send({ phone: PHONE, text: 'plain' });
    const keyed = await shop.notifier.send({ phone: PHONE, text: 'keyed' }, { idempotencyKey: 'k-1' });
    await emu.waitForMessages(2, 5_000);
    await waitFor(async () => (await shop.notifier.get(keyed.id))?.status === 'sent', 5_000, 'sent');
    await sleep(1_000);
    expect(await shop.notifier.get(plain.id)).toBeUndefined();
    // Past keepFinishedMs a record its key still needs is no longer shown (as on the memory queue)…
    await waitFor(async () => (await shop.notifier.get(keyed.id)) === undefined, 5_000, 'retention of the keyed one');
    // …but a replay of the key still gets the first job, and sends nothing.
    const again = await shop.notifier.send({ phone: PHONE, text: 'keyed' }, { idempotencyKey: 'k-1' });
    expect(again).toEqual({ id: keyed.id, status: 'sent' });
    await sleep(300);
    expect(emu.messages.map((m) => m.text)).toEqual(['plain', 'keyed']);
  });

  it('a failed send is recorded with its error, the same way the memory queue does', async () => {
    const shop = processOn('failure');
    emu.fail('500');
    const job = await shop.notifier.send({ phone: PHONE, text: 'boom' });
    await waitFor(async () => (await shop.notifier.get(job.id))?.status === 'failed', 5_000, 'failed');
    expect(await shop.notifier.get(job.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'HTTP', status: 500 },
    });
  });

  it('Redis never reachable: add() rejects within addTimeoutMs, nothing hangs', async () => {
    const nowhere = redisQueue({ connection: { host: '127.0.0.1', port: 1, password: 'secret-1' }, addTimeoutMs: 800 });
    cleanup.push(() => nowhere.close({ timeoutMs: 100 }));
    const started = Date.now();
    const error = await nowhere
      .add({
        message: { phone: PHONE, text: 'x', sendToImol: false },
        keys: [],
        keyTtlMs: 1000,
        priority: 'normal',
        deadline: Date.now() + 60_000,
        quiet: false,
      })
      .catch((e) => e);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(error).toMatchObject({ code: 'NETWORK' });
    expect(error.message).toMatch(/nothing was queued/);
    expect(error.message).not.toContain('secret-1');
  });

  it('refuses bad options', () => {
    expect(() => redisQueue({} as RedisQueueOptions)).toThrow(/connection/);
    expect(() => redisQueue({ connection: redis.connection, name: 'a:b' })).toThrow(/name/);
    expect(() => redisQueue({ connection: redis.connection, lockDurationMs: 0 })).toThrow(/lockDurationMs/);
    expect(() => redisQueue({ connection: redis.connection, maxQueued: 0 })).toThrow(/maxQueued/);
    expect(() => redisQueue({ connection: redis.connection, sweepIntervalMs: 1.5 })).toThrow(/sweepIntervalMs/);
  });
});
