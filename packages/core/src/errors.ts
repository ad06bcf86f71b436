/**
 * Every failure the library reports is an `OlchatError` with a stable `code`, so callers
 * can branch on `err.code` without parsing messages. Messages never contain the token:
 * they are built from already-redacted parts (see `redact`).
 */
export type OlchatErrorCode =
  | 'VALIDATION'
  | 'UNKNOWN_RULE'
  | 'RATE_LIMITED'
  | 'HTTP'
  | 'VENDOR_ERROR'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'AMBIGUOUS'
  | 'CLOSED'
  | 'STALLED'
  | 'QUEUE_FULL'
  | 'EXPIRED'
  | 'CANCELLED'
  | 'CONFLICT';

export interface OlchatErrorOptions {
  status?: number;
  cause?: unknown;
}

export class OlchatError extends Error {
  readonly code: OlchatErrorCode;
  readonly status?: number;

  constructor(code: OlchatErrorCode, message: string, options: OlchatErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
  }

  /** The shape a job stores and an HTTP answer shows: `{ code, message, status? }`. */
  toJSON(): { name: string; code: OlchatErrorCode; message: string; status?: number } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.status === undefined ? {} : { status: this.status }),
    };
  }
}

export interface ValidationIssue {
  path: string;
  message: string;
}

/** Bad input: nothing was sent. */
export class ValidationError extends OlchatError {
  readonly issues: ValidationIssue[];
  constructor(message: string, issues: ValidationIssue[] = []) {
    super('VALIDATION', message);
    this.issues = issues.length > 0 ? issues : [{ path: '', message }];
  }
}

export class UnknownRuleError extends OlchatError {
  readonly ruleId: string;
  constructor(ruleId: string) {
    super('UNKNOWN_RULE', `No rule with id ${JSON.stringify(ruleId)}`);
    this.ruleId = ruleId;
  }
}

/** A non-2xx answer. `body` is the raw answer, token redacted; `retryAfterMs` from its `Retry-After` header. */
export class HttpError extends OlchatError {
  declare readonly code: 'HTTP' | 'RATE_LIMITED';
  declare readonly status: number;
  readonly body: string;
  readonly retryAfterMs?: number;
  constructor(status: number, message: string, body: string, retryAfterMs?: number) {
    super('HTTP', message, { status });
    this.body = body;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The vendor answered 429: an `HttpError` (status 429, `body`, `retryAfterMs`) with its own code,
 * so `instanceof HttpError` catches every non-2xx answer and `code` still tells a 429 apart.
 */
export class RateLimitError extends HttpError {
  override readonly code = 'RATE_LIMITED' as const;
  constructor(message: string, body: string, retryAfterMs?: number) {
    super(429, message, body, retryAfterMs);
  }
}

/** A 2xx answer that says the call failed (`result: false`, `success: false` or an `error` field). */
export class VendorError extends OlchatError {
  readonly raw: unknown;
  constructor(message: string, raw: unknown, status: number) {
    super('VENDOR_ERROR', message, { status });
    this.raw = raw;
  }
}

/** The connection was never made: the vendor cannot have seen the request, so it is safe to retry. */
export class NetworkError extends OlchatError {
  constructor(message: string, cause?: unknown) {
    super('NETWORK', message, { cause });
  }
}

/** The time ran out before the request was written: safe to retry. */
export class TimeoutError extends OlchatError {
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}

/**
 * The request was written but no complete answer came (a timeout or a dropped connection):
 * the vendor may have sent the message. Repeating it could send it twice.
 */
export class AmbiguousError extends OlchatError {
  readonly reason: 'timeout' | 'dropped';
  constructor(message: string, reason: 'timeout' | 'dropped', cause?: unknown) {
    super('AMBIGUOUS', message, { cause });
    this.reason = reason;
  }
}

export class ClosedError extends OlchatError {
  constructor(message = 'The notifier is closed') {
    super('CLOSED', message);
  }
}

export class StalledError extends OlchatError {
  constructor(message: string) {
    super('STALLED', message);
  }
}

/**
 * The queue already holds `maxQueued` unfinished jobs: nothing was queued. Try again after
 * `retryAfterMs` (the HTTP handler answers 503 with `Retry-After`).
 */
export class QueueFullError extends OlchatError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super('QUEUE_FULL', message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The job is in a state that does not allow this (e.g. `retry()` of a job that was sent). */
export class JobStateError extends OlchatError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/** Whether a failed attempt certainly did not deliver the message (so repeating it cannot duplicate). */
export function isCertainlyNotAccepted(error: unknown): boolean {
  if (!(error instanceof OlchatError)) return false;
  if (error.code === 'NETWORK' || error.code === 'TIMEOUT' || error.code === 'RATE_LIMITED') return true;
  return error.code === 'HTTP' && (error.status === 502 || error.status === 503 || error.status === 504);
}
