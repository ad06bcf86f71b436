import type { OlchatClient } from '../client/client.js';
import type { MessageInput, OutgoingMessage } from '../client/message.js';
import type { DeliveryChecksOptions } from '../delivery/delivery.js';
import type { GuardStats } from '../guard/budget.js';
import type { GuardOptions } from '../guard/options.js';
import type { Category, DeliveryStatus, JobMeta, JobStatus, Priority, TimeInput } from '../job.js';
import type { Logger } from '../logger.js';
import type { Contacts, SuppressOptions } from '../people/people.js';
import type { AttemptEvent } from '../queue/job-worker.js';
import type { LineEvent, LineInfo, LineState } from '../queue/line.js';
import type { Suppression } from '../queue/people-store.js';
import type { QuietHoursOptions } from '../queue/quiet-hours.js';
import type { CancelFilter, JobQueue, JobRecord, JobStats } from '../queue/types.js';
import type { AnyRule, RuleInput } from '../rules/rules.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { WebhookEndpoint, WebhookOmittable } from '../webhooks/endpoints.js';

export type { GuardOptions, PacingRange } from '../guard/options.js';
export type { Category, DeliveryStatus, JobMeta, SkipReason, TimeInput, WebhookEventType } from '../job.js';
export type { Logger } from '../logger.js';
export type { Contacts, ReplyOptions, ReplyResult, SuppressOptions } from '../people/people.js';
export type { AttemptEvent } from '../queue/job-worker.js';
export type { LineEvent, LineInfo, LineReason, LineState } from '../queue/line.js';
export type { Suppression, SuppressionScope } from '../queue/people-store.js';
export type { CancelFilter } from '../queue/types.js';
export type { DeliveryChecksOptions, QuietHoursOptions, WebhookEndpoint, WebhookOmittable };

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
   * What keeps the WhatsApp number from being banned (see "Keeping the number alive" in the README).
   * On by default; `false` turns all of it off (template variants still render).
   */
  guard?: GuardOptions | false;
  /**
   * The key phones are hashed with (HMAC-SHA256) wherever the notifier remembers people: contact
   * memory and suppressions hold no digits. At least 16 characters; required with a shared queue
   * (Redis), where every process must hash alike and keep it across restarts. Default with the
   * memory queue: a random one per process.
   */
  secret?: string;
  /**
   * Traces: a span for each trigger, send attempt, delivery check and webhook attempt, e.g.
   * `otelTelemetry()` from `@olchat-kit/opentelemetry`. Default: none (and nothing spent on it).
   */
  telemetry?: Telemetry;
  /**
   * false: a job's text (or file) is dropped once the job is finished, so records show what is to
   * be sent only while it waits. Default true: records keep what was sent (support can read it).
   */
  storeText?: boolean;
  /**
   * How long a finished job is kept (its record and text, and the queue's own data about it) before
   * it is erased. Default 7 days. Overrides the queue's own `keepFinishedMs`.
   */
  keepFinishedMs?: number;
}

export interface FindOptions {
  /** The phone in any common spelling: `+7 912 345-67-89`, `89123456789`, `9123456789`. */
  phone: string | number;
  /** Most records answered, newest first. Default 50, at most 500. */
  limit?: number;
}

export interface ForgetOptions {
  /** Also erase the phone's suppression. Default false: an opted-out phone stays opted out (as a hash). */
  suppression?: boolean;
}

/** What `forget()` erased: counts for the app's record that the data was destroyed, and when. */
export interface ForgetResult {
  /** Jobs erased (their records, texts, keys and the queue's own data about them). */
  jobs: number;
  /** Contact memory erased (0 or 1). */
  contacts: number;
  /** Undelivered webhooks about its jobs erased (one per endpoint and event). */
  webhooks: number;
  /** Suppressions erased (0 or 1; only with `{ suppression: true }`). */
  suppressions: number;
  /** When the erasure was complete (ms since the epoch). */
  at: number;
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
  /** Overrides the rule's (default: `'marketing'` for the `low` lane, else `'transactional'`). */
  category?: Category;
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
  /** The guard's numbers (absent with `guard: false`); on Redis up to a second old. */
  guard?: GuardStats;
}

/** Whether a lane hands out jobs now, and what holds it. */
export interface LaneInfo {
  open: boolean;
  /** An operator paused it (`notifier.pause`); it waits for `resume`. */
  paused: boolean;
  /** The line is flagged: the lane waits until then (ms since the epoch), unless `resume()` comes first. */
  flaggedUntil?: number;
}

export interface RetryJobOptions {
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
  retry(id: string, options?: RetryJobOptions): Promise<TriggerResult | undefined>;
  /**
   * Cancels every scheduled or queued job the filter matches (`{}`: all of them), as `cancel` would
   * each: a campaign's backlog in one call. Resolves how many were cancelled.
   */
  cancelMany(filter: CancelFilter): Promise<number>;
  /**
   * Holds a lane (no lane: every lane): its jobs stay queued and wait, holding no worker, until
   * `resume`. On a shared queue (Redis) every process holds it.
   */
  pause(lane?: Priority): Promise<void>;
  /** Lifts that lane's pause; with no lane, every pause and the line's flag. */
  resume(lane?: Priority): Promise<void>;
  /** Each lane: open, or what holds it. */
  lanes(): Record<Priority, LaneInfo>;
  /** Recent jobs, newest first. */
  list(options?: { status?: JobStatus; limit?: number }): Promise<JobRecord[]>;
  on<E extends NotifierEvent>(event: E, listener: (payload: NotifierEvents[E]) => void): this;
  off<E extends NotifierEvent>(event: E, listener: (payload: NotifierEvents[E]) => void): this;
  stats(): NotifierStats;
  /** The WhatsApp line as last seen; `'flagged'` while the guard holds normal and low for spam suspicion. */
  readonly line: LineState;
  /** The line's state with its reason and times (the `/health` route). */
  lineInfo(): LineInfo;
  /** Asks the vendor about the line now unless it was asked within `maxAgeMs` (never more than one check at once). */
  refreshLine(maxAgeMs?: number): Promise<LineInfo>;
  /** Has a rule with this id. */
  hasRule(ruleId: string): boolean;
  /** The jobs of one phone (in any common spelling), newest first, while their records are kept. */
  find(options: FindOptions): Promise<JobRecord[]>;
  /**
   * Erases what is kept about a phone: its pending jobs are cancelled without an event or a webhook
   * (never sent), a job being sent is let finish and then erased, and records, texts, keys, delivery
   * checks, undelivered webhooks and contact memory go; the suppression stays unless asked.
   */
  forget(phone: string | number, options?: ForgetOptions): Promise<ForgetResult>;
  /** Contact memory: known (warm) contacts and replies. */
  readonly contacts: Contacts;
  /**
   * Opts a phone out (default scope `'marketing'`; `'all'` holds back transactional messages too):
   * its jobs in scope end `skipped` with `reason: 'suppressed'`, at trigger and again before the send.
   */
  suppress(phone: string | number, options?: SuppressOptions): Promise<Suppression>;
  /** Lifts a phone's suppression; true when it had one. */
  unsuppress(phone: string | number): Promise<boolean>;
  /** The phone's suppression, if any. */
  suppressed(phone: string | number): Promise<Suppression | undefined>;
  readonly client: OlchatClient;
  readonly closed: boolean;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** A notifier of any rules: what the HTTP handler, the adapters and the metrics accept. */
export type AnyNotifier = Notifier;
