import { randomUUID } from 'node:crypto';
import {
  type ActiveJob,
  ClosedError,
  expiredError,
  freesKeys,
  type JobOutcome,
  JobStateError,
  type JobStatus,
  OlchatError,
  type WorkerOptions,
} from '@olchat-kit/core';
import { DelayedError, type Job, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createClient, describeRedisError, quickReconnect, type RedisConnection } from '../connection.js';
import { isLimiterOutage, RedisUnavailableError } from '../errors.js';
import { retrying, settlesWithin } from '../util.js';
import { type JobData, REDIS_ERROR_RETRY_MS } from './bull.js';
import { type Fields, type StoredJob, toStoredJob } from './record.js';
import type { CachedStats } from './stats.js';
import type { JobStore } from './store.js';

export const AMBIGUOUS_MESSAGE =
  'The process sending this message stopped while the request was in flight; it may have been sent';
const STALLED_MESSAGE = 'The processes working this job stopped too many times before it was sent';

/** BullMQ must never fail a stalled job itself: the pickup script decides, from the record. */
const BULLMQ_MAX_STALLED = 1_000_000;
/** An outcome is retried this long across a Redis outage before the job is left to recovery. */
const OUTCOME_RETRY_MS = 60_000;
/** A job due this soon is worked now instead of being delayed again (BullMQ's timers are not exact). */
const EARLY_TOLERANCE_MS = 50;
const CLOSE_GRACE_MS = 15_000;

export interface WorkerSettings {
  connection: RedisConnection;
  name: string;
  prefix: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  retryAmbiguous: boolean;
  secret: string | undefined;
}

/** What the worker needs of its queue. */
export interface WorkerHost {
  store: JobStore;
  stats: CachedStats;
  /** Calls onFinished with the record, guarded. */
  announce(fields: Fields): void;
  warn(what: string, error: unknown): void;
  closing(): boolean;
}

/**
 * This process's BullMQ worker: each job BullMQ hands over is checked against its record, given
 * to the notifier's worker function, and its outcome stored; BullMQ is then told where the job
 * goes (finished, delayed until due, or back to waiting).
 */
interface Holding {
  controller: AbortController;
  job: Job<JobData>;
  /** The BullMQ lock token of this pickup. */
  owner: string;
}

export class QueueWorker {
  readonly #host: WorkerHost;
  readonly #settings: WorkerSettings;
  readonly #options: WorkerOptions;
  readonly #worker: Worker<JobData>;
  readonly #base: Redis;
  /** The jobs this process is working, by record id: cancel() and close() abort their signals. */
  readonly #held = new Map<string, Holding>();
  /**
   * Our own renewal of the BullMQ locks of the jobs we work. BullMQ tracks locks by job id, so a
   * job released (or recovered from a stall) and fetched again by another of this process's slots
   * can lose its tracking when the earlier processing ends; without renewal its lock lapses, BullMQ
   * hands it out a third time, and a pickup that finds it in flight would end it AMBIGUOUS.
   */
  readonly #lockKeeper: NodeJS.Timeout;
  #abortReason: unknown;

