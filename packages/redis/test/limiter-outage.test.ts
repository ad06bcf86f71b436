import { OlchatClient } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisUnavailableError, redisLimiterStore } from '../src/index.js';
import { RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.destroy();
});

describe('the shared limiter during a Redis outage', () => {
  it('fails every sender waiting in the line at once (NETWORK, nothing sent), not one per timeout', async () => {
    const emu = await startEmulator();
    const limiterStore = redisLimiterStore({ connection: redis.connection, unavailableTimeoutMs: 1_000 });
    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore });
    try {
      await client.sendText({ phone: '79123456789', text: 'before' });
      await redis.stop();
      const started = performance.now();
      const failures = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          client.sendText({ phone: '79123456789', text: `during ${i}` }).then(
            () => undefined,
            (error: unknown) => ({ error, ms: performance.now() - started }),
          ),
        ),
      );
      for (const failure of failures) {
        expect(failure?.error).toBeInstanceOf(RedisUnavailableError);
        expect(failure?.error).toMatchObject({ code: 'NETWORK', message: expect.stringMatching(/nothing was sent/) });
      }
      const times = failures.map((f) => f?.ms ?? Number.NaN);
      // One wait of ~1 s for the whole line; one per sender would take ~6 s.
      expect(Math.max(...times)).toBeLessThan(3_500);
      expect(Math.max(...times) - Math.min(...times)).toBeLessThan(500);
      expect(emu.messages.map((m) => m.text)).toEqual(['before']);

      await redis.start();
      await client.sendText({ phone: '79123456789', text: 'after' });
      expect(emu.messages.map((m) => m.text)).toEqual(['before', 'after']);
    } finally {
      await redis.start();
      await client.close();
      await limiterStore.close();
      await emu.close();
    }
  }, 30_000);
});
