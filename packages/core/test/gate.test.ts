import { describe, expect, it } from 'vitest';
import { type LimiterStore, MemoryLimiterStore, SlotGate, type SlotLease } from '../src/index.js';

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

describe('a failing limiter store', () => {
  it('fails the call with NETWORK ("nothing was sent"), not CLOSED, and sends nothing', async () => {
    const { OlchatClient } = await import('../src/index.js');
    const broken: LimiterStore = {
      tryAcquire: async () => {
        throw new Error('store connection lost');
      },
      release: async () => {},
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
