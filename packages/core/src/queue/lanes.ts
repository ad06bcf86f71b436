import { PRIORITIES, type Priority } from '../job.js';
import { NumberFifo } from '../util/fifo.js';

/**
 * One first-in, first-out line per priority: `shift()` takes from `high` before `normal` before
 * `low`. Entries are numbers (the memory queue's job handles), 8 bytes each. Items are not removed
 * from the middle: the owner skips those that no longer count.
 *
 * A gate (lane-gates.ts) may hold lanes: `shift()` passes over a held lane as if it were empty,
 * and its entries wait where they are.
 */
export class Lanes {
  readonly #lanes: Record<Priority, NumberFifo> = {
    high: new NumberFifo(),
    normal: new NumberFifo(),
    low: new NumberFifo(),
  };
  #isOpen: (priority: Priority) => boolean = () => true;

  /** Which lanes `shift()` may take from now. */
  gate(isOpen: (priority: Priority) => boolean): void {
    this.#isOpen = isOpen;
  }

  /** Entries, including ones the owner will skip. */
  get size(): number {
    return this.#lanes.high.size + this.#lanes.normal.size + this.#lanes.low.size;
  }

  push(item: number, priority: Priority): void {
    this.#lanes[priority].push(item);
  }

  /** Back at the head of its lane: it keeps its turn. */
  pushFront(item: number, priority: Priority): void {
    this.#lanes[priority].unshift(item);
  }

  /** The entry `shift()` would take, left in place (a held lane is passed over here too). */
  peek(): number | undefined {
    for (const priority of PRIORITIES) {
      if (!this.#isOpen(priority)) continue;
      const item = this.#lanes[priority].peek();
      if (item !== undefined) return item;
    }
    return undefined;
  }

  shift(): number | undefined {
    for (const priority of PRIORITIES) {
      if (!this.#isOpen(priority)) continue;
      const item = this.#lanes[priority].shift();
      if (item !== undefined) return item;
    }
    return undefined;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (const priority of PRIORITIES) yield* this.#lanes[priority];
  }

  drain(): number[] {
    return PRIORITIES.flatMap((priority) => this.#lanes[priority].drain());
  }
}
