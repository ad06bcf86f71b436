import type { JobRecord } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import { redisQueue } from '../src/index.js';
import { assertBuilt, Sender } from './helpers/children.js';
import { newJob } from './helpers/queue-harness.js';
import { RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;

beforeAll(async () => {
  assertBuilt();
  redis = await RedisServer.start();
});

afterAll(async () => {
  await redis?.destroy();
});

// The vendor's shape at twice its pace (5 per 1.5 s): 60 jobs take at least 16.5 s.
const LIMITS = { sendText: { points: 5, durationMs: 1_500 } };
const JOBS = 60;
// A crash loop: the oldest of the three workers is SIGKILLed after each of these pauses (2.5–5 s,
// fixed so every run is the same) and a new one started in its place.
const PAUSES_MS = [3_000, 4_500, 2_500, 4_000, 3_500, 5_000, 3_000, 4_500];

it('a crash loop (one of three workers SIGKILLed every few seconds) fails no job that was never attempted', async () => {
  const emu = await startEmulator({ limits: LIMITS });
  const name = 'crash-loop';
  // Quick recovery of a dead worker's jobs, so the test is short: a lock of 2 s, looked for every 1 s.
  const queueOptions = { lockDurationMs: 2_000, stalledIntervalMs: 1_000 };
  const queue = redisQueue({ connection: redis.connection, name, ...queueOptions }); // adds and reads only
  const worker = () =>
    new Sender({
      redisPort: redis.port,
      baseUrl: emu.baseUrl,
      token: emu.token,
      queueName: name,
      label: name,
      count: 0,
      concurrency: 10,
      queueOptions,
      clientOptions: { limits: LIMITS },
    });
  const workers: Sender[] = [];
  try {
    const ids: string[] = [];
    const deadline = Date.now() + 10 * 60_000;
    for (let i = 0; i < JOBS; i++) ids.push((await queue.add(newJob(`${name}-${i}`, { deadline }))).record.id);
    const records = async () => (await Promise.all(ids.map((id) => queue.get(id)))) as JobRecord[];
    const allEnded = async () => (await records()).every((r) => r.status === 'sent' || r.status === 'failed');

    for (let i = 0; i < 3; i++) workers.push(worker());
    let kills = 0;
    for (const pause of PAUSES_MS) {
      await sleep(pause);
      if (await allEnded()) break;
      await workers.shift()?.kill();
      kills++;
      workers.push(worker());
    }
    await waitFor(allEnded, 30_000, `all ${JOBS} jobs to end`);

    const ended = await records();
    const texts = emu.messages.map((m) => m.text);
    const delivered = (i: number) => texts.filter((text) => text === `${name}-${i}`).length;
    expect(kills).toBeGreaterThanOrEqual(4);
    // A job ends sent, or failed AMBIGUOUS when a kill came while its request was on the wire;
    // never failed (STALLED, or anything) without having been attempted.
    expect(ended.filter((r) => r.status === 'failed' && r.attempts === 0)).toEqual([]);
    expect(ended.filter((r) => r.error?.code === 'STALLED')).toEqual([]);
    for (let i = 0; i < JOBS; i++) {
      const record = ended[i] as JobRecord;
      if (record.status === 'sent') {
        expect(record.attempts).toBe(1);
        expect(delivered(i)).toBe(1);
      } else {
        expect(record).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'AMBIGUOUS' } });
        expect(delivered(i)).toBeLessThanOrEqual(1);
      }
    }
    expect(emu.violations).toEqual([]);
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await queue.close({ timeoutMs: 1_000 });
    await emu.close();
  }
}, 90_000);
