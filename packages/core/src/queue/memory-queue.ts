import { setMaxListeners } from 'node:events';
import { QueueFullError } from '../errors.js';
import { Fifo } from '../fifo.js';
import { newId } from '../ids.js';
import { expiredError, freesKeys, isFinal } from '../lifecycle.js';
import type { OutgoingMessage } from '../message.js';
import { Scheduler } from '../scheduler.js';
import { Lanes } from './lanes.js';
import { TopRecent } from './top-recent.js';
import type {
  ActiveJob,
  AddResult,
  CancelTarget,
  DeliveryStatus,
  JobError,
  JobMeta,
  JobOutcome,
  JobQueue,
  JobRecord,
  JobStats,
  JobStatus,
  ListOptions,
  NewJob,
  Priority,
  WorkerOptions,
} from './types.js';

export interface MemoryQueueOptions {
  /** How long finished job records stay readable through `get()`. Default 24 h. */
  keepFinishedMs?: number;
  /** At most this many finished records are kept; the oldest go first. Default 10 000. */
  maxFinished?: number;
  /** At most this many idempotency / dedupe keys are remembered; the oldest go first. Default 100 000. */
  maxKeys?: number;
  /** Most unfinished jobs (scheduled, queued and sending). Default 100 000; the notifier's `maxQueued` wins. */
  maxQueued?: number;
  /** How often jobs waiting in a lane are checked against their deadline. Default 30 000. */
  sweepIntervalMs?: number;
}

export const DEFAULT_MAX_QUEUED = 100_000;

interface KeyEntry {
  job: Job;
  expiresAt: number;
}

// One object per job serves as queue entry, record and payload: 100 000 queued jobs stay small.
// Every field is set in the constructor-like literal below, so all jobs share one hidden class.
interface Job {
  id: string;
  ruleId: string | undefined;
  status: JobStatus;
  priority: Priority;
  attempts: number;
  messageId: string | undefined;
  error: JobError | undefined;
  createdAt: number;
  updatedAt: number;
  /** Dropped once the job can never be sent again (kept on failed and expired jobs for `retry()`). */
  message: OutgoingMessage | undefined;
  phone: string | undefined;
  sendAt: number | undefined;
  notAfter: number | undefined;
  deadline: number;
  replaceKey: string | undefined;
  meta: JobMeta | undefined;
  quiet: boolean;
  keys: string[] | undefined;
  /** While a worker holds the job: aborting it tells the worker the job was cancelled. */
  held: AbortController | undefined;
  /**
   * Where the job waits: in a lane, or on the timer until `dueAt`. Lanes and the timer never
   * remove entries from their middle, so an entry that does not match this is stale and skipped.
   */
  place: 'lane' | 'timer' | undefined;
  dueAt: number;
  delivery: DeliveryStatus | undefined;
  deliveryCheckedAt: number | undefined;
  deliveryRaw: string | undefined;
}

const CLOSED_ERROR: JobError = { code: 'CLOSED', message: 'Not sent: the notifier closed before its turn' };
const SCHEDULED_CLOSED_ERROR: JobError = {
  code: 'CLOSED',
  message: 'Not sent: the notifier closed before its time (the memory queue keeps nothing across restarts)',
};

/** The default queue: jobs live in this process only and are lost if it dies. */
export class MemoryQueue implements JobQueue {
  readonly #keepFinishedMs: number;
  readonly #maxFinished: number;
  readonly #maxKeys: number;
  readonly #sweepIntervalMs: number;
  #maxQueued: number;
  readonly #jobs = new Map<string, Job>();
  readonly #finished = new Fifo<{ job: Job; finishedAt: number }>(); // in finishing order
  // A key keeps its job object even after the record expired, so a late duplicate never resends.
  readonly #keys = new Map<string, KeyEntry>();
  readonly #keyOrder = new Fifo<{ key: string; entry: KeyEntry }>(); // in the order they were set
  readonly #replaceKeys = new Map<string, Job>(); // only pending jobs
  readonly #lanes = new Lanes<Job>();
  readonly #scheduler = new Scheduler<Job>((job, at) => this.#due(job, at));
  #running = 0;
  #counts: JobStats = { scheduled: 0, queued: 0, sending: 0, sent: 0, failed: 0, cancelled: 0, expired: 0 };
  #options: WorkerOptions | undefined;
  #closing: Promise<void> | undefined;
  #abort = new AbortController();
  #idle: (() => void) | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: MemoryQueueOptions = {}) {
    setMaxListeners(0, this.#abort.signal); // one listener per running job
    this.#keepFinishedMs = options.keepFinishedMs ?? 24 * 3600_000;
    this.#maxFinished = options.maxFinished ?? 10_000;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 30_000;
  }