  constructor(host: WorkerHost, settings: WorkerSettings, options: WorkerOptions) {
    this.#host = host;
    this.#settings = settings;
    this.#options = options;
    // BullMQ duplicates this client for its connections (one of them blocks waiting for jobs);
    // the template itself never connects.
    this.#base = createClient(settings.connection, {
      maxRetriesPerRequest: null,
      lazyConnect: true,
      retryStrategy: quickReconnect,
    });
    this.#worker = new Worker<JobData>(settings.name, (job, token) => this.#process(job, token), {
      connection: this.#base,
      prefix: settings.prefix,
      concurrency: options.concurrency,
      lockDuration: settings.lockDurationMs,
      stalledInterval: settings.stalledIntervalMs,
      maxStalledCount: BULLMQ_MAX_STALLED,
      autorun: true,
    });
    this.#worker.on('error', (error) => host.warn('worker', error));
    this.#lockKeeper = setInterval(() => this.#renewLocks(), Math.max(100, Math.floor(settings.lockDurationMs / 3)));
    this.#lockKeeper.unref();
  }

  #renewLocks(): void {
    for (const { job, owner } of this.#held.values()) {
      // A lock lost to another worker stays lost: that worker sends the job, ours is refused.
      job.extendLock(owner, this.#settings.lockDurationMs).catch(() => undefined);
    }
  }

  /** Aborts the signal of a job this process holds (it was cancelled). */
  abort(id: string, reason: unknown): void {
    this.#held.get(id)?.controller.abort(reason);
  }

  /** Takes no more jobs and waits for the running ones; past `timeoutMs` their signals abort. */
  async close(timeoutMs: number): Promise<void> {
    const closed = this.#worker.close().catch((error) => this.#host.warn('worker', error));
    if (!(await settlesWithin(closed, timeoutMs))) {
      // Out of time: jobs still waiting for a slot stop and go back to the queue. A request
      // already on the wire cannot be called back: its answer (or timeout) is awaited.
      this.#abortReason = new ClosedError('The queue closed before this job was sent');
      for (const { controller } of this.#held.values()) controller.abort(this.#abortReason);
      await settlesWithin(closed, CLOSE_GRACE_MS);
    }
    clearInterval(this.#lockKeeper);
    this.#base.disconnect();
  }

  async #process(job: Job<JobData>, token: string | undefined): Promise<void> {
    const { store } = this.#host;
    const bullId = job.id as string;
    const id = job.data?.id ?? bullId;
    const owner = token ?? job.token ?? randomUUID();
    const picked = await store.pickup(
      {
        id,
        bullId,
        token: owner,
        stalledCount: job.stalledCounter ?? 0,
        maxStalledCount: this.#settings.maxStalledCount,
        retryAmbiguous: this.#settings.retryAmbiguous,
        ambiguousMessage: AMBIGUOUS_MESSAGE,
        stalledMessage: STALLED_MESSAGE,
        freeKeysIfAmbiguous: freesKeys('failed', { code: 'AMBIGUOUS', message: AMBIGUOUS_MESSAGE }),
        freeKeysIfStalled: freesKeys('failed', { code: 'STALLED', message: STALLED_MESSAGE }),
        earlyToleranceMs: EARLY_TOLERANCE_MS,
      },
      Date.now(),
    );
    if (picked.verdict === 'early') {
      await job.moveToDelayed(picked.at, owner);
      throw new DelayedError();
    }
    if (picked.verdict === 'ended') {
      this.#host.stats.move('queued', 'failed');
      this.#host.announce(picked.fields);
      return;
    }
    if (picked.verdict !== 'work') return; // finished, cancelled, or an earlier round's BullMQ job
    const stored = toStoredJob(picked.fields, picked.message);
    if (!stored) return;
    if (!stored.message) {
      const error = { code: 'INTERNAL', message: "The job's message is missing from its record" };
      return this.#settle(job, id, owner, { status: 'failed', error }, 'queued');
    }
    if (stored.deadline <= Date.now()) {
      // It waited past its deadline (a long outage, or a dead worker): it is not worked any more.
      return this.#settle(job, id, owner, { status: 'expired', error: expiredError(stored.record.error) }, 'queued');
    }
    await this.#work(job, owner, stored, stored.message);
  }

  /** One pickup through the notifier's worker function. */
  async #work(job: Job<JobData>, owner: string, stored: StoredJob, message: ActiveJob['message']): Promise<void> {
    const { store, stats } = this.#host;
    const { record } = stored;
    const id = record.id;
    const controller = new AbortController();
    if (this.#abortReason !== undefined) controller.abort(this.#abortReason);
    const holding: Holding = { controller, job, owner };
    this.#held.set(id, holding);
    let status: JobStatus = 'queued';
    let inFlight = false;
    let markFailed = false;
    const active: ActiveJob = {
      id,
      ruleId: record.ruleId,
      message,
      priority: record.priority,
      attempts: record.attempts,
      lastError: record.error,
      deadline: stored.deadline,
      quiet: stored.quiet,
      trace: stored.trace,
      signal: controller.signal,
      markAttempt: async () => {
        let reply: Awaited<ReturnType<JobStore['markAttempt']>>;
        try {
          reply = await store.markAttempt(id, owner, Date.now());
        } catch (error) {
          markFailed = true;
          throw new RedisUnavailableError(
            `Could not record the attempt: Redis is unreachable (${describeRedisError(error, this.#settings.secret)}); nothing was sent`,
          );
        }
        if (!reply.ok) {
          throw reply.status === 'cancelled'
            ? new OlchatError('CANCELLED', 'The job was cancelled; not sent')
            : new JobStateError('This worker no longer holds the job (another took it over, or it ended); not sent');
        }
        if (status === 'queued') stats.move('queued', 'sending');
        status = 'sending';
        inFlight = true;
      },
      markNotAccepted: async () => {
        try {
          if (await store.markNotAccepted(id, owner, Date.now())) inFlight = false;
        } catch (error) {
          // Left marked in flight: should this process die now, the job ends AMBIGUOUS (never a duplicate).
          this.#host.warn('worker', error);
        }
      },
    };

    let outcome: JobOutcome;
    try {
      outcome = await this.#options.worker(active);
    } catch (error) {
      outcome = { status: 'failed', error: { code: 'INTERNAL', message: String((error as Error)?.message ?? error) } };
    } finally {
      // A later pickup of the same job in this process may hold the entry now: leave it to that one.
      if (this.#held.get(id) === holding) this.#held.delete(id);
    }

    if (outcome.status === 'failed' && !inFlight) {
      const closedEarly = this.#host.closing() && outcome.error.code === 'CLOSED';
      // Redis failed before the request, or the shared limiter gave up on it: nothing was sent,
      // so it is not a failed send. Back to the queue, for this or the next process.
      if (closedEarly || markFailed || isLimiterOutage(outcome.error)) {
        const retryAt = closedEarly ? undefined : Date.now() + REDIS_ERROR_RETRY_MS;
        return this.#settle(job, id, owner, { status: 'released' }, status, retryAt);
      }
    }
    return this.#settle(job, id, owner, outcome, status);
  }

  /**
   * Stores the outcome (across a short Redis outage), then moves the BullMQ job to match: a final
   * one completes, a retry or deferral waits in BullMQ's delayed set, a released one goes back to
   * the head of its lane (or, with `delayUntil`, waits until then).
   */
  async #settle(
    job: Job<JobData>,
    id: string,
    owner: string,
    outcome: JobOutcome,
    from: JobStatus,
    delayUntil?: number,
  ): Promise<void> {
    const { store, stats } = this.#host;
    const final = outcome.status === 'sent' || outcome.status === 'failed' || outcome.status === 'expired';
    const freeKeys = final && freesKeys(outcome.status, 'error' in outcome ? outcome.error : undefined);
    const { done, fields } = await retrying(
      () => store.outcome(id, owner, outcome, freeKeys, Date.now()),
      OUTCOME_RETRY_MS,
    );
    // Not done: cancelled, expired or taken over meanwhile; whoever did that reported it.
    if (!done) return;
    if (final) {
      stats.move(from, outcome.status);
      this.#host.announce(fields);
      return;
    }
    stats.move(from, outcome.status === 'deferred' ? 'scheduled' : 'queued');
    if (outcome.status === 'released' && delayUntil === undefined) {
      await job.moveToWait(owner);
      throw new WaitingError();
    }
    const at = outcome.status === 'retry' ? outcome.at : outcome.status === 'deferred' ? outcome.until : delayUntil;
    await job.moveToDelayed(at ?? Date.now(), owner);
    throw new DelayedError();
  }
}
