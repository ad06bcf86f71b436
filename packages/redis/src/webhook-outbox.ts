import { createHash, randomUUID } from 'node:crypto';
import { ClosedError, type Logger, ValidationError } from '@olchat-kit/core';
import {
  type ClaimedWebhookDelivery,
  privateLogger,
  type WebhookDelivery,
  type WebhookOutbox,
} from '@olchat-kit/core/queue';
import type { Redis } from 'ioredis';
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
import { RedisUnavailableError } from './errors.js';
import { LuaScript } from './lua.js';
import { positiveInt, withTimeout } from './util.js';

export interface RedisWebhookOutboxOptions {
  /** ioredis options, a `redis://` URL, or an ioredis client (duplicated, never closed by the outbox). */
  connection: RedisConnection;
  /** Processes with the same name (and prefix) share the pending webhooks: use the queue's. Default `'notifications'`. */
  name?: string;
  /** Prefix of every key. Default `'olchat'` (keys `olchat:<name>:~wh:…`). */
  prefix?: string;
  /** How often a dispatcher looks for deliveries other processes added or left behind. Default 1 000. */
  pollMs?: number;
  /** Most deliveries kept per endpoint; past it the oldest is dropped (logged). Default 100 000. */
  maxPending?: number;
  /** A delivery's data expires this long after it was last written (an endpoint no process serves any more). Default 7 days. */
  retentionMs?: number;
  /** How long a command waits for Redis before it fails. Default 5 000. */
  commandTimeoutMs?: number;
  logger?: Logger;
}

const DAY_MS = 86_400_000;

/** An endpoint's keys, named by a hash of its URL: no URL or token is ever in a key name. */
interface EndpointKeys {
  due: string;
  age: string;
  /** The prefix of its deliveries' hashes (the id follows). */
  hash: string;
}

/*
 * Per endpoint (keyed by a hash of its URL, so no URL or token is ever in a key name):
 * - `due:<ep>`, a sorted set of delivery ids by the time each may next be claimed: its `nextAt`
 *   while it waits, its lease's end while a process attempts it. A process that dies mid-attempt
 *   simply lets the lease run out, and the delivery is due again for any other.
 * - `age:<ep>`, the same ids by creation time: which is oldest when the bound is reached.
 * - `d:<ep>:<id>`, a hash: type, body, attempt, nextAt, createdAt, `j` (the job a message event is
 *   about), and `lease` (the claim's token) while it is being attempted.
 * And per job with deliveries waiting, `sub:<jobId>`: the names of their hashes, so `forget()`
 * erases every webhook about a job without reading the others.
 * Each change is one script, so two processes never claim one delivery at once and a late answer
 * from a process whose lease ran out cannot undo the claim of the process that took over.
 */

/**
 * add(): stores deliveries that are not stored yet, then drops the oldest of each endpoint past
 * the bound. KEYS: per endpoint touched, due then age. ARGV: maxPending, retentionMs, endpoints
 * touched, the subject sets' prefix, then per endpoint its hash prefix, then per delivery: endpoint
 * number (1-based), id, type, body, attempt, nextAt, createdAt, subject (the job id, or '').
 * Returns the number dropped per endpoint.
 */
