/** The limiter: one waiting line per key in front of a slot store (store.ts; memory-store.ts). */

import { PRIORITIES, type Priority } from '../job.js';
import { MAX_TIMER_MS } from '../util/backoff.js';
import { Fifo } from '../util/fifo.js';
import { isLease, type LimiterStore, type SlotLease } from './store.js';

interface Waiter {
  slots: number;
  leaseMs: number;
  holdMs: number | undefined;
  lane: Fifo<Waiter>;
  /** False once granted, failed or given up: a lease the store answers for it then goes back. */
  inLine: boolean;
  resolve(lease: SlotLease): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const DEFAULT_MAX_POLL_MS = 100;

/**
 * The waiting line for one key of one store. Only the first waiter of the highest non-empty
 * priority lane asks the store for a slot; when it gets one the next asks at once (so a burst of
 * N goes out together), and when none is free the line sleeps until a slot frees. 10 000 waiters
 * cost the store no more calls than 10. Within a lane it is first come, first served.
 *
 * A store that fails fails the whole line at once: each waiter would only meet the same outage.
 * A pause (the vendor answered 429) holds the whole line, whoever the 429 came to.
 */
export class SlotGate {
  readonly #store: LimiterStore;
  readonly #key: string;
  readonly #lanes: Record<Priority, Fifo<Waiter>> = { high: new Fifo(), normal: new Fifo(), low: new Fifo() };
  readonly #onIdle: (() => void) | undefined;
  #running = false;
  #pausedUntil = 0; // performance.now()
  /** Ends the loop's current sleep early (a waiter left, so the line may be empty). */
  #interrupt: (() => void) | undefined;
  #idleTimer: NodeJS.Timeout | undefined;

  /** `onIdle`: called when the line is empty, not running and not paused (the gate may be dropped). */
  constructor(store: LimiterStore, key: string, onIdle?: () => void) {
    this.#store = store;
    this.#key = key;
    this.#onIdle = onIdle;
  }

  get waiting(): number {
    return this.#lanes.high.size + this.#lanes.normal.size + this.#lanes.low.size;
  }

