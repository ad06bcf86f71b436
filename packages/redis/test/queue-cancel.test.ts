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

/** A worker that holds the job with text 'blocker' until `release` opens; delivers the rest. */
function blockingWorker(worked: string[]) {
  const release = gate();
  const worker = async (job: ActiveJob): Promise<JobOutcome> => {
    worked.push(textOf(job));
    if (textOf(job) === 'blocker') await release.promise;
    return deliver(job);
  };
  return { worker, release: () => release.open() };
}

describe('redisQueue: cancel', () => {
  it('a queued or scheduled job is cancelled at once, its keys freed, and never worked', async () => {
    const name = queues.name('cancel');
    const worked: string[] = [];
    const { worker, release } = blockingWorker(worked);
    const { queue, finished } = queues.working(name, worker);
    await queue.add(newJob('blocker'));
    await waitFor(() => worked.length === 1, 5_000, 'the blocker');
    const waiting = await queue.add(newJob('waiting', { keys: ['idem:w'] }));
    const scheduled = await queue.add(newJob('scheduled', { sendAt: Date.now() + 400, keys: ['idem:s'] }));

    const other = queues.open(name); // cancelled from another process
    const cancelled = await other.cancel(waiting.record.id);
    expect(cancelled).toMatchObject({ id: waiting.record.id, status: 'cancelled' });
    expect(await queue.cancel(scheduled.record.id)).toMatchObject({ status: 'cancelled', sendAt: expect.any(Number) });
    expect(await queue.find(['idem:w'])).toBeUndefined();
    expect(await queue.find(['idem:s'])).toBeUndefined();
    expect(await queue.cancel(waiting.record.id)).toBeUndefined(); // already cancelled
    expect(await queue.cancel('no-such-job')).toBeUndefined();
    // onFinished heard the cancel made in this process.
    expect(finished.map((r) => [r.id, r.status])).toEqual([[scheduled.record.id, 'cancelled']]);

    release();
    await sleep(800); // past the schedule
    expect(worked).toEqual(['blocker']);
    expect((await queue.get(scheduled.record.id))?.status).toBe('cancelled');
    await waitFor(() => other.stats().cancelled === 2 && other.stats().sent === 1, 3_000, 'the counts');
    expect(other.stats()).toMatchObject({ scheduled: 0, queued: 0, sending: 0 });
  });

  it('a job a worker holds but has not marked: cancelled, its signal aborts, markAttempt throws, nothing sent', async () => {
    const name = queues.name('cancel-held');
    const picked = gate();
    const seen: { aborted?: unknown; markError?: unknown } = {};
    const { queue, finished } = queues.working(name, async (job): Promise<JobOutcome> => {
      picked.open();
      await new Promise((resolve) => job.signal.addEventListener('abort', resolve, { once: true }));
      seen.aborted = job.signal.reason;
      try {
        await job.markAttempt();
        return { status: 'sent' };
      } catch (error) {
        seen.markError = error;
        return { status: 'failed', error: { code: 'CANCELLED', message: String(error) } };
      }
    });
    const { record } = await queue.add(newJob('held'));
    await picked.promise;
    expect((await queue.cancel(record.id))?.status).toBe('cancelled');
    await waitFor(() => seen.markError !== undefined, 3_000, 'the worker to try');
    expect(seen.aborted).toMatchObject({ code: 'CANCELLED' });
    expect(seen.markError).toMatchObject({ code: 'CANCELLED' });
    await sleep(300);
    expect(await queue.get(record.id)).toMatchObject({ status: 'cancelled', attempts: 0 });
    expect(finished.map((r) => r.status)).toEqual(['cancelled']); // never "failed" as well
  });

  it('held by a worker in another process: cancelled there too, its markAttempt refused', async () => {
    const name = queues.name('cancel-held-elsewhere');
    const picked = gate();
    const proceed = gate();
    let markError: unknown;
    const { queue } = queues.working(name, async (job): Promise<JobOutcome> => {
      picked.open();
      await proceed.promise;
      try {
        await job.markAttempt();
        return { status: 'sent' };
      } catch (error) {
        markError = error;
        return { status: 'failed', error: { code: 'CANCELLED', message: 'cancelled' } };
      }
    });
    const { record } = await queue.add(newJob('held'));
    await picked.promise;
    expect(await queues.open(name).cancel(record.id)).toMatchObject({ status: 'cancelled' });
    proceed.open();
    await waitFor(() => markError !== undefined, 3_000, 'the refusal');
    expect(markError).toMatchObject({ code: 'CANCELLED' });
    expect((await queue.get(record.id))?.status).toBe('cancelled');
  });

  it('a job being sent (marked in flight) is not cancelled: cancel() answers undefined and it is sent', async () => {
    const name = queues.name('cancel-sending');
    const marked = gate();
    const answer = gate();
    const { queue, finishedWith } = queues.working(name, async (job): Promise<JobOutcome> => {
      await job.markAttempt();
      marked.open();
      await answer.promise;
      return { status: 'sent', messageId: 'm-1' };
    });
    const { record } = await queue.add(newJob('on the wire', { replaceKey: 'r:1' }));
    await marked.promise;
    expect(await queue.cancel(record.id)).toBeUndefined();
    expect(await queue.cancel({ replaceKey: 'r:1' })).toBeUndefined();
    expect((await queue.get(record.id))?.status).toBe('sending');
    answer.open();
    expect(await finishedWith(record.id)).toMatchObject({ status: 'sent', messageId: 'm-1' });
  });
});

