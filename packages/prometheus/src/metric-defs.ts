/** The metric names of DESIGN "Operations", before any `prefix`. */
export const METRIC_NAMES = {
  messages: 'olchat_messages_total',
  queueJobs: 'olchat_queue_jobs',
  queueEta: 'olchat_queue_eta_seconds',
  sendDuration: 'olchat_send_duration_seconds',
  limiterWait: 'olchat_limiter_wait_seconds',
  rateLimited: 'olchat_vendor_rate_limited_total',
  lineUp: 'olchat_line_up',
  delivery: 'olchat_delivery_total',
} as const;

/** How a job ended, as `olchat_messages_total{status}` counts it. */
export const MESSAGE_STATUSES = ['sent', 'failed', 'expired', 'cancelled'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** What the vendor said of a sent message, as `olchat_delivery_total{status}` counts it. */
export const DELIVERY_STATUSES = ['delivered', 'read', 'undelivered'] as const;
export type DeliveryStatusLabel = (typeof DELIVERY_STATUSES)[number];

/** Unfinished jobs by state, as `olchat_queue_jobs{state}` shows them. */
export const QUEUE_STATES = ['scheduled', 'queued', 'sending'] as const;

/** The `rule` label of a message sent with `notifier.send()`: a rule id is never empty, so it cannot clash. */
export const AD_HOC_RULE = '';

/**
 * One request's round trip: the vendor answers in 50 ms to a few seconds, and the client gives
 * up at its timeout (10 s by default), so the upper buckets show slowness before timeouts.
 */
export const SEND_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Time from a job's pickup to its request: one vendor window is 3 s, a burst waits a few of
 * them, and a job held while the line is down may wait hours.
 */
export const LIMITER_WAIT_BUCKETS = [0.1, 0.5, 1, 3, 6, 15, 30, 60, 300, 900, 1800, 3600, 10_800, 21_600];
