import { ClosedError, ValidationError } from '../errors.js';
import type { WebhookEventType } from '../job.js';
import { type Logger, privateLogger } from '../logger.js';
import type { ClaimedWebhookDelivery, WebhookDelivery, WebhookOutbox } from '../queue/outbox.js';
import type { Telemetry, TelemetrySpan } from '../telemetry/telemetry.js';
import { MAX_TIMER_MS } from '../util/backoff.js';
import { checkInteger } from '../util/validate.js';
import type { WebhookEndpoint } from './endpoints.js';
import { type ResolvedEndpoint, resolveEndpoints } from './endpoints.js';
import { WEBHOOK_EVENT_TYPES, type WebhookData, webhookBody } from './events.js';
import { MemoryWebhookOutbox } from './memory-outbox.js';
import { type AttemptResult, EndpointPoster } from './post.js';
import { nextAttemptAt, validateSchedule, WEBHOOK_RETRY_SCHEDULE } from './schedule.js';
import { newWebhookId } from './signature.js';
import { describeWebhookAttempt, startWebhookSpan } from './trace.js';

export interface WebhookDispatcherOptions {
  /** Where to POST (the notifier's `webhooks` option). Checked here: a bad one throws `ValidationError`. */
  endpoints: readonly WebhookEndpoint[];
  /** Where pending deliveries wait. Default: a `MemoryWebhookOutbox` (bounded, lost with the process). */
  outbox?: WebhookOutbox;
  /** Failures, give-ups and drops. Default: console. Never given a secret; URLs only as their origin. */
  logger?: Logger;
  /** Time allowed to each attempt, from connecting to the answer's status. Default 10 000. */
  timeoutMs?: number;
  /** The wait before each attempt (the first included). Default `WEBHOOK_RETRY_SCHEDULE`. */
  schedule?: readonly number[];
  /** Attempts in flight at once per endpoint; the rest wait in the outbox. Default 4. */
  concurrency?: number;
  /** A span for each attempt (see the notifier's `telemetry`). */
  telemetry?: Telemetry;
}

export interface WebhookPublishOptions {
  /** When the event happened (the body's `timestamp`). Default: now. */
  at?: Date | number;
}

