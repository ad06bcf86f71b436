/**
 * A count over a rolling window in hourly buckets: `sent7d` and `replies7d`. The window's far edge
 * moves an hour at a time, which is as exact as a ratio over a week needs to be.
 */

export const HOUR_MS = 3600_000;

export class HourlyCounts {
  readonly #hours: number;
  /** Which hour each bucket counts (a bucket is reused once its hour left the window). */
  readonly #tags: Float64Array;
  readonly #counts: Uint32Array;

  constructor(windowMs: number) {
    this.#hours = Math.max(1, Math.round(windowMs / HOUR_MS));
    this.#tags = new Float64Array(this.#hours).fill(-1);
    this.#counts = new Uint32Array(this.#hours);
  }

  add(now: number, amount = 1): void {
    const hour = Math.floor(now / HOUR_MS);
    const bucket = hour % this.#hours;
    if (this.#tags[bucket] !== hour) {
      this.#tags[bucket] = hour;
      this.#counts[bucket] = 0;
    }
    this.#counts[bucket] = (this.#counts[bucket] as number) + amount;
  }

  /** The count of the window ending at `now` (this hour and the ones before it). */
  total(now: number): number {
    const hour = Math.floor(now / HOUR_MS);
    let total = 0;
    for (let bucket = 0; bucket < this.#hours; bucket++) {
      const tag = this.#tags[bucket] as number;
      if (tag > hour - this.#hours && tag <= hour) total += this.#counts[bucket] as number;
    }
    return total;
  }
}
