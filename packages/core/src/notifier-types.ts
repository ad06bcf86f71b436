import type { Logger, OlchatClient } from './client.js';
import type { MessageInput, OutgoingMessage } from './message.js';
import type { OlchatMethod } from './methods.js';
import type { DeliveryStatus, JobMeta, JobQueue, JobRecord, JobStats, JobStatus, Priority } from './queue/types.js';
import type { QuietHoursOptions } from './quiet-hours.js';
import type { AnyRule, RuleInput } from './rules.js';
import type { Telemetry } from './telemetry/telemetry.js';

export type { QuietHoursOptions };

/** When a time may be given: a `Date`, or ms since the epoch. */
export type TimeInput = Date | number;

export interface DeliveryChecksOptions {
  /** Ask the vendor about each sent message this long after the send (one check per offset, each ≥ 1 000). */
  afterMs: number[];
  /** A check that could not run within this long after its time is dropped. Default 1 h. */
  maxLagMs?: number;
  /** Most sent messages followed at once; past it the oldest stop being checked. Default 10 000. */
  maxPending?: number;
}

export type WebhookEventType =
  | 'message.sent'
  | 'message.failed'
  | 'message.expired'
  | 'message.cancelled'
  | 'message.delivered'
  | 'message.read'
  | 'message.undelivered'
  | 'line.down'
  | 'line.up';

export interface WebhookEndpoint {
  url: string;
  /** `whsec_` followed by the base64 key (the Standard Webhooks format). */
  secret: string;
  /** Only these events; default all. */
  events?: WebhookEventType[];
}

export interface NotifierOptions<R extends AnyRule = AnyRule> {
  client: OlchatClient;
  rules?: readonly R[];
  /** Where jobs wait. Default: an in-memory queue (lost if the process dies; see @olchat-kit/redis). */
  queue?: JobQueue;
  /** Jobs worked at once. The limiter paces the requests; this only bounds waiting sends. Default 10. */
  concurrency?: number;
  /** How long an idempotency or dedupe key keeps returning the first job. Default 24 h. */
  dedupeTtlMs?: number;
  /** Most unfinished jobs (scheduled, queued and sending); past it `trigger()` rejects `QUEUE_FULL`. Default: the queue's (100 000 in memory). */
  maxQueued?: number;
  /** A job without `notAfter` expires this long after it was created. Default 24 h. */
  maxAgeMs?: number;
  /** None unless given. */
  quietHours?: QuietHoursOptions;
  /** Default false. */
  deliveryChecks?: DeliveryChecksOptions | false;
  webhooks?: WebhookEndpoint[];
  /** Where listener errors, line changes and webhook failures are reported. Default: console. */
  logger?: Logger;
  /**
   * Traces: a span for each trigger, send attempt, delivery check and webhook attempt, e.g.
   * `otelTelemetry()` from `@olchat-kit/opentelemetry`. Default: none (and nothing spent on it).
   */
  telemetry?: Telemetry;
}

export interface TriggerOptions {
  /** The same key within `dedupeTtlMs` returns the first job and sends nothing more. */
  idempotencyKey?: string;
  /** Send no earlier than this (past or absent: now). Overrides the rule's. */
  sendAt?: TimeInput;
  /** Never send after this: past it the job ends `expired`. Overrides the rule's. */
  notAfter?: TimeInput;
  /** A pending job with this key is cancelled and replaced. Overrides the rule's. */
  replaceKey?: string;
  /** Overrides the rule's (default `'normal'`). */
  priority?: Priority;
  /** The app's own data (plain JSON, at most 4 KiB), passed to events and webhooks. */
  meta?: JobMeta;
  /**
   * Awaited once the input is valid and the message rendered, just before a new job is queued
   * (not when `when()` says no, not for a replay of an idempotency or dedupe key). If it throws,
   * `trigger()` rejects with that error and nothing is queued. The HTTP handler's per-recipient
   * inbound limit uses it.
   */
  beforeEnqueue?: (message: OutgoingMessage) => void | Promise<void>;
}

export interface TriggerResult {
  id: string;
  status: JobStatus;
}

export type LineState = 'up' | 'down' | 'unknown';
/** Why the line cannot be used: the vendor is not answering, the WhatsApp session is down, or the token is refused. */
export type LineReason = 'vendor_unreachable' | 'line_down' | 'token_rejected';

