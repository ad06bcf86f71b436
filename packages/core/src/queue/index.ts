/**
 * @olchat-kit/core/queue: the contract a job queue implements (the in-memory one here,
 * @olchat-kit/redis's on BullMQ) and the lifecycle rules every queue follows, written once.
 */

export { isCertainlyNotAccepted } from '../errors.js';
export type {
  Category,
  DeliveryStatus,
  FinalStatus,
  HeldBy,
  JobError,
  JobMeta,
  JobStatus,
  PendingStatus,
  Priority,
  SkipReason,
} from '../job.js';
export {
  CATEGORIES,
  DELIVERY_STATUSES,
  defaultCategory,
  FINAL_STATUSES,
  JOB_STATUSES,
  PENDING_STATUSES,
  PRIORITIES,
  SKIP_REASONS,
} from '../job.js';
export { maskPhones, privateLogger } from '../logger.js';
export type { NotifierInternalOptions } from '../notifier/notifier.js';
export { MemoryPeopleStore } from '../people/memory-store.js';
export { type PhoneKey, phoneKeyer } from '../people/phone-key.js';
export { type LaneGateChange, type LaneGateState, LaneGates, type LaneHold, type QueueGates } from './lane-gates.js';
export {
  BACKOFF_MAX_MS,
  BACKOFF_MIN_MS,
  DEFAULT_MAX_AGE_MS,
  deadlineFor,
  expiredError,
  isTokenRejected,
  outcomeOfFailure,
  retryRefusal,
  toJobError,
} from './lifecycle.js';
export type { LineOptions } from './line.js';
export { DEFAULT_MAX_QUEUED, MemoryQueue, type MemoryQueueOptions } from './memory-queue.js';
export type { ClaimedWebhookDelivery, WebhookDelivery, WebhookOutbox } from './outbox.js';
export {
  type Admission,
  type AdmitRequest,
  BUDGET_WINDOW_MS,
  type ForgottenPerson,
  type NewRecipientCounts,
  PEOPLE_WINDOW_MS,
  type PeopleCounts,
  type PeopleStore,
  type PersonState,
  SUPPRESSION_SCOPES,
  type Suppression,
  type SuppressionScope,
} from './people-store.js';
export {
  allows,
  freesKeys,
  isFinal,
  KEYS_AFTER,
  type KeyRule,
  LIFECYCLE_EVENTS,
  type LifecycleEvent,
  NOT_ACCEPTED,
  type NoJob,
  nextStatus,
  statusesFor,
  TRANSITIONS,
  type Transition,
} from './transitions.js';
export type {
  ActiveJob,
  AddResult,
  CancelFilter,
  CancelTarget,
  Claim,
  ForgottenJobs,
  JobOutcome,
  JobQueue,
  JobRecord,
  JobStats,
  ListOptions,
  NewJob,
  SendKind,
  WorkerOptions,
} from './types.js';
export { sendKindOf } from './types.js';
