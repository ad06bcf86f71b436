import { randomBytes } from 'node:crypto';
import {
  ClosedError,
  type JobQueue,
  type JobRecord,
  type JobStats,
  OlchatError,
  QueueFullError,
  ValidationError,
  VENDOR_LIMITS,
} from '@olchat-kit/core';
import {
  type AddResult,
  type CancelFilter,
  DEFAULT_MAX_AGE_MS,
  expiredError,
  type ForgottenJobs,
  freesKeys,
  type LaneGateChange,
  type NewJob,
  type PeopleStore,
  type WebhookOutbox,
  type WorkerOptions,
} from '@olchat-kit/core/queue';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  closeClient,
  connectionSecret,
  createClient,
  describeRedisError,
  failFastOptions,
  watchClient,
} from '../connection.js';
import { RedisUnavailableError } from '../errors.js';
import { settlesWithin, withTimeout } from '../util.js';
import { type RedisWebhookOutbox, redisWebhookOutbox } from '../webhook-outbox.js';
import { handOffWithinMs, type JobData, schedule, unschedule } from './bull.js';
import { QueueKeys } from './keys.js';
import { maxQueuedOf, type QueueSettings, queueSettings, type RedisQueueOptions } from './options.js';
import { RedisPeopleStore } from './people-store.js';
import { bullOf, F, type Fields, messageBody, newJobFields, toRecord } from './record.js';
import { SharedGates } from './shared-gates.js';
import { CachedStats } from './stats.js';
import { JobStore } from './store.js';
import { Sweeper } from './sweeper.js';
import { QueueWorker } from './worker.js';

type CancelTarget = Parameters<JobQueue['cancel']>[0];
type ListOptions = NonNullable<Parameters<JobQueue['list']>[0]>;
type DeliveryStatus = NonNullable<JobRecord['delivery']>;

const DAY_MS = 86_400_000;
/** A record outlives its idempotency keys by this much, so a key never points at nothing. */
const KEY_GRACE_MS = 60_000;
const CLOSE_GRACE_MS = 15_000;
const MAX_ID_LENGTH = 128;
const MAX_LIST = 500;
const DEFAULT_LIST = 50;
/** The vendor's own word at a delivery check is kept up to this many characters. */
const MAX_DELIVERY_RAW = 200;
/** How long one queued job takes at the vendor's limit: what a full queue's retryAfterMs counts in. */
const SEND_INTERVAL_MS = VENDOR_LIMITS.sendText.durationMs / VENDOR_LIMITS.sendText.points;
const LANES = new Set(['high', 'normal', 'low']);
/** Ids a `cancelMany` page looks at in one script (short enough not to hold Redis up). */
const CANCEL_BATCH = 500;
/** Passes of `cancelMany` over the sets: a later pass finds what jobs moving meanwhile hid from the first. */
const CANCEL_PASSES = 3;
/** How long forget() waits for the workers holding the phone's jobs (a send, a dead worker's lock). */
const FORGET_WAIT_MS = 60_000;
const FORGET_POLL_MS = 50;

/**
 * A durable `JobQueue` on BullMQ: every accepted job is in Redis before `add()` resolves, any
 * process can read, cancel or requeue it, and a job whose process died is worked again by another
 * (or, if its request may have reached OLChat, ended `AMBIGUOUS`).
 */
export class RedisQueue implements JobQueue {
  /** Every process on the queue shares its jobs and its people store: the notifier needs the app's `secret`. */
  readonly shared = true;
  readonly #settings: QueueSettings;
  readonly #keys: QueueKeys;
  readonly #secret: string | undefined;
  /** Our scripts and BullMQ's producer side: fail-fast, never a command run late. */
  readonly #client: Redis;
  readonly #queue: Queue<JobData>;
  readonly #store: JobStore;
  readonly #ready: Promise<void>;
  readonly #stats: CachedStats;
  readonly #gates: SharedGates;
  #maxQueued: number;
  #worker: QueueWorker | undefined;
  #sweeper: Sweeper | undefined;
  #onFinished: WorkerOptions['onFinished'] | undefined;
  #outbox: RedisWebhookOutbox | undefined;
  #people: RedisPeopleStore | undefined;
  /** Given by the notifier at start(): the phone's HMAC, the phone index's key. */
  #phoneKey: ((phone: string) => string) | undefined;
  #storeText = true;
  readonly #storeSettings: { keepFinishedMs: number; graceMs: number };
  #closing: Promise<void> | undefined;
  #closed = false;
  #lastWarning = 0;