describe('redisQueue: replace keys', () => {
  it('a later add with the key cancels the pending job and takes the key; cancel({ replaceKey }) finds it', async () => {
    const name = queues.name('replace');
    const queue = queues.open(name);
    const first = await queue.add(newJob('visit at 10:00', { replaceKey: 'visit:1', sendAt: Date.now() + 60_000 }));
    const moved = await queue.add(newJob('visit at 12:00', { replaceKey: 'visit:1', sendAt: Date.now() + 60_000 }));
    expect(moved.replaced).toMatchObject({ id: first.record.id, status: 'cancelled', replaceKey: 'visit:1' });
    expect(moved.record).toMatchObject({ status: 'scheduled', replaceKey: 'visit:1' });
    expect((await queue.get(first.record.id))?.status).toBe('cancelled');

    const cancelled = await queue.cancel({ replaceKey: 'visit:1' });
    expect(cancelled).toMatchObject({ id: moved.record.id, status: 'cancelled' });
    expect(await queue.cancel({ replaceKey: 'visit:1' })).toBeUndefined();
    const fresh = await queue.add(newJob('visit at 14:00', { replaceKey: 'visit:1' }));
    expect(fresh.replaced).toBeUndefined();
  });

  it('a job being sent is not replaced: the new job takes the key, both are sent', async () => {
    const name = queues.name('replace-sending');
    const marked = gate();
    const answer = gate();
    const { queue, finished } = queues.working(name, async (job): Promise<JobOutcome> => {
      await job.markAttempt();
      if (textOf(job) === 'first') {
        marked.open();
        await answer.promise;
      }
      return { status: 'sent' };
    });
    const first = await queue.add(newJob('first', { replaceKey: 'order:9' }));
    await marked.promise;
    const second = await queue.add(newJob('second', { replaceKey: 'order:9', sendAt: Date.now() + 60_000 }));
    expect(second.replaced).toBeUndefined();
    answer.open();
    await waitFor(() => finished.some((r) => r.id === first.record.id), 5_000, 'the first');
    // The key is the second job's now.
    expect(await queue.cancel({ replaceKey: 'order:9' })).toMatchObject({ id: second.record.id });
  });

  it('a job that retries waits again under its key: a later add replaces it', async () => {
    const name = queues.name('replace-retry');
    const { queue, finished } = queues.working(name, async (job): Promise<JobOutcome> => {
      await job.markAttempt();
      await job.markNotAccepted();
      return { status: 'retry', at: Date.now() + 60_000, error: { code: 'NETWORK', message: 'down' } };
    });
    const first = await queue.add(newJob('first', { replaceKey: 'k' }));
    await waitFor(async () => (await queue.get(first.record.id))?.attempts === 1, 5_000, 'an attempt');
    await waitFor(async () => (await queue.get(first.record.id))?.status === 'queued', 5_000, 'queued again');
    const second = await queue.add(newJob('second', { replaceKey: 'k', sendAt: Date.now() + 60_000 }));
    expect(second.replaced).toMatchObject({ id: first.record.id, status: 'cancelled', attempts: 1 });
    expect(finished.map((r) => [r.id, r.status])).toEqual([[first.record.id, 'cancelled']]);
  });

  it('many adds with one key from two processes at once: exactly one pending job', async () => {
    const name = queues.name('replace-race');
    const a = queues.open(name);
    const b = queues.open(name);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? a : b).add(newJob(`v${i}`, { replaceKey: 'visit:race', sendAt: Date.now() + 60_000 })),
      ),
    );
    const records = await Promise.all(results.map((r) => a.get(r.record.id)));
    expect(records.filter((r) => r?.status === 'scheduled')).toHaveLength(1);
    expect(records.filter((r) => r?.status === 'cancelled')).toHaveLength(29);
    // Each cancelled job was replaced by exactly one add.
    const replaced = results.flatMap((r) => (r.replaced ? [r.replaced.id] : []));
    expect(new Set(replaced).size).toBe(29);
    await waitFor(() => a.stats().scheduled === 1 && a.stats().cancelled === 29, 3_000, 'the counts');
  });
});
