export { escapeHtml } from './inbox-page.js';
export { DEFAULT_LIMITS, OLCHAT_METHODS } from './methods.js';
export { API_PREFIX, startEmulator } from './server.js';
export type {
  Emulator,
  EmulatorDelivery,
  EmulatorLimit,
  EmulatorLimits,
  EmulatorMessage,
  EmulatorMessageStatus,
  EmulatorOptions,
  EmulatorRequest,
  EmulatorViolation,
  FailMode,
  FlagReason,
  FlagThresholds,
  Latency,
  LatencyInfo,
  OlchatMethod,
  WhatsappLineState,
  WhatsappOptions,
} from './types.js';
