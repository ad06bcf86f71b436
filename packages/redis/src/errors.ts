import { NetworkError } from '@olchat-kit/core';

/**
 * Redis could not be reached (refused, down, or no answer in time). Code `NETWORK`: from
 * `add()` it means nothing was queued, from the limiter that nothing was sent, so either is
 * safe to retry. The message never contains the connection's password.
 */
export class RedisUnavailableError extends NetworkError {}

/** How a send that gave up waiting for the shared limiter starts its message (see `isLimiterOutage`). */
export const LIMITER_OUTAGE = 'The shared rate limit in Redis is unreachable';

/**
 * Whether a job's error is the limiter giving up on an unreachable Redis. A job only keeps
 * `{ code, message }` of its error, so the message is the mark. Such a job was never sent.
 */
export function isLimiterOutage(error: { code: string; message: string }): boolean {
  return error.code === 'NETWORK' && error.message.startsWith(LIMITER_OUTAGE);
}