  async add(newJob: NewJob): Promise<AddResult> {
    const now = Date.now();
    this.#expire(now);
    const hit = this.#findKey(newJob.keys, now);
    if (hit) return { record: toRecord(hit), created: false };
    if (!newJob.skipped && this.#pending() >= this.#maxQueued) {
      throw new QueueFullError(
        `The queue already holds ${this.#maxQueued} unfinished messages; nothing was queued`,
        RETRY_WHEN_FULL_MS,
      );
    }
    const replaced = newJob.replaceKey === undefined ? undefined : this.#replaceKeys.get(newJob.replaceKey);
    const dueAt = newJob.sendAt !== undefined && newJob.sendAt > now ? Math.min(newJob.sendAt, newJob.deadline) : 0;
    const job: Job = {
      id: newId(),
      ruleId: newJob.ruleId,
      status: newJob.skipped ? 'skipped' : dueAt > 0 ? 'scheduled' : 'queued',
      priority: newJob.priority,
      attempts: 0,
      messageId: undefined,
      error: undefined,
      createdAt: now,
      updatedAt: now,
      message: newJob.skipped ? undefined : newJob.message,
      phone: newJob.skipped ? undefined : newJob.message.phone,
      sendAt: newJob.sendAt,
      notAfter: newJob.notAfter,
      deadline: newJob.deadline,
      replaceKey: newJob.skipped ? undefined : newJob.replaceKey,
      meta: newJob.meta,
      quiet: newJob.quiet,
      keys: newJob.keys.length > 0 ? newJob.keys : undefined,
      held: undefined,
      place: undefined,
      dueAt: 0,
      delivery: undefined,
      deliveryCheckedAt: undefined,
      deliveryRaw: undefined,
    };
    this.#jobs.set(job.id, job);
    for (const key of newJob.keys) this.#remember(key, job, now + newJob.keyTtlMs);
    let replacedRecord: JobRecord | undefined;
    if (replaced && (replaced.status === 'scheduled' || replaced.status === 'queued')) {
      this.#end(replaced, 'cancelled', undefined);
      replacedRecord = toRecord(replaced);
    }
    if (job.replaceKey !== undefined) this.#replaceKeys.set(job.replaceKey, job);
    if (newJob.skipped) {
      this.#markFinished(job, now);
    } else if (job.status === 'scheduled') {
      this.#counts.scheduled++;
      this.#wait(job, dueAt);
    } else {
      this.#counts.queued++;
      this.#enter(job, false);
      this.#pump();
    }
    const result: AddResult = { record: toRecord(job), created: true };
    if (replacedRecord) result.replaced = replacedRecord;
    return result;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    this.#expire(Date.now());
    const job = this.#jobs.get(id);
    return job ? toRecord(job) : undefined;
  }

  async find(keys: readonly string[]): Promise<JobRecord | undefined> {
    const job = this.#findKey(keys, Date.now());
    return job ? toRecord(job) : undefined;
  }

  async cancel(target: CancelTarget): Promise<JobRecord | undefined> {
    const job = typeof target === 'string' ? this.#jobs.get(target) : this.#replaceKeys.get(target.replaceKey);
    if (!job || (job.status !== 'scheduled' && job.status !== 'queued')) return undefined;
    this.#end(job, 'cancelled', undefined);
    return toRecord(job);
  }

