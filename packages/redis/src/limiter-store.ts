import { randomUUID } from 'node:crypto';
import { type Logger, ValidationError } from '@olchat-kit/core';
import type { LimiterStore, SlotLease, SlotWait } from '@olchat-kit/core/limiter';
import { privateLogger } from '@olchat-kit/core/queue';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import {
  closeClient,
  connectionSecret,
  createClient,
  describeRedisError,
  failFastOptions,
  type RedisConnection,
  validateConnection,
  watchClient,
} from './connection.js';
import { LIMITER_OUTAGE, RedisUnavailableError } from './errors.js';
import { LuaScript } from './lua.js';

export interface RedisLimiterStoreOptions {
  /** Where Redis is; the store opens its own client and closes it in `close()`. */
  connection?: RedisConnection;
  /** Or an ioredis client you own: used as is, never closed by the store. */
  client?: Redis;
  /** Prefix of the slot keys. Default `'olchat-slot'`. */
  keyPrefix?: string;
  /**
   * How long a Redis outage makes senders wait for a slot before they fail with
   * `RedisUnavailableError` (nothing is sent without the shared count); then every sender waiting
   * in this process fails together. Default 30 000.
   */
  unavailableTimeoutMs?: number;
  /** Redis command timeout of the store's own client. Default 2 000. */
  commandTimeoutMs?: number;
  logger?: Logger;
}

// Records the owner of a slot just taken, expiring with the slot (never after it, so an old owner
// can never match a slot that expired and was taken again).
const CLAIM = new LuaScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return 0 end
if ttl == -1 then
  ttl = tonumber(ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ttl)
return 1`);

// Compare-and-set release: only the lease that still owns the slot may shorten its life, to the
// millisecond (rate-limiter-flexible's own writes keep whole seconds, and none under 1 s).
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
local hold = tonumber(ARGV[2])
if hold > 0 then redis.call('PEXPIRE', KEYS[1], hold) else redis.call('DEL', KEYS[1]) end
return 1`);

