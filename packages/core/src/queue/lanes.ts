import { Fifo } from '../fifo.js';
import { PRIORITIES, type Priority } from './types.js';

/**
 * One first-in, first-out line per priority: `shift()` takes from `high` before `normal` before
 * `low`. Items are not removed from the middle: the owner skips those that no longer count.
 */
export class Lanes<T> {
  readonly #lanes: Record<Priority, Fifo<T>> = { high: new Fifo(), normal: new Fifo(), low: new Fifo() };

  /** Entries, including ones the owner will skip. */
  get size(): number {
    return this.#lanes.high.size + this.#lanes.normal.size + this.#lanes.low.size;
  }

  push(item: T, priority: Priority): void {
    this.#lanes[priority].push(item);
  }

  /** Back at the head of its lane: it keeps its turn. */
  pushFront(item: T, priority: Priority): void {
    this.#lanes[priority].unshift(item);
  }

  shift(): T | undefined {
    for (const priority of PRIORITIES) {
      const item = this.#lanes[priority].shift();
      if (item !== undefined) return item;
    }
    return undefined;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (const priority of PRIORITIES) yield* this.#lanes[priority];
  }

  drain(): T[] {
    return PRIORITIES.flatMap((priority) => this.#lanes[priority].drain());
  }
}
