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
  readonly #before: (a: T, b: T) => boolean;
  readonly #entries: HeapEntry<T>[] = [];

  /** `before(a, b)`: a comes out first. */
  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
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
    this.#up(entry.index);
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
      this.#down(index);
      this.#up(last.index);
    }
    return true;
  }

  #up(index: number): void {
    const entries = this.#entries;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.#before((entries[index] as HeapEntry<T>).value, (entries[parent] as HeapEntry<T>).value)) break;
      this.#swap(index, parent);
      index = parent;
    }
  }

  #down(index: number): void {
    const entries = this.#entries;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let first = index;
      if (
        left < entries.length &&
        this.#before((entries[left] as HeapEntry<T>).value, (entries[first] as HeapEntry<T>).value)
      ) {
        first = left;
      }
      if (
        right < entries.length &&
        this.#before((entries[right] as HeapEntry<T>).value, (entries[first] as HeapEntry<T>).value)
      ) {
        first = right;
      }
      if (first === index) return;
      this.#swap(index, first);
      index = first;
    }
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
