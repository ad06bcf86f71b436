import type { ClaimedWebhookDelivery } from '../queue/outbox.js';
import {
  ATTRIBUTES,
  failSpan,
  MESSAGING_SYSTEM,
  SPAN_NAMES,
  type Telemetry,
  type TelemetryAttributes,
  type TelemetrySpan,
} from '../telemetry/telemetry.js';
import type { ResolvedEndpoint } from './endpoints.js';
import type { AttemptResult } from './post.js';

/**
 * An `olchat.webhook` span (kind CLIENT) for one attempt, the first of a trace of its own: the
 * event, the `webhook-id`, which attempt, the job it is about, and the endpoint's host only (its
 * path or query may hold a token; the body holds a phone).
 */
export function startWebhookSpan(
  telemetry: Telemetry,
  endpoint: ResolvedEndpoint,
  delivery: ClaimedWebhookDelivery,
): TelemetrySpan {
  const attributes: TelemetryAttributes = {
    [ATTRIBUTES.system]: MESSAGING_SYSTEM,
    [ATTRIBUTES.webhookType]: delivery.type,
    [ATTRIBUTES.webhookId]: delivery.id,
    [ATTRIBUTES.attempt]: delivery.attempt,
    [ATTRIBUTES.serverAddress]: new URL(endpoint.origin).hostname,
  };
  const jobId = jobIdOf(delivery);
  if (jobId !== undefined) attributes[ATTRIBUTES.jobId] = jobId;
  return telemetry.startSpan(SPAN_NAMES.webhook, { kind: 'client', attributes, root: true });
}

/**
 * `delivered`; `retry` or `given_up` (the schedule ran out) as errors with the failure's code;
 * `abandoned` when the dispatcher closed mid-attempt (due again at once, not refused).
 */
export function describeWebhookAttempt(
  span: TelemetrySpan,
  result: AttemptResult,
  outcome: 'delivered' | 'retry' | 'given_up' | 'abandoned',
): void {
  span.setAttributes({ [ATTRIBUTES.outcome]: outcome });
  if (result.status !== undefined) span.setAttributes({ [ATTRIBUTES.httpStatus]: result.status });
  if (!result.ok && outcome !== 'abandoned') failSpan(span, result.code);
}

/** The id of the job a `message.*` event is about (line events have none). */
function jobIdOf(delivery: ClaimedWebhookDelivery): string | undefined {
  if (!delivery.type.startsWith('message.')) return undefined;
  try {
    const id = (JSON.parse(delivery.body) as { data?: { id?: unknown } }).data?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
