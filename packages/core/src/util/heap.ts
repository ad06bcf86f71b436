/**
 * The binary heap, written once. `siftUp` and `siftDown` work on any storage through `before(i, j)`
 * and `swap(i, j)`: the scheduler keeps its entries in parallel arrays (24 bytes an entry), the
 * `MinHeap` below keeps entry objects that know their place (so one can leave from the middle).
 */
export interface HeapOrder {
  /** The entry at `i` comes out before the one at `j`. */
  before(i: number, j: number): boolean;
  swap(i: number, j: number): void;
}

/** Moves the entry at `index` up to its place; returns where it ended. */
export function siftUp(order: HeapOrder, index: number): number {
  while (index > 0) {
    const parent = (index - 1) >> 1;
    if (!order.before(index, parent)) break;
    order.swap(index, parent);
    index = parent;
  }
  return index;
}

/** Moves the entry at `index` down to its place among the first `size` entries. */
export function siftDown(order: HeapOrder, index: number, size: number): number {
  for (;;) {
    const left = 2 * index + 1;
    const right = left + 1;
    let first = index;
    if (left < size && order.before(left, first)) first = left;
    if (right < size && order.before(right, first)) first = right;
    if (first === index) return index;
    order.swap(index, first);
    index = first;
  }
}

/** A place in a `MinHeap`: what `remove()` takes. */
export interface HeapEntry<T> {
  readonly value: T;
  /** Its index in the heap's array; -1 once out of it. */
  index: number;
}

/**
 * A binary min-heap whose entries can also be taken out from the middle in O(log n): the ordered
 * structure that lets one timer serve every pending item (the earliest is `peek()`), and lets an
 * item dropped by a bound leave at once instead of lingering until its time comes.
 */
export class MinHeap<T> {
  readonly #entries: HeapEntry<T>[] = [];
  readonly #order: HeapOrder;

  /** `before(a, b)`: a comes out first. */
  constructor(before: (a: T, b: T) => boolean) {
    const entries = this.#entries;
    this.#order = {
      before: (i, j) => before((entries[i] as HeapEntry<T>).value, (entries[j] as HeapEntry<T>).value),
      swap: (i, j) => this.#swap(i, j),
    };
  }

  get size(): number {
    return this.#entries.length;
  }

  peek(): T | undefined {
    return this.#entries[0]?.value;
  }

  push(value: T): HeapEntry<T> {
    const entry: HeapEntry<T> = { value, index: this.#entries.length };
    this.#entries.push(entry);
    siftUp(this.#order, entry.index);
    return entry;
  }

  pop(): T | undefined {
    const top = this.#entries[0];
    if (!top) return undefined;
    this.remove(top);
    return top.value;
  }

  /** Takes an entry out wherever it is; false when it was no longer in the heap. */
  remove(entry: HeapEntry<T>): boolean {
    const { index } = entry;
    if (index < 0 || this.#entries[index] !== entry) return false;
    const last = this.#entries.pop() as HeapEntry<T>;
    entry.index = -1;
    if (last !== entry) {
      this.#entries[index] = last;
      last.index = index;
      siftDown(this.#order, index, this.#entries.length);
      siftUp(this.#order, last.index);
    }
    return true;
  }

  #swap(i: number, j: number): void {
    const a = this.#entries[i] as HeapEntry<T>;
    const b = this.#entries[j] as HeapEntry<T>;
    this.#entries[i] = b;
    this.#entries[j] = a;
    a.index = j;
    b.index = i;
  }
}
