import type { ActiveJob, JobOutcome } from '@olchat-kit/core/queue';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import { deliver, newJob, PHONE, Queues, textOf } from './helpers/queue-harness.js';
import { RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;
const queues = new Queues(() => redis);

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterEach(() => queues.closeAll());
afterAll(async () => {
  await redis?.destroy();
});

const NETWORK = { code: 'NETWORK', message: 'connection refused' };

describe('redisQueue: records and lanes', () => {
  it('add() stores priority, schedule, deadline, replace key, meta and phone; any process reads them', async () => {
    const name = queues.name('fields');
    const producer = queues.open(name);
    const other = queues.open(name);
    const notAfter = Date.now() + 3_600_000;
    const meta = { visitId: 7, patient: { initials: 'И. П.' }, tags: ['a', 'b'] };
    const before = Date.now();
    const { record, created } = await producer.add(
      newJob('Напоминание', {
        ruleId: 'visit-reminder',
        keys: ['idem:visit-7'],
        priority: 'high',
        notAfter,
        deadline: notAfter,
        replaceKey: 'visit:7',
        meta,
        quiet: true,
      }),
    );
    expect(created).toBe(true);
    expect(record).toMatchObject({
      status: 'queued',
      ruleId: 'visit-reminder',
      phone: PHONE,
      priority: 'high',
      attempts: 0,
      notAfter,
      replaceKey: 'visit:7',
      meta,
    });
    expect(record.createdAt).toBeGreaterThanOrEqual(before);
    expect(record.sendAt).toBeUndefined();
    expect(await other.get(record.id)).toEqual(record);
    expect(await other.find(['idem:unknown', 'idem:visit-7'])).toEqual(record);
    expect(await other.find(['idem:unknown'])).toBeUndefined();
    expect(await other.get('no-such-job')).toBeUndefined();

    // The same key again, from the other process: the first job, nothing added.
    const replay = await other.add(newJob('Напоминание', { keys: ['idem:visit-7'] }));
    expect(replay).toEqual({ record, created: false });
    await waitFor(() => other.stats().queued === 1, 3_000, 'one queued job');

    // Not JSON: refused as bad input, not blamed on Redis.
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(producer.add(newJob('bad meta', { meta: circular }))).rejects.toMatchObject({ code: 'VALIDATION' });

    const skipped = await producer.add(newJob('', { skipped: true, keys: ['idem:skip'] }));
    expect(skipped.record.status).toBe('skipped');
    expect(await other.find(['idem:skip'])).toMatchObject({ id: skipped.record.id, status: 'skipped' });
  });

  it('lanes: high before normal before low, first come first served within a lane', async () => {
    const name = queues.name('lanes');
    const producer = queues.open(name);
    const order = ['L0', 'N0', 'L1', 'H0', 'N1', 'L2', 'H1', 'N2', 'L3'];
    const lane = { L: 'low', N: 'normal', H: 'high' } as const;
    for (const text of order) {
      await producer.add(newJob(text, { priority: lane[text[0] as 'L' | 'N' | 'H'] }));
    }
    const seen: { text: string; priority: string }[] = [];
    const { finished } = queues.working(name, async (job) => {
      seen.push({ text: textOf(job), priority: job.priority });
      return deliver(job);
    });
    await waitFor(() => finished.length === order.length, 10_000, 'every job');
    expect(seen.map((s) => s.text)).toEqual(['H0', 'H1', 'N0', 'N1', 'N2', 'L0', 'L1', 'L2', 'L3']);
    expect(seen.find((s) => s.text === 'H0')?.priority).toBe('high');
    expect(seen.find((s) => s.text === 'L0')?.priority).toBe('low');
  });

  it("a future sendAt waits as 'scheduled'; get() says 'queued' from sendAt on, with no worker running", async () => {
    const name = queues.name('schedule-read');
    const reader = queues.open(name);
    const sendAt = Date.now() + 400;
    const { record } = await reader.add(newJob('later', { sendAt }));
    expect(record).toMatchObject({ status: 'scheduled', sendAt });
    expect((await reader.get(record.id))?.status).toBe('scheduled');
    await waitFor(() => reader.stats().scheduled === 1 && reader.stats().queued === 0, 3_000, 'counted scheduled');
    await sleep(Math.max(0, sendAt - Date.now()) + 20);
    // Nobody works this queue: no sweep and no pickup has touched the record.
    expect((await reader.get(record.id))?.status).toBe('queued');
    await waitFor(() => reader.stats().queued === 1 && reader.stats().scheduled === 0, 3_000, 'counted queued');
  });

  it('a scheduled job is handed to the worker when due, not before, and sent', async () => {
    const name = queues.name('schedule-work');
    const calls: number[] = [];
    const { queue, finishedWith } = queues.working(name, async (job) => {
      calls.push(Date.now());
      return deliver(job);
    });
    const sendAt = Date.now() + 500;
    const { record } = await queue.add(newJob('on time', { sendAt }));
    await sleep(250);
    expect(calls).toEqual([]);
    const done = await finishedWith(record.id, 5_000);
    expect(done).toMatchObject({ status: 'sent', attempts: 1, sendAt, messageId: 'm-on time' });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeGreaterThanOrEqual(sendAt - 50);
    expect(calls[0]).toBeLessThan(sendAt + 2_000);
  });
});

describe('redisQueue: outcomes', () => {
  it("retry: 'queued' with its error until `at`, then handed over again with attempts and lastError", async () => {
    const name = queues.name('retry');
    const pickups: { at: number; attempts: number; lastError: unknown }[] = [];
    let retryAt = 0;
    const { queue, finishedWith } = queues.working(name, async (job): Promise<JobOutcome> => {
      pickups.push({ at: Date.now(), attempts: job.attempts, lastError: job.lastError });
      await job.markAttempt();
      if (pickups.length === 1) {
        await job.markNotAccepted();
        retryAt = Date.now() + 500;
        return { status: 'retry', at: retryAt, error: NETWORK };
      }
      return { status: 'sent' };
    });
    const { record } = await queue.add(newJob('again'));
    await waitFor(() => retryAt > 0, 5_000, 'the first attempt');
    await waitFor(async () => (await queue.get(record.id))?.status === 'queued', 2_000, 'queued again');
    expect(await queue.get(record.id)).toMatchObject({ status: 'queued', attempts: 1, error: NETWORK });
    const done = await finishedWith(record.id, 5_000);
    expect(done).toMatchObject({ status: 'sent', attempts: 2 });
    expect(done.error).toBeUndefined();
    expect(pickups).toHaveLength(2);
    expect(pickups[1]).toMatchObject({ attempts: 1, lastError: NETWORK });
    expect(pickups[1]?.at).toBeGreaterThanOrEqual(retryAt - 50);
  });

  it("deferred: 'scheduled' with sendAt = until, handed over again when it comes", async () => {
    const name = queues.name('deferred');
    const pickups: number[] = [];
    const seen: { quiet: boolean; deadline: number }[] = [];
    let until = 0;
    const { queue, finishedWith } = queues.working(name, async (job): Promise<JobOutcome> => {
      pickups.push(Date.now());
      seen.push({ quiet: job.quiet, deadline: job.deadline });
      if (pickups.length === 1) {
        until = Date.now() + 500;
        return { status: 'deferred', until };
      }
      return deliver(job);
    });
    const deadline = Date.now() + 30_000;
    const { record } = await queue.add(newJob('quiet hours', { quiet: true, deadline }));
    await waitFor(() => until > 0, 5_000, 'the first pickup');
    await waitFor(async () => (await queue.get(record.id))?.status === 'scheduled', 2_000, 'scheduled');
    expect(await queue.get(record.id)).toMatchObject({ status: 'scheduled', sendAt: until, attempts: 0 });
    const done = await finishedWith(record.id, 5_000);
    expect(done).toMatchObject({ status: 'sent', attempts: 1 });
    expect(pickups[1]).toBeGreaterThanOrEqual(until - 50);
    expect(seen).toEqual([
      { quiet: true, deadline },
      { quiet: true, deadline },
    ]);
  });

  it('released: back in its lane at once, never counted as an attempt', async () => {
    const name = queues.name('released');
    const pickups: number[] = [];
    // Locks of 30 s: a job left to BullMQ's stall recovery would come back only after them, so a
    // generous 10 s bound still tells "back at once" from "recovered later".
    const { queue, finishedWith } = queues.working(
      name,
      async (job): Promise<JobOutcome> => {
        pickups.push(job.attempts);
        if (pickups.length === 1) return { status: 'released' };
        return deliver(job);
      },
      { lockDurationMs: 30_000, stalledIntervalMs: 30_000 },
    );
    const started = Date.now();
    const { record } = await queue.add(newJob('line down'));
    const done = await finishedWith(record.id, 10_000);
    expect(done).toMatchObject({ status: 'sent', attempts: 1 });
    expect(pickups).toEqual([0, 0]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a worker function that throws ends the job failed INTERNAL; a throwing onFinished stops nothing', async () => {
    const name = queues.name('throws');
    const queue = queues.open(name);
    const heard: string[] = [];
    queue.start({
      concurrency: 1,
      worker: async (job) => {
        if (textOf(job) === 'bug') throw new Error('a bug in the worker');
        return deliver(job);
      },
      onFinished: (record) => {
        heard.push(record.status);
        throw new Error('a listener that throws');
      },
    });
    const bug = await queue.add(newJob('bug'));
    const fine = await queue.add(newJob('fine'));
    await waitFor(() => heard.length === 2, 5_000, 'both jobs');
    expect(await queue.get(bug.record.id)).toMatchObject({
      status: 'failed',
      error: { code: 'INTERNAL', message: 'a bug in the worker' },
    });
    expect((await queue.get(fine.record.id))?.status).toBe('sent');
  });
});

describe('redisQueue: keys, requeue, delivery', () => {
  it("a job's keys are freed exactly when core's freesKeys says so", async () => {
    const name = queues.name('keys');
    const endings: Record<string, JobOutcome> = {
      network: { status: 'failed', error: NETWORK },
      http500: { status: 'failed', error: { code: 'HTTP', message: 'HTTP 500', status: 500 } },
      http503: { status: 'failed', error: { code: 'HTTP', message: 'HTTP 503', status: 503 } },
      ambiguous: { status: 'failed', error: { code: 'AMBIGUOUS', message: 'no answer' } },
      expiredNever: { status: 'expired', error: NETWORK },
      expiredAmbiguous: { status: 'expired', error: { code: 'AMBIGUOUS', message: 'no answer' } },
      sent: { status: 'sent' },
    };
    const { queue, finished } = queues.working(name, async (job: ActiveJob) => {
      await job.markAttempt();
      return endings[textOf(job)] as JobOutcome;
    });
    const ids: Record<string, string> = {};
    for (const text of Object.keys(endings)) {
      ids[text] = (await queue.add(newJob(text, { keys: [`idem:${text}`, `dedupe:${text}`] }))).record.id;
    }
    await waitFor(() => finished.length === Object.keys(endings).length, 10_000, 'every job');
    const freed = ['network', 'http503', 'expiredNever'];
    for (const text of Object.keys(endings)) {
      const again = await queue.add(newJob(text, { keys: [`dedupe:${text}`] }));
      expect({ text, created: again.created }).toEqual({ text, created: freed.includes(text) });
      if (!freed.includes(text)) expect(again.record.id).toBe(ids[text]);
    }
  });

  it('requeue(): a failed or expired job goes back in its lane, attempts kept, as often as needed', async () => {
    const name = queues.name('requeue');
    const pickups: { attempts: number; lastError: unknown }[] = [];
    const { queue, finished } = queues.working(name, async (job): Promise<JobOutcome> => {
      pickups.push({ attempts: job.attempts, lastError: job.lastError });
      await job.markAttempt();
      if (pickups.length === 1) return { status: 'failed', error: NETWORK };
      if (pickups.length === 2) return { status: 'expired', error: NETWORK };
      return { status: 'sent', messageId: 'm-3' };
    });
    const { record } = await queue.add(newJob('persistent', { keys: ['idem:p'], priority: 'low' }));
    await waitFor(() => finished.length === 1, 5_000, 'the failure');
    expect(await queue.find(['idem:p'])).toBeUndefined(); // a certain failure freed the key

    const requeued = await queue.requeue(record.id, Date.now() + 60_000);
    expect(requeued).toMatchObject({ id: record.id, status: 'queued', priority: 'low', attempts: 1, error: NETWORK });
    expect(await queue.find(['idem:p'])).toMatchObject({ id: record.id }); // and it holds the key again
    await waitFor(() => finished.length === 2, 5_000, 'the expiry');
    expect(finished[1]).toMatchObject({ status: 'expired', attempts: 2 });

    // The same job a third time: a BullMQ job of an earlier round never blocks it.
    await queue.requeue(record.id, Date.now() + 60_000);
    await waitFor(() => finished.length === 3, 5_000, 'the send');
    expect(finished[2]).toMatchObject({ id: record.id, status: 'sent', attempts: 3, messageId: 'm-3' });
    expect(pickups.map((p) => p.attempts)).toEqual([0, 1, 2]);
    expect(pickups[1]?.lastError).toEqual(NETWORK);

    expect(await queue.requeue(record.id, Date.now() + 60_000)).toBeUndefined(); // sent: not again
    expect(await queue.requeue('no-such-job', Date.now() + 60_000)).toBeUndefined();
  });

  it('setDelivery() records what the vendor said of a sent job', async () => {
    const name = queues.name('delivery');
    const { queue, finishedWith } = queues.working(name, deliver);
    const { record } = await queue.add(newJob('tracked'));
    await finishedWith(record.id);
    const checkedAt = Date.now();
    const read = await queue.setDelivery(record.id, 'read', checkedAt, 'READ');
    expect(read).toMatchObject({ status: 'sent', delivery: 'read', deliveryCheckedAt: checkedAt, deliveryRaw: 'READ' });
    expect(await queues.open(name).get(record.id)).toMatchObject({ delivery: 'read', deliveryRaw: 'READ' });
    // A check with no news keeps what was known, and records that it was made.
    const later = await queue.setDelivery(record.id, undefined, checkedAt + 1_000);
    expect(later).toMatchObject({ delivery: 'read', deliveryCheckedAt: checkedAt + 1_000, deliveryRaw: 'READ' });
    expect((await queue.setDelivery(record.id, 'delivered', checkedAt, 'x'.repeat(300)))?.deliveryRaw).toHaveLength(
      200,
    );
    expect(await queue.setDelivery('no-such-job', 'read', checkedAt)).toBeUndefined();
  });
});
