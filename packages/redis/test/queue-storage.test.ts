import type { OutgoingMessage } from '@olchat-kit/core';
import type { ActiveJob, JobOutcome } from '@olchat-kit/core/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import { deliver, newJob, PHONE, Queues } from './helpers/queue-harness.js';
import { RedisServer } from './helpers/redis-server.js';

/*
 * How a job is kept in Redis: a waiting reminder is one compact record (its message inside) and
 * its key, with no BullMQ job until its time nears; the message comes back intact whatever its
 * length or script, and is dropped once it was sent or cancelled.
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

const DAY_MS = 86_400_000;
const REMINDER = 'Здравствуйте, Анна Петрова! Напоминаем о записи к врачу 29 ноября в 10:00. Клиника «Здоровье»';
const recordKey = (name: string, id: string) => `olchat:${name}:~rec:${id}`;

/** Whether BullMQ holds a job of that id (its job hash). */
async function inBullMQ(name: string, id: string): Promise<boolean> {
  const bull = new Queue(name, { connection: redis.connection, prefix: 'olchat' });
  try {
    return (await bull.getJob(id)) !== undefined;
  } finally {
    await bull.close();
  }
}

/** The record's body pieces still stored (fields named by numbers). */
async function bodyPieces(name: string, id: string): Promise<number> {
  return Object.keys(await inspect.hgetall(recordKey(name, id))).filter((field) => /^\d+$/.test(field)).length;
}

