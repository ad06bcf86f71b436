/**
 * The job vocabulary every part shares: statuses, lanes, delivery words, errors and event names.
 * It sits below the client, the queue and the notifier so none of them imports another for a word.
 */

/** Lanes: `high` before `normal` before `low`, first come first served within a lane. */
export type Priority = 'high' | 'normal' | 'low';
export const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];

/** Not finished yet: waiting for `sendAt` (or the end of quiet hours), waiting in its lane, or being sent. */
export type PendingStatus = 'scheduled' | 'queued' | 'sending';
/** Finished: a job in one of these states never changes again (except `failed`/`expired` by `retry()`). */
export type FinalStatus = 'sent' | 'failed' | 'skipped' | 'cancelled' | 'expired';
export type JobStatus = PendingStatus | FinalStatus;

export const PENDING_STATUSES: readonly PendingStatus[] = ['scheduled', 'queued', 'sending'];
export const FINAL_STATUSES: readonly FinalStatus[] = ['sent', 'failed', 'skipped', 'cancelled', 'expired'];
/** Every status, in lifecycle order (queues that store a status as a number use this order). */
export const JOB_STATUSES: readonly JobStatus[] = [...PENDING_STATUSES, ...FINAL_STATUSES];
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['delivered', 'read', 'undelivered'];

/**
 * What a message is for. `marketing` (campaigns, offers) is what opt-outs and the guard's budgets
 * hold back; `transactional` (an order confirmation, a reminder the person asked for) goes out
 * unless the person opted out of everything. Default: `marketing` for the `low` lane, else `transactional`.
 */
export type Category = 'transactional' | 'marketing';
export const CATEGORIES: readonly Category[] = ['transactional', 'marketing'];

/** The category a job gets when neither its rule nor its trigger names one. */
export function defaultCategory(priority: Priority): Category {
  return priority === 'low' ? 'marketing' : 'transactional';
}

/**
 * Why a job ended `skipped`: its rule's `when()` said no, its phone is suppressed (an opt-out, in
 * scope for its category), or the phone already had its share of marketing (`guard.perRecipient`).
 */
export type SkipReason = 'when' | 'suppressed' | 'per_recipient';
export const SKIP_REASONS: readonly SkipReason[] = ['when', 'suppressed', 'per_recipient'];

/** Why a `scheduled` job waits beyond its own time: the guard's new-recipient budget is spent. */
export type HeldBy = 'new_recipients';

/** What the vendor says became of a sent message (`deliveryChecks`). */
export type DeliveryStatus = 'delivered' | 'read' | 'undelivered';

/** What a failed job keeps of its error: safe to show in an HTTP answer. */
export interface JobError {
  code: string;
  message: string;
  status?: number;
}

/** The app's own data carried through to events and webhooks: plain JSON, at most 4 KiB. */
export type JobMeta = Record<string, unknown>;

/** When a time may be given: a `Date`, or ms since the epoch. */
export type TimeInput = Date | number;

export type WebhookEventType =
  | 'message.sent'
  | 'message.failed'
  | 'message.expired'
  | 'message.cancelled'
  | 'message.delivered'
  | 'message.read'
  | 'message.undelivered'
  | 'line.down'
  | 'line.up'
  | 'line.flagged';

/**
 * A span's context as it travels with a job: a few short strings (W3C `traceparent`, and
 * `tracestate` when there is one), stored with the job by every queue, so the span that sends it —
 * in this process or another, now or hours later — links back to the trigger.
 */
export type TraceCarrier = Readonly<Record<string, string>>;
