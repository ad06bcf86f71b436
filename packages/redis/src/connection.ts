import { type Logger, ValidationError } from '@olchat-kit/core';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * How to reach Redis: ioredis options, a `redis://` URL, or an ioredis client. A client you pass
 * is duplicated (with the settings each part needs), never used or closed directly.
 */
export type RedisConnection = RedisOptions | string | Redis;

/** An ioredis client given by the user (duck-typed: another copy of ioredis is fine too). */
function isClient(connection: RedisConnection): connection is Redis {
  return (
    typeof connection === 'object' &&
    connection !== null &&
    typeof (connection as Redis).duplicate === 'function' &&
    typeof (connection as Redis).defineCommand === 'function'
  );
}

export function validateConnection(connection: unknown, where: string): asserts connection is RedisConnection {
  if (typeof connection === 'string' ? connection === '' : typeof connection !== 'object' || connection === null) {
    throw new ValidationError(`${where} needs { connection }: ioredis options, a redis:// URL or an ioredis client`);
  }
}

/** A new client of our own (closed by us), built from the user's connection with `overrides` on top. */
export function createClient(connection: RedisConnection, overrides: RedisOptions): Redis {
  // The user's own reconnect policy wins over ours.
  const own = typeof connection === 'string' ? undefined : isClient(connection) ? connection.options : connection;
  const settings = own?.retryStrategy ? { ...overrides, retryStrategy: own.retryStrategy } : overrides;
  if (isClient(connection)) return connection.duplicate(settings);
  if (typeof connection === 'string') return new Redis(connection, settings);
  return new Redis({ ...connection, ...settings });
}

/**
 * Settings for clients whose commands must run now or fail now: no offline queue and no
 * resending after a reconnect, so a command reported as failed never runs later behind the
 * caller's back (an add that rejected must not queue the job a minute later).
 */
export function failFastOptions(commandTimeoutMs: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    retryStrategy: quickReconnect,
  };
}

/** Reconnects within a second of Redis coming back (ioredis backs off to 5 s): work waits on it. */
export function quickReconnect(times: number): number {
  return Math.min(50 * 2 ** (times - 1), 1_000);
}

/** The password of a connection, to keep it out of every message we build. */
export function connectionSecret(connection: RedisConnection): string | undefined {
  if (typeof connection === 'string') {
    try {
      const password = new URL(connection).password;
      return password === '' ? undefined : decodeURIComponent(password);
    } catch {
      return undefined;
    }
  }
  const password = isClient(connection) ? connection.options.password : connection.password;
  return typeof password === 'string' && password !== '' ? password : undefined;
}

/** A short reason from a Redis error, safe to show: the connection's password is never in it. */
export function describeRedisError(error: unknown, secret: string | undefined): string {
  let message = error instanceof Error ? error.message : String(error);
  if (secret) message = message.split(secret).join('***');
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

/**
 * ioredis emits 'error' on every failed reconnect; with no listener it prints each one. Log the
 * first of a run of errors (and the recovery), not a line every 100 ms while Redis is down.
 */
export function watchClient(client: Redis, what: string, logger: Logger | undefined, secret: string | undefined): void {
  let failing = false;
  client.on('error', (error: unknown) => {
    if (failing) return;
    failing = true;
    logger?.warn({ err: describeRedisError(error, secret) }, `olchat-kit redis: ${what} lost its connection`);
  });
  client.on('ready', () => {
    if (!failing) return;
    failing = false;
    logger?.info({}, `olchat-kit redis: ${what} reconnected`);
  });
}

/** Closes a client of ours: politely when connected, at once otherwise. */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  await client.quit().catch(() => client.disconnect());
}
