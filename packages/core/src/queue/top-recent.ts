import { MinHeap } from '../util/heap.js';

/**
 * The `limit` items with the largest key among many offered, in one pass: a min-heap of at most
 * `limit` entries, so listing the 50 newest of 100 000 jobs sorts 50, not 100 000.
 */
export class TopRecent<T> {
  readonly #limit: number;
  readonly #key: (item: T) => number;
  readonly #heap: MinHeap<T>;

  constructor(limit: number, key: (item: T) => number) {
    this.#limit = limit;
    this.#key = key;
    this.#heap = new MinHeap<T>((a, b) => key(a) < key(b));
  }

  offer(item: T): void {
    const heap = this.#heap;
    if (heap.size < this.#limit) {
      heap.push(item);
    } else if (heap.size > 0 && this.#key(item) > this.#key(heap.peek() as T)) {
      heap.pop();
      heap.push(item);
    }
  }

  newestFirst(): T[] {
    const items: T[] = [];
    for (let item = this.#heap.pop(); item !== undefined; item = this.#heap.pop()) items.push(item);
    return items.reverse();
  }
}
