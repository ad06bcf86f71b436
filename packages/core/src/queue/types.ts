import type { OutgoingMessage } from '../message.js';

export type JobStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'skipped';

/** What a failed job keeps of its error: safe to show in an HTTP answer. */
export interface JobError {
  code: string;
  message: string;
  status?: number;
}

/** What `notifier.get(id)` answers. */
export interface JobRecord {
  id: string;
  ruleId?: string;
  status: JobStatus;
  attempts: number;
  messageId?: string;
  error?: JobError;
  createdAt: number;
  updatedAt: number;
}

export interface JobStats {
  queued: number;
  sending: number;
  sent: number;
  failed: number;
}

export interface NewJob {
  ruleId?: string;
  message: OutgoingMessage;
  /** A job that is recorded as finished at once and never worked (`when` said no). */
  skipped?: boolean;
  /** Namespaced keys: the same key within `keyTtlMs` returns the first job instead of adding one. */
  keys: string[];
  keyTtlMs: number;
}

export interface AddResult {
  record: JobRecord;
  /** false when a key matched an earlier job, whose record this is. */
  created: boolean;
}

/** A job handed to the worker. The marks are what make a durable queue safe across crashes. */
export interface ActiveJob {
  readonly id: string;
  readonly ruleId?: string;
  readonly message: OutgoingMessage;
  /** Aborted when the queue closes before this job could finish. */
  readonly signal: AbortSignal;
  /** Before each request is written: status `sending`, one more attempt, and (durably) "in flight". */
  markAttempt(): Promise<void>;
  /** After an attempt that certainly did not deliver: no longer in flight. */
  markNotAccepted(): Promise<void>;
}

export type JobOutcome = { status: 'sent'; messageId?: string } | { status: 'failed'; error: JobError };

export interface WorkerOptions {
  concurrency: number;
  worker: (job: ActiveJob) => Promise<JobOutcome>;
  /** Called with the final record of every job this process finished. */
  onFinished: (record: JobRecord) => void;
}

/**
 * What a notifier needs of a queue. The in-memory queue is the default; `@olchat-kit/redis`
 * provides a durable one. Adding persists the job before it resolves; keys are checked and
 * set atomically with the add.
 */
export interface JobQueue {
  add(job: NewJob): Promise<AddResult>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Starts handing queued jobs to the worker, at most `concurrency` at once. */
  start(options: WorkerOptions): void;
  /** A snapshot (a shared queue may answer from a cache refreshed in the background). */
  stats(): JobStats;
  /** Stops taking jobs, lets the queued and running ones finish within `timeoutMs`, then aborts the rest. */
  close(options: { timeoutMs: number }): Promise<void>;
}
