import { QueueFullError } from '@olchat-kit/core';
import type { ActiveJob, JobOutcome } from '@olchat-kit/core/queue';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import { deliver, gate, newJob, Queues, textOf } from './helpers/queue-harness.js';
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

/** Holds every job whose text starts with 'hold' until released; the others go to `rest`. */
function holdingWorker(rest: (job: ActiveJob) => Promise<JobOutcome> = deliver) {
  const release = gate();
  const worked: string[] = [];
  const worker = async (job: ActiveJob): Promise<JobOutcome> => {
    worked.push(textOf(job));
    if (textOf(job).startsWith('hold')) {
      await release.promise;
      return deliver(job);
    }
    return rest(job);
  };
  return { worker, worked, release: () => release.open() };
}

describe('redisQueue: deadlines', () => {
  it('a job whose deadline passes while it waits behind a busy worker ends expired, without a worker', async () => {
    const name = queues.name('expire-queued');
    const { worker, worked, release } = holdingWorker();
    const { queue, finishedWith } = queues.working(name, worker);
    await queue.add(newJob('hold'));
    await waitFor(() => worked.length === 1, 5_000, 'the held job');
    const deadline = Date.now() + 400;
    const { record } = await queue.add(newJob('too late', { deadline, keys: ['idem:late'] }));
    const expired = await finishedWith(record.id, 5_000);
    expect(expired).toMatchObject({ status: 'expired', attempts: 0, error: { code: 'EXPIRED' } });
    expect(expired.updatedAt).toBeGreaterThanOrEqual(deadline);
    expect(await queue.find(['idem:late'])).toBeUndefined(); // never sent: its key is free again
    release();
    await sleep(500);
    expect(worked).toEqual(['hold']);
  });

  it('a job added past its deadline ends expired at once: never worked, keys freed, replaces its key’s job, never refused as full', async () => {
    const name = queues.name('expire-at-add');
    const worked: string[] = [];
    const { queue, finished } = queues.working(
      name,
      async (job) => {
        worked.push(textOf(job));
        return deliver(job);
      },
      { maxQueued: 1 },
    );
    const pending = await queue.add(newJob('old reminder', { sendAt: Date.now() + 60_000, replaceKey: 'visit:1' }));
    const { record, replaced } = await queue.add(
      newJob('too late', { deadline: Date.now() - 1, keys: ['idem:late'], replaceKey: 'visit:1' }),
    );
    expect(record).toMatchObject({ status: 'expired', attempts: 0, error: { code: 'EXPIRED' } });
    expect(replaced).toMatchObject({ id: pending.record.id, status: 'cancelled' });
    expect(finished.map((r) => [r.id, r.status])).toEqual([
      [pending.record.id, 'cancelled'],
      [record.id, 'expired'],
    ]);
    expect(await queue.get(record.id)).toMatchObject({ status: 'expired' });
    expect(await queue.find(['idem:late'])).toBeUndefined(); // never sent: its key is free again
    // The queue holds a pending job again (maxQueued 1): an expired one still goes in.
    const holding = await queue.add(newJob('pending', { sendAt: Date.now() + 60_000 }));
    await expect(queue.add(newJob('one too many'))).rejects.toBeInstanceOf(QueueFullError);
    expect((await queue.add(newJob('late again', { deadline: Date.now() - 1 }))).record.status).toBe('expired');
    await waitFor(() => queue.stats().expired === 2, 5_000, 'the stats');
    // Its message is kept: a retry sends it (once there is room: requeue() respects maxQueued too).
    await expect(queue.requeue(record.id, Date.now() + 60_000)).rejects.toBeInstanceOf(QueueFullError);
    await queue.cancel(holding.record.id);
    const requeued = await queue.requeue(record.id, Date.now() + 60_000);
    expect(requeued?.status).toBe('queued');
    await waitFor(() => worked.length === 1, 5_000, 'the retried job');
    expect(worked).toEqual(['too late']);
  });

  it('a scheduled job whose deadline comes before its time expires at the deadline', async () => {
    const name = queues.name('expire-scheduled');
    const worked: string[] = [];
    const { queue, finishedWith } = queues.working(name, async (job) => {
      worked.push(textOf(job));
      return deliver(job);
    });
    const deadline = Date.now() + 400;
    const sendAt = Date.now() + 3_000;
    const { record } = await queue.add(newJob('reminder', { sendAt, deadline }));
    const expired = await finishedWith(record.id, 5_000);
    expect(expired).toMatchObject({ status: 'expired', error: { code: 'EXPIRED' } });
    expect(Date.now()).toBeLessThan(sendAt);
    await sleep(sendAt - Date.now() + 500);
    expect(worked).toEqual([]);
  });

  it('a job waiting out a backoff past its deadline expires with its last error', async () => {
    const name = queues.name('expire-retry');
    const { queue, finishedWith } = queues.working(name, async (job): Promise<JobOutcome> => {
      await job.markAttempt();
      await job.markNotAccepted();
      return { status: 'retry', at: Date.now() + 5_000, error: NETWORK };
    });
    const { record } = await queue.add(newJob('outage', { deadline: Date.now() + 600, keys: ['idem:o'] }));
    const expired = await finishedWith(record.id, 5_000);
    expect(expired).toMatchObject({ status: 'expired', attempts: 1, error: NETWORK });
    expect(await queue.find(['idem:o'])).toBeUndefined();
  });

  it('a job a worker holds past its deadline is left to that worker', async () => {
    const name = queues.name('expire-held');
    const { worker, worked, release } = holdingWorker();
    const { queue, finished } = queues.working(name, worker);
    const deadline = Date.now() + 2_000;
    const { record } = await queue.add(newJob('hold me', { deadline }));
    // Held before its deadline (a loaded machine may take a while to hand it over), then kept past it.
    await waitFor(() => worked.length === 1, 1_800, 'the worker to hold the job');
    await sleep(deadline - Date.now() + 1_200); // several sweeps past the deadline
    expect(finished).toEqual([]);
    expect((await queue.get(record.id))?.status).toBe('queued');
    release();
    await waitFor(() => finished.length === 1, 5_000, 'the worker to finish');
    expect(finished[0]).toMatchObject({ status: 'sent' });
  });
});