  constructor(options: RedisQueueOptions) {
    const settings = queueSettings(options);
    const { connection, name, prefix } = settings;
    this.#settings = settings;
    this.#keys = new QueueKeys(prefix, name);
    this.#maxQueued = settings.maxQueued;
    this.#secret = connectionSecret(connection);

    this.#client = createClient(connection, failFastOptions(settings.addTimeoutMs));
    watchClient(this.#client, `queue ${name}`, settings.logger, this.#secret);
    this.#queue = new Queue<JobData>(name, { connection: this.#client, prefix });
    this.#queue.on('error', (error) => this.#warn('queue', error));
    this.#storeSettings = { keepFinishedMs: settings.keepFinishedMs, graceMs: KEY_GRACE_MS };
    this.#store = new JobStore(this.#client, this.#keys, this.#storeSettings);
    // Resolves once BullMQ has loaded its scripts on the client: until then add() must not start
    // (a BullMQ call would wait for the connection and might then run after add() gave up).
    this.#ready = this.#queue.waitUntilReady().then(() => undefined);
    this.#ready.catch(() => undefined);
    this.#stats = new CachedStats(() => this.#store.counts(Date.now()));
    this.#stats.start(settings.statsIntervalMs);
    this.#gates = new SharedGates({
      store: this.#store,
      client: this.#client,
      base: this.#keys.base,
      queue: this.#queue,
      warn: (what, error) => this.#warn(what, error),
    });
  }

  async add(job: NewJob): Promise<AddResult> {
    if (this.#closing) throw new ClosedError('The queue is closed');
    const now = Date.now();
    const id = newJobId();
    const priority = LANES.has(job.priority) ? job.priority : 'normal';
    const deadline = Number.isFinite(job.deadline) ? job.deadline : now + DEFAULT_MAX_AGE_MS;
    const sendAt = Number.isFinite(job.sendAt) && (job.sendAt as number) > now ? job.sendAt : undefined;
    // A deadline already past when it is added: the job ends 'expired' at once, never worked.
    const status = job.skipped
      ? 'skipped'
      : deadline <= now
        ? 'expired'
        : sendAt === undefined
          ? 'queued'
          : 'scheduled';
    const normalized: NewJob = { ...job, priority, deadline, quiet: job.quiet === true };
    const keyTtlMs = positiveOr(job.keyTtlMs, DAY_MS);
    // Far ahead: no BullMQ job yet (the sweep hands it over when its time nears).
    const later = sendAt !== undefined && sendAt - now > handOffWithinMs(this.#settings.sweepIntervalMs);
    let fields: (string | number)[];
    let body: string;
    try {
      const phoneKey = job.message.phone === '' ? undefined : this.#phoneKey?.(job.message.phone);
      fields = newJobFields(normalized, now, deadline, sendAt, { phoneKey, storeText: this.#storeText });
      if (status === 'expired') {
        const error = expiredError(undefined);
        fields.push(F.errCode, error.code, F.errMessage, error.message);
      }
      body = job.skipped ? '' : messageBody(job.message);
    } catch {
      throw new ValidationError('A job must be plain JSON (its message and meta)');
    }
    let reply: Awaited<ReturnType<JobStore['add']>>;
    try {
      await this.#whenReady();
      reply = await this.#store.add(
        {
          id,
          status,
          keys: job.keys ?? [],
          keyTtlMs,
          maxQueued: this.#maxQueued,
          replaceKey: job.skipped ? undefined : job.replaceKey,
          freeKeysOnCancel: freesKeys('cancelled', undefined),
          freeKeysOnExpiry: freesKeys('expired', expiredError(undefined)),
          pendingTtlMs: this.#pendingTtl(deadline, keyTtlMs, now),
          deadline,
          sendAt,
          body,
          later,
          fields,
        },
        now,
      );
    } catch (error) {
      if (error instanceof OlchatError) throw error;
      throw new RedisUnavailableError(
        `Could not queue the message: Redis is unreachable (${describeRedisError(error, this.#secret)}); nothing was queued`,
      );
    }
    if (reply.kind === 'full') {
      const excess = reply.pending - this.#maxQueued + 1;
      throw new QueueFullError(
        `The queue already holds ${reply.pending} unfinished jobs (maxQueued ${this.#maxQueued}); nothing was queued`,
        Math.min(60_000, Math.max(1_000, Math.ceil(excess * SEND_INTERVAL_MS))),
      );
    }
    if (reply.kind === 'hit') return { record: toRecord(reply.fields) as JobRecord, created: false };

    const record = toRecord(reply.fields) as JobRecord;
    const result: AddResult = { record, created: true };
    // The job it replaced is told first, as it ended first.
    if (reply.replaced) result.replaced = this.#cancelled(reply.replaced);
    if (status === 'expired') {
      this.#stats.move(undefined, 'expired');
      this.#announce(reply.fields);
    } else if (status !== 'skipped') {
      this.#stats.move(undefined, status);
    }
    if (status !== 'skipped' && status !== 'expired' && !later) {
      // The record is in Redis: the job is accepted. Should this add to BullMQ fail, the sweep
      // finds the job in `adding` and adds it again.
      await schedule(this.#queue, { id, bull: id, priority, dueAt: sendAt ?? now }, now).catch((error) =>
        this.#warn('queue', error),
      );
    }
    return result;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) return undefined;
    return this.#read('read the job', async () => toRecord(await this.#store.get(id, Date.now())));
  }

  async find(keys: readonly string[]): Promise<JobRecord | undefined> {
    if (!Array.isArray(keys) || keys.length === 0) return undefined;
    return this.#read('read the job', async () => toRecord(await this.#store.find(keys, Date.now())));
  }

  async list(options: ListOptions = {}): Promise<JobRecord[]> {
    const limit = Math.min(MAX_LIST, Math.max(1, Math.floor(Number(options.limit ?? DEFAULT_LIST)) || DEFAULT_LIST));
    const status = options.status;
    return this.#read('list jobs', async () => {
      const now = Date.now();
      const found = await this.#store.list(status, limit, now);
      return found.map((fields) => toRecord(fields, now) as JobRecord);
    });
  }

  async cancel(target: CancelTarget): Promise<JobRecord | undefined> {
    const by =
      typeof target === 'string'
        ? target !== '' && target.length <= MAX_ID_LENGTH
          ? { id: target }
          : undefined
        : typeof target?.replaceKey === 'string' && target.replaceKey !== ''
          ? { replaceKey: target.replaceKey }
          : undefined;
    if (!by) return undefined;
    const fields = await this.#read('cancel the job', () =>
      this.#store.cancel(by, freesKeys('cancelled', undefined), Date.now()),
    );
    return fields ? this.#cancelled(fields) : undefined;
  }

  /**
   * Cancels the pending jobs that match, page by page (each page one script), in every process's
   * view at once: the records are the truth. Each is heard of as a `cancel` is.
   */
  async cancelMany(filter: CancelFilter): Promise<number> {
    const ruleId = typeof filter?.ruleId === 'string' && filter.ruleId !== '' ? filter.ruleId : undefined;
    const priority = LANES.has(filter?.priority as string) ? filter.priority : undefined;
    const status = filter?.status === 'scheduled' || filter?.status === 'queued' ? filter.status : undefined;
    const freeKeys = freesKeys('cancelled', undefined);
    let count = 0;
    for (let pass = 0; pass < CANCEL_PASSES; pass++) {
      let thisPass = 0;
      for (const stored of ['scheduled', 'queued'] as const) {
        if (status === 'scheduled' && stored === 'queued') continue;
        const when = stored === 'queued' || status === undefined ? 'any' : status === 'queued' ? 'due' : 'future';
        let offset = 0;
        // Bounded: every page either cancels what it saw or steps past it.
        for (let page = 0; page < 100_000; page++) {
          const reply = await this.#read('cancel jobs', () =>
            this.#store.cancelPage(
              { stored, when, ruleId, priority, freeKeys, offset, batch: CANCEL_BATCH },
              Date.now(),
            ),
          );
          for (const fields of reply.cancelled) this.#cancelled(fields);
          thisPass += reply.cancelled.length;
          offset += reply.kept;
          if (reply.scanned < CANCEL_BATCH) break;
        }
      }
      count += thisPass;
      if (thisPass === 0) break;
    }
    return count;
  }

  /** Lane pauses and the flag, for every process of this queue (see shared-gates.ts). */
  async updateGates(change: LaneGateChange): Promise<boolean> {
    return this.#read('change the lanes', () => this.#gates.update(change));
  }

  async requeue(id: string, deadline: number): Promise<JobRecord | undefined> {
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) return undefined;
    if (!Number.isFinite(deadline)) throw new ValidationError('deadline must be a time in ms since the epoch');
    const now = Date.now();
    const reply = await this.#read('requeue the job', () =>
      this.#store.requeue(id, deadline, this.#pendingTtl(deadline, 0, now), this.#maxQueued, now),
    );
    if (reply.kind === 'refused') return undefined;
    if (reply.kind === 'full') {
      throw new QueueFullError(
        `The queue already holds ${reply.pending} unfinished jobs (maxQueued ${this.#maxQueued})`,
        Math.min(60_000, Math.max(1_000, Math.ceil((reply.pending - this.#maxQueued + 1) * SEND_INTERVAL_MS))),
      );
    }
    const { fields } = reply;
    const record = toRecord(fields, now) as JobRecord;
    this.#stats.move(reply.from, 'queued');
    // A new BullMQ job id for this round; should the add fail, the sweep adds it again.
    await schedule(this.#queue, { id, bull: bullOf(fields, id), priority: record.priority, dueAt: now }, now).catch(
      (error) => this.#warn('queue', error),
    );
    return record;
  }

  async setDelivery(
    id: string,
    delivery: DeliveryStatus | undefined,
    checkedAt: number,
    raw?: string,
  ): Promise<JobRecord | undefined> {
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) return undefined;
    const word = typeof raw === 'string' ? raw.slice(0, MAX_DELIVERY_RAW) : '';
    const fields = await this.#read('record the delivery', () =>
      this.#store.setDelivery(id, delivery, checkedAt, word, Date.now()),
    );
    return fields ? toRecord(fields) : undefined;
  }

  async findByPhone(phone: string, limit: number): Promise<JobRecord[]> {
    const phoneKey = this.#keyOf(phone);
    const count = Math.min(MAX_LIST, Math.max(1, Math.floor(limit) || DEFAULT_LIST));
    return this.#read('find the jobs', async () => {
      const now = Date.now();
      const found = await this.#store.findByPhone(phoneKey, count, now);
      return found.map((fields) => toRecord(fields, now) as JobRecord);
    });
  }

  /**
   * Erases the phone's jobs: the records at once (one script), BullMQ's jobs of the pending ones,
   * then waits for the workers holding any of them (in any process) to be done, and last deletes
   * the entries of BullMQ's event stream that name them.
   */
  async forget(phone: string): Promise<ForgottenJobs> {
    const phoneKey = this.#keyOf(phone);
    const { erased, held } = await this.#read('forget the phone', () => this.#store.forget(phoneKey, Date.now()));
    // A worker of this process still waiting to send one gives up; a request on the wire is let finish.
    for (const { id, sending } of held)
      if (!sending) this.#worker?.abort(id, new OlchatError('CANCELLED', 'Forgotten'));
    await Promise.all(erased.map(({ bull }) => unschedule(this.#queue, bull)));
    const all = [...erased, ...held.map(({ id, bull }) => ({ id, bull }))];
    if (all.length === 0) return { jobs: 0, ids: [] };
    // A worker holding one (here or in another process) lets its attempt finish, then erases it;
    // a worker that died leaves it to the next pickup. BullMQ's job goes when its worker is done.
    const until = Date.now() + FORGET_WAIT_MS;
    for (;;) {
      const left = await this.#read('forget the phone', () => this.#store.forgottenLeft(all, Date.now()));
      if (left === 0) break;
      if (Date.now() > until || this.#closed) {
        throw new OlchatError(
          'TIMEOUT',
          `${left} of the phone's jobs are still held by a worker: they are erased when it is done; call forget() again to confirm`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, FORGET_POLL_MS));
    }
    const names = [...new Set(all.flatMap(({ id, bull }) => [id, bull]))];
    await this.#read('forget the phone', () => this.#store.forgetEvents(names, Date.now()));
    return { jobs: all.length, ids: all.map(({ id }) => id) };
  }

  stats(): JobStats {
    return this.#stats.snapshot;
  }

  /**
   * Status webhooks not yet delivered wait in Redis beside the jobs (keys `<prefix>:<name>:~wh:…`):
   * shared by every process on this queue, kept across restarts. The notifier's webhook dispatcher
   * owns it and closes it.
   */
  webhookOutbox(): WebhookOutbox {
    const { connection, name, prefix, addTimeoutMs, logger } = this.#settings;
    this.#outbox ??= redisWebhookOutbox({
      connection,
      name,
      prefix,
      commandTimeoutMs: addTimeoutMs,
      ...(logger ? { logger } : {}),
    });
    return this.#outbox;
  }

  /**
   * Contact memory, suppressions and reply counts, beside the jobs (keys `<prefix>:<name>:~pp:…`),
   * shared by every process on this queue. Phones arrive as HMAC keys: no digits are stored.
   */
  peopleStore(): PeopleStore {
    this.#people ??= new RedisPeopleStore(this.#client, this.#keys.base, (what, call) => this.#read(what, call));
    return this.#people;
  }

  start(options: WorkerOptions): void {
    if (this.#worker) throw new Error('This queue already has a worker');
    if (this.#closing) throw new ClosedError('The queue is closed');
    const settings = this.#settings;
    if (options.maxQueued !== undefined) this.#maxQueued = maxQueuedOf(options.maxQueued);
    if (options.keepFinishedMs !== undefined) this.#storeSettings.keepFinishedMs = options.keepFinishedMs;
    if (options.storeText === false) this.#storeText = false;
    if (options.phoneKey) this.#phoneKey = options.phoneKey;
    this.#onFinished = options.onFinished;
    const gates = options.gates;
    if (gates) this.#gates.attach(gates, settings.statsIntervalMs);
    const host = {
      store: this.#store,
      stats: this.#stats,
      announce: (fields: Fields) => this.#announce(fields),
      warn: (what: string, error: unknown) => this.#warn(what, error),
      closing: () => this.#closing !== undefined,
      ready: () => this.#ready,
      ...(gates
        ? { park: (job: Parameters<SharedGates['park']>[0], token: string) => this.#gates.park(job, token) }
        : {}),
    };
    this.#worker = new QueueWorker(host, { ...settings, secret: this.#secret }, options);
    this.#sweeper = new Sweeper(
      { ...host, queue: this.#queue },
      {
        intervalMs: settings.sweepIntervalMs,
        retryAmbiguous: settings.retryAmbiguous,
        recheckMs: settings.lockDurationMs,
        // An add to BullMQ has landed or failed within addTimeoutMs (its command timeout).
        reviveAfterMs: Math.max(1_000, 3 * settings.addTimeoutMs),
        handOffWithinMs: handOffWithinMs(settings.sweepIntervalMs),
      },
    );
    this.#sweeper.start();
  }

  close({ timeoutMs }: { timeoutMs: number }): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#stats.stop();
    this.#gates.stop();
    await this.#sweeper?.stop();
    // Takes no more jobs and waits for the running ones; the queued ones stay in Redis.
    await this.#worker?.close(timeoutMs);
    await settlesWithin(
      this.#queue.close().catch(() => undefined),
      CLOSE_GRACE_MS,
    );
    this.#closed = true;
    await closeClient(this.#client);
  }

  /** After a cancel (or a replace): this process's worker stops the job, BullMQ drops it, listeners hear. */
  #cancelled(fields: Fields): JobRecord {
    const record = toRecord(fields) as JobRecord;
    this.#worker?.abort(record.id, new OlchatError('CANCELLED', 'The job was cancelled'));
    this.#stats.move(undefined, 'cancelled'); // the pending counts catch up at the next refresh
    void unschedule(this.#queue, bullOf(fields, record.id));
    this.#announce(fields);
    return record;
  }

  /** A record that may be pending lives past its deadline, and past its keys. */
  #pendingTtl(deadline: number, keyTtlMs: number, now: number): number {
    return Math.max(deadline - now, keyTtlMs, 0) + this.#storeSettings.keepFinishedMs + KEY_GRACE_MS;
  }

  /** The phone's key in the index: the notifier's HMAC (a queue never started by one has none). */
  #keyOf(phone: string): string {
    if (!this.#phoneKey) {
      throw new ClosedError('The queue has no phone key: it finds and forgets phones once a notifier has started it');
    }
    return this.#phoneKey(phone);
  }

  async #whenReady(): Promise<void> {
    await withTimeout(
      this.#ready,
      this.#settings.addTimeoutMs,
      () => new Error(`no connection to Redis within ${this.#settings.addTimeoutMs} ms`),
    );
  }

  /** A read or a management call: Redis trouble becomes `RedisUnavailableError`, after close `CLOSED`. */
  async #read<T>(what: string, run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new ClosedError('The queue is closed: its Redis connection is gone');
    try {
      await this.#whenReady();
      return await run();
    } catch (error) {
      if (error instanceof OlchatError) throw error;
      throw new RedisUnavailableError(
        `Could not ${what}: Redis is unreachable (${describeRedisError(error, this.#secret)})`,
      );
    }
  }

  #announce(fields: Fields): void {
    const record = toRecord(fields);
    if (!record || !this.#onFinished) return;
    try {
      this.#onFinished(record);
    } catch (error) {
      this.#settings.logger?.error({ err: String(error) }, 'olchat-kit redis: an onFinished listener threw');
    }
  }

  /** BullMQ reports every failed reconnect: one line per 10 s is enough. */
  #warn(what: string, error: unknown): void {
    const now = Date.now();
    if (now - this.#lastWarning < 10_000) return;
    this.#lastWarning = now;
    this.#settings.logger?.warn({ err: describeRedisError(error, this.#secret) }, `olchat-kit redis: ${what} error`);
  }
}

/**
 * 96 random bits as 16 characters of base64url, the shape of the memory queue's ids: each id is
 * stored in several keys and sets per job, and a UUID's 36 characters cost Redis memory in each.
 */
function newJobId(): string {
  return randomBytes(12).toString('base64url');
}

function positiveOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}

export type { RedisQueueOptions } from './options.js';

/** A durable, shared job queue for `createNotifier({ queue })`. */
export function redisQueue(options: RedisQueueOptions): RedisQueue {
  return new RedisQueue(options);
}