export interface LineEvent {
  state: LineState;
  reason?: LineReason;
}

export interface LineInfo extends LineEvent {
  /** When the state last changed (ms since the epoch). */
  since: number;
  /** When the vendor was last heard from (a send or a status check), if ever. */
  checkedAt?: number;
}

/** One request the notifier made: what the metrics count. */
export interface AttemptEvent {
  method: OlchatMethod;
  ruleId?: string;
  /** Time spent waiting for the limit slot. */
  waitMs: number;
  /** Time from writing the request to its answer (or failure). */
  durationMs: number;
  /** The error code, when it failed. */
  code?: string;
}

type Final<S extends JobStatus> = JobRecord & { status: S };

export interface NotifierEvents {
  sent: Final<'sent'>;
  failed: Final<'failed'>;
  expired: Final<'expired'>;
  cancelled: Final<'cancelled'>;
  delivered: JobRecord & { delivery: DeliveryStatus };
  read: JobRecord & { delivery: DeliveryStatus };
  undelivered: JobRecord & { delivery: DeliveryStatus };
  line: LineEvent;
  attempt: AttemptEvent;
}
export type NotifierEvent = keyof NotifierEvents;

export interface NotifierStats extends JobStats {
  /** Time until every queued job would be sent at the vendor's limit. */
  etaMs: number;
}

export interface RetryOptions {
  /** Also retry a job that ended `AMBIGUOUS` (it may have been delivered: it may arrive twice). */
  ambiguous?: boolean;
}

/** The rule ids a notifier of `R` knows; any string for a notifier of any rules (`Notifier` alone). */
export type RuleIdOf<R extends AnyRule> = 0 extends 1 & R ? string : R['id'];
type IdOf<R extends AnyRule> = R['id'];
/** With rules of literal ids, only those ids and their inputs; with untyped rules, any string and data. */
export type TriggerInput<R extends AnyRule, Id extends string> =
  string extends IdOf<R> ? unknown : RuleInput<Extract<R, { id: Id }>>;

/**
 * A notifier. `Notifier` alone (any rules) accepts every notifier, so functions that take one need
 * no type argument; `createNotifier` returns `Notifier<YourRules>`, whose `trigger` knows the ids.
 */
// biome-ignore lint/suspicious/noExplicitAny: the default stands for any rule set (see above)
export interface Notifier<R extends AnyRule = any> {
  trigger<Id extends IdOf<R>>(ruleId: Id, data: TriggerInput<R, Id>, options?: TriggerOptions): Promise<TriggerResult>;
  send(message: MessageInput, options?: Omit<TriggerOptions, 'beforeEnqueue'>): Promise<TriggerResult>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Cancels a scheduled or queued job; true when one was cancelled (false: unknown, being sent or finished). */
  cancel(target: string | { replaceKey: string }): Promise<boolean>;
  /**
   * Puts a `failed` or `expired` job back in line with a fresh deadline. Resolves undefined for an
   * unknown id; rejects `CONFLICT` for a job in another state (or `AMBIGUOUS` without the option).
   */
  retry(id: string, options?: RetryOptions): Promise<TriggerResult | undefined>;
  /** Recent jobs, newest first. */
  list(options?: { status?: JobStatus; limit?: number }): Promise<JobRecord[]>;
  on<E extends NotifierEvent>(event: E, listener: (payload: NotifierEvents[E]) => void): this;
  off<E extends NotifierEvent>(event: E, listener: (payload: NotifierEvents[E]) => void): this;
  stats(): NotifierStats;
  /** The WhatsApp line as last seen. */
  readonly line: LineState;
  /** The line's state with its reason and times (the `/health` route). */
  lineInfo(): LineInfo;
  /** Asks the vendor about the line now unless it was asked within `maxAgeMs` (never more than one check at once). */
  refreshLine(maxAgeMs?: number): Promise<LineInfo>;
  /** Has a rule with this id. */
  hasRule(ruleId: string): boolean;
  readonly client: OlchatClient;
  readonly closed: boolean;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** A notifier of any rules: what the HTTP handler, the adapters and the metrics accept. */
export type AnyNotifier = Notifier;
