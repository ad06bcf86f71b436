/**
 * @olchat-kit/core/webhooks: status webhooks (Standard Webhooks signing, the dispatcher, event
 * bodies, the in-memory outbox). For a durable outbox's author and a receiver's tests.
 */

export type { ClaimedWebhookDelivery, WebhookDelivery, WebhookOutbox } from '../queue/outbox.js';
export {
  createWebhookDispatcher,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookPublishOptions,
} from './dispatcher.js';
export {
  type LineWebhookData,
  type LineWebhookType,
  lineWebhookData,
  type MessageWebhookData,
  type MessageWebhookType,
  WEBHOOK_EVENT_TYPES,
  type WebhookData,
  type WebhookPayload,
  webhookBody,
  webhookData,
} from './events.js';
export { MemoryWebhookOutbox, type MemoryWebhookOutboxOptions } from './memory-outbox.js';
export { WEBHOOK_RETRY_JITTER, WEBHOOK_RETRY_SCHEDULE } from './schedule.js';
export {
  generateWebhookSecret,
  parseWebhookSecret,
  signWebhook,
  WEBHOOK_SECRET_MAX_BYTES,
  WEBHOOK_SECRET_MIN_BYTES,
  WEBHOOK_SECRET_PREFIX,
} from './signature.js';
