import type { DeliveryStatus, JobError, JobMeta, JobStatus, WebhookEventType } from '../job.js';
import type { LineEvent, LineReason, LineState } from '../queue/line.js';
import type { JobRecord } from '../queue/types.js';

/** Every event type a webhook endpoint may ask for (the `events` filter). */
export const WEBHOOK_EVENT_TYPES = [
  'message.sent',
  'message.failed',
  'message.expired',
  'message.cancelled',
  'message.delivered',
  'message.read',
  'message.undelivered',
  'line.down',
  'line.up',
  'line.flagged',
] as const satisfies readonly WebhookEventType[];

// Fails to compile when notifier-types gains a type this list does not name.
type Missing = Exclude<WebhookEventType, (typeof WEBHOOK_EVENT_TYPES)[number]>;
const _everyType: [Missing] extends [never] ? true : Missing = true;
void _everyType;

export type MessageWebhookType = Extract<WebhookEventType, `message.${string}`>;
export type LineWebhookType = Extract<WebhookEventType, `line.${string}`>;

/** `data` of a `message.*` webhook: what became of one job. */
export interface MessageWebhookData {
  /** The job id (`trigger()`'s and `GET /messages/:id`'s). */
  id: string;
  ruleId?: string;
  status: JobStatus;
  /** The recipient, 11 digits (every job that can have an event has one). */
  phone?: string;
  /** The vendor's id of the sent message. */
  messageId?: string;
  delivery?: DeliveryStatus;
  /** Why it failed or expired: `{ code, message, status? }`, never the token. */
  error?: JobError;
  /** The app's own data given to `trigger()`/`send()`, passed through as it was. */
  meta?: JobMeta;
}

/** `data` of a `line.down` / `line.up` / `line.flagged` webhook. */
export interface LineWebhookData {
  state: LineState;
  reason?: LineReason;
  /** `line.flagged`: until when normal and low wait (ISO 8601), unless an operator resumes them. */
  until?: string;
}

export type WebhookData<T extends WebhookEventType = WebhookEventType> = T extends LineWebhookType
  ? LineWebhookData
  : MessageWebhookData;

/** The JSON body of every webhook (the Standard Webhooks payload structure). */
export interface WebhookPayload<T extends WebhookEventType = WebhookEventType> {
  type: T;
  /** When the event happened (ISO 8601); each attempt's own time is the `webhook-timestamp` header. */
  timestamp: string;
  data: WebhookData<T>;
}

/** The `data` of a `message.*` webhook, from a job's record. Fields the record lacks are left out. */
export function webhookData(record: JobRecord): MessageWebhookData {
  const data: MessageWebhookData = { id: record.id, status: record.status };
  if (record.ruleId !== undefined) data.ruleId = record.ruleId;
  if (record.phone !== undefined) data.phone = record.phone;
  if (record.messageId !== undefined) data.messageId = record.messageId;
  if (record.delivery !== undefined) data.delivery = record.delivery;
  if (record.error !== undefined) data.error = copyError(record.error);
  if (record.meta !== undefined) data.meta = record.meta;
  return data;
}

/** The `data` of a `line.*` webhook, from the notifier's `'line'` event. */
export function lineWebhookData(event: LineEvent): LineWebhookData {
  const data: LineWebhookData = { state: event.state };
  if (event.reason !== undefined) data.reason = event.reason;
  if (event.until !== undefined) data.until = new Date(event.until).toISOString();
  return data;
}

/** Only the fields a stored error is meant to show, whatever else the object carries. */
function copyError(error: JobError): JobError {
  return error.status === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, status: error.status };
}

/**
 * The exact text that is signed and sent, serialised once per event: every attempt to every
 * endpoint carries these same bytes.
 */
export function webhookBody<T extends WebhookEventType>(type: T, data: WebhookData<T>, at: Date): string {
  const payload: WebhookPayload<T> = { type, timestamp: at.toISOString(), data };
  return JSON.stringify(payload);
}
