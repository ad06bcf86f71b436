/**
 * The client: one method per OLChat call, each waiting for its limiter slot, with the vendor's
 * methods and limits (methods.ts, limits.ts), the transport, tolerant answer reading (response.ts),
 * the client's own retries (retry.ts), message checks (message.ts) and token redaction (redact.ts).
 */

import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  AmbiguousError,
  ClosedError,
  HttpError,
  isCertainlyNotAccepted,
  NetworkError,
  OlchatError,
  RateLimitError,
  TimeoutError,
  ValidationError,
  type ValidationIssue,
  VendorError,
} from '../errors.js';
import { PRIORITIES, type Priority } from '../job.js';
import { gateFor, pausedForMs } from '../limiter/gate.js';
import { defaultLimiterStore } from '../limiter/memory-store.js';
import { type ReservedSlot, reservedElsewhere, SlotReservation, takeReserved } from '../limiter/reservation.js';
import type { LimiterStore, SlotLease } from '../limiter/store.js';
import { type Logger, privateLogger } from '../logger.js';
import { normalizePhone } from '../phone.js';
import { checkInteger, checkOneOf } from '../util/validate.js';
import { type LimitsOption, type ResolvedLimit, resolveLimits } from './limits.js';
import { checkFileUrl, checkText, MESSAGE_LIMITS, type OutgoingMessage } from './message.js';
import { MAX_REQUEST_LINE_BYTES, type MethodParams, type OlchatMethod, VENDOR_BASE_URL, v1Query } from './methods.js';
import { redact, redactedCause } from './redact.js';
import { failureReason, parseBody, pickBoolean, pickConnected, pickMessageId, pickStatus } from './response.js';
import { parseRetryAfter, type RetryOptions, resolveRetry, retryDelayMs } from './retry.js';
import { HttpTransport, type RawAnswer, TransportFailure } from './transport.js';

export interface OlchatClientOptions {
  /**
   * The webhook token from OLChat's connector settings. Never logged, never in an error.
   * Default: the `OLCHAT_TOKEN` environment variable.
   */
  token?: string;
  /**
   * Default: the `OLCHAT_BASE_URL` environment variable, else OLChat's own URL. The variable
   * points a whole app at the emulator in tests without a code change.
   */
  baseUrl?: string;
  /** Per request, from the moment it is handed to the pool. Default 10 000. */
  timeoutMs?: number;
  limits?: LimitsOption;
  limiterStore?: LimiterStore;
  retry?: Partial<RetryOptions>;
  logger?: Logger;
}

export interface AttemptInfo {
  method: OlchatMethod;
  /** 1 for the first attempt. */
  attempt: number;
}

/** Per-call hooks: what a durable queue needs to record in-flight state around each attempt. */
export interface CallOptions {
  signal?: AbortSignal;
  /**
   * Further attempts after the first for this call, instead of the client's `retry.retries`.
   * 0: one attempt only (a queue that does its own waiting with backoff passes 0).
   */
  retries?: number;
  /** The lane this call waits in for its slot: `'high'` before `'normal'` (default) before `'low'`. */
  priority?: Priority;
  /**
   * A slot taken beforehand with `reserveSlot()` for this method: the first attempt uses it instead
   * of waiting in line (a spent one is ignored, and the attempt waits as usual).
   */
  reservation?: SlotReservation;
  /**
   * Awaited before each attempt, after its limit slot is taken and before the request is written.
   * However long it takes, the slot is confirmed (or taken again) after it, before the request.
   */
  beforeAttempt?: (info: AttemptInfo) => void | Promise<void>;
  /** Awaited after an attempt that certainly did not deliver, before the retry (if any). */
  onNotAccepted?: (info: AttemptInfo & { error: OlchatError }) => void | Promise<void>;
}

export interface SendTextParams {
  phone: string;
  text: string;
  sendToImol?: boolean;
}
export interface SendFileParams {
  phone: string;
  url: string;
  caption?: string;
  sendToImol?: boolean;
}
export interface SendResult {
  messageId?: string;
  raw: unknown;
}
export interface CheckPhoneResult {
  exists?: boolean;
  raw: unknown;
}
export interface CheckStatusResult {
  connected?: boolean;
  raw: unknown;
}
export interface MessageStatusResult {
  status?: string;
  raw: unknown;
}

