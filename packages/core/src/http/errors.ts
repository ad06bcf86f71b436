import { OlchatError, ValidationError, type ValidationIssue } from '../errors.js';

/** The stable `error` codes of the HTTP contract, with their status. */
export const INBOUND_ERROR_STATUS = {
  invalid_input: 400,
  malformed_body: 400,
  unauthorized: 401,
  disabled: 404,
  unknown_rule: 404,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  internal: 500,
  closed: 503,
  queue_full: 503,
} as const;

export type InboundErrorCode = keyof typeof INBOUND_ERROR_STATUS;

export interface InboundErrorDetails {
  issues?: ValidationIssue[];
  /** For 429 and 503 `queue_full`: seconds until trying again makes sense (sent as `Retry-After`). */
  retryAfterSec?: number;
  /** Extra answer headers (`Allow`, `WWW-Authenticate`…). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * A request the handler refused. Its JSON answer is `{ error: code, message, issues?, retryAfter? }`;
 * `onInvalid` callbacks of `notify()` receive it.
 */
export class InboundError extends Error {
  readonly code: InboundErrorCode;
  readonly status: number;
  readonly issues?: ValidationIssue[];
  readonly retryAfterSec?: number;
  readonly headers: Record<string, string>;

  constructor(code: InboundErrorCode, message: string, details: InboundErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'InboundError';
    this.code = code;
    this.status = INBOUND_ERROR_STATUS[code];
    this.headers = details.headers ?? {};
    if (details.issues !== undefined) this.issues = details.issues;
    if (details.retryAfterSec !== undefined) this.retryAfterSec = details.retryAfterSec;
  }

  toJSON(): { error: InboundErrorCode; message: string; issues?: ValidationIssue[]; retryAfter?: number } {
    return {
      error: this.code,
      message: this.message,
      ...(this.issues === undefined ? {} : { issues: this.issues }),
      ...(this.retryAfterSec === undefined ? {} : { retryAfter: this.retryAfterSec }),
    };
  }
}

/** What the notifier or a body reader threw, as the contract's answer. Anything unexpected is `internal`. */
export function toInboundError(error: unknown): InboundError {
  if (error instanceof InboundError) return error;
  if (error instanceof ValidationError) {
    return new InboundError('invalid_input', error.message, {
      issues: error.issues.map(({ path, message }) => ({ path, message })),
      cause: error,
    });
  }
  if (error instanceof OlchatError && error.code === 'UNKNOWN_RULE') {
    return new InboundError('unknown_rule', 'No such form', { cause: error });
  }
  if (error instanceof OlchatError && error.code === 'CLOSED') return closedError();
  if (error instanceof OlchatError && error.code === 'QUEUE_FULL') return queueFullError(error);
  if (error instanceof OlchatError && error.code === 'CONFLICT') {
    return new InboundError('conflict', error.message, { cause: error });
  }
  return new InboundError('internal', 'Internal error', { cause: error });
}

export function closedError(): InboundError {
  return new InboundError('closed', 'Not accepting messages: the notifier is shutting down');
}

const DEFAULT_QUEUE_FULL_RETRY_MS = 60_000;

/** Backpressure: the queue holds `maxQueued` unfinished jobs. 503 with `Retry-After`, so callers come back. */
function queueFullError(error: OlchatError): InboundError {
  const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
  const ms =
    typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs > 0
      ? retryAfterMs
      : DEFAULT_QUEUE_FULL_RETRY_MS;
  return new InboundError(
    'queue_full',
    'Too many messages are waiting to be sent: nothing was queued, try again later',
    {
      retryAfterSec: Math.max(1, Math.ceil(ms / 1000)),
      cause: error,
    },
  );
}
