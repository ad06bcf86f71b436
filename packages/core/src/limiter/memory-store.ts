import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { LimiterStore, SlotLease, SlotWait } from './store.js';

/** A slot that is taken (leased) or held after its answer, until `busyUntil`. */
interface TakenSlot {
  readonly owner: string;
  /** performance.now() when it may be free. */
  busyUntil: number;
  /** Forgets the slot (and announces it free) once `busyUntil` passes. */
  timer: NodeJS.Timeout;
}

export interface MemoryLimiterStoreOptions {
  /**
   * Whether the window just before this process started counts as used (default true): a process
   * restarted within T of its predecessor's last sends (a deploy, `node --watch`, a crash loop)
   * must not send N more at once. Every slot is then taken until T + margin after the process
   * started, so a send in that first window waits for its end, never longer. Turn it off only
   * where nothing else can have used the token lately: an emulator started with this process.
   */
  assumeRecentUse?: boolean;
}

/**
 * Slots for one process, on rate-limiter-flexible's memory store: each slot is a key of one
 * point whose expiry is the lease while in flight and answer + hold after release.
 *
 * rate-limiter-flexible reads the wall clock, which NTP or an operator can move: a jump forward
 * would free every slot at once. So each slot also keeps its busy-until time on the monotonic
 * clock, and a slot is only taken when both clocks agree it is free. A slot is forgotten the
 * moment it frees, so keys used once (a token, a method) leave nothing behind.
 */
export class MemoryLimiterStore implements LimiterStore {
  readonly maxPollMs = Number.POSITIVE_INFINITY; // every free is announced through onFree
  readonly #limiter = new RateLimiterMemory({ points: 1, duration: 0, keyPrefix: 'olchat-slot' });
  readonly #taken = new Map<string, TakenSlot>(); // by slot key
  readonly #freed = new EventEmitter().setMaxListeners(0);
  readonly #assumeRecentUse: boolean;

  constructor(options: MemoryLimiterStoreOptions = {}) {
    this.#assumeRecentUse = options.assumeRecentUse !== false;
  }

  /** Slots taken or held right now (all keys): 0 once every slot is free. */
  get takenSlots(): number {
    return this.#taken.size;
  }

  async tryAcquire(key: string, slots: number, leaseMs: number, holdMs = 0): Promise<SlotLease | SlotWait> {
    // performance.now() counts from this process's start: the previous process's last answers came
    // before it, so its slots are free T + margin (`holdMs`) after it at the latest.
    const startHeldMs = this.#assumeRecentUse ? holdMs - performance.now() : 0;
    if (startHeldMs > 0) return { retryInMs: Math.ceil(startHeldMs) };
    let soonest = Number.POSITIVE_INFINITY;
    for (let slot = 0; slot < slots; slot++) {
      const slotKey = `${key}:${slot}`;
      const taken = this.#taken.get(slotKey);
      const busyFor = (taken?.busyUntil ?? 0) - performance.now();
      if (busyFor > 0) {
        soonest = Math.min(soonest, Math.ceil(busyFor));
        continue;
      }
      try {
        await this.#limiter.consume(slotKey, 1, { customDuration: leaseMs / 1000 });
        const owner = randomUUID();
        this.#take(key, slotKey, owner, leaseMs);
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
    const taken = this.#taken.get(slotKey);
    // Even a lease just past its time holds the slot after its answer: the vendor saw that request.
    if (taken?.owner !== lease.owner) return;
    if (holdMs <= 0) {
      this.#forget(lease.key, slotKey, taken);
      await this.#limiter.delete(slotKey);
      return;
    }
    this.#take(lease.key, slotKey, lease.owner, holdMs);
    await this.#limiter.set(slotKey, 1, holdMs / 1000);
  }

  async renew(lease: SlotLease, leaseMs: number): Promise<boolean> {
    const slotKey = `${lease.key}:${lease.slot}`;
    const taken = this.#taken.get(slotKey);
    // A lapsed lease is not revived even if nobody took the slot since: the caller takes it anew.
    if (taken?.owner !== lease.owner || taken.busyUntil <= performance.now()) return false;
    this.#take(lease.key, slotKey, lease.owner, leaseMs);
    await this.#limiter.set(slotKey, 1, leaseMs / 1000);
    return true;
  }

  onFree(key: string, listener: () => void): () => void {
    this.#freed.on(key, listener);
    return () => this.#freed.off(key, listener);
  }

  /** Marks the slot busy for `ms` from now under `owner`; forgotten (and announced free) after. */
  #take(key: string, slotKey: string, owner: string, ms: number): void {
    const previous = this.#taken.get(slotKey);
    if (previous) clearTimeout(previous.timer);
    const taken: TakenSlot = {
      owner,
      busyUntil: performance.now() + ms,
      timer: setTimeout(() => this.#forget(key, slotKey, taken), ms + 1),
    };
    // A slot left busy must not keep the process alive: whoever waits for it has its own timer.
    taken.timer.unref();
    this.#taken.set(slotKey, taken);
  }

  #forget(key: string, slotKey: string, taken: TakenSlot): void {
    clearTimeout(taken.timer);
    if (this.#taken.get(slotKey) === taken) this.#taken.delete(slotKey);
    this.#freed.emit(key);
  }
}

let processStore: MemoryLimiterStore | undefined;

/** The store every client in this process shares unless given another, so one token has one limit. */
export function defaultLimiterStore(): MemoryLimiterStore {
  processStore ??= new MemoryLimiterStore();
  return processStore;
}
