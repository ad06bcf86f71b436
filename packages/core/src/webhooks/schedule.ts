import { ValidationError } from '../errors.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * When each attempt is made, as the wait before it: the first at once, then the Standard Webhooks
 * example schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h) and one more 10 h, so the last attempt comes
 * 27 h 35 min 5 s after the event: a receiver down for a whole day still gets it.
 */
export const WEBHOOK_RETRY_SCHEDULE: readonly number[] = Object.freeze([
  0,
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
]);

/** Each retry's wait is stretched by up to this share, so the failures of one outage do not all come back at once. */
export const WEBHOOK_RETRY_JITTER = 0.1;

/** A `Retry-After` longer than this is not waited for beyond the schedule's own wait. */
const MAX_RETRY_AFTER_MS = 10 * HOUR;
/** Node's timers take at most 2^31 − 1 ms; a longer wait is only ever re-armed, not lost. */
const MAX_WAIT_MS = 24 * HOUR;

export function validateSchedule(schedule: unknown, path = 'schedule'): readonly number[] {
  if (
    !Array.isArray(schedule) ||
    schedule.length === 0 ||
    !schedule.every((ms) => typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms <= MAX_WAIT_MS)
  ) {
    throw new ValidationError(`${path} must be a non-empty array of waits in ms (0 to 24 h), one per attempt`, [
      { path, message: 'must be a non-empty array of waits in ms (0 to 24 h), one per attempt' },
    ]);
  }
  return Object.freeze([...schedule]);
}

/**
 * When the attempt after `attemptsMade` failed ones is due, or undefined when the schedule has
 * none left. A `Retry-After` the receiver sent is honoured when it asks for longer.
 */
export function nextAttemptAt(
  schedule: readonly number[],
  attemptsMade: number,
  now: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number | undefined {
  const wait = schedule[attemptsMade];
  if (wait === undefined) return undefined;
  const stretched = wait * (1 + WEBHOOK_RETRY_JITTER * random());
  const asked = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  return now + Math.round(Math.max(stretched, asked));
}

/** The wait a `Retry-After` header asks for (seconds or an HTTP date), if it is one. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * SECOND;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