  /** How long the line stays paused, in ms (0 when it is not). */
  get pausedForMs(): number {
    return Math.max(0, this.#pausedUntil - performance.now());
  }

  /** `holdMs`: how long a slot stays taken after an answer (handed to the store, see `tryAcquire`). */
  acquire(
    slots: number,
    leaseMs: number,
    signal?: AbortSignal,
    priority: Priority = 'normal',
    holdMs?: number,
  ): Promise<SlotLease> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const lane = this.#lanes[priority];
    if (!lane) return Promise.reject(new TypeError(`priority must be one of ${PRIORITIES.join(', ')}`));
    return new Promise<SlotLease>((resolve, reject) => {
      const waiter: Waiter = {
        slots,
        leaseMs,
        holdMs,
        lane,
        inLine: true,
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        waiter.onAbort = () => {
          // The line may be asleep on this waiter's behalf: wake it, so it lets go of the waiter
          // (and whatever the waiter's caller holds) and asks for the next one.
          const wasHead = this.#head() === waiter;
          waiter.inLine = false;
          lane.remove(waiter);
          reject(signal.reason);
          if (wasHead || this.waiting === 0) this.#interrupt?.();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      lane.push(waiter);
      this.#cancelIdleCheck();
      void this.#run();
    });
  }

  /** Holds every waiter for `ms` from now (extends, never shortens, a pause already running). */
  pause(ms: number): void {
    const until = performance.now() + Math.min(Math.max(0, ms), MAX_TIMER_MS);
    if (until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    if (!this.#running) this.#checkIdle();
  }

  #head(): Waiter | undefined {
    return this.#lanes.high.peek() ?? this.#lanes.normal.peek() ?? this.#lanes.low.peek();
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        const head = this.#head();
        if (!head) break;
        const pausedFor = this.pausedForMs;
        if (pausedFor > 0) {
          await this.#nap(pausedFor);
          continue;
        }
        await this.#ask(head);
      }
    } finally {
      this.#running = false;
      this.#checkIdle();
    }
  }

  /** One question to the store for `head`: a grant, a sleep until a slot may be free, or a failure. */
  async #ask(head: Waiter): Promise<void> {
    // Listen before asking: a slot freed while the store answers "wait" would otherwise go unnoticed,
    // and a store that never polls (memory) would leave the line asleep until the lease ran out.
    const freed: { seen: boolean; wake?: () => void } = { seen: false };
    const unsubscribe = this.#store.onFree?.(this.#key, () => {
      freed.seen = true;
      freed.wake?.();
    });
    try {
      let result: Awaited<ReturnType<LimiterStore['tryAcquire']>>;
      try {
        result = await this.#store.tryAcquire(this.#key, head.slots, head.leaseMs, head.holdMs);
      } catch (error) {
        this.#failAll(error);
        return;
      }
      if (isLease(result)) {
        await this.#grant(head, result);
        return;
      }
      if (freed.seen) return;
      const maxPoll = this.#store.maxPollMs ?? DEFAULT_MAX_POLL_MS;
      await this.#nap(Math.min(result.retryInMs, maxPoll), freed);
    } finally {
      unsubscribe?.();
    }
  }

  async #grant(head: Waiter, lease: SlotLease): Promise<void> {
    if (!head.inLine) {
      // The waiter gave up while the store answered: give the slot straight back.
      await this.#store.release(lease, 0).catch(() => undefined);
      return;
    }
    // Still in line, so still first in its lane: only lane heads are ever asked for.
    head.lane.shift();
    this.#leave(head);
    head.resolve(lease);
  }

  #failAll(error: unknown): void {
    for (const priority of PRIORITIES) {
      for (const waiter of this.#lanes[priority].drain()) {
        this.#leave(waiter);
        waiter.reject(error);
      }
    }
  }

  #leave(waiter: Waiter): void {
    waiter.inLine = false;
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
  }

  /** Sleeps `ms` at most; `freed` ends it when a local release announces a slot. */
  #nap(ms: number, freed?: { wake?: () => void }): Promise<void> {
    const delay = Math.max(1, Math.min(Math.ceil(ms), MAX_TIMER_MS));
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#interrupt = undefined;
        resolve();
      };
      const timer = setTimeout(wake, delay);
      this.#interrupt = wake;
      if (freed) freed.wake = wake;
    });
  }

  /** Reports the gate idle now, or when its pause ends (an empty paused gate must keep its pause). */
  #checkIdle(): void {
    if (this.#running || this.waiting > 0) return;
    this.#cancelIdleCheck();
    const pausedFor = this.pausedForMs;
    if (pausedFor > 0) {
      // Nobody waits on this timer: it must not keep the process alive.
      this.#idleTimer = setTimeout(() => this.#checkIdle(), Math.ceil(pausedFor) + 1).unref();
      return;
    }
    this.#onIdle?.();
  }

  #cancelIdleCheck(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

const gates = new WeakMap<LimiterStore, Map<string, SlotGate>>();

function gatesOf(store: LimiterStore): Map<string, SlotGate> {
  let byKey = gates.get(store);
  if (!byKey) {
    byKey = new Map();
    gates.set(store, byKey);
  }
  return byKey;
}

/**
 * One line per store and key for the whole process, so clients on one token queue together. A
 * line that is idle (empty, not paused) is dropped: ask for it again at each use, never keep it.
 */
export function gateFor(store: LimiterStore, key: string): SlotGate {
  const byKey = gatesOf(store);
  let gate = byKey.get(key);
  if (!gate) {
    const created = new SlotGate(store, key, () => {
      if (byKey.get(key) === created) byKey.delete(key);
    });
    byKey.set(key, created);
    gate = created;
  }
  return gate;
}

/** How long the line of `key` stays paused (0 when it is not, or has no line). */
export function pausedForMs(store: LimiterStore, key: string): number {
  return gates.get(store)?.get(key)?.pausedForMs ?? 0;
}

/** Lines kept for `store` right now (for tests: idle lines must not pile up). */
export function gateCount(store: LimiterStore): number {
  return gates.get(store)?.size ?? 0;
}
