import { randomUUID } from 'node:crypto';
import { ClosedError, JobStateError, type JobStatus, OlchatError, type Priority } from '@olchat-kit/core';
import {
  type ActiveJob,
  type Claim,
  expiredError,
  freesKeys,
  type JobOutcome,
  type SendKind,
  type WorkerOptions,
} from '@olchat-kit/core/queue';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createClient, describeRedisError, quickReconnect, type RedisConnection } from '../connection.js';
import { isLimiterOutage, RedisUnavailableError } from '../errors.js';
import { delay, retrying, settlesWithin } from '../util.js';
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
/** After Redis failed to hand out a job, the next try waits this long, doubling up to the max. */
const FETCH_RETRY_MIN_MS = 100;
const FETCH_RETRY_MAX_MS = 2_000;
/** With jobs of ours at work and none waiting, BullMQ is asked again this often. */
const LOOK_AGAIN_MS = 500;

/** What working one BullMQ job came to: BullMQ is still to hear it is done, or it was moved already. */
type Disposition = 'done' | 'moved';

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
  /** Resolves once the queue's own connection is ready for our scripts. */
  ready(): Promise<void>;
  /** Parks a job whose lane is held (shared-gates.ts); true when it did. */
  park?(job: Job<JobData>, token: string): Promise<boolean>;
}

interface Holding {
  controller: AbortController;
  /** The BullMQ lock token of this pickup. */
  owner: string;
}

/**
 * This process's worker: it takes jobs from BullMQ by hand, slot first (see `#dispatch`); each job
 * is checked against its record, given to the notifier's worker function, and its outcome stored;
 * BullMQ is then told where the job goes (finished, delayed until due, or back to waiting).
 */
