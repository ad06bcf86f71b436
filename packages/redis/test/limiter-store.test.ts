import { OlchatClient } from '@olchat-kit/core';
import type { SlotLease, SlotWait } from '@olchat-kit/core/limiter';
import { startEmulator } from '@olchat-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxInAnyWindow, sleep } from '../../../test/helpers/waiting.js';
import { type RedisLimiterStore, RedisUnavailableError, redisLimiterStore } from '../src/index.js';
import { RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;

function isLease(result: SlotLease | SlotWait): result is SlotLease {
  return 'owner' in result;
}
const stores: RedisLimiterStore[] = [];

/** A store on its own connection: as far as Redis can tell, another process. */
function store(options: { keyPrefix?: string; unavailableTimeoutMs?: number } = {}): RedisLimiterStore {
  const s = redisLimiterStore({ connection: redis.connection, ...options });
  stores.push(s);
  return s;
}

async function acquire(s: RedisLimiterStore, key: string, slots: number, leaseMs = 20_000): Promise<SlotLease> {
  for (let i = 0; i < 100; i++) {
    const result = await s.tryAcquire(key, slots, leaseMs);
    if (isLease(result)) return result;
    await sleep(10); // the client connects on first use
  }
  throw new Error('no slot');
}

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis?.destroy();
});

describe('redisLimiterStore: slots on rate-limiter-flexible, released to the millisecond', () => {
  it('gives out N slots, then a wait; release(lease, 0) frees a slot at once', async () => {
    const s = store();
    const leases = [await acquire(s, 'n-slots', 3), await acquire(s, 'n-slots', 3), await acquire(s, 'n-slots', 3)];
    expect(new Set(leases.map((l) => l.slot))).toEqual(new Set([0, 1, 2]));
    const full = await s.tryAcquire('n-slots', 3, 20_000);
    expect(isLease(full)).toBe(false);
    expect((full as { retryInMs: number }).retryInMs).toBeGreaterThan(10_000); // held by the lease
    await s.release(leases[1] as SlotLease, 0);
    const again = await s.tryAcquire('n-slots', 3, 20_000);
    expect(isLease(again) && again.slot).toBe(1);
  });

  it('holds a released slot for exactly the hold, also under one second', async () => {
    const s = store();
    const lease = await acquire(s, 'short-hold', 1);
    await s.release(lease, 400);
    const during = await s.tryAcquire('short-hold', 1, 20_000);
    expect(isLease(during)).toBe(false);
    // The wait is the rest of the hold (ms), not a whole-second rounding and not "forever".
    expect((during as { retryInMs: number }).retryInMs).toBeLessThanOrEqual(400);
    await sleep(550);
    expect(isLease(await s.tryAcquire('short-hold', 1, 20_000))).toBe(true);
  });

  it("checkPhone's 1 050 ms hold is not rounded down to 1 s", async () => {
    const s = store();
    const lease = await acquire(s, 'one-second', 1);
    const releasing = performance.now();
    await s.release(lease, 1_050);
    const during = await s.tryAcquire('one-second', 1, 20_000);
    expect(isLease(during)).toBe(false);
    // Redis's own count of what is left, plus what has passed here since the release began: over a
    // whole second, so not rounded down to 1 s (read from Redis, not raced against a sleep).
    const left = (during as { retryInMs: number }).retryInMs;
    expect(left).toBeLessThanOrEqual(1_050);
    expect(left + (performance.now() - releasing)).toBeGreaterThan(1_000);
    await sleep(left + 100);
    expect(isLease(await s.tryAcquire('one-second', 1, 20_000))).toBe(true);
  });

  it('a late release of an expired lease never frees the slot another process holds now', async () => {
    const a = store();
    const b = store();
    const old = await acquire(a, 'late-release', 1, 1_000); // a 1 s lease, never released in time
    await sleep(1_200);
    const current = await acquire(b, 'late-release', 1);
    await a.release(old, 0); // e.g. a process that hung past its lease
    const probe = await b.tryAcquire('late-release', 1, 20_000);
    expect(isLease(probe)).toBe(false);
    await b.release(current, 0);
    expect(isLease(await b.tryAcquire('late-release', 1, 20_000))).toBe(true);
  });

  it('renew extends only the lease that still owns the slot (compare-and-set, to the millisecond)', async () => {
    const a = store();
    const b = store();
    const lease = await acquire(a, 'renew', 1, 1_000);
    expect(await a.renew(lease, 2_500)).toBe(true);
    await sleep(1_300); // past the first 1 s lease: only the renewal keeps the slot
    expect(isLease(await b.tryAcquire('renew', 1, 20_000))).toBe(false);
    await sleep(1_400); // past the renewal too
    expect(await a.renew(lease, 20_000)).toBe(false); // lapsed: not revived
    const taken = await acquire(b, 'renew', 1);
    expect(await a.renew(lease, 20_000)).toBe(false); // another process owns it now
    expect(isLease(await a.tryAcquire('renew', 1, 20_000))).toBe(false);
    expect(await b.renew(taken, 20_000)).toBe(true);
  });

  it('two processes on one token keep checkPhone to 3 per second and sendText to 5 per 3 s together', async () => {
    const emu = await startEmulator({ latencyMs: [0, 60] });
    const clients = [store(), store()].map(
      (limiterStore) => new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore }),
    );
    try {
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => (clients[i % 2] as OlchatClient).checkPhone({ phone: '79123456789' })),
      );
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (clients[i % 2] as OlchatClient).sendText({ phone: '79123456789', text: `${i}` }),
        ),
      );
      expect(emu.violations).toEqual([]);
      const arrivals = (method: string) => emu.requests.filter((r) => r.method === method).map((r) => r.at);
      expect(arrivals('checkPhone')).toHaveLength(12);
      expect(maxInAnyWindow(arrivals('checkPhone'), 1_000)).toBeLessThanOrEqual(3);
      expect(emu.messages).toHaveLength(10);
      expect(maxInAnyWindow(arrivals('sendText'), 3_000)).toBeLessThanOrEqual(5);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await emu.close();
    }
  }, 30_000);

  it('sends nothing while Redis is down: waits out a short outage, fails a long one with NETWORK', async () => {
    const emu = await startEmulator();
    const impatient = new OlchatClient({
      token: emu.token,
      baseUrl: emu.baseUrl,
      limiterStore: store({ unavailableTimeoutMs: 1_000 }),
    });
    const patient = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: store() });
    try {
      await impatient.sendText({ phone: '79123456789', text: 'before' });
      await patient.sendText({ phone: '79123456789', text: 'before, too' });
      await redis.stop();
      const started = Date.now();
      const failed = await impatient.sendText({ phone: '79123456789', text: 'during' }).catch((error) => error);
      expect(failed).toBeInstanceOf(RedisUnavailableError);
      expect(failed.code).toBe('NETWORK');
      expect(failed.message).toMatch(/nothing was sent/);
      expect(Date.now() - started).toBeLessThan(10_000);
      // A short outage (within unavailableTimeoutMs, 30 s by default): the send waits for Redis
      // rather than going out uncounted, and goes once it is back.
      const waiting = patient.sendText({ phone: '79123456789', text: 'after restart' });
      await sleep(500);
      expect(emu.messages).toHaveLength(2);
      await redis.start();
      await waiting;
      expect(emu.messages.map((m) => m.text)).toEqual(['before', 'before, too', 'after restart']);
    } finally {
      await redis.start();
      await Promise.all([impatient.close(), patient.close()]);
      await emu.close();
    }
  }, 30_000);
});
