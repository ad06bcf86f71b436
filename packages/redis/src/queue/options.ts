import { type Logger, ValidationError } from '@olchat-kit/core';
import { privateLogger } from '@olchat-kit/core/queue';
import { type RedisConnection, validateConnection } from '../connection.js';
import { positiveInt } from '../util.js';

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
  /**
   * How many times a job whose worker died holding its limit slot (before writing its request) is
   * tried again before it ends `STALLED`. A worker that died while the job only waited (for its
   * slot, or the line) is not counted. Default 1.
   */
  maxStalledCount?: number;
  /**
   * A job whose process died while its request was in flight ends `AMBIGUOUS` (it may have been
   * delivered). `true` sends it again instead: no message is lost, one may arrive twice.
   */
  retryAmbiguous?: boolean;
  /**
   * How long a finished job is kept (its record, text and phone index entry; BullMQ's events about
   * it), and at least as long as its keys; then it is erased. Default 7 days; the notifier's wins.
   */
  keepFinishedMs?: number;
  /** How long `add()` waits for Redis before rejecting with `RedisUnavailableError`. Default 5 000. */
  addTimeoutMs?: number;
  /** How often `stats()` is refreshed from Redis. Default 1 000. */
  statsIntervalMs?: number;
  /**
   * Most unfinished jobs (scheduled, queued and sending, in all processes together); past it
   * `add()` rejects `QUEUE_FULL`. The notifier's `maxQueued` (given to `start()`) wins. Default 1 000 000.
   */
  maxQueued?: number;
  /**
   * How often a working process sweeps: due schedules, passed deadlines, lost adds. A job scheduled
   * further ahead than ten of these waits without a BullMQ job until a sweep hands it over, ten
   * sweeps before its time. Default 1 000.
   */
  sweepIntervalMs?: number;
  logger?: Logger;
}

/** The options with their defaults, checked. */
export type QueueSettings = Required<Omit<RedisQueueOptions, 'logger'>> & { logger: Logger | undefined };

const DAY_MS = 86_400_000;

export function queueSettings(options: RedisQueueOptions): QueueSettings {
  if (typeof options !== 'object' || options === null) throw new ValidationError('redisQueue needs { connection }');
  validateConnection(options.connection, 'redisQueue');
  const {
    name = 'notifications',
    prefix = 'olchat',
    lockDurationMs = 10_000,
    stalledIntervalMs = 5_000,
    maxStalledCount = 1,
    retryAmbiguous = false,
    keepFinishedMs = 7 * DAY_MS,
    addTimeoutMs = 5_000,
    statsIntervalMs = 1_000,
    maxQueued = 1_000_000,
    sweepIntervalMs = 1_000,
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
  return {
    connection: options.connection,
    name,
    prefix,
    lockDurationMs: positiveInt(lockDurationMs, 'lockDurationMs'),
    stalledIntervalMs: positiveInt(stalledIntervalMs, 'stalledIntervalMs'),
    maxStalledCount,
    retryAmbiguous,
    keepFinishedMs: positiveInt(keepFinishedMs, 'keepFinishedMs'),
    addTimeoutMs: positiveInt(addTimeoutMs, 'addTimeoutMs'),
    statsIntervalMs: positiveInt(statsIntervalMs, 'statsIntervalMs'),
    maxQueued: maxQueuedOf(maxQueued),
    sweepIntervalMs: positiveInt(sweepIntervalMs, 'sweepIntervalMs'),
    logger: options.logger && privateLogger(options.logger),
  };
}

/** A positive integer, or Infinity for no bound (Redis is told a number it can compare). */
export function maxQueuedOf(value: unknown): number {
  return value === Number.POSITIVE_INFINITY ? Number.MAX_SAFE_INTEGER : positiveInt(value, 'maxQueued');
}
