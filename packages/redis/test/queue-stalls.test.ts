import type { SendKind } from '@olchat-kit/core/queue';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { QueueKeys } from '../src/queue/keys.js';
import { JobStore } from '../src/queue/store.js';
import { newJob, Queues } from './helpers/queue-harness.js';
import { RedisServer } from './helpers/redis-server.js';

/*
 * What counts as a stall, at the pickup script itself: each pickup below is a process that took
 * the job and died before storing an outcome (the next pickup is the recovery that follows).
 */

let redis: RedisServer;
let client: Redis;
const queues = new Queues(() => redis);

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.connection);
});
afterEach(() => queues.closeAll());
afterAll(async () => {
  client?.disconnect();
  await redis?.destroy();
});

/** A queued text job, and pickups of it as one process after another would make them. */
async function queuedJob(label: string) {
  const name = queues.name(label);
  const { record } = await queues.open(name).add(newJob('Заказ принят'));
  const store = new JobStore(client, new QueueKeys('olchat', name), { keepFinishedMs: 60_000, graceMs: 60_000 });
  let pickups = 0;
  const pickup = (claimKind: SendKind | undefined) =>
    store.pickup(
      {
        id: record.id,
        bullId: record.id,
        token: `process-${++pickups}`,
        claimKind,
        maxStalledCount: 1,
        retryAmbiguous: false,
        ambiguousMessage: 'in flight',
        stalledMessage: 'stalled',
        freeKeysIfAmbiguous: false,
        freeKeysIfStalled: true,
        earlyToleranceMs: 50,
      },
      Date.now(),
    );
  return { store, pickup, id: record.id };
}

it('a process that dies while the job only waits (no slot held) never counts against it', async () => {
  const { pickup } = await queuedJob('waiting');
  // Ten processes took it without a slot (or with a slot of the other limit) and died.
  for (let i = 0; i < 5; i++) expect((await pickup(undefined)).verdict).toBe('work');
  for (let i = 0; i < 5; i++) expect((await pickup('file')).verdict).toBe('work');
  expect(await pickup('text')).toMatchObject({ verdict: 'work', fields: { s: 'queued' } });
});

it('processes that die holding its slot: after maxStalledCount recoveries it ends STALLED', async () => {
  const { pickup } = await queuedJob('armed');
  expect((await pickup('text')).verdict).toBe('work'); // dies holding the slot: 1st stall
  expect((await pickup('text')).verdict).toBe('work'); // recovered once (maxStalledCount 1), dies: 2nd
  expect(await pickup(undefined)).toMatchObject({
    verdict: 'ended',
    fields: { s: 'failed', ec: 'STALLED' }, // the compact record: status s, error code ec, attempts a (absent: 0)
  });
});

it('a pickup holding the slot that stores its outcome is no stall; one that dies in flight ends AMBIGUOUS', async () => {
  const { store, pickup, id } = await queuedJob('outcome');
  // Held the slot, then gave the job back (the line went down): its outcome was stored.
  for (let i = 0; i < 3; i++) {
    expect((await pickup('text')).verdict).toBe('work');
    expect((await store.outcome(id, `process-${i + 1}`, { status: 'released' }, false, Date.now())).done).toBe(true);
  }
  expect((await pickup('text')).verdict).toBe('work');
  expect(await store.markAttempt(id, 'process-4', Date.now())).toEqual({ ok: true });
  // Died with the request on the wire: it may have been sent.
  expect(await pickup(undefined)).toMatchObject({
    verdict: 'ended',
    fields: { s: 'failed', ec: 'AMBIGUOUS', a: '1' },
  });
});