// A lease outlives any request (timeout) plus its hold; it only matters if a process dies mid-request.
const LEASE_SLACK_MS = 15_000;
// Of that slack, what a store's answer may have taken between creating a lease and handing it over.
const LEASE_HANDOVER_MS = 5_000;

/** What waiting in a method's line for a slot needs. */
interface SlotLine {
  /** The limiter key: the token's hash and the method. */
  key: string;
  limit: ResolvedLimit;
  leaseMs: number;
  priority: Priority;
  signal: AbortSignal;
}

/** One call's fixed parts, worked out once before its first attempt. */
interface PreparedCall extends SlotLine {
  method: OlchatMethod;
  path: string;
  retries: number;
  reservation: SlotReservation | undefined;
  hooks: Pick<CallOptions, 'beforeAttempt' | 'onNotAccepted'>;
  /** The message's words (text, caption, URL): a vendor's answer may echo them, a log line never does. */
  words: string[];
}

/** The methods a slot can be reserved for: the sends a queue works. */
export type ReservableMethod = 'sendText' | 'sendFile';
const RESERVABLE: readonly string[] = ['sendText', 'sendFile'] satisfies ReservableMethod[];

export interface ReserveOptions {
  /** The lane it waits in, as a call's `priority`. Default `'normal'`. */
  priority?: Priority;
  signal?: AbortSignal;
}

type AttemptResult = { ok: true; raw: unknown } | { ok: false; error: OlchatError };

/** Where a message's free-text fields sit in what the caller passed, for its validation issues. */
interface FieldPaths {
  body: string;
  caption?: string;
}
const TEXT_PATHS: FieldPaths = { body: 'text' };
const FILE_PATHS: FieldPaths = { body: 'url', caption: 'caption' };
const MESSAGE_FILE_PATHS: FieldPaths = { body: 'file.url', caption: 'file.caption' };

export class OlchatClient {
  readonly #token: string;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #timeoutMs: number;
  readonly #limits: Record<OlchatMethod, ResolvedLimit>;
  readonly #store: LimiterStore;
  readonly #retry: RetryOptions;
  readonly #logger: Logger | undefined;
  readonly #transport: HttpTransport;
  readonly #keyPrefix: string;
  readonly #closing = new AbortController();
  #closed: Promise<void> = Promise.resolve();