// Compare-and-set renewal: only the lease that still owns the slot may extend it (slot and owner
// together, so the owner never outlives the slot).
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if redis.call('PEXPIRE', KEYS[1], ARGV[2]) == 0 then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`);

/** How often a sender asks again while Redis is unreachable. */
const OUTAGE_POLL_MS = 250;

/**
 * The N-slot sliding window of `@olchat-kit/core`, shared by every process on one Redis. A slot
 * is a rate-limiter-flexible key of one point (taken with `consume`), with its owner beside it;
 * the release is a millisecond expiry written only while the owner still matches.
 */
export class RedisLimiterStore implements LimiterStore {
  /** No cross-process "slot freed" signal: waiters poll, at `msBeforeNext` but at least this often. */
  readonly maxPollMs = 100;
  readonly #client: Redis;
  readonly #ownsClient: boolean;
  readonly #limiter: RateLimiterRedis;
  readonly #unavailableTimeoutMs: number;
  readonly #secret: string | undefined;
  #failingSince: number | undefined;

  constructor(options: RedisLimiterStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new ValidationError('redisLimiterStore needs options');
    const { keyPrefix = 'olchat-slot', unavailableTimeoutMs = 30_000, commandTimeoutMs = 2_000 } = options;
    if (typeof keyPrefix !== 'string' || keyPrefix === '')
      throw new ValidationError('keyPrefix must be a non-empty string');
    if (options.client) {
      this.#client = options.client;
      this.#ownsClient = false;
      this.#secret = connectionSecret(options.client);
    } else {
      validateConnection(options.connection, 'redisLimiterStore');
      this.#client = createClient(options.connection, failFastOptions(commandTimeoutMs));
      this.#ownsClient = true;
      this.#secret = connectionSecret(options.connection);
      watchClient(this.#client, 'the limiter store', options.logger && privateLogger(options.logger), this.#secret);
    }
    if (typeof unavailableTimeoutMs !== 'number' || !(unavailableTimeoutMs >= 0)) {
      throw new ValidationError('unavailableTimeoutMs must be a number ≥ 0 (Infinity: wait for Redis forever)');
    }
    this.#unavailableTimeoutMs = unavailableTimeoutMs;
    this.#limiter = new RateLimiterRedis({
      storeClient: this.#client,
      keyPrefix,
      points: 1,
      duration: 1, // always overridden per consume: the lease
      rejectIfRedisNotReady: true,
    });
  }

  async tryAcquire(key: string, slots: number, leaseMs: number): Promise<SlotLease | SlotWait> {
    // rate-limiter-flexible keeps whole seconds and sets no expiry at all under 1 s: round up.
    const leaseSec = Math.max(1, Math.ceil(leaseMs / 1000));
    let soonest = Number.POSITIVE_INFINITY;
    try {
      await this.#connected();
      for (let slot = 0; slot < slots; slot++) {
        const slotKey = slotName(key, slot);
        try {
          await this.#limiter.consume(slotKey, 1, { customDuration: leaseSec });
        } catch (rejection) {
          if (!(rejection instanceof RateLimiterRes)) throw rejection;
          soonest = Math.min(soonest, Math.max(1, rejection.msBeforeNext));
          continue;
        }
        const owner = randomUUID();
        const full = this.#limiter.getKey(slotKey);
        if ((await CLAIM.run(this.#client, [full, `${full}:owner`], [owner, leaseSec * 1000])) === 1) {
          this.#failingSince = undefined;
          return { key, slot, owner };
        }
        // The slot expired between the two steps (a lease shorter than a round trip): try the next.
      }
      this.#failingSince = undefined;
      return { retryInMs: Number.isFinite(soonest) ? soonest : 1 };
    } catch (error) {
      return this.#unavailable(error);
    }
  }

  async release(lease: SlotLease, holdMs: number): Promise<void> {
    const full = this.#limiter.getKey(slotName(lease.key, lease.slot));
    const hold = Math.max(0, Math.ceil(holdMs));
    await RELEASE.run(this.#client, [full, `${full}:owner`], [lease.owner, hold]);
  }

  async renew(lease: SlotLease, leaseMs: number): Promise<boolean> {
    const full = this.#limiter.getKey(slotName(lease.key, lease.slot));
    const ms = Math.max(1, Math.ceil(leaseMs));
    return (await RENEW.run(this.#client, [full, `${full}:owner`], [lease.owner, ms])) === 1;
  }

  /** Closes the store's own client (a client you passed stays open). */
  async close(): Promise<void> {
    if (this.#ownsClient) await closeClient(this.#client);
  }

  /**
   * Waits (briefly) for the connection to be up: the first send of a process should not pay a
   * poll interval for the connect, and during an outage a send should go as soon as Redis is back.
   */
  async #connected(): Promise<void> {
    const client = this.#client;
    if (client.status === 'ready' || !this.#ownsClient) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, OUTAGE_POLL_MS);
      client.once('ready', done);
    });
  }

  /**
   * Without the shared count nothing may be sent. A short outage (a Redis restart) only makes
   * senders wait; a long one fails them, with nothing sent.
   */
  #unavailable(error: unknown): SlotWait {
    const now = Date.now();
    this.#failingSince ??= now;
    if (now - this.#failingSince < this.#unavailableTimeoutMs) {
      // Not connected: the next try waits for the connection itself. Connected but failing: poll.
      return { retryInMs: this.#ownsClient && this.#client.status !== 'ready' ? 1 : OUTAGE_POLL_MS };
    }
    // The line gives up at once (every waiter fails together); whoever comes next gets a full wait.
    this.#failingSince = undefined;
    throw new RedisUnavailableError(`${LIMITER_OUTAGE} (${describeRedisError(error, this.#secret)}); nothing was sent`);
  }
}

/** One key per slot; the braces keep a slot and its owner in one Redis Cluster hash slot. */
function slotName(key: string, slot: number): string {
  return `{${key}:${slot}}`;
}

/** A limiter store that makes every process on one Redis share one sliding window per token. */
export function redisLimiterStore(options: RedisLimiterStoreOptions): RedisLimiterStore {
  return new RedisLimiterStore(options);
}
