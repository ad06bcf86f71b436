import { createNotifier, type JobRecord, type Notifier, OlchatClient } from '@olchat-kit/core';
import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import { type RedisQueue, type RedisQueueOptions, redisLimiterStore, redisQueue } from '../src/index.js';
import { assertBuilt, Sender, type SenderConfig } from './helpers/children.js';
import { RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;

beforeAll(async () => {
  assertBuilt();
  redis = await RedisServer.start();
});

afterAll(async () => {
  await redis?.destroy();
});

// Every sender a test starts is killed after it, whatever the test did: none outlives a failure.
const senders: Sender[] = [];
afterEach(async () => {
  await Promise.all(senders.splice(0).map((sender) => sender.kill()));
});

function startSender(config: SenderConfig): Sender {
  const sender = new Sender(config);
  senders.push(sender);
  return sender;
}

/** The emulator answers the 3rd sendText only after 8 s: a kill then lands while it is in flight. */
async function emulatorWithSlowThird(): Promise<Emulator> {
  let sends = 0;
  return startEmulator({
    latencyMs: ({ method }) => (method === 'sendText' && ++sends === 3 ? 8_000 : 20),
  });
}

/**
 * A producer process queues 20 messages (each persisted before send() resolves), starts sending
 * them one at a time, and is SIGKILLed while the 3rd request is in flight. Then a fresh process
 * (this one) works the queue until every job has an outcome.
 */
async function killMidSend(queueName: string, queueOptions: Partial<RedisQueueOptions>, count = 20) {
  const emu = await emulatorWithSlowThird();
  const producer = startSender({
    redisPort: redis.port,
    baseUrl: emu.baseUrl,
    token: emu.token,
    queueName,
    label: queueName,
    count,
    concurrency: 1,
    queueOptions,
  });
  const { ids = [] } = await producer.next('queued');
  await waitFor(() => emu.requests.length >= 3, 20_000, 'the 3rd request');
  await producer.kill();
  expect(emu.messages.length).toBeLessThan(count);

  const limiterStore = redisLimiterStore({ connection: redis.connection });
  const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore });
  const queue: RedisQueue = redisQueue({ connection: redis.connection, name: queueName, ...queueOptions });
  const notifier: Notifier = createNotifier({ client, queue, secret: 'olchat-kit-test-secret-0123456789' });
  const started = Date.now();
  const records: (JobRecord | undefined)[] = [];
  const finished = async () => {
    records.splice(0, records.length, ...(await Promise.all(ids.map((id) => notifier.get(id)))));
    return records.every((r) => r?.status === 'sent' || r?.status === 'failed');
  };
  try {
    await waitFor(finished, 45_000, `all ${count} jobs to finish`);
  } finally {
    await notifier.close({ timeoutMs: 5_000 });
    await client.close();
    await limiterStore.close();
    await emu.close();
  }
  const delivered = (i: number) => emu.messages.filter((m) => m.text === `${queueName}-${i}`).length;
  return { ids, records, delivered, recoveredInMs: Date.now() - started };
}