  async requeue(id: string, deadline: number): Promise<JobRecord | undefined> {
    const job = this.#jobs.get(id);
    if (!job || (job.status !== 'failed' && job.status !== 'expired') || !job.message) return undefined;
    if (this.#pending() >= this.#maxQueued) {
      throw new QueueFullError(`The queue already holds ${this.#maxQueued} unfinished messages`, RETRY_WHEN_FULL_MS);
    }
    this.#counts[job.status]--;
    job.status = 'queued';
    job.deadline = deadline;
    job.updatedAt = Date.now();
    this.#counts.queued++;
    this.#enter(job, false);
    this.#pump();
    return toRecord(job);
  }

  async setDelivery(
    id: string,
    delivery: DeliveryStatus | undefined,
    checkedAt: number,
    raw?: string,
  ): Promise<JobRecord | undefined> {
    const job = this.#jobs.get(id);
    if (!job) return undefined;
    if (delivery !== undefined) job.delivery = delivery;
    job.deliveryCheckedAt = checkedAt;
    if (raw !== undefined) job.deliveryRaw = raw;
    return toRecord(job);
  }

  async list(options: ListOptions = {}): Promise<JobRecord[]> {
    const limit = Math.min(Math.max(1, options.limit ?? 50), 500);
    const top = new TopRecent<Job>(limit, (job) => job.updatedAt);
    for (const job of this.#jobs.values()) {
      if (options.status === undefined || job.status === options.status) top.offer(job);
    }
    return top.newestFirst().map(toRecord);
  }

  stats(): JobStats {
    return { ...this.#counts };
  }

  start(options: WorkerOptions): void {
    if (this.#options) throw new Error('This queue already has a worker');
    this.#options = options;
    if (options.maxQueued !== undefined) this.#maxQueued = options.maxQueued;
    this.#sweepTimer = setInterval(() => this.#sweep(), this.#sweepIntervalMs);
    this.#sweepTimer.unref();
    this.#pump();
  }

  close({ timeoutMs }: { timeoutMs: number }): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    if (!this.#isIdle()) {
      const drained = new Promise<void>((resolve) => {
        this.#idle = resolve;
      });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const result = await Promise.race([drained, timedOut]);
      clearTimeout(timer);
      if (result === 'timeout') {
        // Out of time: the workers give their jobs back (unless a request is on the wire), and
        // whatever is still waiting cannot be sent by this process.
        this.#abort.abort(new Error('The queue closed before this job finished'));
        this.#failWaiting();
        await drained;
      }
    }
    this.#scheduler.stop();
    clearInterval(this.#sweepTimer);
    this.#failWaiting();
  }

  /** Every job not sent by now dies with this process: its listeners hear of it as `CLOSED`. */
  #failWaiting(): void {
    for (const job of this.#lanes.drain()) {
      if (job.place === 'lane' && job.status === 'queued') this.#end(job, 'failed', CLOSED_ERROR);
    }
    for (const job of this.#scheduler.items()) {
      if (job.place !== 'timer') continue;
      if (job.status === 'scheduled') this.#end(job, 'failed', SCHEDULED_CLOSED_ERROR);
      else if (job.status === 'queued') this.#end(job, 'failed', CLOSED_ERROR);
    }
  }

  #pending(): number {
    return this.#counts.scheduled + this.#counts.queued + this.#counts.sending;
  }

