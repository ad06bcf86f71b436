import { createNotifier, type JobRecord, OlchatClient } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import { RedisUnavailableError, redisLimiterStore, redisQueue } from '../src/index.js';
import { RedisServer } from './helpers/redis-server.js';

const servers: RedisServer[] = [];

async function startRedis(options: { appendonly?: boolean; requirepass?: string }): Promise<RedisServer> {
  const server = await RedisServer.start(options);
  servers.push(server);
  return server;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.destroy()));
});

/** A shop process on `redis`: client with the shared limiter, notifier on the durable queue. */
function shop(redis: RedisServer, emu: { token: string; baseUrl: string }, name: string) {
  const limiterStore = redisLimiterStore({ connection: redis.connection });
  const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore });
  const queue = redisQueue({ connection: redis.connection, name });
  const notifier = createNotifier({ client, queue, secret: 'olchat-kit-test-secret-0123456789' });
  return {
    notifier,
    async close() {
      await notifier.close({ timeoutMs: 5_000 });
      await client.close();
      await limiterStore.close();
    },
  };
}

describe('Redis going away', () => {
  it('Redis killed and restarted mid-run (append-only file on): no accepted job is lost', async () => {
    const redis = await startRedis({ appendonly: true });
    const emu = await startEmulator({ latencyMs: [10, 80] });
    const app = shop(redis, emu, 'restart');
    try {
      const ids: string[] = [];
      for (let i = 0; i < 14; i++) ids.push((await app.notifier.send({ phone: '79123456789', text: `r-${i}` })).id);
      await emu.waitForMessages(6, 20_000);
      await redis.stop({ crash: true });
      await sleep(1_500);
      await redis.start();

      const records: (JobRecord | undefined)[] = [];
      await waitFor(
        async () => {
          // get() fails fast too while the client reconnects: then just ask again.
          const now = await Promise.all(ids.map((id) => app.notifier.get(id))).catch(() => undefined);
          if (!now) return false;
          records.splice(0, records.length, ...now);
          return records.every((r) => r?.status === 'sent' || r?.status === 'failed');
        },
        60_000,
        'every job to finish after the restart',
      );
      // Every accepted job was delivered, once.
      for (let i = 0; i < 14; i++) expect(emu.messages.filter((m) => m.text === `r-${i}`)).toHaveLength(1);
      expect(records.map((r) => r?.status)).toEqual(Array(14).fill('sent'));
      expect(emu.violations).toEqual([]);
    } finally {
      await redis.start();
      await app.close();
      await emu.close();
    }
  }, 90_000);

  it('Redis unreachable: send() rejects fast with a typed NETWORK error; work resumes when Redis is back', async () => {
    const password = 'pa55-word-of-the-shop';
    const redis = await startRedis({ appendonly: true, requirepass: password });
    const emu = await startEmulator();
    const app = shop(redis, emu, 'unreachable');
    try {
      const first = await app.notifier.send({ phone: '79123456789', text: 'before' });
      await emu.waitForMessages(1, 10_000);
      await redis.stop();

      const started = Date.now();
      const error = await app.notifier.send({ phone: '79123456789', text: 'while down' }).catch((e) => e);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect(error.code).toBe('NETWORK');
      expect(error.message).toMatch(/nothing was queued/);
      expect(error.message).not.toContain(password);

      await redis.start();
      // Retried by the shop after the outage: accepted and delivered; the refused one never appears.
      let job: { id: string } | undefined;
      await waitFor(
        async () => {
          job = await app.notifier.send({ phone: '79123456789', text: 'after' }).catch(() => undefined);
          return job !== undefined;
        },
        20_000,
        'Redis to accept jobs again',
      );
      await emu.waitForMessages(2, 20_000);
      await waitFor(async () => (await app.notifier.get(job?.id ?? ''))?.status === 'sent', 10_000, 'sent');
      expect(emu.messages.map((m) => m.text)).toEqual(['before', 'after']);
      expect((await app.notifier.get(first.id))?.status).toBe('sent');
    } finally {
      await redis.start();
      await app.close();
      await emu.close();
    }
  }, 60_000);

  it('the shared limit unreachable: a queued job is put back, never failed, and sent once it is back', async () => {
    const queueRedis = await startRedis({ appendonly: true });
    const limitRedis = await startRedis({});
    const emu = await startEmulator();
    const limiterStore = redisLimiterStore({ connection: limitRedis.connection, unavailableTimeoutMs: 300 });
    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore });
    const notifier = createNotifier({
      client,
      queue: redisQueue({ connection: queueRedis.connection, name: 'nolimit' }),
      secret: 'olchat-kit-test-secret-0123456789',
    });
    const outcomes: JobRecord[] = [];
    notifier.on('failed', (record) => outcomes.push(record));
    try {
      await limitRedis.stop();
      const job = await notifier.send({ phone: '79123456789', text: 'waits for the limit' });
      await sleep(2_500); // several rounds of: wait for the limiter, give up, back to the queue
      expect(emu.requests).toHaveLength(0);
      expect((await notifier.get(job.id))?.status).toBe('queued');
      await limitRedis.start();
      await emu.waitForMessages(1, 15_000);
      await waitFor(async () => (await notifier.get(job.id))?.status === 'sent', 5_000, 'sent');
      expect(outcomes).toEqual([]);
    } finally {
      await limitRedis.start();
      await notifier.close({ timeoutMs: 2_000 });
      await client.close();
      await limiterStore.close();
      await emu.close();
    }
  }, 40_000);
});
