import type { OutgoingMessage } from '../client/message.js';
import type {
  Category,
  DeliveryStatus,
  HeldBy,
  JobError,
  JobMeta,
  JobStatus,
  Priority,
  SkipReason,
  TraceCarrier,
} from '../job.js';
import type { LaneGateChange, QueueGates } from './lane-gates.js';
import type { WebhookOutbox } from './outbox.js';
import type { PeopleStore } from './people-store.js';

interface JobRecordFields {
  id: string;
  ruleId?: string;
  /** The recipient (absent on a job skipped by `when()`: its recipient was never worked out). */
  phone?: string;
  priority: Priority;
  /** What the message is for: opt-outs of `marketing` hold back only marketing. */
  category: Category;
  /** Why a `skipped` job was skipped. */
  reason?: SkipReason;
  /** Why a `scheduled` job waits: the new-recipient budget (until it frees, or its deadline). */
  heldBy?: HeldBy;
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
  /**
   * What was (or is to be) sent: the text, or the file. Kept with a finished record unless the
   * notifier has `storeText: false`; never on a skipped job.
   */
  text?: string;
  file?: { url: string; caption?: string };
}

/** What `notifier.get(id)` answers. A `failed` or `expired` record always says why. */
export type JobRecord =
  | (JobRecordFields & { status: 'failed' | 'expired'; error: JobError })
  | (JobRecordFields & { status: Exclude<JobStatus, 'failed' | 'expired'> });

/**
 * Unfinished jobs by status, and how many jobs ended each way since the queue began (a job put
 * back by `requeue()` leaves its ending's count).
 */
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
  /** A job that is recorded as finished at once and never worked (`when` said no, the phone is suppressed). */
  skipped?: boolean;
  /** Why it is skipped (with `skipped`; default `'when'`). */
  reason?: SkipReason;
  /** Namespaced keys: the same key within `keyTtlMs` returns the first job instead of adding one. */
  keys: string[];
  keyTtlMs: number;
  priority: Priority;
  /** Default: `defaultCategory(priority)` (`marketing` for `low`). */
  category?: Category;
  /** When the job may join its lane (already moved past quiet hours). Absent or past: now. */
  sendAt?: number;
  /** The app's deadline, as given (kept on the record). */
  notAfter?: number;
  /**
   * When the job expires if not sent: `notAfter`, else creation + the notifier's `maxAgeMs`. A job
   * whose deadline has passed when it is added ends `expired` at once (never worked, its keys freed,
   * `maxQueued` not counted); it still replaces the pending job of its `replaceKey`.
   */
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
  readonly category: Category;
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
 * - `sent`, `failed`, `expired`, `skipped` (never attempted: its phone was suppressed meanwhile): final.
 * - `retry`: certainly not accepted; back to its lane at `at` (status `queued`, `error` kept).
 * - `deferred`: quiet hours, or the guard's budget (`heldBy`); `scheduled` until `until`.
 * - `released`: never attempted (the line is down, the queue is closing): back at the head of its lane.
 */
export type JobOutcome =
  | { status: 'sent'; messageId?: string }
  | { status: 'failed'; error: JobError }
  | { status: 'expired'; error: JobError }
  | { status: 'skipped'; reason: SkipReason }
  | { status: 'retry'; at: number; error: JobError }
  | { status: 'deferred'; until: number; heldBy?: HeldBy }
  | { status: 'released' };

/** Which limit a job's send waits for: `sendText` or `sendFile`. */
export type SendKind = 'text' | 'file';

/** The kind of send a message needs. */
export function sendKindOf(message: OutgoingMessage): SendKind {
  return 'text' in message ? 'text' : 'file';
}

/**
 * A limit slot taken before the job it will carry is chosen (see `WorkerOptions.claim`). The queue
 * hands it to the worker with the best job of its kind waiting at that moment; a job that turns
 * out not to need it (expired, deferred, not due) leaves it unspent for the next job, and the
 * queue gives back one it has no job for.
 */
export interface Claim {
  readonly kind: SendKind;
  /** True once a request took the slot, or it was given back. */
  readonly spent: boolean;
  /** How long taking its slot waited (ms): the limiter's wait before the job was even picked. */
  readonly waitedMs?: number;
  /** Resolves once it is spent. */
  whenSpent(): Promise<void>;
  /** Gives the slot back unused (freed at once: nothing was sent under it); a no-op once spent. Never rejects. */
  release(): Promise<void>;
}