describe('redisQueue: maxQueued', () => {
  it('past maxQueued unfinished jobs add() rejects QUEUE_FULL; a replay or a replace still works', async () => {
    const name = queues.name('full');
    const { worker, worked, release } = holdingWorker();
    const { queue } = queues.working(name, worker, { maxQueued: 3 });
    await queue.add(newJob('hold', { keys: ['idem:first'] })); // sending
    await waitFor(() => worked.length === 1, 5_000, 'the first pickup');
    await queue.add(newJob('queued', { replaceKey: 'r' }));
    await queue.add(newJob('scheduled', { sendAt: Date.now() + 60_000 }));

    const error = await queue.add(newJob('one too many')).catch((e) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect(error).toMatchObject({ code: 'QUEUE_FULL' });
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
    // From another process too: the count is shared.
    const other = queues.open(name, { maxQueued: 3 });
    await expect(other.add(newJob('from elsewhere'))).rejects.toMatchObject({ code: 'QUEUE_FULL' });

    expect((await queue.add(newJob('hold', { keys: ['idem:first'] }))).created).toBe(false);
    const replacing = await queue.add(newJob('replacing', { replaceKey: 'r' }));
    expect(replacing.replaced?.status).toBe('cancelled');

    release();
    await waitFor(
      async () => (await queue.add(newJob('room again')).catch(() => undefined)) !== undefined,
      5_000,
      'room',
    );
  });
});

describe('redisQueue: stats and list', () => {
  it('stats() counts every status exactly: a delayed retry is queued, a delayed schedule scheduled', async () => {
    const name = queues.name('stats');
    const outcomes: Record<string, JobOutcome> = {
      retry: { status: 'retry', at: Date.now() + 60_000, error: NETWORK },
      failed: { status: 'failed', error: { code: 'HTTP', message: 'HTTP 500', status: 500 } },
      sent: { status: 'sent' },
    };
    const { worker, worked, release } = holdingWorker(async (job) => {
      await job.markAttempt();
      return outcomes[textOf(job)] as JobOutcome;
    });
    const { queue } = queues.working(name, worker, { concurrency: 2 });
    const watcher = queues.open(name);
    await queue.add(newJob('hold')); // held by the worker but not marked in flight: still queued
    await queue.add(newJob('retry'));
    await queue.add(newJob('failed'));
    await queue.add(newJob('sent'));
    await queue.add(newJob('scheduled', { sendAt: Date.now() + 60_000 }));
    const cancelled = await queue.add(newJob('cancelled', { sendAt: Date.now() + 60_000 }));
    await queue.cancel(cancelled.record.id);
    await queue.add(newJob('expired', { sendAt: Date.now() + 60_000, deadline: Date.now() + 100 }));
    await waitFor(() => worked.length === 4, 5_000, 'four pickups');
    const expected = { scheduled: 1, queued: 2, sending: 0, sent: 1, failed: 1, cancelled: 1, expired: 1 };
    await waitFor(() => JSON.stringify(watcher.stats()) === JSON.stringify(expected), 5_000, 'the counts');
    expect(watcher.stats()).toEqual(expected);
    release();
  });

  it('list(): newest first, of one status or all, bounded by limit', async () => {
    const name = queues.name('list');
    const queue = queues.open(name);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push((await queue.add(newJob(`j${i}`, i % 2 ? { sendAt: Date.now() + 60_000 } : {}))).record.id);
      await sleep(3); // distinct updatedAt
    }
    await queue.cancel(ids[0] as string);
    const all = await queue.list();
    expect(all.map((r) => r.id)).toEqual([ids[0], ids[5], ids[4], ids[3], ids[2], ids[1]]);
    expect((await queue.list({ status: 'scheduled' })).map((r) => r.id)).toEqual([ids[5], ids[3], ids[1]]);
    expect((await queue.list({ status: 'queued', limit: 1 })).map((r) => r.id)).toEqual([ids[4]]);
    expect((await queue.list({ status: 'cancelled' }))[0]).toMatchObject({ id: ids[0], status: 'cancelled' });
    expect(await queue.list({ status: 'sent' })).toEqual([]);
    expect(await queue.list({ limit: 10_000 })).toHaveLength(6);
  });
});
