import type { OutgoingMessage } from '../message.js';
import type { TraceCarrier } from '../telemetry/telemetry.js';
import type { WebhookOutbox } from '../webhooks/outbox.js';

/** Lanes: `high` before `normal` before `low`, first come first served within a lane. */
export type Priority = 'high' | 'normal' | 'low';
export const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];

/** Not finished yet: waiting for `sendAt` (or the end of quiet hours), waiting in its lane, or being sent. */
export type PendingStatus = 'scheduled' | 'queued' | 'sending';
/** Finished: a job in one of these states never changes again (except `failed`/`expired` by `retry()`). */
export type FinalStatus = 'sent' | 'failed' | 'skipped' | 'cancelled' | 'expired';
export type JobStatus = PendingStatus | FinalStatus;

export const PENDING_STATUSES: readonly PendingStatus[] = ['scheduled', 'queued', 'sending'];
export const FINAL_STATUSES: readonly FinalStatus[] = ['sent', 'failed', 'skipped', 'cancelled', 'expired'];
/** Every status, in lifecycle order (queues that store a status as a number use this order). */
export const JOB_STATUSES: readonly JobStatus[] = [...PENDING_STATUSES, ...FINAL_STATUSES];
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['delivered', 'read', 'undelivered'];

/** What the vendor says became of a sent message (`deliveryChecks`). */
export type DeliveryStatus = 'delivered' | 'read' | 'undelivered';

/** What a failed job keeps of its error: safe to show in an HTTP answer. */
export interface JobError {
  code: string;
  message: string;
  status?: number;
}

/** The app's own data carried through to events and webhooks: plain JSON, at most 4 KiB. */
export type JobMeta = Record<string, unknown>;

interface JobRecordFields {
  id: string;
  ruleId?: string;
  /** The recipient (absent on a `skipped` job: its recipient was never worked out). */
  phone?: string;
  priority: Priority;
  /** Requests written for this job so far. */
  attempts: number;
  messageId?: string;
  /** The error that ended the job; on a job still waiting, the last attempt's. */
  error?: JobError;
  /** When it was to join its lane (ms since the epoch), when it was scheduled. */
  sendAt?: number;
  /** Never sent after this (ms since the epoch): past it the job ends `expired`. */
  notAfter?: number;
  replaceKey?: string;
  meta?: JobMeta;
  createdAt: number;
  updatedAt: number;
  delivery?: DeliveryStatus;
  deliveryCheckedAt?: number;
  /** The vendor's own word at the last delivery check (at most 200 characters). */
  deliveryRaw?: string;
}

/** What `notifier.get(id)` answers. A `failed` or `expired` record always says why. */
export type JobRecord =
  | (JobRecordFields & { status: 'failed' | 'expired'; error: JobError })
  | (JobRecordFields & { status: Exclude<JobStatus, 'failed' | 'expired'> });

export interface JobStats {
  scheduled: number;
  queued: number;
  sending: number;
  sent: number;
  failed: number;
  cancelled: number;
  expired: number;
}

export interface NewJob {
  ruleId?: string;
  message: OutgoingMessage;
  /** A job that is recorded as finished at once and never worked (`when` said no). */
  skipped?: boolean;
  /** Namespaced keys: the same key within `keyTtlMs` returns the first job instead of adding one. */
  keys: string[];
  keyTtlMs: number;
  priority: Priority;
  /** When the job may join its lane (already moved past quiet hours). Absent or past: now. */
  sendAt?: number;
  /** The app's deadline, as given (kept on the record). */
  notAfter?: number;
  /** When the job expires if not sent: `notAfter`, else creation + the notifier's `maxAgeMs`. */
  deadline: number;
  /** A pending (`scheduled` or `queued`) job with this key is cancelled and replaced by this one. */
  replaceKey?: string;
  meta?: JobMeta;
  /** Whether it keeps quiet hours: the worker checks again when it is due. */
  quiet: boolean;
  /** The trigger span's context (with `telemetry`): kept with the job and handed back to its worker. */
  trace?: TraceCarrier | undefined;
}

export interface AddResult {
  record: JobRecord;
  /** false when a key matched an earlier job, whose record this is. */
  created: boolean;
  /** The pending job this one replaced (now `cancelled`), if any. */
  replaced?: JobRecord;
}

