import { ValidationError } from '../errors.js';
import { backoffMs } from '../util/backoff.js';
import { checkInteger } from '../util/validate.js';

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
  for (const field of ['retries', 'minDelayMs', 'maxDelayMs'] as const) checkInteger(retry[field], `retry.${field}`, 0);
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

/** The client's retry delay: the shared backoff, with a server's `Retry-After` as a floor. */
export function retryDelayMs(
  retry: RetryOptions,
  attempt: number,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const backoff = backoffMs(attempt, retry.minDelayMs, retry.maxDelayMs, random);
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
