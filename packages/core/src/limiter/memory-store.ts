import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { LimiterStore, SlotLease, SlotWait } from './store.js';

/**
 * Slots for one process, on rate-limiter-flexible's memory store: each slot is a key of one
 * point whose expiry is the lease while in flight and answer + hold after release.
 *
 * rate-limiter-flexible reads the wall clock, which NTP or an operator can move: a jump forward
 * would free every slot at once. So each slot also keeps its busy-until time on the monotonic
 * clock, and a slot is only taken when both clocks agree it is free.
 */
export class MemoryLimiterStore implements LimiterStore {
  readonly maxPollMs = Number.POSITIVE_INFINITY; // every free is announced through onFree
  readonly #limiter = new RateLimiterMemory({ points: 1, duration: 0, keyPrefix: 'olchat-slot' });
  readonly #owners = new Map<string, string>();
  readonly #busyUntil = new Map<string, number>(); // slot key → performance.now() when it may be free
  readonly #freed = new EventEmitter().setMaxListeners(0);

  async tryAcquire(key: string, slots: number, leaseMs: number): Promise<SlotLease | SlotWait> {
    let soonest = Number.POSITIVE_INFINITY;
    for (let slot = 0; slot < slots; slot++) {
      const slotKey = `${key}:${slot}`;
      const busyFor = (this.#busyUntil.get(slotKey) ?? 0) - performance.now();
      if (busyFor > 0) {
        soonest = Math.min(soonest, Math.ceil(busyFor));
        continue;
      }
      try {
        await this.#limiter.consume(slotKey, 1, { customDuration: leaseMs / 1000 });
        const owner = randomUUID();
        this.#owners.set(slotKey, owner);
        this.#busyUntil.set(slotKey, performance.now() + leaseMs);
        return { key, slot, owner };
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        soonest = Math.min(soonest, Math.max(1, rejection.msBeforeNext));
      }
    }
    return { retryInMs: soonest };
  }

  async release(lease: SlotLease, holdMs: number): Promise<void> {
    const slotKey = `${lease.key}:${lease.slot}`;
    if (this.#owners.get(slotKey) !== lease.owner) return;
    if (holdMs <= 0) {
      this.#owners.delete(slotKey);
      this.#busyUntil.delete(slotKey);
      await this.#limiter.delete(slotKey);
      this.#freed.emit(lease.key);
      return;
    }
    this.#busyUntil.set(slotKey, performance.now() + holdMs);
    await this.#limiter.set(slotKey, 1, holdMs / 1000);
    const timer = setTimeout(() => {
      if (this.#owners.get(slotKey) === lease.owner) this.#owners.delete(slotKey);
      this.#freed.emit(lease.key);
    }, holdMs + 1);
    timer.unref();
  }

  onFree(key: string, listener: () => void): () => void {
    this.#freed.on(key, listener);
    return () => this.#freed.off(key, listener);
  }
}

let processStore: MemoryLimiterStore | undefined;

/** The store every client in this process shares unless given another, so one token has one limit. */
export function defaultLimiterStore(): MemoryLimiterStore {
  processStore ??= new MemoryLimiterStore();
  return processStore;
}