/** A job handed to the worker. The marks are what make a durable queue safe across crashes. */
export interface ActiveJob {
  readonly id: string;
  readonly ruleId?: string;
  readonly message: OutgoingMessage;
  readonly priority: Priority;
  /** Requests written for this job before this pickup. */
  readonly attempts: number;
  /** The last attempt's error, reported again if the job expires without another. */
  readonly lastError?: JobError;
  readonly deadline: number;
  readonly quiet: boolean;
  /** The trigger span's context, as `NewJob.trace` stored it: the send span links to it. */
  readonly trace?: TraceCarrier;
  /** Aborted when the job is cancelled or the queue closes before it could finish. */
  readonly signal: AbortSignal;
  /**
   * Before each request is written: status `sending`, one more attempt, and (durably) "in flight".
   * Throws when the job may no longer be sent (cancelled, or another worker took it over).
   */
  markAttempt(): Promise<void>;
  /** After an attempt that certainly did not deliver: no longer in flight. */
  markNotAccepted(): Promise<void>;
}

/**
 * What became of one pickup. The worker decides (see `lifecycle.ts`); the queue only stores it.
 * - `sent`, `failed`, `expired`: final.
 * - `retry`: certainly not accepted; back to its lane at `at` (status `queued`, `error` kept).
 * - `deferred`: quiet hours; `scheduled` until `until`.
 * - `released`: never attempted (the line is down, the queue is closing): back at the head of its lane.
 */
export type JobOutcome =
  | { status: 'sent'; messageId?: string }
  | { status: 'failed'; error: JobError }
  | { status: 'expired'; error: JobError }
  | { status: 'retry'; at: number; error: JobError }
  | { status: 'deferred'; until: number }
  | { status: 'released' };

export interface WorkerOptions {
  concurrency: number;
  worker: (job: ActiveJob) => Promise<JobOutcome>;
  /** Called with the final record of every job this process finished, cancelled or expired. */
  onFinished: (record: JobRecord) => void;
  /** Most jobs not yet finished (scheduled, queued and sending together); past it `add()` rejects `QUEUE_FULL`. */
  maxQueued?: number;
}

export type CancelTarget = string | { replaceKey: string };

export interface ListOptions {
  /** Only jobs in this state. */
  status?: JobStatus;
  /** Most records answered, newest first. Default 50, at most 500. */
  limit?: number;
}

/**
 * What a notifier needs of a queue. The in-memory queue is the default; `@olchat-kit/redis`
 * provides a durable one. Adding persists the job before it resolves; keys are checked and
 * set atomically with the add.
 */
export interface JobQueue {
  /** Rejects with `QueueFullError` when `maxQueued` jobs are already unfinished. */
  add(job: NewJob): Promise<AddResult>;
  get(id: string): Promise<JobRecord | undefined>;
  /** The job one of these keys points at, without adding anything (so a replay spends no limit). */
  find(keys: readonly string[]): Promise<JobRecord | undefined>;
  /**
   * Cancels a `scheduled` or `queued` job (by id, or the pending job of a replace key). Resolves
   * the cancelled record, or undefined when there was no such pending job. A job already being
   * sent is not cancelled.
   */
  cancel(target: CancelTarget): Promise<JobRecord | undefined>;
  /**
   * Puts a `failed` or `expired` job back in its lane with a new deadline; the record as queued,
   * or undefined when the job is unknown or not in one of those states.
   */
  requeue(id: string, deadline: number): Promise<JobRecord | undefined>;
  /** Records what the vendor said of a sent job's delivery (`delivery` undefined: no news, only the check). */
  setDelivery(
    id: string,
    delivery: DeliveryStatus | undefined,
    checkedAt: number,
    raw?: string,
  ): Promise<JobRecord | undefined>;
  /** Recent jobs, newest first (the dashboard). */
  list(options?: ListOptions): Promise<JobRecord[]>;
  /** Starts handing due jobs to the worker, at most `concurrency` at once, `high` lanes first. */
  start(options: WorkerOptions): void;
  /** A snapshot (a shared queue may answer from a cache refreshed in the background). */
  stats(): JobStats;
  /** Stops taking jobs, lets the queued and running ones finish within `timeoutMs`, then aborts the rest. */
  close(options: { timeoutMs: number }): Promise<void>;
  /**
   * Where this queue keeps webhooks not yet delivered, when it can keep them durably (the Redis
   * queue); without it the notifier keeps them in memory.
   */
  webhookOutbox?(): WebhookOutbox;
}
