import type { EmulatorLimit } from './types.js';

export interface WindowHit {
  /** True when `points` earlier arrivals were already within the window. */
  violation: boolean;
  /** Earlier arrivals within the window (at most `points`: no more are kept). */
  inWindow: number;
  /** For a violation: ms until the next request would be admitted. */
  retryAfterMs: number;
}

/**
 * A strict sliding window over arrival times: a request is over the limit when `points` earlier
 * arrivals t satisfy `now - t < durationMs`. Every arrival counts, rejected ones too. Only the last
 * `points` stamps are kept (a ring buffer): that is all the decision ever needs.
 */
export class SlidingWindow {
  private readonly stamps: number[];
  /** Index of the oldest stamp. */
  private head = 0;
  private size = 0;

  constructor(readonly limit: Readonly<EmulatorLimit>) {
    this.stamps = new Array<number>(limit.points).fill(0);
  }

  hit(now: number): WindowHit {
    const { points, durationMs } = this.limit;
    let inWindow = 0;
    // Newest to oldest: stamps are pushed in arrival order, so stop at the first one out of the window.
    for (let i = this.size - 1; i >= 0; i--) {
      const stamp = this.stamps[(this.head + i) % points] ?? Number.NEGATIVE_INFINITY;
      if (now - stamp < durationMs) inWindow++;
      else break;
    }
    this.push(now);
    const violation = inWindow >= points;
    // After the push the ring is full on a violation; its oldest stamp must leave the window first.
    const oldest = this.stamps[this.head] ?? now;
    const retryAfterMs = violation ? Math.max(0, oldest + durationMs - now) : 0;
    return { violation, inWindow, retryAfterMs };
  }

  private push(stamp: number): void {
    const points = this.limit.points;
    if (this.size < points) {
      this.stamps[(this.head + this.size) % points] = stamp;
      this.size++;
    } else {
      this.stamps[this.head] = stamp;
      this.head = (this.head + 1) % points;
    }
  }
}

/** One sliding window per key (token and method), created on first use. */
export class WindowRegistry<M extends string> {
  private readonly windows = new Map<string, SlidingWindow>();

  constructor(private readonly limits: Readonly<Record<M, Readonly<EmulatorLimit>>>) {}

  hit(tokenIndex: number, method: M, now: number): WindowHit & { limit: Readonly<EmulatorLimit> } {
    const key = `${tokenIndex}:${method}`;
    let window = this.windows.get(key);
    if (!window) {
      window = new SlidingWindow(this.limits[method]);
      this.windows.set(key, window);
    }
    return { ...window.hit(now), limit: window.limit };
  }

  clear(): void {
    this.windows.clear();
  }
}