describe('redisQueue: how jobs are stored', () => {
  it('a reminder days ahead is one compact record and its key: no BullMQ job, no other key of its own', async () => {
    const name = queues.name('compact');
    const queue = queues.open(name);
    const sendAt = Date.now() + 3 * DAY_MS;
    const { record } = await queue.add(
      newJob(REMINDER, {
        ruleId: 'visit-reminder',
        keys: ['dedupe:visit-reminder:v-1'],
        sendAt,
        deadline: sendAt + DAY_MS,
      }),
    );
    expect(record.id).toMatch(/^[A-Za-z0-9_-]{16}$/); // the memory queue's shape of id
    const all = await inspect.keys(`olchat:${name}:*`);
    expect(all.filter((key) => key.includes(record.id))).toEqual([recordKey(name, record.id)]);
    // Redis keeps it as one compact block (a listpack), not a hash table: its message included.
    expect(await inspect.object('ENCODING', recordKey(name, record.id))).toBe('listpack');
    expect(await inspect.get(`olchat:${name}:~key:dedupe:visit-reminder:v-1`)).toBe(record.id);
    expect(await inBullMQ(name, record.id)).toBe(false);
    expect(await queues.open(name).get(record.id)).toEqual({
      id: record.id,
      ruleId: 'visit-reminder',
      phone: PHONE,
      status: 'scheduled',
      priority: 'normal',
      category: 'transactional',
      attempts: 0,
      sendAt,
      text: REMINDER,
      createdAt: record.createdAt,
      updatedAt: record.createdAt,
    });
    await waitFor(() => queue.stats().scheduled === 1 && queue.stats().queued === 0, 5_000, 'the counts');
  });

  it('a schedule beyond the hand-off horizon gets its BullMQ job from the sweep and is sent at its time, once', async () => {
    const name = queues.name('handoff');
    const picked: number[] = [];
    // Sweeps every 100 ms: schedules more than 1 s ahead wait without a BullMQ job.
    const { queue, finishedWith } = queues.working(
      name,
      async (job) => {
        picked.push(Date.now());
        return deliver(job);
      },
      { sweepIntervalMs: 100 },
    );
    const sendAt = Date.now() + 3_000;
    const { record } = await queue.add(newJob(REMINDER, { sendAt, keys: ['idem:h'] }));
    expect(await inBullMQ(name, record.id)).toBe(false);
    expect(await queue.get(record.id)).toMatchObject({ status: 'scheduled', sendAt });
    const done = await finishedWith(record.id, 15_000);
    expect(done).toMatchObject({ status: 'sent', attempts: 1, sendAt, messageId: `m-${REMINDER}` });
    expect(picked).toHaveLength(1);
    expect(picked[0]).toBeGreaterThanOrEqual(sendAt - 50); // BullMQ's own tolerance of its timers
    await sleep(500);
    expect(picked).toHaveLength(1);
  });

  it('a schedule cancelled before its hand-off is never handed to BullMQ nor sent', async () => {
    const name = queues.name('cancel-later');
    const worked: string[] = [];
    const { queue } = queues.working(
      name,
      async (job) => {
        worked.push(job.id);
        return deliver(job);
      },
      { sweepIntervalMs: 100 },
    );
    const sendAt = Date.now() + 2_000;
    const { record } = await queue.add(newJob(REMINDER, { sendAt, keys: ['idem:c'] }));
    expect(await queue.cancel(record.id)).toMatchObject({ id: record.id, status: 'cancelled' });
    expect(await queue.find(['idem:c'])).toBeUndefined();
    await sleep(sendAt - Date.now() + 700);
    expect(worked).toEqual([]);
    expect(await inBullMQ(name, record.id)).toBe(false);
    expect(await queue.get(record.id)).toMatchObject({ status: 'cancelled' });
    await waitFor(() => queue.stats().scheduled === 0 && queue.stats().queued === 0, 5_000, 'the counts');
  });

  it('messages of any length and script reach the worker exactly as added, also after a requeue', async () => {
    const name = queues.name('bodies');
    // Pieces are cut by bytes: 2-, 3- and 4-byte characters fall across their edges.
    // 4 000 characters, past the 128 pieces a compact hash holds: the record is then a hash table.
    const long = [...'Ёж 🦔 и 漢字 — '.repeat(400)].slice(0, 4_000).join('');
    const messages: OutgoingMessage[] = [
      { phone: PHONE, text: long, sendToImol: false },
      { phone: PHONE, text: 'a'.repeat(64), sendToImol: true },
      { phone: PHONE, text: 'Я', sendToImol: false },
      {
        phone: PHONE,
        file: { url: 'https://example.com/счёт №7.pdf', caption: 'Счёт 🧾 '.repeat(40) },
        sendToImol: true,
      },
      { phone: PHONE, file: { url: 'https://example.com/a.pdf' }, sendToImol: false },
    ];
    const seen = new Map<string, OutgoingMessage[]>();
    const { queue, finished } = queues.working(name, async (job: ActiveJob): Promise<JobOutcome> => {
      const rounds = seen.get(job.id) ?? [];
      rounds.push(job.message);
      seen.set(job.id, rounds);
      await job.markAttempt();
      // The first round fails for good: requeue() must bring back the same message.
      return rounds.length === 1 ? { status: 'failed', error: { code: 'NETWORK', message: 'refused' } } : deliver(job);
    });
    const ids: string[] = [];
    for (const message of messages) ids.push((await queue.add(newJob('', { message }))).record.id);
    await waitFor(() => finished.length === messages.length, 10_000, 'the failures');
    for (const id of ids) expect(await queue.requeue(id, Date.now() + 60_000)).toMatchObject({ status: 'queued' });
    await waitFor(() => finished.length === 2 * messages.length, 10_000, 'the sends');
    ids.forEach((id, i) => {
      expect(seen.get(id)).toEqual([messages[i], messages[i]]);
    });
  });

  it('a finished record keeps its message (what was sent); with storeText: false, none once finished', async () => {
    const name = queues.name('kept-text');
    const { queue, finishedWith } = queues.working(name, deliver);
    const sent = await queue.add(newJob(REMINDER));
    const cancelled = await queue.add(newJob(REMINDER, { sendAt: Date.now() + DAY_MS }));
    await queue.cancel(cancelled.record.id);
    await finishedWith(sent.record.id);
    expect(await bodyPieces(name, sent.record.id)).toBeGreaterThan(0);
    expect((await queue.get(sent.record.id))?.text).toBe(REMINDER);
    expect((await queue.get(cancelled.record.id))?.text).toBe(REMINDER);
  });

  it('storeText: false: a sent or cancelled record keeps no message, a failed or expired one neither (no requeue)', async () => {
    const name = queues.name('kept');
    const options = { storeText: false };
    const { queue, finishedWith } = queues.working(
      name,
      async (job: ActiveJob): Promise<JobOutcome> => {
        await job.markAttempt();
        return job.message.sendToImol
          ? { status: 'failed', error: { code: 'HTTP', message: 'HTTP 400' } }
          : deliver(job);
      },
      options,
    );
    const sent = await queue.add(newJob(REMINDER));
    const failed = await queue.add(newJob(REMINDER, { message: { phone: PHONE, text: REMINDER, sendToImol: true } }));
    const cancelled = await queue.add(newJob(REMINDER, { sendAt: Date.now() + DAY_MS }));
    const expired = await queue.add(newJob(REMINDER, { sendAt: Date.now() + DAY_MS, deadline: Date.now() + 300 }));
    await queue.cancel(cancelled.record.id);
    await finishedWith(sent.record.id);
    await finishedWith(failed.record.id);
    await finishedWith(expired.record.id);
    for (const job of [sent, cancelled, failed, expired]) {
      expect(await bodyPieces(name, job.record.id)).toBe(0);
      expect((await queue.get(job.record.id))?.text).toBeUndefined();
    }
    expect(await queue.requeue(cancelled.record.id, Date.now() + 60_000)).toBeUndefined();
    expect(await queue.requeue(expired.record.id, Date.now() + 60_000)).toBeUndefined();
  });
});