  constructor(options: OlchatClientOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw new ValidationError('OlchatClient needs an options object');
    const { baseUrl = process.env.OLCHAT_BASE_URL || VENDOR_BASE_URL, timeoutMs = 10_000 } = options;
    const token = resolveToken(options.token);
    const url = parseBaseUrl(baseUrl);
    checkInteger(timeoutMs, 'timeoutMs');
    this.#token = token;
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#timeoutMs = timeoutMs;
    this.#limits = resolveLimits(options.limits, url.hostname === new URL(VENDOR_BASE_URL).hostname);
    this.#retry = resolveRetry(options.retry);
    this.#store = options.limiterStore ?? defaultLimiterStore();
    this.#logger = options.logger && privateLogger(options.logger);
    this.#transport = new HttpTransport(this.#origin, timeoutMs);
    // Every waiting call listens for close(): thousands may wait at once by design.
    setMaxListeners(0, this.#closing.signal);
    // Limiter keys identify the token without revealing it (a shared store is readable by others).
    this.#keyPrefix = createHash('sha256')
      .update(`${this.#origin}${this.#basePath}\n${token}`)
      .digest('hex')
      .slice(0, 24);
  }

  /** The limits in force, per method. */
  get limits(): Readonly<Record<OlchatMethod, Readonly<ResolvedLimit>>> {
    return this.#limits;
  }

  async sendText(params: SendTextParams, options?: CallOptions): Promise<SendResult> {
    const valid = textParams(requireObject(params, 'sendText'), TEXT_PATHS);
    this.#assertFits('sendText', valid, TEXT_PATHS);
    const raw = await this.#call('sendText', valid, options);
    return withOptional({ raw }, 'messageId', pickMessageId(raw));
  }

  async sendFile(params: SendFileParams, options?: CallOptions): Promise<SendResult> {
    const valid = fileParams(requireObject(params, 'sendFile'), FILE_PATHS);
    this.#assertFits('sendFile', valid, FILE_PATHS);
    const raw = await this.#call('sendFile', valid, options);
    return withOptional({ raw }, 'messageId', pickMessageId(raw));
  }

  /**
   * Throws the `ValidationError` that `sendText`/`sendFile` would throw for `message`, so a message
   * that can never be sent is refused before it is queued: a bad field, or a request line longer
   * than `MAX_REQUEST_LINE_BYTES` (v1 carries the whole message in the URL). Issue paths are the
   * message's own: `phone`, `text`, `file.url`, `file.caption`.
   */
  assertSendable(message: OutgoingMessage): void {
    const m = requireObject(message, 'assertSendable') as Partial<Record<string, unknown>>;
    if (typeof m.file === 'object' && m.file !== null) {
      const file = m.file as Record<string, unknown>;
      const valid = fileParams(
        { phone: m.phone, url: file.url, caption: file.caption, sendToImol: m.sendToImol },
        MESSAGE_FILE_PATHS,
      );
      this.#assertFits('sendFile', valid, MESSAGE_FILE_PATHS);
      return;
    }
    const valid = textParams({ phone: m.phone, text: m.text, sendToImol: m.sendToImol }, TEXT_PATHS);
    this.#assertFits('sendText', valid, TEXT_PATHS);
  }

  async checkPhone(params: { phone: string }, options?: CallOptions): Promise<CheckPhoneResult> {
    const p = requireObject(params, 'checkPhone');
    const raw = await this.#call('checkPhone', { phone: normalizePhone(p.phone) }, options);
    return withOptional(
      { raw },
      'exists',
      pickBoolean(raw, ['exists', 'exist', 'is_exists', 'registered', 'whatsapp']),
    );
  }

  async checkStatus(options?: CallOptions): Promise<CheckStatusResult> {
    const raw = await this.#call('checkStatus', {}, options);
    return withOptional({ raw }, 'connected', pickConnected(raw));
  }

  async checkMessageStatus(
    params: { phone: string; messageId: string },
    options?: CallOptions,
  ): Promise<MessageStatusResult> {
    const p = requireObject(params, 'checkMessageStatus');
    const valid = { phone: normalizePhone(p.phone), messageId: requireText(p.messageId, 'messageId', 256) };
    const raw = await this.#call('checkMessageStatus', valid, options);
    return withOptional({ raw }, 'status', pickStatus(raw));
  }

  /**
   * Takes a limit slot of `method` (waiting in its line like a call) before the request it will
   * carry is chosen: a queue takes a slot first, then the best job waiting at that moment, so a job
   * never holds a worker while it only waits for its turn. Pass it as `CallOptions.reservation` to
   * the call that uses it, or give it back with `release()` (freed at once: nothing was sent).
   * An unused reservation lapses with its lease (the timeout plus the window plus 15 s).
   */
  async reserveSlot(method: ReservableMethod, options: ReserveOptions = {}): Promise<SlotReservation> {
    if (!RESERVABLE.includes(method)) {
      throw new ValidationError(`Slots can be reserved for ${RESERVABLE.join(' and ')} only`, [
        { path: 'method', message: `Expected one of ${RESERVABLE.join(', ')}` },
      ]);
    }
    const o = requireObject(options, 'reserveSlot');
    const limit = this.#limits[method];
    const line: SlotLine = {
      key: `${this.#keyPrefix}:${method}`,
      limit,
      leaseMs: this.#leaseMs(limit),
      priority: o.priority === undefined ? 'normal' : callPriority(o.priority),
      signal: o.signal ? AbortSignal.any([o.signal, this.#closing.signal]) : this.#closing.signal,
    };
    if (line.signal.aborted) throw asOlchatError(line.signal.reason);
    const started = performance.now();
    const lease = await this.#takeSlot(line);
    const grantedAt = performance.now();
    return new SlotReservation(method, grantedAt - started, { store: this.#store, key: line.key, lease, grantedAt });
  }

  /** Stops new calls, wakes calls waiting for a slot with `CLOSED`, and closes the connection pool. */
  close(): Promise<void> {
    if (!this.#closing.signal.aborted) {
      this.#closing.abort(new ClosedError('The OLChat client is closed'));
      this.#closed = this.#transport.close();
    }
    return this.#closed;
  }

  /** Attempts until one is answered, or the failure is final, or the retries are spent. */
  async #call<M extends OlchatMethod>(method: M, params: MethodParams[M], options: CallOptions = {}): Promise<unknown> {
    const call = this.#prepare(method, params, options);
    for (let attempt = 1; ; attempt++) {
      const result = await this.#attempt(call, attempt);
      if (result.ok) return result.raw;
      await this.#retryOrThrow(call, attempt, result.error);
    }
  }

  #prepare<M extends OlchatMethod>(method: M, params: MethodParams[M], options: CallOptions): PreparedCall {
    const o = requireObject(options, 'CallOptions');
    const limit = this.#limits[method];
    const key = `${this.#keyPrefix}:${method}`;
    const reservation = o.reservation === undefined ? undefined : this.#checkReservation(o.reservation, method, key);
    return {
      method,
      path: this.#pathOf(method, params),
      key,
      limit,
      leaseMs: this.#leaseMs(limit),
      retries: o.retries === undefined ? this.#retry.retries : callRetries(o.retries),
      priority: o.priority === undefined ? 'normal' : callPriority(o.priority),
      signal: o.signal ? AbortSignal.any([o.signal, this.#closing.signal]) : this.#closing.signal,
      reservation,
      hooks: { beforeAttempt: o.beforeAttempt, onNotAccepted: o.onNotAccepted },
      words: wordsOf(params),
    };
  }

  #leaseMs(limit: ResolvedLimit): number {
    return this.#timeoutMs + limit.durationMs + limit.marginMs + LEASE_SLACK_MS;
  }

  #checkReservation(reservation: unknown, method: OlchatMethod, key: string): SlotReservation {
    if (!(reservation instanceof SlotReservation) || reservation.method !== method) {
      throw new ValidationError(`reservation must come from reserveSlot('${method}')`, [
        { path: 'reservation', message: `Expected a ${method} reservation` },
      ]);
    }
    if (reservedElsewhere(reservation, this.#store, key)) {
      throw new ValidationError('reservation was made by a client with another token or limiter store', [
        { path: 'reservation', message: 'Another client' },
      ]);
    }
    return reservation;
  }

  /** One attempt: a slot (the reserved one, for the first), the hook, the slot confirmed, the request. */
  async #attempt(call: PreparedCall, attempt: number): Promise<AttemptResult> {
    if (call.signal.aborted) throw asOlchatError(call.signal.reason);
    const reserved: ReservedSlot | undefined =
      attempt === 1 && call.reservation ? takeReserved(call.reservation) : undefined;
    const lease = reserved?.lease ?? (await this.#takeSlot(call));
    const grantedAt = reserved?.grantedAt ?? performance.now();
    const hookRan = await this.#beforeAttempt(call, attempt, lease);
    // A reserved slot may have waited a while for its job: renewed like one a slow hook kept.
    const renewSince = hookRan || reserved ? grantedAt : undefined;
    return this.#send(call, attempt, await this.#confirmSlot(call, lease, renewSince));
  }

  /** Waits in the method's line for a slot. */
  #takeSlot(call: SlotLine): Promise<SlotLease> {
    const { limit, leaseMs, signal, priority } = call;
    return gateFor(this.#store, call.key)
      .acquire(limit.points, leaseMs, signal, priority, limit.durationMs + limit.marginMs)
      .catch((reason) => {
        // Cancelled by close() or the caller, or the limiter store itself failed: never sent either way.
        if (signal.aborted || reason instanceof OlchatError)
          throw asOlchatError(signal.aborted ? signal.reason : reason);
        throw this.#storeFailure(reason);
      });
  }

  /** Runs the caller's hook; whether one ran (its time may have outlasted the lease). */
  async #beforeAttempt(call: PreparedCall, attempt: number, lease: SlotLease): Promise<boolean> {
    const hook = call.hooks.beforeAttempt;
    if (!hook) return false;
    try {
      await hook({ method: call.method, attempt });
    } catch (hookError) {
      await this.#store.release(lease, 0).catch(() => undefined);
      throw hookError;
    }
    return true;
  }

  /**
   * Makes sure the slot is still ours right before the request: after a hook (granted at
   * `renewSince`) the lease is renewed, since a hook slower than the lease would otherwise send
   * under a slot another request now holds; and a line paused by a 429 meanwhile gives the slot
   * back and waits. A lost slot is taken again (the hook does not run twice for one attempt).
   */
  async #confirmSlot(call: PreparedCall, lease: SlotLease, renewSince: number | undefined): Promise<SlotLease> {
    let current = lease;
    let grantedAt = renewSince;
    for (;;) {
      if (grantedAt !== undefined) {
        const kept = await this.#renew(call, current, grantedAt);
        grantedAt = undefined;
        if (!kept) {
          this.#log(
            'warn',
            { method: call.method },
            'olchat slot lapsed during beforeAttempt; waiting for a slot again',
          );
          current = await this.#takeSlot(call);
          continue;
        }
      }
      if (pausedForMs(this.#store, call.key) > 0) {
        await this.#release(call, current, 0);
        current = await this.#takeSlot(call);
        continue;
      }
      return current;
    }
  }

  /**
   * Renews the lease; whether it is still ours. A store that cannot answer (Redis restarting) is
   * not a reason to fail a send whose lease certainly still runs by our own clock: the request fits
   * in what is left of it. Past that, nothing is sent without the store's word.
   */
  async #renew(call: PreparedCall, lease: SlotLease, grantedAt: number): Promise<boolean> {
    try {
      return await this.#store.renew(lease, call.leaseMs);
    } catch (error) {
      const stillRunsMs = call.leaseMs - LEASE_HANDOVER_MS - (performance.now() - grantedAt);
      if (stillRunsMs > this.#timeoutMs) return true;
      await this.#store.release(lease, 0).catch(() => undefined);
      throw this.#storeFailure(error);
    }
  }

  /** Writes the request and reads the answer; the slot is held from the answer (see `#holdMs`). */
  async #send(call: PreparedCall, attempt: number, lease: SlotLease): Promise<AttemptResult> {
    const started = performance.now();
    let error: OlchatError | undefined;
    try {
      const answer = await this.#transport.get(call.path, this.#timeoutMs);
      this.#log('debug', {
        method: call.method,
        attempt,
        status: answer.status,
        ms: Math.round(performance.now() - started),
      });
      return { ok: true, raw: this.#read(call.method, answer) };
    } catch (thrown) {
      error = this.#classify(thrown);
      if (error instanceof RateLimitError) this.#pauseLine(call, error);
      return { ok: false, error };
    } finally {
      await this.#release(call, lease, this.#holdMs(call.limit, error));
    }
  }

