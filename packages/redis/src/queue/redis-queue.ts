import { randomUUID } from 'node:crypto';
import {
  type ActiveJob,
  type AddResult,
  ClosedError,
  type JobOutcome,
  type JobQueue,
  type JobRecord,
  type JobStats,
  type Logger,
  type NewJob,
  OlchatError,
  type OutgoingMessage,
  ValidationError,
  type WorkerOptions,
} from '@olchat-kit/core';
import { DelayedError, type Job, Queue, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  closeClient,
  connectionSecret,
  createClient,
  describeRedisError,
  failFastOptions,
  quickReconnect,
  type RedisConnection,
  validateConnection,
  watchClient,
} from '../connection.js';
import { isLimiterOutage, RedisUnavailableError } from '../errors.js';
import { positiveInt, retrying, settlesWithin, withTimeout } from '../util.js';
import { QueueKeys } from './keys.js';
import { fieldsOf, toRecord } from './record.js';
import { CLAIM, FINISH, GIVE_UP, MARK_ATTEMPT, MARK_NOT_ACCEPTED, PICKUP, PUT_BACK } from './scripts.js';
import { CachedStats } from './stats.js';

export interface RedisQueueOptions {
  /** ioredis options, a `redis://` URL, or an ioredis client (duplicated, never closed by the queue). */
  connection: RedisConnection;
  /** Queue name: processes that share it share the jobs. Default `'notifications'`. */
  name?: string;
  /** Prefix of every key. Default `'olchat'` (keys `olchat:<name>:…`). */
  prefix?: string;
  /** How long a worker's hold on a job lasts unless renewed (it is, every half). Default 10 000. */
  lockDurationMs?: number;
  /** How often workers look for jobs whose worker died. Default 5 000. */
  stalledIntervalMs?: number;
  /** How many times a job whose worker died is tried again before it ends `STALLED`. Default 1. */
  maxStalledCount?: number;
  /**
   * A job whose process died while its request was in flight ends `AMBIGUOUS` (it may have been
   * delivered). `true` sends it again instead: no message is lost, one may arrive twice.
   */
  retryAmbiguous?: boolean;
  /** How long `get()` still answers for a finished job (and at least as long as its keys). Default 24 h. */
  keepFinishedMs?: number;
  /** How long `add()` waits for Redis before rejecting with `RedisUnavailableError`. Default 5 000. */
  addTimeoutMs?: number;
  /** How often `stats()` is refreshed from Redis. Default 1 000. */
  statsIntervalMs?: number;
  logger?: Logger;
}

/** What BullMQ stores per job: enough to send it, and to rebuild a lost record. */
interface JobData {
  message: OutgoingMessage;
  ruleId?: string;
  createdAt: number;
}

const JOB_NAME = 'send';
const DAY_MS = 86_400_000;
/** A record that was never worked (nobody runs a worker) expires on its own after this. */
const PENDING_TTL_MS = 30 * DAY_MS;
/** A record outlives its idempotency keys by this much, so a key never points at nothing. */
const KEY_GRACE_MS = 60_000;
/** BullMQ must never fail a stalled job itself: the pickup script decides, from the record. */
const BULLMQ_MAX_STALLED = 1_000_000;
/** An outcome is retried this long across a Redis outage before the job is left to recovery. */
const FINISH_RETRY_MS = 60_000;
/** A job whose processing hit a Redis error is tried again after this (BullMQ's own retry). */
const REDIS_ERROR_RETRY_MS = 2_000;
const REDIS_ERROR_ATTEMPTS = 1_800; // about an hour of a Redis that answers BullMQ but not us
const CLOSE_GRACE_MS = 15_000;
const MAX_ID_LENGTH = 128;

const AMBIGUOUS_MESSAGE =
  'The process sending this message stopped while the request was in flight; it may have been sent';
const STALLED_MESSAGE = 'The processes working this job stopped too many times before it was sent';

/**
 * A durable `JobQueue` on BullMQ: every accepted job is in Redis before `add()` resolves, any
 * process can read it, and a job whose process died is worked again by another (or, if its
 * request may have reached OLChat, ended `AMBIGUOUS`).
 */
export class RedisQueue implements JobQueue {
  readonly #connection: RedisConnection;
  readonly #name: string;
  readonly #prefix: string;
  readonly #keys: QueueKeys;
  readonly #lockDurationMs: number;
  readonly #stalledIntervalMs: number;
  readonly #maxStalledCount: number;
  readonly #retryAmbiguous: boolean;
  readonly #keepFinishedMs: number;
  readonly #addTimeoutMs: number;
  readonly #logger: Logger | undefined;
  readonly #secret: string | undefined;
  /** Our scripts and BullMQ's producer side: fail-fast, never a command run late. */
  readonly #client: Redis;
  readonly #queue: Queue<JobData>;
  readonly #ready: Promise<void>;
  readonly #stats: CachedStats;
  readonly #abort = new AbortController();
  #worker: Worker<JobData> | undefined;
  #workerBase: Redis | undefined;
  #workerOptions: WorkerOptions | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
  #lastWorkerWarning = 0;

