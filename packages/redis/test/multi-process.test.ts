import { startEmulator } from '@olchat-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxInAnyWindow } from '../../../test/helpers/waiting.js';
import { redisQueue } from '../src/index.js';
import { assertBuilt, Sender } from './helpers/children.js';
import { RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;

beforeAll(async () => {
  assertBuilt();
  redis = await RedisServer.start();
});

afterAll(async () => {
  await redis?.destroy();
});

describe('several processes on one token', () => {
  it('3 processes × 15 sends: 45 delivered, 0 violations, near the theoretical minimum', async () => {
    const emu = await startEmulator({ latencyMs: [10, 120] });
    const senders = [0, 1, 2].map(
      (p) =>
        new Sender({
          redisPort: redis.port,
          baseUrl: emu.baseUrl,
          token: emu.token,
          queueName: 'three-processes',
          label: `p${p}`,
          count: 15,
          waitForGo: true,
        }),
    );
    const reader = redisQueue({ connection: redis.connection, name: 'three-processes' });
    try {
      await Promise.all(senders.map((s) => s.next('ready')));
      const started = Date.now();
      for (const s of senders) s.send('go');
      const queued = await Promise.all(senders.map((s) => s.next('queued')));
      await emu.waitForMessages(45, 60_000);
      const elapsed = Date.now() - started;

      expect(emu.violations).toEqual([]);
      const texts = emu.messages.map((m) => m.text);
      expect(new Set(texts).size).toBe(45);
      expect(
        maxInAnyWindow(
          emu.messages.map((m) => m.at),
          3_000,
        ),
      ).toBeLessThanOrEqual(5);
      // (45/5 − 1) × 3 s = 24 s is the floor; the bound is 1.25 × that + 3 s.
      const minimum = 24_000;
      expect(elapsed).toBeGreaterThanOrEqual(minimum);
      expect(elapsed).toBeLessThan(minimum * 1.25 + 3_000);

      // Any process reads any job: the records of all 45, written by three processes.
      const ids = queued.flatMap((q) => q.ids ?? []);
      expect(ids).toHaveLength(45);
      const records = await Promise.all(ids.map((id) => reader.get(id)));
      const sent = () => records.filter((r) => r?.status === 'sent').length;
      for (let i = 0; i < 40 && sent() < 45; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        records.splice(0, records.length, ...(await Promise.all(ids.map((id) => reader.get(id)))));
      }
      expect(records.map((r) => r?.status)).toEqual(Array(45).fill('sent'));
      expect(records.every((r) => r?.attempts === 1 && typeof r.messageId === 'string')).toBe(true);
      expect(emu.requests.map((r) => r.status)).toEqual(Array(45).fill(200)); // no 429, no retry
    } finally {
      await Promise.all(senders.map((s) => s.stop()));
      await reader.close({ timeoutMs: 1_000 });
      await emu.close();
    }
  }, 90_000);
});
