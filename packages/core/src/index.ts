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
export { SlotGate } from './limiter/gate.js';
export { defaultLimiterStore, MemoryLimiterStore } from './limiter/memory-store.js';
export type { LimiterStore, SlotLease, SlotWait } from './limiter/store.js';
export type { LimitsOption, ResolvedLimit } from './limits.js';
export {
  DEFAULT_MARGIN_MS,
  type MethodLimit,
  OLCHAT_METHODS,
  type OlchatMethod,
  VENDOR_BASE_URL,
  VENDOR_LIMITS,
} from './methods.js';
export { normalizePhone } from './phone.js';
export { DEFAULT_RETRY, type RetryOptions } from './retry.js';
