import { describe, expect, it, vi } from 'vitest';
import { MemoryLimiterStore } from '../src/index.js';
import { gateCount, gateFor, SlotGate } from '../src/limiter/gate.js';
import type { LimiterStore, SlotLease, SlotWait } from '../src/limiter/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `promise` settles within `ms` (the rest of the line is not awaited). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Counts how often the line asks the store for a slot. */
class CountingStore implements LimiterStore {
  readonly inner = new MemoryLimiterStore();
  readonly maxPollMs = this.inner.maxPollMs;
  asks = 0;
  tryAcquire(key: string, slots: number, leaseMs: number) {
    this.asks++;
    return this.inner.tryAcquire(key, slots, leaseMs);
  }
  release(lease: SlotLease, holdMs: number) {
    return this.inner.release(lease, holdMs);
  }
  renew(lease: SlotLease, leaseMs: number) {
    return this.inner.renew(lease, leaseMs);
  }
  onFree(key: string, listener: () => void) {
    return this.inner.onFree(key, listener);
  }
}

async function drain(waiters: number, slots: number, holdMs: number) {
  const store = new CountingStore();
  const gate = new SlotGate(store, 'k');
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: waiters }, (_, i) =>
      gate.acquire(slots, 60_000).then(async (lease) => {
        order.push(i);
        await store.release(lease, holdMs);
      }),
    ),
  );
  return { order, asksPerGrant: store.asks / waiters };
}

