import { isCertainlyNotAccepted, OlchatError } from '../errors.js';
import type { JobError } from '../job.js';
import { backoffMs as backoffWithJitter } from '../util/backoff.js';
import { allows } from './transitions.js';
import type { JobOutcome, JobRecord } from './types.js';

/*
 * The job lifecycle's decisions, written once for every queue: which outcome an attempt leads to
 * and when a job expires. Which moves are allowed, and which endings free keys, is the table in
 * `queue/transitions.ts`. Queues store what these decide.
 */

/** A not-accepted attempt waits this long before the next, doubling per attempt up to the cap. */
export const BACKOFF_MIN_MS = 1_000;
export const BACKOFF_MAX_MS = 5 * 60_000;

/** How long a job may wait for the vendor when no `notAfter` is given. */
export const DEFAULT_MAX_AGE_MS = 24 * 3600_000;

/**
 * `notAfter` when given; otherwise `maxAgeMs` after the job was due (its `sendAt`, or its creation):
 * a reminder scheduled a week ahead gets its full wait once its time comes, not before.
 */
export function deadlineFor(dueAt: number, notAfter: number | undefined, maxAgeMs: number): number {
  return notAfter ?? dueAt + maxAgeMs;
}

export interface Backoff {
  minMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Readonly<Backoff> = { minMs: BACKOFF_MIN_MS, maxMs: BACKOFF_MAX_MS };

/**
 * Exponential backoff with jitter over the upper half, capped: `attempts` is the count so far (≥ 1).
 * A vendor's `Retry-After` is a floor, though never past the cap.
 */
export function backoffMs(
  attempts: number,
  retryAfterMs = 0,
  backoff: Backoff = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const jittered = backoffWithJitter(attempts, backoff.minMs, backoff.maxMs, random);
  return Math.round(Math.min(backoff.maxMs, Math.max(jittered, retryAfterMs)));
}

/** The vendor refused the webhook URL itself: a configuration error, not an outage. */
export function isTokenRejected(error: unknown): boolean {
  return (
    error instanceof OlchatError &&
    error.code === 'HTTP' &&
    (error.status === 401 || error.status === 403 || error.status === 404)
  );
}

export function toJobError(error: unknown): JobError {
  if (error instanceof OlchatError) {
    return error.status === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, status: error.status };
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

export function expiredError(lastError: JobError | undefined): JobError {
  return lastError ?? { code: 'EXPIRED', message: 'Not sent: its deadline passed before it could be sent' };
}

/**
 * After an attempt that threw: a not-accepted one goes back in line with backoff until the
 * deadline, then expires with its error; anything else ends the job `failed`.
 */
export function outcomeOfFailure(
  error: unknown,
  job: { attempts: number; deadline: number },
  now: number,
  backoff: Backoff = DEFAULT_BACKOFF,
  random = Math.random,
): JobOutcome {
  const jobError = toJobError(error);
  if (!isCertainlyNotAccepted(error)) return { status: 'failed', error: jobError };
  const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs ?? 0;
  const at = now + backoffMs(Math.max(1, job.attempts), retryAfterMs, backoff, random);
  if (at >= job.deadline) return { status: 'expired', error: jobError };
  return { status: 'retry', at, error: jobError };
}

/** Whether `retry()` may put this job back in line. */
export function retryRefusal(record: JobRecord, ambiguous: boolean): string | undefined {
  if (!allows(record.status, 'requeue')) {
    return `Only a failed or expired job can be retried; this one is ${record.status}`;
  }
  if (record.error?.code === 'AMBIGUOUS' && !ambiguous) {
    return 'This job may have been delivered (AMBIGUOUS): retry it with { ambiguous: true } to send it again';
  }
  return undefined;
}
