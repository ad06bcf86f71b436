import { setMaxListeners } from 'node:events';
import { Fifo } from '../fifo.js';
import { newId } from '../ids.js';
import type { OutgoingMessage } from '../message.js';
import type {
  AddResult,
  JobError,
  JobOutcome,
  JobQueue,
  JobRecord,
  JobStats,
  JobStatus,
  NewJob,
  WorkerOptions,
} from './types.js';

export interface MemoryQueueOptions {
  /** How long finished job records stay readable through `get()`. Default 24 h. */
  keepFinishedMs?: number;
  /** At most this many finished records are kept; the oldest go first. Default 10 000. */
  maxFinished?: number;
  /** At most this many idempotency / dedupe keys are remembered; the oldest go first. Default 100 000. */
  maxKeys?: number;
}

// One object per job serves as queue entry, record and payload: 100 000 queued jobs stay small.
interface KeyEntry {
  job: Job;
  expiresAt: number;
}

interface Job {
  id: string;
  ruleId: string | undefined;
  status: JobStatus;
  attempts: number;
  messageId: string | undefined;
  error: JobError | undefined;
  createdAt: number;
  updatedAt: number;
  message: OutgoingMessage | undefined; // dropped once finished
}

/** The default queue: jobs live in this process only and are lost if it dies. */
export class MemoryQueue implements JobQueue {
  readonly #keepFinishedMs: number;
  readonly #maxFinished: number;
  readonly #maxKeys: number;
  readonly #jobs = new Map<string, Job>();
  readonly #finished = new Fifo<{ job: Job; finishedAt: number }>(); // in finishing order
  // A key keeps its job object even after the record expired, so a late duplicate never resends.
  readonly #keys = new Map<string, KeyEntry>();
  readonly #keyOrder = new Fifo<{ key: string; entry: KeyEntry }>(); // in the order they were set
  readonly #pending = new Fifo<Job>();
  #running = 0;
  #counts: JobStats = { queued: 0, sending: 0, sent: 0, failed: 0 };
  #options: WorkerOptions | undefined;
  #closing = false;
  #abort = new AbortController();
  #idle: (() => void) | undefined;

  constructor(options: MemoryQueueOptions = {}) {
    setMaxListeners(0, this.#abort.signal); // one listener per running job
    this.#keepFinishedMs = options.keepFinishedMs ?? 24 * 3600_000;
    this.#maxFinished = options.maxFinished ?? 10_000;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  async add(newJob: NewJob): Promise<AddResult> {
    const now = Date.now();
    this.#expire(now);
    for (const key of newJob.keys) {
      const hit = this.#keys.get(key);
      if (hit && hit.expiresAt > now) return { record: toRecord(hit.job), created: false };
    }
    const job: Job = {
      id: newId(),
      ruleId: newJob.ruleId,
      status: newJob.skipped ? 'skipped' : 'queued',
      attempts: 0,
      messageId: undefined,
      error: undefined,
      createdAt: now,
      updatedAt: now,
      message: newJob.skipped ? undefined : newJob.message,
    };
    this.#jobs.set(job.id, job);
    for (const key of newJob.keys) this.#remember(key, job, now + newJob.keyTtlMs);
    if (newJob.skipped) {
      this.#markFinished(job);
    } else {
      this.#counts.queued++;
      this.#pending.push(job);
      this.#pump();
    }
    return { record: toRecord(job), created: true };
  }

  async get(id: string): Promise<JobRecord | undefined> {
    this.#expire(Date.now());
    const job = this.#jobs.get(id);
    return job ? toRecord(job) : undefined;
  }

  stats(): JobStats {
    return { ...this.#counts };
  }

  start(options: WorkerOptions): void {
    if (this.#options) throw new Error('This queue already has a worker');
    this.#options = options;
    this.#pump();
  }

  async close({ timeoutMs }: { timeoutMs: number }): Promise<void> {
    this.#closing = true;
    if (this.#isIdle()) return;
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
      // Out of time: what is still queued cannot be sent by this process; say so on each job.
      for (const job of this.#pending.drain()) {
        this.#counts.queued--;
        this.#finish(job, {
          status: 'failed',
          error: { code: 'CLOSED', message: 'Not sent: the notifier closed before its turn' },
        });
      }
      this.#abort.abort(new Error('The queue closed before this job finished'));
      await drained;
    }
  }

  #isIdle(): boolean {
    return this.#running === 0 && (this.#pending.size === 0 || !this.#options);
  }

  #pump(): void {
    const options = this.#options;
    if (!options) return;
    while (this.#running < options.concurrency && this.#pending.size > 0) {
      const job = this.#pending.shift() as Job;
      this.#running++;
      void this.#work(job, options);
    }
    if (this.#closing && this.#isIdle()) this.#idle?.();
  }

  async #work(job: Job, options: WorkerOptions): Promise<void> {
    let outcome: JobOutcome;
    try {
      outcome = await options.worker({
        id: job.id,
        ...(job.ruleId === undefined ? {} : { ruleId: job.ruleId }),
        message: job.message as OutgoingMessage,
        signal: this.#abort.signal,
        markAttempt: async () => {
          if (job.status === 'queued') {
            this.#counts.queued--;
            this.#counts.sending++;
          }
          job.status = 'sending';
          job.attempts++;
          job.updatedAt = Date.now();
        },
        markNotAccepted: async () => {},
      });
    } catch (error) {
      outcome = {
        status: 'failed',
        error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) },
      };
    }
    if (job.status === 'sending') this.#counts.sending--;
    else this.#counts.queued--;
    this.#finish(job, outcome);
    this.#running--;
    try {
      options.onFinished(toRecord(job));
    } finally {
      this.#pump();
    }
  }

  #finish(job: Job, outcome: JobOutcome): void {
    job.status = outcome.status;
    if (outcome.status === 'sent') {
      job.messageId = outcome.messageId;
      this.#counts.sent++;
    } else {
      job.error = outcome.error;
      this.#counts.failed++;
    }
    this.#markFinished(job);
  }

  #markFinished(job: Job): void {
    const now = Date.now();
    job.updatedAt = now;
    job.message = undefined;
    this.#finished.push({ job, finishedAt: now });
    this.#expire(now);
  }

  #remember(key: string, job: Job, expiresAt: number): void {
    const entry = { job, expiresAt };
    this.#keys.set(key, entry);
    this.#keyOrder.push({ key, entry });
  }

  /** Drops finished records past their time or over the cap, and keys past theirs, oldest first. */
  #expire(now: number): void {
    for (let oldest = this.#finished.peek(); oldest; oldest = this.#finished.peek()) {
      if (this.#finished.size <= this.#maxFinished && now - oldest.finishedAt < this.#keepFinishedMs) break;
      this.#finished.shift();
      this.#jobs.delete(oldest.job.id);
    }
    for (let oldest = this.#keyOrder.peek(); oldest; oldest = this.#keyOrder.peek()) {
      if (this.#keys.size <= this.#maxKeys && oldest.entry.expiresAt > now) break;
      this.#keyOrder.shift();
      // A key set again later has a newer entry: only the entry this slot recorded goes.
      if (this.#keys.get(oldest.key) === oldest.entry) this.#keys.delete(oldest.key);
    }
  }
}

function toRecord(job: Job): JobRecord {
  const record: JobRecord = {
    id: job.id,
    status: job.status,
    attempts: job.attempts,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
  if (job.ruleId !== undefined) record.ruleId = job.ruleId;
  if (job.messageId !== undefined) record.messageId = job.messageId;
  if (job.error !== undefined) record.error = job.error;
  return record;
}
