/*
 * Waiting in tests, shared by every package's tests: always bounded, with bounds generous enough for
 * a loaded two-core machine. No imports of the packages, so any test can use it.
 */
import { vi } from 'vitest';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every 20 ms until it gives a truthy value, and resolves with that value; after
 * `timeoutMs` it throws, naming `what` it waited for. On `vi.waitFor`, so it also works under fake
 * timers (each poll then moves the fake clock by the interval, as `vi.waitFor` does).
 */
export function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  return vi.waitFor(
    async () => {
      const value = await check();
      if (!value) throw new Error(`Still waiting after ${timeoutMs} ms for ${what}`);
      return value as Exclude<T, false | 0 | '' | null | undefined>;
    },
    { timeout: timeoutMs, interval: 20 },
  );
}

/** The most arrivals (ms timestamps) that fall in any window of `windowMs`, as a strict sliding window counts. */
export function maxInAnyWindow(arrivals: readonly number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

type Ending = 'sent' | 'failed' | 'expired';

/** What `finished` needs of a notifier (structural, so it takes any build of one). */
interface Finishing<R extends { id: string; status: string }> {
  get(id: string): Promise<R | undefined>;
  on(event: Ending, listener: (record: R) => void): unknown;
  off(event: Ending, listener: (record: R) => void): unknown;
}

/**
 * The record of job `id` once it ends in one of `endings` (already ended counts too); rejects after
 * `timeoutMs`.
 */
export function finished<R extends { id: string; status: string }>(
  notifier: Finishing<R>,
  id: string,
  endings: readonly Ending[] = ['sent', 'failed', 'expired'],
  timeoutMs = 15_000,
): Promise<R> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      for (const ending of endings) notifier.off(ending, check);
    };
    const check = (record: R) => {
      if (record.id !== id || !(endings as readonly string[]).includes(record.status)) return;
      stop();
      resolve(record);
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`job ${id} did not end (${endings.join(', ')}) within ${timeoutMs} ms`));
    }, timeoutMs);
    for (const ending of endings) notifier.on(ending, check);
    void notifier.get(id).then((record) => record && check(record), reject);
  });
}