  /**
   * The slot stays taken for T + margin from the answer: the vendor saw the request no later than
   * that. A request that never connected frees it at once; one that may still be in transit (no
   * answer in time) holds it a timeout longer.
   */
  #holdMs(limit: ResolvedLimit, error: OlchatError | undefined): number {
    if (error?.code === 'NETWORK' || error?.code === 'TIMEOUT') return 0;
    const hold = limit.durationMs + limit.marginMs;
    return error instanceof AmbiguousError && error.reason === 'timeout' ? hold + this.#timeoutMs : hold;
  }

  async #release(call: PreparedCall, lease: SlotLease, holdMs: number): Promise<void> {
    await this.#store.release(lease, holdMs).catch((releaseError) => {
      this.#log(
        'warn',
        { method: call.method, err: redactedCause(releaseError, this.#token) },
        'olchat slot release failed',
      );
    });
  }

  /** A 429 holds every waiter of the method in this process, not only the call that got it. */
  #pauseLine(call: PreparedCall, error: RateLimitError): void {
    const pauseMs = error.retryAfterMs ?? call.limit.durationMs + call.limit.marginMs;
    gateFor(this.#store, call.key).pause(pauseMs);
    this.#log('warn', { method: call.method, pauseMs }, 'olchat answered 429: holding every request of this method');
  }

  /** Logs the failure; throws it when it is final, else waits out the backoff before the next attempt. */
  async #retryOrThrow(call: PreparedCall, attempt: number, error: OlchatError): Promise<void> {
    const notAccepted = isCertainlyNotAccepted(error);
    const retryable = notAccepted || (this.#retry.ambiguous && error.code === 'AMBIGUOUS');
    this.#log(
      retryable ? 'warn' : 'error',
      { method: call.method, attempt, code: error.code, status: error.status },
      call.words.reduce((message, words) => redact(message, words), error.message),
    );
    if (notAccepted) await call.hooks.onNotAccepted?.({ method: call.method, attempt, error });
    if (!retryable || attempt > call.retries) throw error;
    const retryAfterMs = error instanceof HttpError ? error.retryAfterMs : undefined;
    await sleep(retryDelayMs(this.#retry, attempt, retryAfterMs), call.signal).catch((reason) => {
      throw asOlchatError(reason);
    });
  }

  #storeFailure(reason: unknown): NetworkError {
    const cause = redactedCause(reason, this.#token);
    return new NetworkError(`The limiter store failed (${cause.message}); nothing was sent`, cause);
  }

  #pathOf<M extends OlchatMethod>(method: M, params: MethodParams[M]): string {
    return `${this.#basePath}/${encodeURIComponent(this.#token)}/${method}?${v1Query(method, params)}`;
  }

  /** Refuses a message whose request line would pass `MAX_REQUEST_LINE_BYTES` (servers answer 414/431). */
  #assertFits<M extends 'sendText' | 'sendFile'>(method: M, params: MethodParams[M], paths: FieldPaths): void {
    const lineBytes = requestLineBytes(this.#pathOf(method, params));
    if (lineBytes <= MAX_REQUEST_LINE_BYTES) return;
    // Blame the longer of the free-text fields: shortening it is what helps.
    const bodyBytes = encodedBytes('text' in params ? params.text : params.url);
    const captionBytes = 'caption' in params && params.caption !== undefined ? encodedBytes(params.caption) : 0;
    const [path, fieldBytes] =
      paths.caption !== undefined && captionBytes > bodyBytes ? [paths.caption, captionBytes] : [paths.body, bodyBytes];
    const room = Math.max(0, MAX_REQUEST_LINE_BYTES - (lineBytes - fieldBytes));
    const maxChars = path === paths.caption ? MESSAGE_LIMITS.MAX_CAPTION : MESSAGE_LIMITS.MAX_TEXT;
    const fits =
      path === paths.body && method === 'sendFile'
        ? `about ${room} bytes of URL`
        : `about ${Math.min(maxChars, Math.floor(room / CYRILLIC_BYTES))} Cyrillic or ` +
          `${Math.min(maxChars, room)} Latin characters`;
    throw new ValidationError(
      `${path} is too long to send: OLChat's API carries the message in the URL, and this request line ` +
        `would be ${lineBytes} bytes, over the ${MAX_REQUEST_LINE_BYTES}-byte bound servers commonly accept ` +
        `(${path} fits ${fits} here)`,
      [
        {
          path,
          message: `Too long once URL-encoded: the request would be ${lineBytes} bytes, at most ${MAX_REQUEST_LINE_BYTES}`,
        },
      ],
    );
  }

  #read(method: OlchatMethod, answer: RawAnswer): unknown {
    const body = redact(answer.body, this.#token);
    const raw = parseBody(body);
    const where = `OLChat ${method}`;
    if (answer.status === 429) {
      const retryAfterMs = parseRetryAfter(answer.headers['retry-after']);
      throw new RateLimitError(`${where} answered 429 Too Many Requests`, body, retryAfterMs);
    }
    if (answer.status < 200 || answer.status >= 300) {
      const reason = failureReason(raw);
      const retryAfterMs = parseRetryAfter(answer.headers['retry-after']);
      throw new HttpError(
        answer.status,
        `${where} answered HTTP ${answer.status}${reason ? `: ${reason}` : ''}`,
        body,
        retryAfterMs,
      );
    }
    const reason = failureReason(raw);
    if (reason !== undefined) throw new VendorError(`${where} reported a failure: ${reason}`, raw, answer.status);
    return raw;
  }

  #classify(thrown: unknown): OlchatError {
    if (thrown instanceof OlchatError) return thrown;
    if (!(thrown instanceof TransportFailure))
      return new NetworkError('Request failed', redactedCause(thrown, this.#token));
    const cause = redactedCause(thrown.original, this.#token);
    if (thrown.written) {
      return thrown.timedOut
        ? new AmbiguousError(
            `No answer from OLChat within ${this.#timeoutMs} ms; the message may have been sent`,
            'timeout',
            cause,
          )
        : new AmbiguousError(
            `Connection to OLChat dropped before the answer (${cause.message}); the message may have been sent`,
            'dropped',
            cause,
          );
    }
    if (thrown.timedOut)
      return new TimeoutError(`Could not reach OLChat within ${this.#timeoutMs} ms; nothing was sent`);
    return new NetworkError(`Could not connect to OLChat (${cause.code ?? cause.message}); nothing was sent`, cause);
  }

  #log(level: keyof Logger, obj: object, msg = 'olchat request'): void {
    this.#logger?.[level](obj, redact(msg, this.#token));
  }

  /** Keeps the token out of `console.log(client)` and `JSON.stringify(client)`. */
  toJSON(): object {
    return { baseUrl: `${this.#origin}${this.#basePath}`, limits: this.#limits };
  }
}

function parseBaseUrl(baseUrl: unknown): URL {
  try {
    if (typeof baseUrl !== 'string') throw new Error('not a string');
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    return url;
  } catch {
    throw new ValidationError('baseUrl must be an http(s) URL', [
      { path: 'baseUrl', message: 'Expected an http(s) URL' },
    ]);
  }
}

function requireObject<T>(params: T, method: string): T {
  if (typeof params !== 'object' || params === null) throw new ValidationError(`${method} needs a parameters object`);
  return params;
}

function requireText(value: unknown, field: string, max: number): string {
  const issues: ValidationIssue[] = [];
  checkText(value, field, max, issues);
  throwIfAny(issues);
  return value as string;
}

function requireFileUrl(value: unknown, path: string): string {
  const issues: ValidationIssue[] = [];
  checkFileUrl(value, path, issues);
  throwIfAny(issues);
  return value as string;
}

type Loose<T> = { [K in keyof T]?: unknown };

function textParams(p: Loose<SendTextParams>, paths: FieldPaths): MethodParams['sendText'] {
  return {
    phone: normalizePhone(p.phone),
    text: requireText(p.text, paths.body, MESSAGE_LIMITS.MAX_TEXT),
    sendToImol: flag(p.sendToImol),
  };
}

function fileParams(p: Loose<SendFileParams>, paths: FieldPaths): MethodParams['sendFile'] {
  const valid: MethodParams['sendFile'] = {
    phone: normalizePhone(p.phone),
    url: requireFileUrl(p.url, paths.body),
    sendToImol: flag(p.sendToImol),
  };
  if (p.caption !== undefined && p.caption !== '')
    valid.caption = requireText(p.caption, paths.caption ?? 'caption', MESSAGE_LIMITS.MAX_CAPTION);
  return valid;
}

/** The token given, else `OLCHAT_TOKEN`; refused without ever showing its value. */
function resolveToken(given: unknown): string {
  const fromEnv = given === undefined;
  const token = fromEnv ? process.env.OLCHAT_TOKEN : given;
  if (token === undefined || token === '') {
    throw new ValidationError(
      "No OLChat token: pass { token } or set OLCHAT_TOKEN (the webhook token from OLChat's connector settings)",
      [{ path: 'token', message: 'Missing' }],
    );
  }
  if (typeof token !== 'string' || token.trim() === '' || /[\s/?#]/.test(token)) {
    throw new ValidationError(
      `${fromEnv ? 'OLCHAT_TOKEN' : 'token'} must be a non-empty string without spaces, "/", "?" or "#"`,
      [{ path: 'token', message: 'Invalid token' }],
    );
  }
  return token;
}

function callRetries(value: unknown): number {
  return checkInteger(value, 'retries', 0);
}

function callPriority(value: unknown): Priority {
  return checkOneOf(value, PRIORITIES, 'priority');
}

/** A Cyrillic letter is two UTF-8 bytes, each `%XX` in the URL. */
const CYRILLIC_BYTES = 6;

/** `GET <path> HTTP/1.1`: the path is all ASCII once encoded, so characters are bytes. */
function requestLineBytes(path: string): number {
  return `GET ${path} HTTP/1.1`.length;
}

function encodedBytes(value: string): number {
  return new URLSearchParams([['', value]]).toString().length - 1;
}

function throwIfAny(issues: ValidationIssue[]): void {
  const first = issues[0];
  if (first) throw new ValidationError(`${first.path}: ${first.message}`, issues);
}

function flag(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean')
    throw new ValidationError('sendToImol must be a boolean', [{ path: 'sendToImol', message: 'Expected a boolean' }]);
  return value;
}

function withOptional<T extends { raw: unknown }, K extends string, V>(
  base: T,
  key: K,
  value: V | undefined,
): T & { [P in K]?: V } {
  return (value === undefined ? base : { ...base, [key]: value }) as T & { [P in K]?: V };
}

function asOlchatError(reason: unknown): OlchatError {
  if (reason instanceof OlchatError) return reason;
  return new ClosedError(reason instanceof Error ? `Cancelled: ${reason.message}` : 'Cancelled');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The free text of a call's parameters, longest first (a caption inside a text is masked whole). */
function wordsOf(params: unknown): string[] {
  const { text, caption, url } = (params ?? {}) as { text?: unknown; caption?: unknown; url?: unknown };
  return [text, caption, url]
    .filter((value): value is string => typeof value === 'string' && value.length >= 4)
    .sort((a, b) => b.length - a.length);
}
