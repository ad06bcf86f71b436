/**
 * The `limit` items with the largest key among many offered, in one pass: a min-heap of at most
 * `limit` entries, so listing the 50 newest of 100 000 jobs sorts 50, not 100 000.
 */
export class TopRecent<T> {
  readonly #limit: number;
  readonly #key: (item: T) => number;
  readonly #heap: T[] = [];

  constructor(limit: number, key: (item: T) => number) {
    this.#limit = limit;
    this.#key = key;
  }

  offer(item: T): void {
    const heap = this.#heap;
    if (heap.length < this.#limit) {
      heap.push(item);
      this.#up(heap.length - 1);
    } else if (heap.length > 0 && this.#key(item) > this.#key(heap[0] as T)) {
      heap[0] = item;
      this.#down(0);
    }
  }

  newestFirst(): T[] {
    return [...this.#heap].sort((a, b) => this.#key(b) - this.#key(a));
  }

  #up(i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#key(heap[i] as T) >= this.#key(heap[parent] as T)) break;
      [heap[i], heap[parent]] = [heap[parent] as T, heap[i] as T];
      i = parent;
    }
  }

  #down(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && this.#key(heap[left] as T) < this.#key(heap[smallest] as T)) smallest = left;
      if (right < heap.length && this.#key(heap[right] as T) < this.#key(heap[smallest] as T)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest] as T, heap[i] as T];
      i = smallest;
    }
  }
}
