import type { WebhookEventType } from '../job.js';

/** One webhook for one endpoint, stored until an attempt gets a 2xx or the schedule runs out. */
export interface WebhookDelivery {
  /** The `webhook-id`: `msg_…`, the same on every attempt (and for every endpoint of one event). */
  id: string;
  /** The endpoint's URL as configured: which endpoint (and so which secret) it goes to. */
  endpoint: string;
  type: WebhookEventType;
  /** The exact JSON text sent and signed, the same on every attempt. */
  body: string;
  /** Attempts made so far (a claim counts as one). */
  attempt: number;
  /** When the next attempt is due (ms since the epoch). */
  nextAt: number;
  /** When it was published (ms since the epoch): the oldest go first when a bound is reached. */
  createdAt: number;
  /** The job a `message.*` event is about (its id): what `forget()` erases it by. */
  subject?: string;
}

/** A delivery taken for one attempt: `attempt` already counts it. */
export interface ClaimedWebhookDelivery extends WebhookDelivery {
  /** Whose claim this is: a shared outbox acts on `retry()` only while this claim still holds. */
  lease: string;
}

/**
 * Where pending webhook deliveries wait, and when each is next due. The dispatcher owns the timing
 * and the HTTP; the outbox only stores. `MemoryWebhookOutbox` is the default (bounded, lost with the
 * process); `@olchat-kit/redis` provides a durable one shared by every process.
 */
export interface WebhookOutbox {
  /**
   * Set by an outbox that other processes share: deliveries they add, or leave behind when they
   * die, appear without this process being told, so the dispatcher also looks this often (ms).
   */
  readonly pollMs?: number;
  /** Stores new deliveries (due at their `nextAt`); resolves once they are stored. */
  add(deliveries: readonly WebhookDelivery[]): Promise<void>;
  /**
   * Takes up to `limit` deliveries of this endpoint that are due at `now`, earliest first, counting
   * one attempt on each. None is handed out twice at once: a shared outbox holds each for `leaseMs`,
   * after which one not completed or retried (its process died) is due again.
   */
  claim(endpoint: string, limit: number, now: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]>;
  /** Delivered, or given up: forgets it. */
  complete(delivery: ClaimedWebhookDelivery): Promise<void>;
  /**
   * The attempt failed: due again at `nextAt`. Resolves false when the claim was no longer this
   * one's (its lease ran out and another took it, or it was completed or dropped meanwhile).
   */
  retry(delivery: ClaimedWebhookDelivery, nextAt: number): Promise<boolean>;
  /** When the earliest delivery of these endpoints not now being attempted is due; undefined if none. */
  nextDue(endpoints: readonly string[]): Promise<number | undefined>;
  /** Deliveries stored, waiting or being attempted. */
  size(): Promise<number>;
  /**
   * Erases every stored delivery about one of these jobs (`notifier.forget()`), waiting or being
   * attempted (an attempt already on the wire still ends, but is never made again). Resolves how
   * many were erased.
   */
  forget(subjects: readonly string[]): Promise<number>;
  close(): Promise<void>;
}
