import type { FinalStatus, JobError, JobStatus } from '../job.js';

/*
 * The job lifecycle as one table, for every queue: which event moves a job from which status to
 * which, and what each ending does to the job's idempotency and dedupe keys. The memory queue
 * follows it in code; the Redis queue's Lua scripts get their status checks generated from it; the
 * queue conformance suite (test/queue-conformance) drives both queues through every row.
 *
 * An event not allowed from a job's status is refused: `cancel()` and `requeue()` answer
 * undefined, `markAttempt()` throws, and a worker's outcome for a job that moved meanwhile
 * (cancelled, expired by the sweep) is dropped.
 */

/** Before `add()`: the job does not exist yet. */
export type NoJob = 'new';

export type LifecycleEvent =
  /** `add()` of a job due now. */
  | 'add'
  /** `add()` of a job whose `sendAt` is still ahead. */
  | 'schedule'
  /** `add()` of a job `when()` said no to: recorded as finished, never worked. */
  | 'skip'
  /** Its `sendAt` came: it joins its lane. */
  | 'due'
  /** A worker is about to write a request (`markAttempt()`); a later attempt of the same pickup too. */
  | 'attempt'
  /** A pickup's outcome (`JobOutcome.status`), stored by the queue. */
  | 'sent'
  | 'failed'
  | 'expired'
  | 'retry'
  | 'deferred'
  | 'released'
  /** Never written: its phone was suppressed after it was queued (the check just before the send). */
  | 'skipped'
  /** `cancel()`, or a newer job with its `replaceKey`. A job being sent is never taken back. */
  | 'cancel'
  /** Its deadline passed while it waited (the queue's sweep). */
  | 'deadline'
  /** `requeue()` (`notifier.retry()`): back in line with a new deadline. */
  | 'requeue'
  /**
   * The queue closed before the job's turn and keeps nothing across restarts (the memory queue):
   * it ends `failed` `CLOSED`. A durable queue keeps the job as it is instead.
   */
  | 'close';

export interface Transition {
  readonly from: readonly (JobStatus | NoJob)[];
  readonly to: JobStatus;
}

const WAITING = ['scheduled', 'queued'] as const;
const PICKED = ['queued', 'sending'] as const;
const PENDING = ['scheduled', 'queued', 'sending'] as const;

/**
 * Every allowed move. Worker outcomes apply to a job a worker holds: `queued` when it gave the
 * job back without writing a request (quiet hours, the line down, the deadline), `sending` after
 * `markAttempt()`. A durable queue's recovery of a dead worker's job is one of these too: `failed`
 * (`AMBIGUOUS` when a request was in flight, `STALLED`), or `released` back to its lane.
 */
export const TRANSITIONS: Readonly<Record<LifecycleEvent, Transition>> = {
  add: { from: ['new'], to: 'queued' },
  schedule: { from: ['new'], to: 'scheduled' },
  skip: { from: ['new'], to: 'skipped' },
  due: { from: ['scheduled'], to: 'queued' },
  attempt: { from: PICKED, to: 'sending' },
  sent: { from: PICKED, to: 'sent' },
  failed: { from: PICKED, to: 'failed' },
  expired: { from: PICKED, to: 'expired' },
  retry: { from: PICKED, to: 'queued' },
  deferred: { from: PICKED, to: 'scheduled' },
  released: { from: PICKED, to: 'queued' },
  // Decided before the pickup's request is written, so only from `queued`.
  skipped: { from: ['queued'], to: 'skipped' },
  cancel: { from: WAITING, to: 'cancelled' },
  // `sending` only for a durable queue's job whose worker died between attempts: a live worker
  // decides for its own job.
  deadline: { from: PENDING, to: 'expired' },
  requeue: { from: ['failed', 'expired'], to: 'queued' },
  close: { from: PENDING, to: 'failed' },
};

export const LIFECYCLE_EVENTS = Object.keys(TRANSITIONS) as LifecycleEvent[];

/** Where `event` takes a job in `from`; undefined when the event is refused there. */
export function nextStatus(from: JobStatus | NoJob, event: LifecycleEvent): JobStatus | undefined {
  const transition = TRANSITIONS[event];
  return transition.from.includes(from) ? transition.to : undefined;
}

export function allows(from: JobStatus | NoJob, event: LifecycleEvent): boolean {
  return TRANSITIONS[event].from.includes(from);
}

/** The statuses an event is allowed from (the Redis scripts' checks are generated from these). */
export function statusesFor(event: LifecycleEvent): readonly JobStatus[] {
  return TRANSITIONS[event].from.filter((from): from is JobStatus => from !== 'new');
}

/**
 * What each ending does to the job's idempotency and dedupe keys (DESIGN "Keys after a failure"):
 * a job whose message was certainly never accepted frees them, so a new trigger with the key
 * makes a new job; one that may have reached the customer keeps them, so a repeat gets this job.
 * - `keep`: `sent`, and `skipped` (a repeat is skipped alike).
 * - `free`: `cancelled`.
 * - `free-unless-ambiguous`: `expired` never sent; but a job retried after `AMBIGUOUS` keeps that
 *   error and may have been sent the first time.
 * - `free-if-not-accepted`: `failed` with an error in `NOT_ACCEPTED`.
 * `requeue()` takes back the keys a job freed, where no newer job took them meanwhile.
 */
export type KeyRule = 'keep' | 'free' | 'free-unless-ambiguous' | 'free-if-not-accepted';

export const KEYS_AFTER: Readonly<Record<FinalStatus, KeyRule>> = {
  sent: 'keep',
  skipped: 'keep',
  cancelled: 'free',
  expired: 'free-unless-ambiguous',
  failed: 'free-if-not-accepted',
};

/**
 * Errors that prove the request never reached the vendor, or was refused before it was taken:
 * never connected, timed out connecting, 429, a gateway's 502–504, or the memory queue closing
 * before the job's turn.
 */
export const NOT_ACCEPTED: Readonly<{ codes: readonly string[]; httpStatuses: readonly number[] }> = {
  codes: ['NETWORK', 'TIMEOUT', 'RATE_LIMITED', 'CLOSED'],
  httpStatuses: [502, 503, 504],
};

/** Whether an ending frees the job's keys (see `KEYS_AFTER`). A pending job keeps them. */
export function freesKeys(status: JobStatus, error: JobError | undefined): boolean {
  const rule = KEYS_AFTER[status as FinalStatus] as KeyRule | undefined;
  switch (rule) {
    case 'free':
      return true;
    case 'free-unless-ambiguous':
      return error?.code !== 'AMBIGUOUS';
    case 'free-if-not-accepted':
      if (error === undefined) return false;
      if (error.code === 'HTTP') return error.status !== undefined && NOT_ACCEPTED.httpStatuses.includes(error.status);
      return NOT_ACCEPTED.codes.includes(error.code);
    default:
      return false;
  }
}

/** A job in one of these states changes again only by `requeue()`. */
export function isFinal(status: JobStatus): boolean {
  return status !== 'scheduled' && status !== 'queued' && status !== 'sending';
}
