import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { InboundError } from './errors.js';
import type { InboundLimit } from './types.js';

export interface InboundCheck {
  /** Takes one point for `key`, or throws a 429 `InboundError` saying when to come back. */
  take(key: string): Promise<void>;
  /** Gives back a point `take` took: the request turned out not to count (a customer's typo). */
  giveBack(key: string): Promise<void>;
}

// Handlers on one notifier with the same limit share its counters: a router and a notify() route
// together still let one IP (or to one phone) through only as often as the limit says.
const shared = new WeakMap<object, Map<string, RateLimiterMemory>>();

/** The limit `name` of `owner`'s handlers, shared by every handler of that owner with the same limit. */
export function inboundCheck(owner: object, name: 'ip' | 'phone', limit: InboundLimit): InboundCheck {
  let limiters = shared.get(owner);
  if (!limiters) {
    limiters = new Map();
    shared.set(owner, limiters);
  }
  const id = `${name}:${limit.points}:${limit.durationMs}`;
  let limiter = limiters.get(id);
  if (!limiter) {
    limiter = new RateLimiterMemory({ points: limit.points, duration: limit.durationMs / 1000 });
    limiters.set(id, limiter);
  }
  const message =
    name === 'ip'
      ? 'Too many requests from this address; try again later'
      : 'Too many messages to this phone number; try again later';
  const rateLimiter = limiter;
  return {
    async take(key) {
      try {
        await rateLimiter.consume(key);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        throw new InboundError('too_many_requests', message, {
          retryAfterSec: Math.max(1, Math.ceil(error.msBeforeNext / 1000)),
        });
      }
    },
    async giveBack(key) {
      // A window that ended since the point was taken has nothing to give back: rewarding it would
      // open the next window in credit.
      const current = await rateLimiter.get(key);
      if (current !== null && current.consumedPoints > 0) await rateLimiter.reward(key, 1);
    },
  };
}