const ADD = new LuaScript(`
local max, ttl, endpoints, subjects = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local first = 5 + endpoints
local function unlink(key)
  local subject = redis.call('HGET', key, 'j')
  if subject then redis.call('SREM', subjects .. subject, key) end
end
for i = first, #ARGV, 8 do
  local ep = tonumber(ARGV[i])
  local id = ARGV[i + 1]
  local key = ARGV[4 + ep] .. id
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'type', ARGV[i + 2], 'body', ARGV[i + 3], 'attempt', ARGV[i + 4],
      'nextAt', ARGV[i + 5], 'createdAt', ARGV[i + 6])
    redis.call('PEXPIRE', key, ttl)
    redis.call('ZADD', KEYS[2 * ep - 1], ARGV[i + 5], id)
    redis.call('ZADD', KEYS[2 * ep], ARGV[i + 6], id)
    if ARGV[i + 7] ~= '' then
      redis.call('HSET', key, 'j', ARGV[i + 7])
      redis.call('SADD', subjects .. ARGV[i + 7], key)
      redis.call('PEXPIRE', subjects .. ARGV[i + 7], ttl)
    end
  end
end
local dropped = {}
for ep = 1, endpoints do
  local over = redis.call('ZCARD', KEYS[2 * ep]) - max
  dropped[ep] = 0
  if over > 0 then
    local oldest = redis.call('ZRANGE', KEYS[2 * ep], 0, over - 1)
    for _, id in ipairs(oldest) do
      redis.call('ZREM', KEYS[2 * ep - 1], id)
      redis.call('ZREM', KEYS[2 * ep], id)
      unlink(ARGV[4 + ep] .. id)
      redis.call('DEL', ARGV[4 + ep] .. id)
    end
    dropped[ep] = #oldest
  end
end
return dropped
`);

/**
 * claim(): takes up to `limit` due deliveries, counting an attempt on each and holding it until
 * the lease ends. A delivery whose data expired is forgotten on the way.
 * KEYS: due, age. ARGV: hash prefix, now, limit, lease end, lease token, retentionMs.
 * Returns per delivery: id, type, body, attempt, nextAt, createdAt.
 */
const CLAIM = new LuaScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
  else
    local attempt = redis.call('HINCRBY', key, 'attempt', 1)
    redis.call('HSET', key, 'lease', ARGV[5])
    redis.call('PEXPIRE', key, tonumber(ARGV[6]))
    redis.call('ZADD', KEYS[1], ARGV[4], id)
    local f = redis.call('HMGET', key, 'type', 'body', 'nextAt', 'createdAt')
    out[#out + 1] = { id, f[1], f[2], tostring(attempt), f[3], f[4] }
  end
end
return out
`);

/** complete(): forgets a delivery (delivered, or given up). KEYS: due, age, hash. ARGV: id, subject sets' prefix. */
const COMPLETE = new LuaScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local subject = redis.call('HGET', KEYS[3], 'j')
if subject then redis.call('SREM', ARGV[2] .. subject, KEYS[3]) end
redis.call('DEL', KEYS[3])
return 1
`);

/**
 * forget(): erases every delivery about these jobs, waiting or being attempted. ARGV: the outbox's
 * base (\`<prefix>:<name>:~wh:\`), then the job ids. Returns how many deliveries were erased.
 */
const FORGET = new LuaScript(`
local base, erased = ARGV[1], 0
for i = 2, #ARGV do
  local subject = base .. 'sub:' .. ARGV[i]
  for _, key in ipairs(redis.call('SMEMBERS', subject)) do
    local ep, id = string.match(key, 'd:(%x+):([^:]+)$')
    if ep then
      redis.call('ZREM', base .. 'due:' .. ep, id)
      redis.call('ZREM', base .. 'age:' .. ep, id)
      erased = erased + redis.call('DEL', key)
    end
  end
  redis.call('DEL', subject)
end
return erased
`);

/**
 * retry(): due again at `nextAt`, if the claim is still this one's. KEYS: due, hash.
 * ARGV: id, lease token, nextAt, retentionMs. Returns 1, or 0 when the claim had passed on.
 */
const RETRY = new LuaScript(`
if redis.call('HGET', KEYS[2], 'lease') ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], 'lease')
redis.call('HSET', KEYS[2], 'nextAt', ARGV[3])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
`);

/**
 * A durable `WebhookOutbox` in Redis, shared by every process with the same name: a webhook is in
 * Redis before `publish()` resolves, survives the process being killed, and is delivered by
 * whichever process serves its endpoint next. Pass it as the dispatcher's `outbox`.
 */
