import { MAX_TIMER_MS } from '../util/backoff.js';
import { type HeapOrder, siftDown, siftUp } from '../util/heap.js';

/**
 * Items due at given times, with one timer for all of them: a binary min-heap ordered by time
 * (then by insertion, so equal times keep their order). 100 000 reminders cost one `setTimeout`,
 * not 100 000 timers. Removal is lazy: `onDue` decides whether an item still counts (a cancelled
 * job is simply skipped when its time comes).
 *
 * The heap is three parallel arrays (time, insertion number, item) rather than an object per
 * entry: an entry costs three array slots, 24 bytes, where an `{ at, seq, item }` object with its
 * boxed time cost 64. The arrays only ever push, pop and swap, so V8 keeps the numbers unboxed.
 */
export class Scheduler<T> {
  readonly #at: number[] = [];
  readonly #seq: number[] = [];
  readonly #items: T[] = [];
  readonly #onDue: (item: T, at: number) => void;
  readonly #now: () => number;
  #nextSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #stopped = false;

  constructor(onDue: (item: T, at: number) => void, now: () => number = Date.now) {
    this.#onDue = onDue;
    this.#now = now;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The time of the earliest item, if any. */
  get nextAt(): number | undefined {
    return this.#at[0];
  }

  add(item: T, at: number): void {
    this.#at.push(at);
    this.#seq.push(this.#nextSeq++);
    this.#items.push(item);
    siftUp(this.#order, this.#items.length - 1);
    if (at < this.#timerAt) this.#arm();
  }

  /** Every item, in no particular order (for sweeps). */
  *items(): IterableIterator<T> {
    yield* this.#items;
  }

  /** Hands every item due by now to `onDue`, earliest first. */
  runDue(): void {
    const now = this.#now();
    while (this.#items.length > 0 && (this.#at[0] as number) <= now) {
      const at = this.#at[0] as number;
      const item = this.#items[0] as T;
      this.#pop();
      this.#onDue(item, at);
    }
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Removes the earliest entry. */
  #pop(): void {
    const last = this.#items.length - 1;
    this.#swap(0, last);
    this.#at.pop();
    this.#seq.pop();
    this.#items.pop();
    siftDown(this.#order, 0, last);
  }

  readonly #order: HeapOrder = { before: (i, j) => this.#before(i, j), swap: (i, j) => this.#swap(i, j) };

  #before(i: number, j: number): boolean {
    const a = this.#at[i] as number;
    const b = this.#at[j] as number;
    return a < b || (a === b && (this.#seq[i] as number) < (this.#seq[j] as number));
  }

  #swap(i: number, j: number): void {
    const at = this.#at;
    const seq = this.#seq;
    const items = this.#items;
    const a = at[i] as number;
    at[i] = at[j] as number;
    at[j] = a;
    const s = seq[i] as number;
    seq[i] = seq[j] as number;
    seq[j] = s;
    const item = items[i] as T;
    items[i] = items[j] as T;
    items[j] = item;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const at = this.#at[0];
    if (at === undefined || this.#stopped) return;
    // Long waits are cut into timer-sized pieces; each wake re-reads the clock.
    const delay = Math.min(Math.max(0, at - this.#now()), MAX_TIMER_MS);
    this.#timerAt = at;
    // Not unref'd: a job waiting for its time is work still to do, as a request in flight is.
    this.#timer = setTimeout(() => this.runDue(), delay);
  }
}
