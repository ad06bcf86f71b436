import type { AttemptEvent, NotifierEvent, NotifierEvents } from '@olchat-kit/core';
import { AD_HOC_RULE, DELIVERY_STATUSES, MESSAGE_STATUSES } from './metric-defs.js';
import type { EventMetrics } from './metrics.js';

type Listener<E extends NotifierEvent> = (payload: NotifierEvents[E]) => void;
export type Subscription = { [E in NotifierEvent]: { event: E; listener: Listener<E> } }[NotifierEvent];

/**
 * The notifier events that feed the metrics. Only fixed words and rule ids (defined in code)
 * become labels: never a phone, a job id, a key or a text.
 */
export function metricListeners(metrics: EventMetrics): Subscription[] {
  const { messages, sendDuration, limiterWait, rateLimited, delivery } = metrics;
  const rulesSeen = new Set<string>();

  // A rule's four series appear together at 0, so increase() also sees its first failure.
  function ruleLabel(ruleId: unknown): string {
    const rule = typeof ruleId === 'string' && ruleId !== '' ? ruleId : AD_HOC_RULE;
    if (!rulesSeen.has(rule)) {
      rulesSeen.add(rule);
      for (const status of MESSAGE_STATUSES) messages.inc({ rule, status }, 0);
    }
    return rule;
  }

  const subscriptions: Subscription[] = MESSAGE_STATUSES.map(
    (status) =>
      ({
        event: status,
        listener: safely((record: { ruleId?: string }) => {
          messages.inc({ rule: ruleLabel(record?.ruleId), status });
        }),
      }) as Subscription,
  );
  for (const status of DELIVERY_STATUSES) {
    subscriptions.push({ event: status, listener: safely(() => delivery.inc({ status })) } as Subscription);
  }
  subscriptions.push({
    event: 'attempt',
    listener: safely((attempt: AttemptEvent) => {
      if (attempt?.code === 'RATE_LIMITED') rateLimited.inc();
      if (attempt.method !== 'sendText' && attempt.method !== 'sendFile') return;
      ruleLabel(attempt.ruleId);
      observeSeconds(sendDuration, attempt.durationMs);
      observeSeconds(limiterWait, attempt.waitMs);
    }),
  });
  return subscriptions;
}

function observeSeconds(histogram: EventMetrics['sendDuration'], ms: unknown): void {
  if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) histogram.observe(ms / 1000);
}

/** A metric is never worth a failed send: whatever goes wrong here stays here. */
function safely<T>(listener: (payload: T) => void): (payload: T) => void {
  return (payload) => {
    try {
      listener(payload);
    } catch {
      // Dropped on purpose: the notifier's events must not see a metrics error.
    }
  };
}