export class RedisWebhookOutbox implements WebhookOutbox {
  readonly pollMs: number;
  readonly #base: string;
  readonly #maxPending: number;
  readonly #retentionMs: number;
  readonly #commandTimeoutMs: number;
  readonly #logger: Logger | undefined;
  readonly #secret: string | undefined;
  readonly #client: Redis;
  /** Endpoints this outbox has stored or claimed for: what `size()` counts. */
  readonly #endpoints = new Set<string>();
  readonly #keyCache = new Map<string, EndpointKeys>();
  #closed = false;

  constructor(options: RedisWebhookOutboxOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('redisWebhookOutbox needs { connection }');
    }
    validateConnection(options.connection, 'redisWebhookOutbox');
    const {
      name = 'notifications',
      prefix = 'olchat',
      pollMs = 1_000,
      maxPending = 100_000,
      retentionMs = 7 * DAY_MS,
      commandTimeoutMs = 5_000,
    } = options;
    if (typeof name !== 'string' || !/^[\w.-]{1,100}$/.test(name)) {
      throw new ValidationError('name must be 1–100 letters, digits, "_", "." or "-"');
    }
    if (typeof prefix !== 'string' || prefix === '' || prefix.length > 100) {
      throw new ValidationError('prefix must be a non-empty string');
    }
    this.pollMs = positiveInt(pollMs, 'pollMs');
    this.#maxPending = positiveInt(maxPending, 'maxPending');
    this.#retentionMs = positiveInt(retentionMs, 'retentionMs');
    this.#base = `${prefix}:${name}:~wh:`;
    this.#logger = options.logger && privateLogger(options.logger);
    this.#secret = connectionSecret(options.connection);
    this.#commandTimeoutMs = positiveInt(commandTimeoutMs, 'commandTimeoutMs');
    this.#client = createClient(options.connection, failFastOptions(this.#commandTimeoutMs));
    watchClient(this.#client, `webhook outbox ${name}`, this.#logger, this.#secret);
  }