  constructor(options: RedisQueueOptions) {
    if (typeof options !== 'object' || options === null) throw new ValidationError('redisQueue needs { connection }');
    validateConnection(options.connection, 'redisQueue');
    const {
      name = 'notifications',
      prefix = 'olchat',
      lockDurationMs = 10_000,
      stalledIntervalMs = 5_000,
      maxStalledCount = 1,
      retryAmbiguous = false,
      keepFinishedMs = DAY_MS,
      addTimeoutMs = 5_000,
      statsIntervalMs = 1_000,
    } = options;
    if (typeof name !== 'string' || !/^[\w.-]{1,100}$/.test(name)) {
      throw new ValidationError('name must be 1–100 letters, digits, "_", "." or "-"');
    }
    if (typeof prefix !== 'string' || prefix === '' || prefix.length > 100) {
      throw new ValidationError('prefix must be a non-empty string');
    }
    if (typeof retryAmbiguous !== 'boolean') throw new ValidationError('retryAmbiguous must be a boolean');
    if (!Number.isInteger(maxStalledCount) || maxStalledCount < 0) {
      throw new ValidationError('maxStalledCount must be an integer ≥ 0');
    }
    this.#connection = options.connection;
    this.#name = name;
    this.#prefix = prefix;
    this.#keys = new QueueKeys(prefix, name);
    this.#lockDurationMs = positiveInt(lockDurationMs, 'lockDurationMs');
    this.#stalledIntervalMs = positiveInt(stalledIntervalMs, 'stalledIntervalMs');
    this.#maxStalledCount = maxStalledCount;
    this.#retryAmbiguous = retryAmbiguous;
    this.#keepFinishedMs = positiveInt(keepFinishedMs, 'keepFinishedMs');
    this.#addTimeoutMs = positiveInt(addTimeoutMs, 'addTimeoutMs');
    this.#logger = options.logger;
    this.#secret = connectionSecret(options.connection);

    this.#client = createClient(options.connection, failFastOptions(this.#addTimeoutMs));
    watchClient(this.#client, `queue ${name}`, this.#logger, this.#secret);
    this.#queue = new Queue<JobData>(name, { connection: this.#client, prefix });
    this.#queue.on('error', (error) => this.#warn('queue', error));
    // Resolves once BullMQ has loaded its scripts on the client: until then add() must not start
    // (a BullMQ call would wait for the connection and might then run after add() gave up).
    this.#ready = this.#queue.waitUntilReady();
    this.#ready.catch(() => undefined);
    this.#stats = new CachedStats(() => this.#readStats());
    this.#stats.start(positiveInt(statsIntervalMs, 'statsIntervalMs'));
  }

  async add(job: NewJob): Promise<AddResult> {
    if (this.#closing) throw new ClosedError('The queue is closed');
    try {
      await withTimeout(
        this.#ready,
        this.#addTimeoutMs,
        () => new Error(`no connection to Redis within ${this.#addTimeoutMs} ms`),
      );
      const id = randomUUID();
      const now = Date.now();
      const reply = (await CLAIM.run(
        this.#client,
        [this.#keys.record(id), this.#keys.stats, ...job.keys.map((key) => this.#keys.idempotency(key))],
        [
          id,
          now,
          job.keyTtlMs,
          job.skipped ? 'skipped' : 'queued',
          job.ruleId ?? '',
          PENDING_TTL_MS,
          this.#keepFinishedMs,
          KEY_GRACE_MS,
          this.#keys.recordPrefix,
        ],
      )) as [number, string, unknown];
      const [created, recordId, fields] = reply;
      const record = toRecord(fieldsOf(fields), recordId) as JobRecord;
      // A new job, or a key's first job that is still queued: BullMQ skips a job id it already
      // has, so adding again is harmless, and it revives a first job whose add never completed
      // (its process died, or Redis failed, between the two steps).
      if (!job.skipped && record.status === 'queued') {
        const data: JobData = { message: job.message, createdAt: record.createdAt };
        if (record.ruleId !== undefined) data.ruleId = record.ruleId;
        await this.#queue.add(JOB_NAME, data, {
          jobId: record.id,
          removeOnComplete: true, // the record is the result; the job would only keep the message text
          removeOnFail: { age: Math.ceil(this.#keepFinishedMs / 1000) },
          attempts: REDIS_ERROR_ATTEMPTS,
          backoff: { type: 'fixed', delay: REDIS_ERROR_RETRY_MS },
        });
      }
      if (created === 1 && !job.skipped) this.#stats.move(undefined, 'queued');
      return { record, created: created === 1 };
    } catch (error) {
      if (error instanceof OlchatError) throw error;
      throw new RedisUnavailableError(
        `Could not queue the message: Redis is unreachable (${describeRedisError(error, this.#secret)}); nothing was queued`,
      );
    }
  }

  async get(id: string): Promise<JobRecord | undefined> {
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) return undefined;
    if (this.#closed) throw new ClosedError('The queue is closed: its Redis connection is gone');
    try {
      await withTimeout(this.#ready, this.#addTimeoutMs, () => new Error('no connection to Redis'));
      return toRecord(await this.#client.hgetall(this.#keys.record(id)));
    } catch (error) {
      throw new RedisUnavailableError(
        `Could not read the job: Redis is unreachable (${describeRedisError(error, this.#secret)})`,
      );
    }
  }

  stats(): JobStats {
    return this.#stats.snapshot;
  }

  start(options: WorkerOptions): void {
    if (this.#workerOptions) throw new Error('This queue already has a worker');
    if (this.#closing) throw new ClosedError('The queue is closed');
    this.#workerOptions = options;
    // BullMQ duplicates this client for its connections (one of them blocks waiting for jobs);
    // the template itself never connects.
    this.#workerBase = createClient(this.#connection, {
      maxRetriesPerRequest: null,
      lazyConnect: true,
      retryStrategy: quickReconnect,
    });
    this.#worker = new Worker<JobData>(this.#name, (job, token) => this.#process(job, token, options), {
      connection: this.#workerBase,
      prefix: this.#prefix,
      concurrency: options.concurrency,
      lockDuration: this.#lockDurationMs,
      stalledInterval: this.#stalledIntervalMs,
      maxStalledCount: BULLMQ_MAX_STALLED,
      autorun: true,
    });
    this.#worker.on('error', (error) => this.#warn('worker', error));
    this.#worker.on('failed', (job) => {
      if (job) void this.#gaveUp(job, options);
    });
  }

  close({ timeoutMs }: { timeoutMs: number }): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#stats.stop();
    const worker = this.#worker;
    if (worker) {
      // Takes no more jobs and waits for the running ones; the queued ones stay in Redis.
      const closed = worker.close().catch((error) => this.#warn('worker', error));
      if (!(await settlesWithin(closed, timeoutMs))) {
        // Out of time: jobs still waiting for a slot stop and go back to the queue. A request
        // already on the wire cannot be called back: its answer (or timeout) is awaited.
        this.#abort.abort(new ClosedError('The queue closed before this job was sent'));
        await settlesWithin(closed, CLOSE_GRACE_MS);
      }
    }
    await settlesWithin(
      this.#queue.close().catch(() => undefined),
      CLOSE_GRACE_MS,
    );
    this.#closed = true;
    await closeClient(this.#client);
    this.#workerBase?.disconnect();
  }

  /** One BullMQ job through the notifier's worker, with the record kept right at every step. */
  async #process(job: Job<JobData>, token: string | undefined, options: WorkerOptions): Promise<void> {
    const id = job.id as string;
    const owner = token ?? job.token ?? randomUUID();
    const recordKey = this.#keys.record(id);
    const [verdict, fields] = (await PICKUP.run(
      this.#client,
      [recordKey, this.#keys.stats],
      [
        id,
        owner,
        Date.now(),
        job.stalledCounter ?? 0,
        this.#maxStalledCount,
        this.#retryAmbiguous ? '1' : '0',
        job.data.ruleId ?? '',
        job.data.createdAt ?? job.timestamp,
        this.#keepFinishedMs,
        KEY_GRACE_MS,
        AMBIGUOUS_MESSAGE,
        STALLED_MESSAGE,
      ],
    )) as [string, unknown];
    if (verdict === 'final') return; // its outcome was recorded before its process died
    if (verdict !== 'work') {
      this.#stats.move('queued', 'failed');
      this.#announce(options, fieldsOf(fields), id);
      return;
    }
    this.#stats.move('queued', 'sending');

    let inFlight = false;
    let markFailed = false;
    const active: ActiveJob = {
      id,
      ...(job.data.ruleId === undefined ? {} : { ruleId: job.data.ruleId }),
      message: job.data.message,
      signal: this.#abort.signal,
      markAttempt: async () => {
        let owned: unknown;
        try {
          owned = await MARK_ATTEMPT.run(this.#client, [recordKey], [owner, Date.now()]);
        } catch (error) {
          markFailed = true;
          throw new RedisUnavailableError(
            `Could not record the attempt: Redis is unreachable (${describeRedisError(error, this.#secret)}); nothing was sent`,
          );
        }
        // Another worker took the job over (this one stalled): it is that worker's to send.
        if (owned !== 1) throw new Error('This worker no longer holds the job; not sent');
        inFlight = true;
      },
      markNotAccepted: async () => {
        try {
          if ((await MARK_NOT_ACCEPTED.run(this.#client, [recordKey], [owner, Date.now()])) === 1) inFlight = false;
        } catch (error) {
          // Left marked in flight: should this process die now, the job ends AMBIGUOUS (never a duplicate).
          this.#warn('worker', error);
        }
      },
    };

    let outcome: JobOutcome;
    try {
      outcome = await options.worker(active);
    } catch (error) {
      outcome = { status: 'failed', error: { code: 'INTERNAL', message: String((error as Error)?.message ?? error) } };
    }

    const failed = outcome.status === 'failed' ? outcome.error : undefined;
    const closedEarly = this.#closing !== undefined && failed?.code === 'CLOSED' && !inFlight;
    // The shared limiter gave up on an unreachable Redis before the request: not a failed send.
    const noLimiter = failed !== undefined && isLimiterOutage(failed) && !inFlight;
    if (markFailed || closedEarly || noLimiter) {
      // Nothing was sent: the job goes back to the queue, for this or the next process.
      await this.#putBack(job, owner, closedEarly);
      return;
    }

    const [done, finalFields] = (await retrying(
      () =>
        FINISH.run(
          this.#client,
          [recordKey, this.#keys.stats],
          [
            owner,
            Date.now(),
            outcome.status,
            outcome.status === 'failed' ? outcome.error.code : '',
            outcome.status === 'failed' ? outcome.error.message : '',
            outcome.status === 'failed' && outcome.error.status !== undefined ? outcome.error.status : '',
            outcome.status === 'sent' ? (outcome.messageId ?? '') : '',
            this.#keepFinishedMs,
            KEY_GRACE_MS,
          ],
        ),
      FINISH_RETRY_MS,
    )) as [number, unknown];
    this.#stats.move('sending', done === 1 ? outcome.status : undefined);
    if (done === 1) this.#announce(options, fieldsOf(finalFields), id);
  }

  /** Back to waiting (closing: for the next process at once) or delayed (Redis trouble: shortly). */
  async #putBack(job: Job<JobData>, owner: string, closing: boolean): Promise<never> {
    await PUT_BACK.run(this.#client, [this.#keys.record(job.id as string)], [owner, Date.now()]);
    this.#stats.move('sending', 'queued');
    if (closing) {
      await job.moveToWait(owner);
      throw new WaitingError();
    }
    await job.moveToDelayed(Date.now() + REDIS_ERROR_RETRY_MS, owner);
    throw new DelayedError();
  }

  /** BullMQ ran out of retries for a job whose processing kept failing on Redis: end its record. */
  async #gaveUp(job: Job<JobData>, options: WorkerOptions): Promise<void> {
    if (job.attemptsMade < (job.opts.attempts ?? 1)) return;
    const recordKey = this.#keys.record(job.id as string);
    try {
      const ended = await GIVE_UP.run(
        this.#client,
        [recordKey, this.#keys.stats],
        [
          Date.now(),
          'NETWORK',
          'Not sent: Redis failed too often while this job was being worked',
          AMBIGUOUS_MESSAGE,
          this.#keepFinishedMs,
          KEY_GRACE_MS,
        ],
      );
      if (ended === 1) this.#announce(options, await this.#client.hgetall(recordKey), job.id as string);
    } catch (error) {
      this.#warn('worker', error);
    }
  }

  #announce(options: WorkerOptions, fields: Record<string, string>, id: string): void {
    const record = toRecord(fields, id);
    if (!record) return;
    try {
      options.onFinished(record);
    } catch (error) {
      this.#logger?.error({ err: String(error) }, 'olchat-kit redis: an onFinished listener threw');
    }
  }

  async #readStats(): Promise<JobStats> {
    const [counts, finished] = await Promise.all([
      this.#queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active'),
      this.#client.hmget(this.#keys.stats, 'sent', 'failed'),
    ]);
    const n = (value: unknown) => (Number.isFinite(Number(value)) ? Number(value) : 0);
    return {
      queued: n(counts.waiting) + n(counts.prioritized) + n(counts.delayed),
      sending: n(counts.active),
      sent: n(finished[0]),
      failed: n(finished[1]),
    };
  }

  /** BullMQ reports every failed reconnect: one line per 10 s is enough. */
  #warn(what: string, error: unknown): void {
    const now = Date.now();
    if (now - this.#lastWorkerWarning < 10_000) return;
    this.#lastWorkerWarning = now;
    this.#logger?.warn({ err: describeRedisError(error, this.#secret) }, `olchat-kit redis: ${what} error`);
  }
}

/** A durable, shared job queue for `createNotifier({ queue })`. */
export function redisQueue(options: RedisQueueOptions): RedisQueue {
  return new RedisQueue(options);
}