describe('a process killed with SIGKILL mid-send', () => {
  it('loses nothing: a fresh worker delivers the rest, and the job in flight ends AMBIGUOUS, not resent', async () => {
    // The defaults: a dead process's job comes back within lockDurationMs + stalledIntervalMs (~15 s).
    const { ids, records, delivered, recoveredInMs } = await killMidSend('kill-default', {});
    expect(ids).toHaveLength(20);
    for (let i = 0; i < 20; i++) {
      const record = records[i];
      if (i === 2) {
        // It reached OLChat (the kill came while the answer was pending), and it is not sent twice.
        expect(record).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'AMBIGUOUS' } });
        expect(delivered(i)).toBe(1);
      } else {
        expect(record).toMatchObject({ status: 'sent', attempts: 1 });
        expect(delivered(i)).toBe(1);
      }
    }
    expect(recoveredInMs).toBeLessThan(30_000);
  }, 90_000);

  it('with retryAmbiguous: all delivered, at most one of them twice', async () => {
    const { records, delivered } = await killMidSend(
      'kill-retry',
      { retryAmbiguous: true, lockDurationMs: 2_000, stalledIntervalMs: 1_000 },
      8,
    );
    expect(records.map((r) => r?.status)).toEqual(Array(8).fill('sent'));
    const counts = Array.from({ length: 8 }, (_, i) => delivered(i));
    expect(counts.every((n) => n >= 1)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(9);
    expect(counts[2]).toBe(2); // the one in flight at the kill, sent again as opted in
  }, 90_000);

  describe('before its request was written (waiting for a limit slot)', () => {
    // One send per minute: the 2nd job waits for the slot the 1st holds, in whichever process has it.
    const slowLimits = { limits: { sendText: { points: 1, durationMs: 60_000 } } };
    const quickRecovery = { lockDurationMs: 2_000, stalledIntervalMs: 1_000 };

    /**
     * A sender queues two jobs and sends the first; the second waits for the slot (one a minute).
     * Slot first: it waits in Redis, not in the process, so killing the process holds nothing back.
     */
    async function killWhileSecondWaits(emu: Emulator, inspect: Redis, name: string, count = 2) {
      const sender = startSender({
        redisPort: redis.port,
        baseUrl: emu.baseUrl,
        token: emu.token,
        queueName: name,
        label: name,
        count,
        concurrency: 1,
        queueOptions: quickRecovery,
        clientOptions: slowLimits,
      });
      const { ids = [] } = await sender.next('queued');
      await emu.waitForMessages(1, 10_000);
      await sleep(500); // the second job's turn: its process waits for the slot
      await sender.kill();
      const record = await inspect.hgetall(`olchat:${name}:~rec:${ids[1]}`);
      return { ids, record };
    }

    it('is not held by the process: the next one sends it at once, once', async () => {
      const emu = await startEmulator();
      const inspect = new Redis(redis.connection);
      const name = 'kill-waiting';
      try {
        const { ids, record } = await killWhileSecondWaits(emu, inspect, name);
        // Never taken out of BullMQ's line: no worker owns it, nothing to recover.
        // The compact record: status `s`, attempts `a` (absent: none), owner `o`.
        expect(record.s).toBe('queued');
        expect(record.a).toBeUndefined();
        expect(record.o).toBeUndefined();
        const { notifier, close } = await freshProcess(emu, name, quickRecovery);
        try {
          await waitFor(async () => (await notifier.get(ids[1] ?? ''))?.status === 'sent', 20_000, 'sent');
          expect(await notifier.get(ids[1] ?? '')).toMatchObject({ status: 'sent', attempts: 1 });
        } finally {
          await close();
        }
        expect(emu.messages.map((m) => m.text)).toEqual([`${name}-0`, `${name}-1`]);
      } finally {
        inspect.disconnect();
        await emu.close();
      }
    }, 60_000);

    it('a job whose processes keep dying while it waits is never failed for it: the one that lives sends it', async () => {
      const emu = await startEmulator();
      const inspect = new Redis(redis.connection);
      const name = 'kill-twice';
      try {
        const { ids } = await killWhileSecondWaits(emu, inspect, name);
        // Two more processes wait for the slot (still held by the first send) and die.
        for (let round = 0; round < 2; round++) {
          const again = startSender({
            redisPort: redis.port,
            baseUrl: emu.baseUrl,
            token: emu.token,
            queueName: name,
            label: name,
            count: 0,
            concurrency: 1,
            queueOptions: quickRecovery,
            clientOptions: slowLimits,
          });
          await again.next('queued');
          await sleep(1_500);
          await again.kill();
        }
        const { notifier, close } = await freshProcess(emu, name, quickRecovery);
        try {
          await waitFor(async () => (await notifier.get(ids[1] ?? ''))?.status === 'sent', 20_000, 'sent');
          expect(await notifier.get(ids[1] ?? '')).toMatchObject({ status: 'sent', attempts: 1 });
        } finally {
          await close();
        }
        expect(emu.messages.map((m) => m.text)).toEqual([`${name}-0`, `${name}-1`]);
      } finally {
        inspect.disconnect();
        await emu.close();
      }
    }, 60_000);
  });
});

/** This process, on the default (vendor) limits: it would send at once if the job were still owed. */
async function freshProcess(emu: Emulator, name: string, options: Partial<RedisQueueOptions>) {
  const limiterStore = redisLimiterStore({ connection: redis.connection });
  const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore });
  const notifier = createNotifier({
    client,
    queue: redisQueue({ connection: redis.connection, name, ...options }),
    secret: 'olchat-kit-test-secret-0123456789',
  });
  return {
    notifier,
    async close() {
      await notifier.close({ timeoutMs: 2_000 });
      await client.close();
      await limiterStore.close();
    },
  };
}
