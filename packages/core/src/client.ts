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
} from './errors.js';
import { gateFor } from './limiter/gate.js';
import { defaultLimiterStore } from './limiter/memory-store.js';
import type { LimiterStore } from './limiter/store.js';
import { type LimitsOption, type ResolvedLimit, resolveLimits } from './limits.js';
import { checkFileUrl, checkText, MESSAGE_LIMITS } from './message.js';
import { type MethodParams, type OlchatMethod, VENDOR_BASE_URL, v1Query } from './methods.js';
import { normalizePhone } from './phone.js';
import { redact, redactedCause } from './redact.js';
import { failureReason, parseBody, pickBoolean, pickConnected, pickMessageId, pickStatus } from './response.js';
import { parseRetryAfter, type RetryOptions, resolveRetry, retryDelayMs } from './retry.js';
import { HttpTransport, type RawAnswer, TransportFailure } from './transport.js';

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface OlchatClientOptions {
  /** The webhook token from OLChat's connector settings. Never logged, never in an error. */
  token: string;
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
  /** Awaited before each attempt, after its limit slot is taken and before the request is written. */
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

  constructor(options: OlchatClientOptions) {
    if (typeof options !== 'object' || options === null)
      throw new ValidationError('OlchatClient needs an options object');
    const { token, baseUrl = process.env.OLCHAT_BASE_URL || VENDOR_BASE_URL, timeoutMs = 10_000 } = options;
    if (typeof token !== 'string' || token.trim() === '' || /[\s/?#]/.test(token)) {
      throw new ValidationError('token must be a non-empty string without spaces, "/", "?" or "#"', [
        { path: 'token', message: 'Invalid token' },
      ]);
    }
    const url = parseBaseUrl(baseUrl);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
      throw new ValidationError('timeoutMs must be a positive integer', [
        { path: 'timeoutMs', message: 'Expected ms' },
      ]);
    }
    this.#token = token;
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#timeoutMs = timeoutMs;
    this.#limits = resolveLimits(options.limits, url.hostname === new URL(VENDOR_BASE_URL).hostname);
    this.#retry = resolveRetry(options.retry);
    this.#store = options.limiterStore ?? defaultLimiterStore();
    this.#logger = options.logger;
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
    const p = requireObject(params, 'sendText');
    const valid = {
      phone: normalizePhone(p.phone),
      text: requireText(p.text, 'text', MESSAGE_LIMITS.MAX_TEXT),
      sendToImol: flag(p.sendToImol),
    };
    const raw = await this.#call('sendText', valid, options);
    return withOptional({ raw }, 'messageId', pickMessageId(raw));
  }

  async sendFile(params: SendFileParams, options?: CallOptions): Promise<SendResult> {
    const p = requireObject(params, 'sendFile');
    const valid: MethodParams['sendFile'] = {
      phone: normalizePhone(p.phone),
      url: requireFileUrl(p.url),
      sendToImol: flag(p.sendToImol),
    };
    if (p.caption !== undefined && p.caption !== '')
      valid.caption = requireText(p.caption, 'caption', MESSAGE_LIMITS.MAX_CAPTION);
    const raw = await this.#call('sendFile', valid, options);
    return withOptional({ raw }, 'messageId', pickMessageId(raw));
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

  /** Stops new calls, wakes calls waiting for a slot with `CLOSED`, and closes the connection pool. */
  close(): Promise<void> {
    if (!this.#closing.signal.aborted) {
      this.#closing.abort(new ClosedError('The OLChat client is closed'));
      this.#closed = this.#transport.close();
    }
    return this.#closed;
  }

  async #call<M extends OlchatMethod>(method: M, params: MethodParams[M], options: CallOptions = {}): Promise<unknown> {
    const signal = options.signal ? AbortSignal.any([options.signal, this.#closing.signal]) : this.#closing.signal;
    const limit = this.#limits[method];
    const path = `${this.#basePath}/${encodeURIComponent(this.#token)}/${method}?${v1Query(method, params)}`;
    const gate = gateFor(this.#store, `${this.#keyPrefix}:${method}`);
    const leaseMs = this.#timeoutMs + limit.durationMs + limit.marginMs + LEASE_SLACK_MS;

    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw asOlchatError(signal.reason);
      const lease = await gate.acquire(limit.points, leaseMs, signal).catch((reason) => {
        // Cancelled by close() or the caller, or the limiter store itself failed: never sent either way.
        if (signal.aborted || reason instanceof OlchatError)
          throw asOlchatError(signal.aborted ? signal.reason : reason);
        throw new NetworkError(
          `The limiter store failed (${redactedCause(reason, this.#token).message}); nothing was sent`,
          redactedCause(reason, this.#token),
        );
      });
      let holdMs = limit.durationMs + limit.marginMs;
      let error: OlchatError;
      const started = performance.now();
      try {
        await options.beforeAttempt?.({ method, attempt });
      } catch (hookError) {
        await this.#store.release(lease, 0).catch(() => undefined);
        throw hookError;
      }
      try {
        const answer = await this.#transport.get(path, this.#timeoutMs);
        this.#log('debug', { method, attempt, status: answer.status, ms: Math.round(performance.now() - started) });
        return this.#read(method, answer);
      } catch (thrown) {
        error = this.#classify(thrown);
        // Never connected: the vendor did not see it, the slot can serve the next request now.
        if (error.code === 'NETWORK' || error.code === 'TIMEOUT') holdMs = 0;
        // A request that got no answer may still be in transit: hold its slot a timeout longer.
        if (error instanceof AmbiguousError && error.reason === 'timeout') holdMs += this.#timeoutMs;
      } finally {
        // The slot stays taken for T + margin from the answer: the vendor saw the request no later than that.
        await this.#store.release(lease, holdMs).catch((releaseError) => {
          this.#log('warn', { method, err: redactedCause(releaseError, this.#token) }, 'olchat slot release failed');
        });
      }

      const retryable = isCertainlyNotAccepted(error) || (this.#retry.ambiguous && error.code === 'AMBIGUOUS');
      this.#log(
        retryable ? 'warn' : 'error',
        { method, attempt, code: error.code, status: error.status },
        error.message,
      );
      if (isCertainlyNotAccepted(error)) await options.onNotAccepted?.({ method, attempt, error });
      if (!retryable || attempt > this.#retry.retries) throw error;
      const retryAfterMs =
        error instanceof RateLimitError || error instanceof HttpError ? error.retryAfterMs : undefined;
      await sleep(retryDelayMs(this.#retry, attempt, retryAfterMs), signal).catch((reason) => {
        throw asOlchatError(reason);
      });
    }
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

function requireFileUrl(value: unknown): string {
  const issues: ValidationIssue[] = [];
  checkFileUrl(value, 'url', issues);
  throwIfAny(issues);
  return value as string;
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
