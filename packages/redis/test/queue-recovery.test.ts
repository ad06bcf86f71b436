import type { JobOutcome } from '@olchat-kit/core/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import { LIMITER_OUTAGE } from '../src/errors.js';
import { deliver, gate, newJob, Queues } from './helpers/queue-harness.js';
import { RedisServer } from './helpers/redis-server.js';

/*
 * Every path of a job ends in a state some process resolves: a Redis failure at any step leaves
 * the job to be worked again (or, at worst, expired at its deadline), never stuck in between.
 * Redis failures are made real and exact by turning the job's record into a string for a while:
 * every script that touches it fails with WRONGTYPE, as it would on any Redis error.
 */

let redis: RedisServer;
let inspect: Redis;
const queues = new Queues(() => redis);

beforeAll(async () => {
  redis = await RedisServer.start();
  inspect = new Redis(redis.connection);
});
afterEach(() => queues.closeAll());
afterAll(async () => {
  inspect?.disconnect();
  await redis?.destroy();
});

const recordKey = (name: string, id: string) => `olchat:${name}:~rec:${id}`;

/** Breaks the record (scripts on it fail) and returns the repair; each in one step, so it is never missing. */
async function breakRecord(name: string, id: string): Promise<() => Promise<void>> {
  const key = recordKey(name, id);
  await inspect.multi().rename(key, `${key}:aside`).set(key, 'not a hash').exec();
  return async () => {
    await inspect.multi().del(key).rename(`${key}:aside`, key).exec();
  };
}

describe('redisQueue: recovery from Redis failures', () => {
  it('an accepted job whose BullMQ add was lost is added again by the sweep, and sent once', async () => {
    const name = queues.name('lost-add');
    const producer = queues.open(name);
    const { record } = await producer.add(newJob('accepted', { keys: ['idem:a'] }));
    // As if the add to BullMQ had failed after the record was written (Redis went away between).
    const bull = new Queue(name, { connection: redis.connection, prefix: 'olchat' });
    try {
      expect(await bull.remove(record.id)).toBe(1);
      expect(await bull.getJob(record.id)).toBeUndefined();
    } finally {
      await bull.close();
    }
    const sends: string[] = [];
    const { finishedWith } = queues.working(
      name,
      async (job) => {
        sends.push(job.id);
        return deliver(job);
      },
      { addTimeoutMs: 300 }, // an add has landed or failed within 3 × this: then it is revived
    );
    expect(await finishedWith(record.id, 10_000)).toMatchObject({ status: 'sent', attempts: 1 });
    await sleep(1_500);
    expect(sends).toEqual([record.id]);
  });

  it('Redis fails while a pickup starts: BullMQ hands the job over again, and it is sent', async () => {
    const name = queues.name('pickup-fails');
    const producer = queues.open(name);
    const { record } = await producer.add(newJob('later'));
    const repair = await breakRecord(name, record.id);
    const { finished, finishedWith } = queues.working(name, deliver);
    await sleep(1_000); // the pickup failed at least once
    expect(finished).toEqual([]);
    await repair();
    expect(await finishedWith(record.id, 10_000)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('Redis fails while a put-back is stored: it lands once Redis answers, and the job is sent later', async () => {
    const name = queues.name('putback-fails');
    const picked = gate<() => Promise<void>>();
    let pickups = 0;
    const { queue, finishedWith } = queues.working(name, async (job): Promise<JobOutcome> => {
      pickups++;
      if (pickups > 1) return deliver(job);
      // The shared limiter gave up on its Redis before the request: nothing was sent.
      const repair = await breakRecord(name, job.id);
      picked.open(repair);
      return { status: 'failed', error: { code: 'NETWORK', message: `${LIMITER_OUTAGE} (test)` } };
    });
    const { record } = await queue.add(newJob('waits for the limiter'));
    const repair = await picked.promise;
    await sleep(700); // storing the put-back fails meanwhile
    await repair();
    const done = await finishedWith(record.id, 10_000);
    expect(done).toMatchObject({ status: 'sent', attempts: 1 });
    expect(pickups).toBe(2);
  });

  it('Redis fails while a final outcome is stored: it is written once Redis answers, once', async () => {
    const name = queues.name('finish-fails');
    let repair: (() => Promise<void>) | undefined;
    const { queue, finished } = queues.working(name, async (job): Promise<JobOutcome> => {
      await job.markAttempt();
      repair = await breakRecord(name, job.id);
      return { status: 'sent', messageId: 'm-1' };
    });
    const { record } = await queue.add(newJob('delivered'));
    await waitFor(() => repair !== undefined, 5_000, 'the send');
    await sleep(700);
    expect(finished).toEqual([]);
    await repair?.();
    await waitFor(() => finished.length === 1, 5_000, 'the outcome');
    expect(finished[0]).toMatchObject({ id: record.id, status: 'sent', messageId: 'm-1', attempts: 1 });
    await sleep(500);
    expect(finished).toHaveLength(1);
  });
});
