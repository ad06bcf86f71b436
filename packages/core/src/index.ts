/**
 * @olchat-kit/core: what an app uses. The client and its errors, phone helpers, rules, the
 * notifier and its in-memory parts, and the HTTP handler the adapters mount. Everything a queue,
 * limiter store or webhook backend author needs is behind a subpath of its own:
 * `@olchat-kit/core/queue`, `/limiter`, `/webhooks`, `/dashboard`.
 */

export {
  type AttemptInfo,
  type CallOptions,
  type CheckPhoneResult,
  type CheckStatusResult,
  type MessageStatusResult,
  OlchatClient,
  type OlchatClientOptions,
  type ReservableMethod,
  type ReserveOptions,
  type SendFileParams,
  type SendResult,
  type SendTextParams,
} from './client/client.js';
export type { LimitsOption } from './client/limits.js';
export type { MessageInput, OutgoingMessage } from './client/message.js';
export {
  MAX_REQUEST_LINE_BYTES,
  type MethodLimit,
  type OlchatMethod,
  VENDOR_BASE_URL,
  VENDOR_LIMITS,
} from './client/methods.js';
export type { RetryOptions } from './client/retry.js';
export {
  AmbiguousError,
  ClosedError,
  HttpError,
  isCertainlyNotAccepted,
  JobStateError,
  NetworkError,
  OlchatError,
  type OlchatErrorCode,
  type OlchatErrorOptions,
  QueueFullError,
  RateLimitError,
  StalledError,
  TimeoutError,
  UnknownRuleError,
  ValidationError,
  type ValidationIssue,
  VendorError,
} from './errors.js';
export { InboundError, type InboundErrorCode } from './http/errors.js';
export { createHandler, createNotify, type OlchatHandler } from './http/handler.js';
export type { FormLocale } from './http/locale.js';
export { fromNodeRequest } from './http/node.js';
export type {
  CorsOption,
  HandlerLogger,
  HandlerOptions,
  HandlerRequest,
  HandlerResponse,
  InboundLimit,
  InboundLimitsOptions,
  NotifyHandlerOptions,
  NotifyHooks,
  NotifyOutcome,
  QueryTriggerOptions,
  TrustProxy,
} from './http/types.js';
export type {
  Category,
  DeliveryStatus,
  HeldBy,
  JobError,
  JobMeta,
  JobStatus,
  Priority,
  SkipReason,
  TimeInput,
  WebhookEventType,
} from './job.js';
export { MemoryLimiterStore, type MemoryLimiterStoreOptions } from './limiter/memory-store.js';
export type { SlotReservation } from './limiter/reservation.js';
export type { Logger } from './logger.js';
export { createNotifier } from './notifier/notifier.js';
export type {
  AnyNotifier,
  AttemptEvent,
  CancelFilter,
  Contacts,
  DeliveryChecksOptions,
  FindOptions,
  ForgetOptions,
  ForgetResult,
  GuardOptions,
  LaneInfo,
  LineEvent,
  LineInfo,
  LineReason,
  LineState,
  Notifier,
  NotifierEvent,
  NotifierEvents,
  NotifierOptions,
  NotifierStats,
  PacingRange,
  QuietHoursOptions,
  ReplyOptions,
  ReplyResult,
  RetryJobOptions,
  RuleIdOf,
  Suppression,
  SuppressionScope,
  SuppressOptions,
  TriggerInput,
  TriggerOptions,
  TriggerResult,
  WebhookEndpoint,
  WebhookOmittable,
} from './notifier/types.js';
export { isPhone, maskPhone, normalizePhone } from './phone.js';
export { MemoryQueue, type MemoryQueueOptions } from './queue/memory-queue.js';
export type { JobQueue, JobRecord, JobStats } from './queue/types.js';
export {
  type AnyRule,
  defineRule,
  type Rule,
  type RuleDefinition,
  type RuleInput,
  type RuleTime,
} from './rules/rules.js';
export type { StandardSchemaV1 } from './rules/standard-schema.js';
export type { DateFormat } from './rules/template.js';
export type {
  Telemetry,
  TelemetryAttributes,
  TelemetrySpan,
  TelemetrySpanKind,
  TelemetrySpanOptions,
  TraceCarrier,
} from './telemetry/telemetry.js';
export { generateWebhookSecret } from './webhooks/signature.js';