export interface WorkerOptions {
  concurrency: number;
  /**
   * Works one job. `claim`, when the queue took one first, is the limit slot its send is to use;
   * a worker leaves it unspent (for the queue to reuse) when the job needed no send, and gives it
   * back before it waits for anything else.
   */
  worker: (job: ActiveJob, claim?: Claim) => Promise<JobOutcome>;
  /**
   * Slot first: resolves once a send of `kind` may go now (the line usable, a limit slot taken
   * in the lane of `priority`, the best job's lane). A queue that uses it takes a job out of its
   * lane only then, the best of that kind at that moment, so no job holds a worker while it only
   * waits for its turn (and a `high` job takes the next free slot). Rejects when `signal` aborts,
   * or when the limiter fails (the queue then works one job without a claim: it meets the same
   * failure through its own call and ends as such a failure does).
   * Without it (or for a queue that does not use it) each job waits for its slot in its worker.
   */
  claim?: (kind: SendKind, priority: Priority, signal: AbortSignal) => Promise<Claim>;
  /** Called with the final record of every job this process finished, cancelled or expired. */
  onFinished: (record: JobRecord) => void;
  /** Most jobs not yet finished (scheduled, queued and sending together); past it `add()` rejects `QUEUE_FULL`. */
  maxQueued?: number;
  /** How long a finished job is kept (its record, text, keys' target and the queue's own data). Overrides the queue's option. */
  keepFinishedMs?: number;
  /** false: a job's text (or file) is dropped once the job is finished. Default true. */
  storeText?: boolean;
  /**
   * The phone → key hash of the notifier (HMAC-SHA256 with its `secret`): a queue that indexes
   * jobs by phone in a store others can read (Redis) keys that index with it, never the digits.
   */
  phoneKey?: (phone: string) => string;
  /**
   * Which lanes may hand out a job now (operator pauses, a flagged line): asked where the queue
   * chooses its next job, so a held lane keeps its jobs `queued` and holds no worker. The queue
   * takes up jobs again when it calls back (`onChange`).
   */
  gates?: QueueGates;
}

/** What `forget()` erased of one phone's jobs. */
export interface ForgottenJobs {
  /** Jobs erased: pending ones (cancelled without a word), finished ones, and ones let finish first. */
  jobs: number;
  /** Their ids, so the notifier can erase what it keeps about them elsewhere (webhooks, delivery checks). */
  ids: string[];
}

export type CancelTarget = string | { replaceKey: string };

/** Which pending jobs `cancelMany` cancels: every one that matches all the fields given. */
export interface CancelFilter {
  ruleId?: string;
  priority?: Priority;
  /** `scheduled` or `queued` (as `get()` would say now); default both. A job being sent is never cancelled. */
  status?: 'scheduled' | 'queued';
}

export interface ListOptions {
  /** Only jobs in this state. */
  status?: JobStatus;
  /** Most records answered, newest first. Default 50, at most 500. */
  limit?: number;
}

/**
 * What a notifier needs of a queue. The in-memory queue is the default; `@olchat-kit/redis`
 * provides a durable one. Adding persists the job before it resolves; keys are checked and
 * set atomically with the add. Every status change follows the table in `transitions.ts`; the
 * queue conformance suite (test/queue-conformance) holds both queues to it.
 */
export interface JobQueue {
  /**
   * Shared by several processes (the Redis queue): the notifier then needs the app's `secret`, so
   * every process keys phones alike. A process-local queue leaves it unset.
   */
  readonly shared?: boolean;
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
  /** Cancels every `scheduled` or `queued` job the filter matches (each heard of as `cancel` is); how many. */
  cancelMany(filter: CancelFilter): Promise<number>;
  /**
   * Puts a `failed` or `expired` job back in its lane with a new deadline; the record as queued,
   * or undefined when the job is unknown or not in one of those states. The keys its ending freed
   * point at it again where no newer job took them; it leaves its ending's count in `stats()`.
   * Rejects with `QueueFullError` when `maxQueued` jobs are already unfinished.
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
  /**
   * The recorded jobs of one phone (normalized, `7…`), newest first, at most `limit` (1–500).
   * Served by an index of jobs by phone, kept in step with retention and `forget()`.
   */
  findByPhone(phone: string, limit: number): Promise<JobRecord[]>;
  /**
   * Erases every job of the phone (normalized): pending ones end without `onFinished` (no event, no
   * webhook) and are never sent; one being sent is let finish, then erased without `onFinished`;
   * records, messages, keys pointing at them and the queue's own data about them go. Resolves once
   * all of it is gone.
   */
  forget(phone: string): Promise<ForgottenJobs>;
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
  /**
   * A queue shared by several processes keeps lane pauses and the line's flag for all of them: it
   * stores the change, applies it to the `gates` it was started with, and keeps those in step with
   * the changes other processes make. Whether the change changed anything. Without it, the
   * notifier changes its gates itself (they live in its process).
   */
  updateGates?(change: LaneGateChange): Promise<boolean>;
  /**
   * Where this queue keeps contact memory, suppressions and reply counts, shared by every process
   * on it (the Redis queue); without it the notifier keeps them in memory.
   */
  peopleStore?(): PeopleStore;
}
