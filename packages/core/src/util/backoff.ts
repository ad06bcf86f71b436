/**
 * The one backoff formula: exponential from `minMs`, doubling per attempt up to `maxMs`, with
 * jitter over the upper half so many senders retrying at once spread out. `attempt` counts from 1.
 * Callers add their own floor (a vendor's `Retry-After`) and cap.
 */
export function backoffMs(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** The longest delay `setTimeout` takes; longer waits are cut into pieces of this size. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