  async add(deliveries: readonly WebhookDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const endpoints = [...new Set(deliveries.map((d) => d.endpoint))];
    const keys = endpoints.flatMap((endpoint) => [this.#keysOf(endpoint).due, this.#keysOf(endpoint).age]);
    const args: (string | number)[] = [this.#maxPending, this.#retentionMs, endpoints.length, `${this.#base}sub:`];
    for (const endpoint of endpoints) args.push(this.#keysOf(endpoint).hash);
    for (const d of deliveries) {
      args.push(
        endpoints.indexOf(d.endpoint) + 1,
        d.id,
        d.type,
        d.body,
        d.attempt,
        d.nextAt,
        d.createdAt,
        d.subject ?? '',
      );
    }
    const dropped = (await this.#run('store webhooks', () => ADD.run(this.#client, keys, args))) as number[];
    endpoints.forEach((endpoint, i) => {
      this.#endpoints.add(endpoint);
      const count = dropped[i] ?? 0;
      if (count > 0) {
        this.#logger?.warn(
          { dropped: count, maxPending: this.#maxPending, endpoint: originOf(endpoint) },
          `olchat-kit: the webhook outbox holds ${this.#maxPending} undelivered webhooks for an endpoint: dropped the oldest`,
        );
      }
    });
  }

  async claim(endpoint: string, limit: number, now: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]> {
    this.#endpoints.add(endpoint);
    const lease = randomUUID();
    const rows = (await this.#run('claim webhooks', () =>
      CLAIM.run(
        this.#client,
        [this.#keysOf(endpoint).due, this.#keysOf(endpoint).age],
        [this.#keysOf(endpoint).hash, now, limit, now + leaseMs, lease, this.#retentionMs],
      ),
    )) as string[][];
    return rows.map(([id, type, body, attempt, nextAt, createdAt]) => ({
      id: id as string,
      endpoint,
      type: type as WebhookDelivery['type'],
      body: body as string,
      attempt: Number(attempt),
      nextAt: Number(nextAt),
      createdAt: Number(createdAt),
      lease,
    }));
  }

  async complete(delivery: ClaimedWebhookDelivery): Promise<void> {
    await this.#run('complete a webhook', () =>
      COMPLETE.run(
        this.#client,
        [
          this.#keysOf(delivery.endpoint).due,
          this.#keysOf(delivery.endpoint).age,
          this.#keysOf(delivery.endpoint).hash + delivery.id,
        ],
        [delivery.id, `${this.#base}sub:`],
      ),
    );
  }

  async retry(delivery: ClaimedWebhookDelivery, nextAt: number): Promise<boolean> {
    const done = await this.#run('reschedule a webhook', () =>
      RETRY.run(
        this.#client,
        [this.#keysOf(delivery.endpoint).due, this.#keysOf(delivery.endpoint).hash + delivery.id],
        [delivery.id, delivery.lease, nextAt, this.#retentionMs],
      ),
    );
    return done === 1;
  }

  /** Includes the lease ends of deliveries being attempted: a claim that is not finished comes due there. */
  async nextDue(endpoints: readonly string[]): Promise<number | undefined> {
    if (endpoints.length === 0) return undefined;
    const replies = await this.#run('read webhooks', async () => {
      const pipeline = this.#client.pipeline();
      for (const endpoint of endpoints) pipeline.zrange(this.#keysOf(endpoint).due, '0', '0', 'WITHSCORES');
      return (await pipeline.exec()) ?? [];
    });
    let earliest: number | undefined;
    for (const [error, reply] of replies) {
      if (error) throw new RedisUnavailableError(`Could not read webhooks: ${describeRedisError(error, this.#secret)}`);
      const score = (reply as string[])[1];
      if (score !== undefined && (earliest === undefined || Number(score) < earliest)) earliest = Number(score);
    }
    return earliest;
  }

  /** Deliveries stored for the endpoints this outbox has stored or claimed for. */
  async size(): Promise<number> {
    let total = 0;
    for (const endpoint of this.#endpoints) {
      total += await this.#run('count webhooks', () => this.#client.zcard(this.#keysOf(endpoint).due));
    }
    return total;
  }

  async forget(subjects: readonly string[]): Promise<number> {
    if (subjects.length === 0) return 0;
    const erased = await this.#run('forget webhooks', () =>
      FORGET.run(this.#client, [`${this.#base}sub:${subjects[0]}`], [this.#base, ...subjects]),
    );
    return Number(erased) || 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeClient(this.#client);
  }

  async #run<T>(doing: string, command: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new ClosedError('The webhook outbox is closed');
    try {
      await this.#connected();
      return await command();
    } catch (error) {
      throw new RedisUnavailableError(
        `Could not ${doing}: Redis is unreachable (${describeRedisError(error, this.#secret)})`,
      );
    }
  }

  /**
   * Waits (within the command timeout) for a connection: the client queues nothing while it has
   * none, so a command sent while connecting or reconnecting would fail at once.
   */
  async #connected(): Promise<void> {
    const client = this.#client;
    if (client.status === 'ready') return;
    let onReady: (() => void) | undefined;
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
      client.once('ready', resolve);
    });
    try {
      await withTimeout(
        ready,
        this.#commandTimeoutMs,
        () => new Error(`no connection within ${this.#commandTimeoutMs} ms`),
      );
    } finally {
      client.off('ready', onReady as () => void);
    }
  }

  #keysOf(endpoint: string): EndpointKeys {
    let keys = this.#keyCache.get(endpoint);
    if (!keys) {
      const ep = createHash('sha256').update(endpoint).digest('hex').slice(0, 24);
      keys = { due: `${this.#base}due:${ep}`, age: `${this.#base}age:${ep}`, hash: `${this.#base}d:${ep}:` };
      this.#keyCache.set(endpoint, keys);
    }
    return keys;
  }
}

export function redisWebhookOutbox(options: RedisWebhookOutboxOptions): RedisWebhookOutbox {
  return new RedisWebhookOutbox(options);
}

/** The origin of an endpoint for a log line: never its credentials, path or query. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}