describe('the waiting line', () => {
  it('serves waiters first come, first served', async () => {
    const { order } = await drain(200, 3, 1);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('costs no more store calls per grant for 5 000 waiters than for 10 (no thundering herd)', async () => {
    const small = await drain(10, 5, 1);
    const large = await drain(5000, 5, 1);
    // Each freed slot wakes only the head of the line, so the cost per grant stays flat.
    expect(large.asksPerGrant).toBeLessThanOrEqual(Math.max(3, small.asksPerGrant * 1.5));
  });

  it('lets a burst of N through at once', async () => {
    const store = new MemoryLimiterStore();
    const gate = new SlotGate(store, 'burst');
    const started = performance.now();
    const leases = await Promise.all(Array.from({ length: 5 }, () => gate.acquire(5, 60_000)));
    expect(new Set(leases.map((l) => l.slot)).size).toBe(5);
    expect(performance.now() - started).toBeLessThan(1000);
    const sixth = gate.acquire(5, 60_000);
    const raced = await Promise.race([
      sixth.then(() => 'granted'),
      new Promise((r) => setTimeout(() => r('waiting'), 100)),
    ]);
    expect(raced).toBe('waiting');
    await store.release(leases[0] as SlotLease, 0);
    expect((await sixth).slot).toBe(leases[0]?.slot);
  });

  it('a waiter that gives up leaves the line without taking a slot', async () => {
    const store = new MemoryLimiterStore();
    const gate = new SlotGate(store, 'abort');
    const held = await gate.acquire(1, 60_000);
    const controller = new AbortController();
    const abandoned = gate.acquire(1, 60_000, controller.signal);
    const next = gate.acquire(1, 60_000);
    controller.abort(new Error('gave up'));
    await expect(abandoned).rejects.toThrow('gave up');
    await store.release(held, 0);
    expect((await next).slot).toBe(0);
    expect(gate.waiting).toBe(0);
  });

  it('a late release of an expired lease never frees the slot its new owner holds', async () => {
    const store = new MemoryLimiterStore();
    const gate = new SlotGate(store, 'late');
    const first = await gate.acquire(1, 30); // lease expires after 30 ms
    const second = await gate.acquire(1, 60_000); // granted once the lease lapsed
    await store.release(first, 0); // the first request's answer arrives late
    const third = gate.acquire(1, 60_000);
    const raced = await Promise.race([
      third.then(() => 'granted'),
      new Promise((r) => setTimeout(() => r('waiting'), 150)),
    ]);
    expect(raced).toBe('waiting');
    await store.release(second, 0);
    await third;
  });
});

describe('priority lanes', () => {
  it('a later high waiter gets the next free slot ahead of a line of low ones; FIFO within a lane', async () => {
    const store = new MemoryLimiterStore();
    const gate = new SlotGate(store, 'lanes');
    const held = await gate.acquire(1, 60_000);
    const order: string[] = [];
    const take = (name: string, priority: 'high' | 'normal' | 'low') =>
      gate.acquire(1, 60_000, undefined, priority).then(async (lease) => {
        order.push(name);
        await store.release(lease, 0);
      });
    const line = [
      take('low 1', 'low'),
      take('low 2', 'low'),
      take('normal 1', 'normal'),
      take('low 3', 'low'),
      take('high 1', 'high'),
      take('high 2', 'high'),
    ];
    await sleep(20); // all in line, the head asleep on the held slot
    await store.release(held, 0);
    await Promise.all(line);
    expect(order).toEqual(['high 1', 'high 2', 'normal 1', 'low 1', 'low 2', 'low 3']);
  });

  it('costs the store no more calls per grant with three lanes in use than with one', async () => {
    const store = new CountingStore();
    const gate = new SlotGate(store, 'lanes-cost');
    const priorities = ['low', 'normal', 'high'] as const;
    await Promise.all(
      Array.from({ length: 3000 }, (_, i) =>
        gate.acquire(5, 60_000, undefined, priorities[i % 3]).then((lease) => store.release(lease, 1)),
      ),
    );
    const oneLane = await drain(3000, 5, 1);
    expect(store.asks / 3000).toBeLessThanOrEqual(Math.max(3, oneLane.asksPerGrant * 1.5));
  });
});

describe('a slot freed while the store is answering', () => {
  it('is not missed: the line wakes for it (the memory store never polls)', async () => {
    const inner = new MemoryLimiterStore();
    let freeDuringAsk: SlotLease | undefined;
    // Another request's answer lands while the store works out "no slot, wait": the release
    // comes between the store's answer and the line going to sleep.
    const store: LimiterStore = {
      maxPollMs: inner.maxPollMs,
      async tryAcquire(key, slots, leaseMs) {
        const result = await inner.tryAcquire(key, slots, leaseMs);
        const lease = freeDuringAsk;
        freeDuringAsk = undefined;
        if (lease) await inner.release(lease, 0);
        return result;
      },
      release: (lease, holdMs) => inner.release(lease, holdMs),
      renew: (lease, leaseMs) => inner.renew(lease, leaseMs),
      onFree: (key, listener) => inner.onFree(key, listener),
    };
    const gate = new SlotGate(store, 'race');
    const held = await gate.acquire(1, 60_000);
    freeDuringAsk = held;
    const next = gate.acquire(1, 60_000);
    // Without the wake it sleeps out the held lease: a minute.
    expect(await settlesWithin(next, 2_000)).toBe(true);
    expect((await next).slot).toBe(0);
  });
});

describe('a store that gives up after a grace period (as the Redis store does in an outage)', () => {
  it('fails every waiter in the line at once, not one per grace period', async () => {
    let asks = 0;
    const store: LimiterStore = {
      maxPollMs: 10,
      async tryAcquire(): Promise<SlotWait> {
        asks++;
        // Waits out 200 ms of failures, then gives up once and starts a new grace period.
        if (asks % 20 === 0) throw new Error('store unreachable');
        return { retryInMs: 10 };
      },
      release: async () => {},
      renew: async () => false,
    };
    // On a fake clock: the line's naps are timers, so when each waiter failed is exact, not a race.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const gate = new SlotGate(store, 'outage');
      const started = performance.now();
      const failures = Array.from({ length: 5 }, () =>
        gate.acquire(1, 60_000).then(
          () => Number.NaN,
          () => performance.now() - started,
        ),
      );
      await vi.advanceTimersByTimeAsync(1_000);
      const failedAt = await Promise.all(failures);
      // All in one go, after one grace period of 19 naps of 10 ms: not one grace period each.
      expect(failedAt).toEqual(Array(5).fill(190));
      expect(asks).toBe(20);
      expect(gate.waiting).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a paused line', () => {
  it('grants nothing until the pause ends, and an idle paused line keeps its pause', async () => {
    const store = new MemoryLimiterStore();
    gateFor(store, 'paused').pause(300);
    expect(gateCount(store)).toBe(1); // no waiter, but the pause must outlive it
    const started = performance.now();
    const lease = await gateFor(store, 'paused').acquire(5, 60_000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await store.release(lease, 0);
    await sleep(20);
    expect(gateCount(store)).toBe(0);
  });

  it('a waiter that gives up during a pause leaves at once', async () => {
    const store = new MemoryLimiterStore();
    const gate = gateFor(store, 'paused-abort');
    gate.pause(60_000);
    const controller = new AbortController();
    const waiting = gate.acquire(1, 60_000, controller.signal);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(gate.waiting).toBe(0);
  });
});

describe('memory use', () => {
  it('forgets lines and slots once they are free: many keys used once leave nothing behind', async () => {
    const store = new MemoryLimiterStore();
    const keys = Array.from({ length: 500 }, (_, i) => `token-${i}:sendText`);
    const leases = await Promise.all(keys.map((key) => gateFor(store, key).acquire(2, 60_000)));
    expect(store.takenSlots).toBe(500);
    await Promise.all(leases.map((lease, i) => store.release(lease, i % 2 === 0 ? 0 : 30)));
    await sleep(100); // the 30 ms holds run out
    expect(store.takenSlots).toBe(0);
    expect(gateCount(store)).toBe(0);
  });

  it('a lease that is never released is forgotten when it lapses', async () => {
    const store = new MemoryLimiterStore();
    await gateFor(store, 'lapsing').acquire(1, 30);
    expect(store.takenSlots).toBe(1);
    await sleep(80);
    expect(store.takenSlots).toBe(0);
  });
});

describe('renewing a lease (memory store)', () => {
  it('extends the lease that owns the slot; a lapsed or stale lease is refused', async () => {
    const store = new MemoryLimiterStore();
    const gate = new SlotGate(store, 'renew');
    const lease = await gate.acquire(1, 100);
    await sleep(60);
    expect(await store.renew(lease, 300)).toBe(true);
    await sleep(80); // past the first lease: only the renewal keeps it
    expect('owner' in (await store.tryAcquire('renew', 1, 60_000))).toBe(false);
    await sleep(260);
    expect(await store.renew(lease, 300)).toBe(false); // lapsed
    const next = await gate.acquire(1, 60_000);
    expect(await store.renew(lease, 60_000)).toBe(false); // another owns it now
    expect(await store.renew(next, 60_000)).toBe(true);
  });
});

describe('a failing limiter store', () => {
  it('fails the call with NETWORK ("nothing was sent"), not CLOSED, and sends nothing', async () => {
    const { OlchatClient } = await import('../src/index.js');
    const broken: LimiterStore = {
      tryAcquire: async () => {
        throw new Error('store connection lost');
      },
      release: async () => {},
      renew: async () => false,
    };
    const client = new OlchatClient({ token: 't', baseUrl: 'http://127.0.0.1:9/wa', limiterStore: broken });
    try {
      await expect(client.sendText({ phone: '79123456789', text: 'x' })).rejects.toMatchObject({
        code: 'NETWORK',
        message: expect.stringContaining('nothing was sent'),
      });
    } finally {
      await client.close();
    }
  });
});

describe('a waiter that gives up', () => {
  it('at the head of the line, is let go at once: the line asks for the next waiter instead of sleeping on it', async () => {
    const store = new MemoryLimiterStore();
    let asked = 0;
    const counting: LimiterStore = {
      tryAcquire: (key, slots, leaseMs) => {
        asked++;
        return store.tryAcquire(key, slots, leaseMs);
      },
      release: (lease, holdMs) => store.release(lease, holdMs),
      renew: (lease, leaseMs) => store.renew(lease, leaseMs),
      onFree: (key, listener) => store.onFree(key, listener),
      maxPollMs: store.maxPollMs,
    };
    const gate = new SlotGate(counting, 'k');
    const held = await gate.acquire(1, 60_000);
    const giveUp = new AbortController();
    const first = gate.acquire(1, 60_000, giveUp.signal).catch((error: unknown) => error);
    const second = gate.acquire(1, 60_000);
    await sleep(20);
    const before = asked;
    giveUp.abort(new Error('gave up'));
    await first;
    await sleep(20);
    expect(asked).toBeGreaterThan(before);
    await store.release(held, 0);
    const lease = await second;
    await store.release(lease, 0);
  });
});
