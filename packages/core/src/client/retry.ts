import { ValidationError } from '../errors.js';

export interface RetryOptions {
  /** Further attempts after the first. */
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Repeat sends whose outcome is unknown (timeout or drop after writing): may duplicate a message. */
  ambiguous: boolean;
}

export const DEFAULT_RETRY: Readonly<RetryOptions> = {
  retries: 5,
  minDelayMs: 500,
  maxDelayMs: 30_000,
  ambiguous: false,
};

export function resolveRetry(option: Partial<RetryOptions> | undefined): RetryOptions {
  const retry = { ...DEFAULT_RETRY, ...option };
  for (const field of ['retries', 'minDelayMs', 'maxDelayMs'] as const) {
    const value = retry[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new ValidationError(`retry.${field} must be an integer ≥ 0`, [
        { path: `retry.${field}`, message: 'Expected an integer ≥ 0' },
      ]);
    }
  }
  if (retry.maxDelayMs < retry.minDelayMs) {
    throw new ValidationError('retry.maxDelayMs must be ≥ retry.minDelayMs', [
      { path: 'retry.maxDelayMs', message: 'Smaller than minDelayMs' },
    ]);
  }
  if (typeof retry.ambiguous !== 'boolean') {
    throw new ValidationError('retry.ambiguous must be a boolean', [
      { path: 'retry.ambiguous', message: 'Expected a boolean' },
    ]);
  }
  return retry;
}

/**
 * Exponential backoff with full jitter over the upper half, so retries of many senders spread
 * out; a server's `Retry-After` is a floor.
 */
export function retryDelayMs(
  retry: RetryOptions,
  attempt: number,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.minDelayMs * 2 ** Math.max(0, attempt - 1));
  const backoff = ceiling / 2 + random() * (ceiling / 2);
  return Math.round(Math.max(backoff, retryAfterMs ?? 0));
}

/** `Retry-After` as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.min(seconds * 1000, 3_600_000) : undefined;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - now), 3_600_000);
}