  /** Closing waits for due work only (queued, retrying, sending): jobs scheduled for later do not hold it up. */
  #isIdle(): boolean {
    return this.#running === 0 && (this.#counts.queued === 0 || !this.#options);
  }

  /** Into its lane: at the back, or at the head when it keeps the turn it had. */
  #enter(job: Job, front: boolean): void {
    if (job.place === 'lane') return;
    job.place = 'lane';
    if (front) this.#lanes.pushFront(job, job.priority);
    else this.#lanes.push(job, job.priority);
  }

  /** On the timer until `at`. */
  #wait(job: Job, at: number): void {
    job.place = 'timer';
    job.dueAt = at;
    this.#scheduler.add(job, at);
  }

  #findKey(keys: readonly string[], now: number): Job | undefined {
    for (const key of keys) {
      const hit = this.#keys.get(key);
      if (hit && hit.expiresAt > now) return hit.job;
    }
    return undefined;
  }

  /** A scheduled job's time came, or a job's backoff ended: into its lane. */
  #due(job: Job, at: number): void {
    if (job.place !== 'timer' || job.dueAt !== at) return; // cancelled, expired or moved since
    job.place = undefined;
    if (job.status === 'scheduled') {
      this.#counts.scheduled--;
      this.#counts.queued++;
      job.status = 'queued';
      job.updatedAt = Date.now();
      this.#enter(job, false);
    } else {
      // Back from a not-accepted attempt: it keeps its turn at the head of its lane.
      this.#enter(job, true);
    }
    this.#pump();
  }

  #pump(): void {
    const options = this.#options;
    while (options && !this.#abort.signal.aborted && this.#running < options.concurrency) {
      const job = this.#lanes.shift();
      if (!job) break;
      if (job.place !== 'lane' || job.status !== 'queued') continue; // cancelled, expired or moved
      job.place = undefined;
      this.#running++;
      void this.#work(job, options);
    }
    if (this.#closing && this.#isIdle()) this.#idle?.();
  }

  async #work(job: Job, options: WorkerOptions): Promise<void> {
    const held = new AbortController();
    job.held = held;
    const signal = AbortSignal.any([held.signal, this.#abort.signal]);
    let outcome: JobOutcome;
    try {
      outcome = await options.worker(this.#active(job, signal));
    } catch (error) {
      outcome = {
        status: 'failed',
        error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) },
      };
    }
    job.held = undefined;
    this.#running--;
    // A job cancelled (or expired by a sweep) while the worker held it keeps that ending.
    if (job.status === 'queued' || job.status === 'sending') {
      const final = outcome.status === 'sent' || outcome.status === 'failed' || outcome.status === 'expired';
      // Closing and out of time: a job given back cannot wait for a later turn in this process.
      if (!final && this.#abort.signal.aborted) this.#end(job, 'failed', CLOSED_ERROR);
      else this.#apply(job, outcome);
    }
    this.#pump();
  }

  #active(job: Job, signal: AbortSignal): ActiveJob {
    const active: ActiveJob = {
      id: job.id,
      message: job.message as OutgoingMessage,
      priority: job.priority,
      attempts: job.attempts,
      deadline: job.deadline,
      quiet: job.quiet,
      signal,
      markAttempt: async () => {
        if (job.status !== 'queued' && job.status !== 'sending') {
          throw new Error(`Not sent: the job was ${job.status} before its turn`);
        }
        if (job.status === 'queued') {
          this.#counts.queued--;
          this.#counts.sending++;
          job.status = 'sending';
          // Sending now: a replace or a cancel can no longer take it back.
          if (job.replaceKey !== undefined && this.#replaceKeys.get(job.replaceKey) === job) {
            this.#replaceKeys.delete(job.replaceKey);
          }
        }
        job.attempts++;
        job.updatedAt = Date.now();
      },
      markNotAccepted: async () => {},
    };
    if (job.ruleId !== undefined) (active as { ruleId?: string }).ruleId = job.ruleId;
    if (job.error !== undefined) (active as { lastError?: JobError }).lastError = job.error;
    return active;
  }

  #apply(job: Job, outcome: JobOutcome): void {
    switch (outcome.status) {
      case 'sent':
        job.messageId = outcome.messageId;
        job.error = undefined;
        this.#end(job, 'sent', undefined);
        return;
      case 'failed':
      case 'expired':
        this.#end(job, outcome.status, outcome.error);
        return;
      case 'retry':
        this.#toWaiting(job, 'queued', outcome.error);
        this.#wait(job, outcome.at);
        return;
      case 'deferred':
        this.#toWaiting(job, 'scheduled', job.error);
        job.sendAt = outcome.until;
        this.#wait(job, Math.min(outcome.until, job.deadline));
        return;
      case 'released':
        this.#toWaiting(job, 'queued', job.error);
        this.#enter(job, true);
        return;
    }
  }

  #toWaiting(job: Job, status: 'queued' | 'scheduled', error: JobError | undefined): void {
    this.#counts[job.status as 'queued' | 'sending']--;
    this.#counts[status]++;
    job.status = status;
    job.error = error;
    job.updatedAt = Date.now();
    if (job.replaceKey !== undefined && !this.#replaceKeys.has(job.replaceKey)) {
      this.#replaceKeys.set(job.replaceKey, job);
    }
  }

  /** Ends a pending job: counts, keys, the record's history, and the worker if one holds it. */
  #end(job: Job, status: 'sent' | 'failed' | 'expired' | 'cancelled', error: JobError | undefined): void {
    const now = Date.now();
    this.#counts[job.status as 'scheduled' | 'queued' | 'sending']--;
    this.#counts[status]++;
    job.status = status;
    job.error = error;
    job.updatedAt = now;
    if (job.replaceKey !== undefined && this.#replaceKeys.get(job.replaceKey) === job) {
      this.#replaceKeys.delete(job.replaceKey);
    }
    if (job.keys && freesKeys(status, error)) {
      for (const key of job.keys) if (this.#keys.get(key)?.job === job) this.#keys.delete(key);
    }
    job.place = undefined;
    job.held?.abort(new Error(`The job was ${status}`));
    if (status !== 'failed' && status !== 'expired') job.message = undefined;
    this.#markFinished(job, now);
    try {
      this.#options?.onFinished(toRecord(job));
    } catch {
      // The notifier guards its listeners; a queue must never stop over one.
    }
  }

  #markFinished(job: Job, now: number): void {
    this.#finished.push({ job, finishedAt: now });
    this.#expire(now);
  }

  #remember(key: string, job: Job, expiresAt: number): void {
    const entry = { job, expiresAt };
    this.#keys.set(key, entry);
    this.#keyOrder.push({ key, entry });
  }

  /** Jobs waiting in a lane whose deadline passed (the line was down, or the backlog too long). */
  #sweep(): void {
    const now = Date.now();
    for (const job of this.#lanes) {
      if (job.place === 'lane' && job.deadline <= now) this.#end(job, 'expired', expiredError(job.error));
    }
    for (const job of this.#scheduler.items()) {
      if (job.place === 'timer' && job.deadline <= now) this.#end(job, 'expired', expiredError(job.error));
    }
    this.#expire(now);
  }

  /** Drops finished records past their time or over the cap, and keys past theirs, oldest first. */
  #expire(now: number): void {
    for (let oldest = this.#finished.peek(); oldest; oldest = this.#finished.peek()) {
      if (this.#finished.size <= this.#maxFinished && now - oldest.finishedAt < this.#keepFinishedMs) break;
      this.#finished.shift();
      // A job retried since is pending again: its old entry must not remove it.
      if (isFinal(oldest.job.status) && oldest.job.updatedAt <= oldest.finishedAt) {
        this.#jobs.delete(oldest.job.id);
      }
    }
    for (let oldest = this.#keyOrder.peek(); oldest; oldest = this.#keyOrder.peek()) {
      if (this.#keys.size <= this.#maxKeys && oldest.entry.expiresAt > now) break;
      this.#keyOrder.shift();
      // A key set again later has a newer entry: only the entry this slot recorded goes.
      if (this.#keys.get(oldest.key) === oldest.entry) this.#keys.delete(oldest.key);
    }
  }
}

/** A full queue answers "come back later": a minute lets about a hundred messages out at the vendor's pace. */
const RETRY_WHEN_FULL_MS = 60_000;

function toRecord(job: Job): JobRecord {
  const record = {
    id: job.id,
    status: job.status,
    priority: job.priority,
    attempts: job.attempts,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  } as JobRecord;
  if (job.ruleId !== undefined) record.ruleId = job.ruleId;
  if (job.phone !== undefined) record.phone = job.phone;
  if (job.messageId !== undefined) record.messageId = job.messageId;
  if (job.error !== undefined) record.error = job.error;
  if (job.sendAt !== undefined) record.sendAt = job.sendAt;
  if (job.notAfter !== undefined) record.notAfter = job.notAfter;
  if (job.replaceKey !== undefined) record.replaceKey = job.replaceKey;
  if (job.meta !== undefined) record.meta = job.meta;
  if (job.delivery !== undefined) record.delivery = job.delivery;
  if (job.deliveryCheckedAt !== undefined) record.deliveryCheckedAt = job.deliveryCheckedAt;
  if (job.deliveryRaw !== undefined) record.deliveryRaw = job.deliveryRaw;
  return record;
}
