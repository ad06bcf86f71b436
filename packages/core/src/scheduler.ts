const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry<T> {
  at: number;
  seq: number;
  item: T;
}

/**
 * Items due at given times, with one timer for all of them: a binary min-heap ordered by time
 * (then by insertion, so equal times keep their order). 100 000 reminders cost one array slot
 * each and one `setTimeout`, not 100 000 timers. Removal is lazy: `onDue` decides whether an
 * item still counts (a cancelled job is simply skipped when its time comes).
 */
export class Scheduler<T> {
  readonly #heap: Entry<T>[] = [];
  readonly #onDue: (item: T, at: number) => void;
  readonly #now: () => number;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #stopped = false;

  constructor(onDue: (item: T, at: number) => void, now: () => number = Date.now) {
    this.#onDue = onDue;
    this.#now = now;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** The time of the earliest item, if any. */
  get nextAt(): number | undefined {
    return this.#heap[0]?.at;
  }

  add(item: T, at: number): void {
    const heap = this.#heap;
    heap.push({ at, seq: this.#seq++, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Entry<T>, heap[parent] as Entry<T>)) break;
      swap(heap, i, parent);
      i = parent;
    }
    if (at < this.#timerAt) this.#arm();
  }

  /** Every item, in no particular order (for sweeps). */
  *items(): IterableIterator<T> {
    for (const entry of this.#heap) yield entry.item;
  }

  /** Hands every item due by now to `onDue`, earliest first. */
  runDue(): void {
    const now = this.#now();
    for (let top = this.#heap[0]; top && top.at <= now; top = this.#heap[0]) {
      this.#pop();
      this.#onDue(top.item, top.at);
    }
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop() as Entry<T>;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left] as Entry<T>, heap[smallest] as Entry<T>)) smallest = left;
      if (right < heap.length && before(heap[right] as Entry<T>, heap[smallest] as Entry<T>)) smallest = right;
      if (smallest === i) break;
      swap(heap, i, smallest);
      i = smallest;
    }
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const top = this.#heap[0];
    if (!top || this.#stopped) return;
    // Long waits are cut into timer-sized pieces; each wake re-reads the clock.
    const delay = Math.min(Math.max(0, top.at - this.#now()), MAX_TIMER_MS);
    this.#timerAt = top.at;
    // Not unref'd: a job waiting for its time is work still to do, as a request in flight is.
    this.#timer = setTimeout(() => this.runDue(), delay);
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function swap<T>(heap: Entry<T>[], i: number, j: number): void {
  const tmp = heap[i] as Entry<T>;
  heap[i] = heap[j] as Entry<T>;
  heap[j] = tmp;
}
