import type { JobRecord } from '@olchat-kit/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import { assertBuilt, QueueProcess } from './helpers/children.js';
import { deliver, Queues } from './helpers/queue-harness.js';
import { RedisServer } from './helpers/redis-server.js';

/*
 * Real processes on one Redis (append-only file on, so a restart keeps what it acknowledged):
 * schedules, cancels and replace keys hold across processes, SIGKILL and Redis restarts.
 */

let redis: RedisServer;
let inspect: Redis;
const queues = new Queues(() => redis);
const children: QueueProcess[] = [];
const quick = { lockDurationMs: 2_000, stalledIntervalMs: 1_000, sweepIntervalMs: 200 };

beforeAll(async () => {
  assertBuilt();
  redis = await RedisServer.start({ appendonly: true });
  inspect = new Redis({ ...redis.connection, maxRetriesPerRequest: null });
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill()));
  await queues.closeAll();
});
afterAll(async () => {
  inspect?.disconnect();
  await redis?.destroy();
});

async function processOn(queueName: string): Promise<QueueProcess> {
  const child = new QueueProcess({ redisPort: redis.port, queueName, queueOptions: quick });
  children.push(child);
  await child.next('ready');
  return child;
}

async function add(child: QueueProcess, job: Record<string, unknown>) {
  const added = await child.request(
    'add',
    { job: { message: { phone: '79123456789', sendToImol: false }, ...job } },
    'added',
  );
  return added as unknown as { id: string; status: string; created: boolean; replaced?: string };
}

function textJob(text: string, extra: Record<string, unknown> = {}) {
  return { message: { phone: '79123456789', text, sendToImol: false }, ...extra };
}

/** Redis killed (nothing more written) and started again on its append-only file. */
async function crashRedis(): Promise<void> {
  await redis.stop({ crash: true });
  await redis.start();
}

const delivered = (queueName: string) => inspect.lrange(`delivered:${queueName}`, 0, -1);

describe('the Redis queue across processes, SIGKILL and Redis restarts', () => {
  it('schedules, cancels and replace keys survive the processes that made them and Redis restarts', async () => {
    const name = queues.name('survive');
    // A adds a reminder (with a replace key) and another job, starts working, and is killed.
    const a = await processOn(name);
    await a.request('start', { concurrency: 2 }, 'started');
    // The reminder's time is counted once A's queue is connected (a cancel of nothing waits for that):
    // a process starting slowly on a loaded machine must not find it already due.
    await a.request('cancel', { target: 'no-such-job' }, 'cancelled');
    const sendAt = Date.now() + 4_000;
    const reminder = await add(a, textJob('visit at 10:00', { replaceKey: 'visit:1', sendAt }));
    const other = await add(a, textJob('other', { sendAt }));
    expect(reminder.status).toBe('scheduled');
    await a.kill();
    await crashRedis();

    // B moves the visit (replacing the reminder) and cancels the other job, and is killed too.
    const b = await processOn(name);
    const moved = await add(b, textJob('visit at 12:00', { replaceKey: 'visit:1', sendAt }));
    expect(moved.replaced).toBe(reminder.id);
    expect(await b.request('cancel', { target: other.id }, 'cancelled')).toMatchObject({ id: other.id });
    await b.kill();
    await crashRedis();

    // C works the queue: only the moved reminder goes out, once, when due.
    const c = await processOn(name);
    await c.request('start', {}, 'started');
    await c.next('finished', 15_000, (m) => m.id === moved.id);
    expect(Date.now()).toBeGreaterThanOrEqual(sendAt);
    await sleep(1_500);
    expect(await delivered(name)).toEqual(['visit at 12:00']);
    const reader = queues.open(name);
    expect((await reader.get(reminder.id))?.status).toBe('cancelled');
    expect((await reader.get(other.id))?.status).toBe('cancelled');
    expect(await reader.get(moved.id)).toMatchObject({ status: 'sent', attempts: 1, replaceKey: 'visit:1' });
    // The key was released when the job was sent: a new add with it replaces nothing.
    expect(
      await add(c, textJob('visit at 15:00', { replaceKey: 'visit:1', sendAt: Date.now() + 60_000 })),
    ).not.toHaveProperty('replaced');
  }, 60_000);

  it('two processes adding with one replace key at the same moment leave exactly one pending job', async () => {
    const name = queues.name('race');
    const [a, b] = await Promise.all([processOn(name), processOn(name)]);
    const sendAt = Date.now() + 60_000;
    for (let i = 0; i < 10; i++) {
      a.fire('add', { job: textJob(`a${i}`, { replaceKey: 'visit:race', sendAt }) });
      b.fire('add', { job: textJob(`b${i}`, { replaceKey: 'visit:race', sendAt }) });
    }
    await waitFor(
      () => [...a.messages, ...b.messages].filter((m) => m.event === 'added').length === 20,
      20_000,
      'all 20 adds',
    );
    const added = [...a.messages, ...b.messages].filter((m) => m.event === 'added');
    const reader = queues.open(name);
    const records = (await Promise.all(added.map((m) => reader.get(String(m.id))))) as JobRecord[];
    expect(records.filter((r) => r.status === 'scheduled')).toHaveLength(1);
    expect(records.filter((r) => r.status === 'cancelled')).toHaveLength(19);
    const replaced = added.flatMap((m) => (m.replaced ? [String(m.replaced)] : []));
    expect(new Set(replaced).size).toBe(19);
    expect((await reader.cancel({ replaceKey: 'visit:race' }))?.status).toBe('cancelled');
  }, 60_000);

  it('a job held by a process that is then killed: cancelled from another process, and never sent', async () => {
    const name = queues.name('held');
    const a = await processOn(name);
    await a.request('start', { mode: 'hold' }, 'started');
    const job = await add(a, textJob('held'));
    await a.next('picked', 10_000, (m) => m.id === job.id);
    const here = queues.open(name);
    expect(await here.cancel(job.id)).toMatchObject({ status: 'cancelled' });
    await a.kill();

    const b = await processOn(name);
    await b.request('start', {}, 'started');
    // The dead process's lock expires, B recovers the job, its record refuses it, BullMQ drops it.
    await waitFor(async () => (await inspect.exists(`olchat:${name}:${job.id}`)) === 0, 20_000, 'the recovery');
    expect(await delivered(name)).toEqual([]);
    expect(b.messages.filter((m) => m.event === 'picked')).toEqual([]);
    expect(await here.get(job.id)).toMatchObject({ status: 'cancelled', attempts: 0 });
  }, 30_000);

  it('a deadline that passes while the only worker is dead: the next process ends the job expired', async () => {
    const name = queues.name('dead-worker');
    const a = await processOn(name);
    await a.request('start', { mode: 'hold' }, 'started');
    const job = await add(a, textJob('reminder', { deadline: Date.now() + 1_000 }));
    await a.next('picked', 10_000, (m) => m.id === job.id);
    await a.kill();
    await sleep(1_200);
    const { finishedWith } = queues.working(name, deliver, quick);
    expect(await finishedWith(job.id, 15_000)).toMatchObject({ status: 'expired', error: { code: 'EXPIRED' } });
    expect(await delivered(name)).toEqual([]);
  }, 30_000);
});
