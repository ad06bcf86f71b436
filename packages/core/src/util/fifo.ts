/**
 * A first-in, first-out list: O(1) at both ends. `Array#shift` is O(n), and a Map walked from
 * its start after many deletes scans their empty slots (V8 keeps them until it rehashes) — both
 * turned each finished job into thousands of steps once the history was full.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Puts an item back at the front (a job that was taken but never tried). */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // let it be collected
    this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Takes one item out of the middle (a waiter that gave up): O(n), and rare. */
  remove(item: T): boolean {
    const index = this.#items.indexOf(item, this.#head);
    if (index < 0) return false;
    this.#items.splice(index, 1);
    return true;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const rest = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}

/**
 * A first-in, first-out list of numbers in one `Float64Array` ring: 8 bytes an entry and no object
 * per entry. A `Fifo<number>` would box every number that is not a small integer (16 bytes more
 * each) once its emptied slots held `undefined`.
 */
export class NumberFifo {
  #ring = new Float64Array(16);
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: number): void {
    if (this.#size === this.#ring.length) this.#grow();
    this.#ring[this.#index(this.#size)] = item;
    this.#size++;
  }

  /** Puts an item back at the front. */
  unshift(item: number): void {
    if (this.#size === this.#ring.length) this.#grow();
    this.#head = this.#head === 0 ? this.#ring.length - 1 : this.#head - 1;
    this.#ring[this.#head] = item;
    this.#size++;
  }

  peek(): number | undefined {
    return this.#size === 0 ? undefined : this.#ring[this.#head];
  }

  shift(): number | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#ring[this.#head];
    this.#head = this.#head + 1 === this.#ring.length ? 0 : this.#head + 1;
    this.#size--;
    // A long line that drained gives its memory back.
    if (this.#ring.length > 1024 && this.#size * 4 < this.#ring.length) this.#resize(Math.ceil(this.#ring.length / 2));
    return item;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.#size; i++) yield this.#ring[this.#index(i)] as number;
  }

  /** Removes and returns everything, oldest first. */
  drain(): number[] {
    const rest = [...this];
    this.#ring = new Float64Array(16);
    this.#head = 0;
    this.#size = 0;
    return rest;
  }

  #index(offset: number): number {
    const i = this.#head + offset;
    return i < this.#ring.length ? i : i - this.#ring.length;
  }

  // By a quarter, not double: 100 000 waiting jobs leave at most 25 000 empty entries, not 100 000.
  #grow(): void {
    this.#resize(Math.ceil(this.#ring.length * 1.25));
  }

  #resize(capacity: number): void {
    const next = new Float64Array(capacity);
    for (let i = 0; i < this.#size; i++) next[i] = this.#ring[this.#index(i)] as number;
    this.#ring = next;
    this.#head = 0;
  }
}
