import { Fifo } from '../fifo.js';
import { isLease, type LimiterStore, type SlotLease } from './store.js';

interface Waiter {
  slots: number;
  leaseMs: number;
  resolve(lease: SlotLease): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const DEFAULT_MAX_POLL_MS = 100;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The waiting line for one key of one store. Only the oldest waiter asks the store for a
 * slot; when it gets one the next asks at once (so a burst of N goes out together), and
 * when none is free the line sleeps until a slot frees. 10 000 waiters cost the store no
 * more calls than 10.
 */
export class SlotGate {
  readonly #store: LimiterStore;
  readonly #key: string;
  readonly #line = new Fifo<Waiter>();
  #running = false;

  constructor(store: LimiterStore, key: string) {
    this.#store = store;
    this.#key = key;
  }

  get waiting(): number {
    return this.#line.size;
  }

  acquire(slots: number, leaseMs: number, signal?: AbortSignal): Promise<SlotLease> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<SlotLease>((resolve, reject) => {
      const waiter: Waiter = { slots, leaseMs, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          this.#line.remove(waiter);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#line.push(waiter);
      void this.#run();
    });
  }

  #shift(): Waiter | undefined {
    const waiter = this.#line.shift();
    if (waiter?.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
    return waiter;
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        const head = this.#line.peek();
        if (!head) break;
        let result: Awaited<ReturnType<LimiterStore['tryAcquire']>>;
        try {
          result = await this.#store.tryAcquire(this.#key, head.slots, head.leaseMs);
        } catch (error) {
          if (this.#line.peek() === head) this.#shift()?.reject(error);
          continue;
        }
        if (isLease(result)) {
          if (this.#line.peek() === head) {
            this.#shift()?.resolve(result);
          } else {
            // The waiter gave up while the store answered: give the slot straight back.
            await this.#store.release(result, 0).catch(() => undefined);
          }
          continue;
        }
        await this.#sleep(result.retryInMs);
      }
    } finally {
      this.#running = false;
    }
  }

  /** Sleeps until a slot may be free, a local release announces one, or the poll interval ends. */
  #sleep(retryInMs: number): Promise<void> {
    const maxPoll = this.#store.maxPollMs ?? DEFAULT_MAX_POLL_MS;
    const delay = Math.max(1, Math.min(retryInMs, maxPoll, MAX_TIMER_MS));
    return new Promise<void>((resolve) => {
      let unsubscribe: (() => void) | undefined;
      const wake = () => {
        clearTimeout(timer);
        unsubscribe?.();
        resolve();
      };
      const timer = setTimeout(wake, delay);
      unsubscribe = this.#store.onFree?.(this.#key, wake);
    });
  }
}

const gates = new WeakMap<LimiterStore, Map<string, SlotGate>>();

/** One line per store and key for the whole process, so clients on one token queue together. */
export function gateFor(store: LimiterStore, key: string): SlotGate {
  let byKey = gates.get(store);
  if (!byKey) {
    byKey = new Map();
    gates.set(store, byKey);
  }
  let gate = byKey.get(key);
  if (!gate) {
    gate = new SlotGate(store, key);
    byKey.set(key, gate);
  }
  return gate;
}
