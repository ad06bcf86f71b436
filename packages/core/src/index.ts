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
  TrustProxy,
} from './http/types.js';
// The lifecycle rules, for queues outside core (@olchat-kit/redis) to store what they decide.
export { DEFAULT_MAX_AGE_MS, expiredError, freesKeys } from './lifecycle.js';
export { SlotGate } from './limiter/gate.js';
export { defaultLimiterStore, MemoryLimiterStore } from './limiter/memory-store.js';
export type { LimiterStore, SlotLease, SlotWait } from './limiter/store.js';
export type { LimitsOption, ResolvedLimit } from './limits.js';
export type { MessageInput, OutgoingMessage } from './message.js';
export {
  DEFAULT_MARGIN_MS,
  type MethodLimit,
  OLCHAT_METHODS,
  type OlchatMethod,
  VENDOR_BASE_URL,
  VENDOR_LIMITS,
} from './methods.js';
export {
  createNotifier,
  type Notifier,
  type NotifierEvent,
  type NotifierOptions,
  type TriggerOptions,
  type TriggerResult,
} from './notifier.js';
export { normalizePhone } from './phone.js';
export { MemoryQueue, type MemoryQueueOptions } from './queue/memory-queue.js';
export type {
  ActiveJob,
  AddResult,
  JobError,
  JobOutcome,
  JobQueue,
  JobRecord,
  JobStats,
  JobStatus,
  NewJob,
  WorkerOptions,
} from './queue/types.js';
export { DEFAULT_RETRY, type RetryOptions } from './retry.js';
export { type AnyRule, defineRule, type PreparedMessage, type Rule, type RuleDefinition } from './rules.js';
export type { StandardSchemaV1 } from './standard-schema.js';