export interface WebhookDispatcher {
  /**
   * Stores one delivery per endpoint whose `events` include `type`, then resolves (with the
   * `webhook-id`, or undefined when no endpoint wants the type); the POSTs happen afterwards, so a
   * slow endpoint never holds up the caller. Rejects when the outbox cannot store it (e.g. Redis is
   * down): nothing is then sent.
   */
  publish<T extends WebhookEventType>(
    type: T,
    data: WebhookData<T>,
    options?: WebhookPublishOptions,
  ): Promise<string | undefined>;
  /**
   * Erases every undelivered webhook about these jobs (`notifier.forget()`); resolves how many
   * deliveries were erased.
   */
  forget(jobIds: readonly string[]): Promise<number>;
  /**
   * Stops taking deliveries, lets the attempts in flight finish within `timeoutMs` (default 10 000),
   * then abandons the rest (a shared outbox hands them to another process at once). Closes the outbox
   * only if the dispatcher made it.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** A claim outlives its attempt by this much, so the outcome is written before another process may take it. */
const LEASE_MARGIN_MS = 5_000;
/** After the outbox failed to answer, it is asked again this soon. */
const OUTBOX_RETRY_MS = 1_000;
/** The timer never fires sooner than this after a pump: a delivery due "now" that no claim took cannot spin. */
const MIN_TIMER_MS = 10;
/** setTimeout's ceiling is 2^31 − 1 ms; the timer is simply re-armed when it fires early. */

const KNOWN_TYPES: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

const consoleLogger: Logger = {
  debug: () => undefined,
  info: (obj, msg) => console.info(msg, obj),
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

interface EndpointState {
  readonly endpoint: ResolvedEndpoint;
  readonly poster: EndpointPoster;
  inFlight: number;
  /** Its last attempt failed: the first failure of a run is a warning, the rest debug lines. */
  failing: boolean;
}

/**
 * Signed status webhooks (Standard Webhooks), delivered at least once: stored in the outbox before
 * `publish()` resolves, POSTed with `webhook-id`, `webhook-timestamp` and `webhook-signature`, and
 * retried on the schedule until a 2xx. One timer serves every pending delivery.
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  return new Dispatcher(options);
}

class Dispatcher implements WebhookDispatcher {
  readonly #outbox: WebhookOutbox;
  readonly #ownOutbox: boolean;
  readonly #logger: Logger;
  readonly #telemetry: Telemetry | undefined;
  readonly #schedule: readonly number[];
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #states: EndpointState[];
  readonly #abort = new AbortController();
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #pumping: Promise<void> | undefined;
  #again = false;
  #closing: Promise<void> | undefined;
  #outboxFailing = false;

  constructor(options: WebhookDispatcherOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('createWebhookDispatcher needs { endpoints }');
    }
    const { timeoutMs = 10_000, concurrency = 4, schedule = WEBHOOK_RETRY_SCHEDULE } = options;
    checkInteger(timeoutMs, 'timeoutMs');
    checkInteger(concurrency, 'concurrency');
    const endpoints = resolveEndpoints(options.endpoints);
    this.#schedule = validateSchedule(schedule);
    this.#concurrency = concurrency;
    this.#leaseMs = timeoutMs + LEASE_MARGIN_MS;
    this.#logger = privateLogger(options.logger ?? consoleLogger);
    this.#telemetry = options.telemetry;
    this.#ownOutbox = options.outbox === undefined;
    this.#outbox = options.outbox ?? new MemoryWebhookOutbox({ logger: this.#logger });
    this.#states = endpoints.map((endpoint) => ({
      endpoint,
      poster: new EndpointPoster(endpoint, concurrency, timeoutMs),
      inFlight: 0,
      failing: false,
    }));
    // A shared outbox may already hold deliveries left by a process that stopped.
    if (this.#states.length > 0 && this.#outbox.pollMs !== undefined) this.#wake();
  }

  async publish<T extends WebhookEventType>(
    type: T,
    data: WebhookData<T>,
    options: WebhookPublishOptions = {},
  ): Promise<string | undefined> {
    if (this.#closing) throw new ClosedError('The webhook dispatcher is closed');
    if (!KNOWN_TYPES.has(type)) {
      throw new ValidationError(`Unknown webhook event type ${JSON.stringify(type)}`, [
        { path: 'type', message: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` },
      ]);
    }
    const targets = this.#states.filter(({ endpoint }) => endpoint.events === undefined || endpoint.events.has(type));
    if (targets.length === 0) return undefined;
    const at = options.at === undefined ? new Date() : new Date(options.at);
    if (Number.isNaN(at.getTime())) {
      throw new ValidationError('at must be a valid Date or ms since the epoch', [
        { path: 'at', message: 'must be a valid Date or ms since the epoch' },
      ]);
    }
    const id = newWebhookId();
    const now = Date.now();
    const nextAt = now + (this.#schedule[0] as number);
    const subject = (data as { id?: unknown }).id;
    // One body per set of omitted fields: endpoints that omit nothing share the same bytes.
    const bodies = new Map<string, string>();
    const deliveries: WebhookDelivery[] = targets.map(({ endpoint }) => {
      const omit = typeof subject === 'string' ? endpoint.omit : [];
      const shape = omit.join(',');
      let body = bodies.get(shape);
      if (body === undefined) {
        body = webhookBody(type, omit.length === 0 ? data : without(data, omit), at);
        bodies.set(shape, body);
      }
      const delivery: WebhookDelivery = { id, endpoint: endpoint.url, type, body, attempt: 0, nextAt, createdAt: now };
      if (typeof subject === 'string') delivery.subject = subject;
      return delivery;
    });
    await this.#outbox.add(deliveries);
    this.#wake();
    return id;
  }

  forget(jobIds: readonly string[]): Promise<number> {
    return this.#outbox.forget(jobIds);
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? 10_000);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#pumping;
    if (this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.all(this.#running), late]);
      clearTimeout(timer);
    }
    this.#abort.abort();
    await Promise.all(this.#running);
    await Promise.all(this.#states.map(({ poster }) => poster.close().catch(() => undefined)));
    if (!this.#ownOutbox) return;
    const left = await this.#outbox.size();
    if (left > 0) {
      this.#logger.warn(
        { undelivered: left },
        `olchat-kit: ${left} undelivered webhooks were dropped at close (the in-memory outbox does not outlive the process)`,
      );
    }
    await this.#outbox.close();
  }

  /** Runs a pump now, or once more after the one running (which may have missed what woke us). */
  #wake(): void {
    if (this.#closing) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = undefined;
      if (this.#again) {
        this.#again = false;
        this.#wake();
      }
    });
  }

  /** Starts every due delivery an endpoint has room for, then arms the one timer for the next. */
  async #pump(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = Date.now();
    const withRoom: string[] = [];
    let trouble = false;
    for (const state of this.#states) {
      const room = this.#concurrency - state.inFlight;
      if (room <= 0) continue;
      try {
        const claimed = await this.#outbox.claim(state.endpoint.url, room, now, this.#leaseMs);
        for (const delivery of claimed) this.#attempt(state, delivery);
      } catch (error) {
        trouble = true;
        this.#reportOutbox('claim deliveries from', error);
      }
      if (this.#closing) return;
      if (state.inFlight < this.#concurrency) withRoom.push(state.endpoint.url);
    }
    let next: number | undefined;
    try {
      next = trouble ? Date.now() + OUTBOX_RETRY_MS : await this.#outbox.nextDue(withRoom);
      if (!trouble) this.#recovered();
    } catch (error) {
      this.#reportOutbox('read', error);
      next = Date.now() + OUTBOX_RETRY_MS;
    }
    const { pollMs } = this.#outbox;
    if (pollMs !== undefined) next = Math.min(next ?? Number.POSITIVE_INFINITY, Date.now() + pollMs);
    if (next !== undefined && !this.#closing) this.#arm(next);
  }

  #arm(at: number): void {
    const delay = Math.min(Math.max(at - Date.now(), MIN_TIMER_MS), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#wake();
    }, delay);
    // Pending retries alone do not keep a process alive: close() is how work is finished.
    this.#timer.unref();
  }

  #attempt(state: EndpointState, delivery: ClaimedWebhookDelivery): void {
    state.inFlight++;
    const span = this.#telemetry && startWebhookSpan(this.#telemetry, state.endpoint, delivery);
    const post = () => state.poster.post(delivery.id, delivery.body, this.#abort.signal);
    const run = (span ? span.run(post) : post())
      .then((result) => this.#settle(state, delivery, result, span))
      .catch((error: unknown) => this.#reportOutbox('record an attempt in', error))
      .finally(() => {
        span?.end();
        state.inFlight--;
        this.#running.delete(run);
        this.#wake();
      });
    this.#running.add(run);
  }

  async #settle(
    state: EndpointState,
    delivery: ClaimedWebhookDelivery,
    result: AttemptResult,
    span: TelemetrySpan | undefined,
  ): Promise<void> {
    const about = {
      webhookId: delivery.id,
      type: delivery.type,
      endpoint: state.endpoint.origin,
      attempt: delivery.attempt,
    };
    if (result.ok) {
      if (span) describeWebhookAttempt(span, result, 'delivered');
      await this.#outbox.complete(delivery);
      if (state.failing) this.#logger.info(about, 'olchat-kit: webhook endpoint answers again');
      state.failing = false;
      return;
    }
    if (this.#abort.signal.aborted) {
      // Abandoned at close, not refused: due again at once (another process of a shared outbox takes it).
      if (span) describeWebhookAttempt(span, result, 'abandoned');
      await this.#outbox.retry(delivery, Date.now());
      return;
    }
    const nextAt = nextAttemptAt(this.#schedule, delivery.attempt, Date.now(), result.retryAfterMs);
    if (span) describeWebhookAttempt(span, result, nextAt === undefined ? 'given_up' : 'retry');
    if (nextAt === undefined) {
      await this.#outbox.complete(delivery);
      this.#logger.error(
        { ...about, reason: result.reason },
        `olchat-kit: webhook given up after ${delivery.attempt} attempts (last: ${result.reason})`,
      );
      return;
    }
    await this.#outbox.retry(delivery, nextAt);
    const detail = { ...about, reason: result.reason, nextAt: new Date(nextAt).toISOString() };
    if (state.failing) {
      this.#logger.debug(detail, 'olchat-kit: webhook attempt failed; will retry');
    } else {
      state.failing = true;
      this.#logger.warn(detail, `olchat-kit: webhook endpoint failing (${result.reason}); retrying on schedule`);
    }
  }

  #reportOutbox(doing: string, error: unknown): void {
    if (this.#outboxFailing) return;
    this.#outboxFailing = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.#logger.warn({ err: reason }, `olchat-kit: could not ${doing} the webhook outbox; trying again`);
  }

  #recovered(): void {
    if (!this.#outboxFailing) return;
    this.#outboxFailing = false;
    this.#logger.info({}, 'olchat-kit: the webhook outbox answers again');
  }
}

/** A message event's data without the fields an endpoint omits. */
function without<T extends WebhookEventType>(data: WebhookData<T>, omit: readonly string[]): WebhookData<T> {
  const copy = { ...data } as Record<string, unknown>;
  for (const field of omit) delete copy[field];
  return copy as unknown as WebhookData<T>;
}
