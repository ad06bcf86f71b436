export {
  type AttemptInfo,
  type CallOptions,
  type CheckPhoneResult,
  type CheckStatusResult,
  type Logger,
  type MessageStatusResult,
  OlchatClient,
  type OlchatClientOptions,
  type SendFileParams,
  type SendResult,
  type SendTextParams,
} from './client.js';
export * from './dashboard/index.js';
export * from './errors.js';
export { INBOUND_ERROR_STATUS, InboundError, type InboundErrorCode } from './http/errors.js';
export { createHandler, createNotify, type OlchatHandler } from './http/handler.js';
export { fromNodeRequest } from './http/node.js';
export { DEFAULT_INBOUND_LIMITS } from './http/options.js';
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
export {
  BACKOFF_MAX_MS,
  BACKOFF_MIN_MS,
  DEFAULT_MAX_AGE_MS,
  deadlineFor,
  expiredError,
  freesKeys,
  isFinal,
  isTokenRejected,
  outcomeOfFailure,
  retryRefusal,
  toJobError,
} from './lifecycle.js';
export { SlotGate } from './limiter/gate.js';
export { defaultLimiterStore, MemoryLimiterStore } from './limiter/memory-store.js';
export type { LimiterStore, SlotLease, SlotWait } from './limiter/store.js';
export type { LimitsOption, ResolvedLimit } from './limits.js';
export type { LineOptions } from './line.js';
export type { MessageInput, OutgoingMessage } from './message.js';
export {
  DEFAULT_MARGIN_MS,
  MAX_REQUEST_LINE_BYTES,
  type MethodLimit,
  OLCHAT_METHODS,
  type OlchatMethod,
  VENDOR_BASE_URL,
  VENDOR_LIMITS,
} from './methods.js';
export { createNotifier, type NotifierInternalOptions } from './notifier.js';
export type {
  AnyNotifier,
  AttemptEvent,
  DeliveryChecksOptions,
  LineEvent,
  LineInfo,
  LineReason,
  LineState,
  Notifier,
  NotifierEvent,
  NotifierEvents,
  NotifierOptions,
  NotifierStats,
  QuietHoursOptions,
  RetryOptions as JobRetryOptions,
  RuleIdOf,
  TimeInput,
  TriggerInput,
  TriggerOptions,
  TriggerResult,
  WebhookEndpoint,
  WebhookEventType,
} from './notifier-types.js';
export { normalizePhone } from './phone.js';
export { DEFAULT_MAX_QUEUED, MemoryQueue, type MemoryQueueOptions } from './queue/memory-queue.js';
export {
  type ActiveJob,
  type AddResult,
  type CancelTarget,
  DELIVERY_STATUSES,
  type DeliveryStatus,
  FINAL_STATUSES,
  type FinalStatus,
  JOB_STATUSES,
  type JobError,
  type JobMeta,
  type JobOutcome,
  type JobQueue,
  type JobRecord,
  type JobStats,
  type JobStatus,
  type ListOptions,
  type NewJob,
  PENDING_STATUSES,
  type PendingStatus,
  PRIORITIES,
  type Priority,
  type WorkerOptions,
} from './queue/types.js';
export { createQuietHours, defaultTimeZone, type QuietHours, resolveTimeZone } from './quiet-hours.js';
export { DEFAULT_RETRY, type RetryOptions } from './retry.js';
export {
  type AnyRule,
  defineRule,
  type PrepareContext,
  type PreparedMessage,
  type Rule,
  type RuleDefinition,
  type RuleInput,
  type RuleTime,
} from './rules.js';
export { Scheduler } from './scheduler.js';
export type { StandardSchemaV1 } from './standard-schema.js';
export {
  ATTRIBUTES,
  MESSAGING_SYSTEM,
  REQUEST_EVENT,
  SPAN_NAMES,
  type Telemetry,
  type TelemetryAttributes,
  type TelemetrySpan,
  type TelemetrySpanKind,
  type TelemetrySpanOptions,
  type TraceCarrier,
} from './telemetry/telemetry.js';
export type { DateFormat, RenderContext } from './template.js';
export * from './webhooks/index.js';