export class QueueWorker {
  readonly #host: WorkerHost;
  readonly #settings: WorkerSettings;
  readonly #options: WorkerOptions;
  readonly #worker: Worker<JobData>;
  readonly #base: Redis;
  /** The jobs this process is working, by record id: cancel() and close() abort their signals. */
  readonly #held = new Map<string, Holding>();
  /**
   * Every BullMQ job this process took and has not handed back, by lock token. BullMQ renews no
   * lock of a job fetched by hand: we renew them all, from the fetch until BullMQ hears the end.
   */
  readonly #fetched = new Map<string, Job<JobData>>();
  readonly #running = new Set<Promise<void>>();
  /** Stops taking jobs; ends a claim still waiting for its slot. */
  readonly #stop = new AbortController();
  #wake: (() => void) | undefined;
  readonly #loop: Promise<void>;
  readonly #lockKeeper: NodeJS.Timeout;
  readonly #tokenPrefix = randomUUID();
  #tokens = 0;
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
    this.#worker = new Worker<JobData>(settings.name, undefined, {
      connection: this.#base,
      prefix: settings.prefix,
      lockDuration: settings.lockDurationMs,
      stalledInterval: settings.stalledIntervalMs,
      maxStalledCount: BULLMQ_MAX_STALLED,
      autorun: false,
    });
    this.#worker.on('error', (error) => host.warn('worker', error));
    // Jobs are fetched by hand, so BullMQ's look for dead workers' jobs is started by hand too.
    this.#worker.startStalledCheckTimer().catch((error) => host.warn('worker', error));
    // Four renewals per lock: a busy event loop or a slow Redis may hold one or two of them up.
    this.#lockKeeper = setInterval(() => this.#renewLocks(), Math.max(100, Math.floor(settings.lockDurationMs / 4)));
    this.#lockKeeper.unref();
    this.#loop = this.#dispatch();
  }

  /** One call for every lock we hold. A lock lost to another worker stays lost: that worker sends the job. */
  #renewLocks(): void {
    if (this.#fetched.size === 0) return;
    const tokens = [...this.#fetched.keys()];
    const ids = [...this.#fetched.values()].map((job) => job.id as string);
    this.#worker.extendJobLocks(ids, tokens, this.#settings.lockDurationMs).catch(() => undefined);
  }

  /** Aborts the signal of a job this process holds (it was cancelled). */
  abort(id: string, reason: unknown): void {
    this.#held.get(id)?.controller.abort(reason);
  }

  /** Takes no more jobs and waits for the running ones; past `timeoutMs` their signals abort. */
  async close(timeoutMs: number): Promise<void> {
    this.#stop.abort(new ClosedError('The queue closed'));
    this.#wakeUp();
    if (!(await settlesWithin(this.#idle(), timeoutMs))) {
      // Out of time: jobs still waiting (for the line, or a slot) stop and go back to the queue. A
      // request already on the wire cannot be called back: its answer (or timeout) is awaited.
      this.#abortReason = new ClosedError('The queue closed before this job was sent');
      for (const { controller } of this.#held.values()) controller.abort(this.#abortReason);
      await settlesWithin(this.#idle(), CLOSE_GRACE_MS);
    }
    // Every job of ours is settled: a fetch still waiting for work ends with the connections.
    await settlesWithin(
      this.#worker.close(true).catch((error) => this.#host.warn('worker', error)),
      CLOSE_GRACE_MS,
    );
    await settlesWithin(this.#loop, CLOSE_GRACE_MS);
    clearInterval(this.#lockKeeper);
    this.#base.disconnect();
  }

  async #idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /**
   * Takes jobs, at most `concurrency` at work. Slot first when the notifier claims slots: the kind
   * and lane of the job BullMQ would hand out next are looked up, a limit slot of that kind is
   * taken, and only then is a job taken, the best one at that moment. So no job is held here while
   * it only waits for its turn (a later `high` job takes the next free slot, and a process that
   * dies holds back no job it was not about to send). A job that comes while none was waiting
   * (the first after a quiet spell, or one that came due) is taken as it comes and waits for its
   * slot in its worker; so do all jobs without claims.
   */
  async #dispatch(): Promise<void> {
    const claim = this.#options.claim;
    // Our scripts' client fails fast: asking it before it is connected only meets an error.
    await this.#host.ready().catch(() => undefined);
    let retryMs = FETCH_RETRY_MIN_MS;
    while (!this.#stop.signal.aborted) {
      if (this.#running.size >= this.#options.concurrency) {
        await this.#nextEnd(undefined);
        continue;
      }
      try {
        const next = claim ? await this.#host.store.peek(Date.now()) : undefined;
        if (claim && next) {
          await this.#withClaim(claim, next.kind, next.priority);
          continue;
        }
        // None to be seen: one is taken as it comes. While none of ours is at work, BullMQ waits
        // for one to be added; otherwise the wait also ends when one of ours does (a job handed
        // back to BullMQ wakes no waiting worker).
        const idle = this.#running.size === 0;
        const started = await this.#fetchAndStart(undefined, idle);
        if (!started && !idle) await this.#nextEnd(LOOK_AGAIN_MS);
        retryMs = FETCH_RETRY_MIN_MS;
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        this.#host.warn('worker', error);
        await delay(retryMs);
        retryMs = Math.min(retryMs * 2, FETCH_RETRY_MAX_MS);
      }
    }
  }

  /** Until one of our jobs ends (or the worker stops), or `ms` passes. */
  #nextEnd(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.#wakeUp(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** A slot first, then jobs until one uses it (one that needed no send leaves it to the next). */
  async #withClaim(claim: NonNullable<WorkerOptions['claim']>, kind: SendKind, priority: Priority): Promise<void> {
    let claimed: Claim;
    try {
      claimed = await claim(kind, priority, this.#stop.signal);
    } catch {
      if (this.#stop.signal.aborted) return;
      // The limiter failed: one job meets the failure through its own call, and is released or
      // retried as such a failure is.
      await this.#fetchAndStart(undefined, false);
      return;
    }
    try {
      while (!claimed.spent && !this.#stop.signal.aborted && this.#running.size < this.#options.concurrency) {
        const started = await this.#fetchAndStart(claimed, false);
        if (!started) break;
        await Promise.race([claimed.whenSpent(), started.working]);
      }
    } finally {
      await claimed.release(); // a no-op once a request took it
    }
  }

  /**
   * Takes the next job and starts working it: its work (wrapped: an async function would wait for
   * a promise it returns), or undefined when BullMQ had none.
   */
  async #fetchAndStart(claim: Claim | undefined, block: boolean): Promise<{ working: Promise<void> } | undefined> {
    const token = `${this.#tokenPrefix}:${++this.#tokens}`;
    const job = await this.#worker.getNextJob(token, { block });
    if (!job) return undefined;
    if (this.#stop.signal.aborted) {
      // Taken as the worker stopped: back to the head of its lane, untouched.
      await job.moveToWait(token).catch((error) => this.#host.warn('worker', error));
      return undefined;
    }
    this.#fetched.set(token, job);
    const working = this.#run(job, token, claim).finally(() => {
      this.#fetched.delete(token);
      this.#running.delete(working);
      this.#wakeUp();
    });
    this.#running.add(working);
    return { working };
  }

  /** Works one job, then tells BullMQ: done, or (after a Redis error) failed, to be handed out again. */
  async #run(job: Job<JobData>, token: string, claim: Claim | undefined): Promise<void> {
    try {
      if ((await this.#process(job, token, claim)) === 'done') await job.moveToCompleted(undefined, token, false);
    } catch (error) {
      // BullMQ hands it out again after its backoff; its record decides then what it is.
      await job
        .moveToFailed(error instanceof Error ? error : new Error(String(error)), token, false)
        .catch((moveError) => this.#host.warn('worker', moveError));
    }
  }

  async #process(job: Job<JobData>, owner: string, claim: Claim | undefined): Promise<Disposition> {
    const { store } = this.#host;
    const bullId = job.id as string;
    const id = job.data?.id ?? bullId;
    // A held lane (paused, or the line flagged) keeps its jobs out of the workers' hands: parked in
    // BullMQ's delayed set (the claim, unspent, is given back by the caller).
    if (await this.#host.park?.(job, owner)) return 'moved';
    const picked = await store.pickup(
      {
        id,
        bullId,
        token: owner,
        claimKind: claim && !claim.spent ? claim.kind : undefined,
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
      return 'moved';
    }
    if (picked.verdict === 'ended') {
      this.#host.stats.move('queued', 'failed');
      this.#host.announce(picked.fields);
      return 'done';
    }
    if (picked.verdict !== 'work') return 'done'; // finished, cancelled, or an earlier round's BullMQ job
    const stored = toStoredJob(picked.fields, picked.message);
    if (!stored) return 'done';
    if (!stored.message) {
      const error = { code: 'INTERNAL', message: "The job's message is missing from its record" };
      return this.#settle(job, id, owner, { status: 'failed', error }, 'queued');
    }
    if (stored.deadline <= Date.now()) {
      // It waited past its deadline (a long outage, or a dead worker): it is not worked any more.
      return this.#settle(job, id, owner, { status: 'expired', error: expiredError(stored.record.error) }, 'queued');
    }
    return this.#work(job, owner, stored, stored.message, claim);
  }

  /** One pickup through the notifier's worker function. */
  async #work(
    job: Job<JobData>,
    owner: string,
    stored: StoredJob,
    message: ActiveJob['message'],
    claim: Claim | undefined,
  ): Promise<Disposition> {
    const { store, stats } = this.#host;
    const { record } = stored;
    const id = record.id;
    const controller = new AbortController();
    if (this.#abortReason !== undefined) controller.abort(this.#abortReason);
    const holding: Holding = { controller, owner };
    this.#held.set(id, holding);
    let status: JobStatus = 'queued';
    let inFlight = false;
    let markFailed = false;
    const active: ActiveJob = {
      id,
      ruleId: record.ruleId,
      message,
      priority: record.priority,
      category: record.category,
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
      outcome = await this.#options.worker(active, claim);
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
  ): Promise<Disposition> {
    const { store, stats } = this.#host;
    const final =
      outcome.status === 'sent' ||
      outcome.status === 'failed' ||
      outcome.status === 'expired' ||
      outcome.status === 'skipped';
    const freeKeys = final && freesKeys(outcome.status, 'error' in outcome ? outcome.error : undefined);
    const { done, fields } = await retrying(
      () => store.outcome(id, owner, outcome, freeKeys, Date.now()),
      OUTCOME_RETRY_MS,
    );
    // Not done: cancelled, expired or taken over meanwhile; whoever did that reported it.
    if (!done) return 'done';
    if (final) {
      stats.move(from, outcome.status);
      this.#host.announce(fields);
      return 'done';
    }
    stats.move(from, outcome.status === 'deferred' ? 'scheduled' : 'queued');
    if (outcome.status === 'released' && delayUntil === undefined) {
      await job.moveToWait(owner);
      return 'moved';
    }
    const at = outcome.status === 'retry' ? outcome.at : outcome.status === 'deferred' ? outcome.until : delayUntil;
    await job.moveToDelayed(at ?? Date.now(), owner);
    return 'moved';
  }
}
