import type { TraceCarrier } from '../job.js';

/*
 * Traces without a tracing dependency. Core describes what happens to a message as spans through
 * this small interface; `@olchat-kit/opentelemetry` implements it on `@opentelemetry/api` (BullMQ
 * does the same with `bullmq-otel`). Without `createNotifier({ telemetry })` none of it runs.
 *
 * Core decides the spans' names and attributes, so what a span may hold is checked in one place:
 * never the token, a phone or a text; the vendor's URL only with the token replaced.
 */

/** A span's kind, as OpenTelemetry names them. */
export type TelemetrySpanKind = 'producer' | 'client';

export type TelemetryAttributes = Record<string, string | number | boolean>;

export interface TelemetrySpanOptions {
  kind: TelemetrySpanKind;
  attributes: TelemetryAttributes;
  /**
   * false: a child of the context active where it starts (the app's HTTP span around a form
   * submission). true: the first span of a trace of its own: a job is worked outside the request
   * that made it, maybe hours later, so its spans link to the trigger instead of nesting in it.
   */
  root: boolean;
  /** The spans this one follows from, as `TelemetrySpan.carrier()` gave them. */
  links?: readonly TraceCarrier[];
}

export interface TelemetrySpan {
  setAttributes(attributes: TelemetryAttributes): void;
  addEvent(name: string, attributes?: TelemetryAttributes): void;
  /** Marks the span failed (OpenTelemetry: status ERROR); `code` is one of the stable error codes. */
  setError(code: string): void;
  /** Runs `fn` with this span active, so spans started inside (an instrumented HTTP client) nest under it. */
  run<T>(fn: () => T): T;
  /** This span's context to store with a job; undefined when it has none (a tracer that records nothing). */
  carrier(): TraceCarrier | undefined;
  end(): void;
}

/** What `createNotifier({ telemetry })` takes. */
export interface Telemetry {
  startSpan(name: string, options: TelemetrySpanOptions): TelemetrySpan;
}

/** The spans' names: a contract (DESIGN.md, "Traces"). */
export const SPAN_NAMES = {
  trigger: 'olchat.trigger',
  send: 'olchat.send',
  webhook: 'olchat.webhook',
  deliveryCheck: 'olchat.delivery_check',
} as const;

/** The attributes' names: the first seven are a contract; the rest add detail. */
export const ATTRIBUTES = {
  system: 'messaging.system',
  rule: 'olchat.rule',
  priority: 'olchat.priority',
  jobId: 'olchat.job_id',
  attempt: 'olchat.attempt',
  outcome: 'olchat.outcome',
  errorCode: 'olchat.error_code',
  /** From the pickup of a job to the moment its request could be written: the vendor's limit (and the line, if it was down). */
  limiterWaitMs: 'olchat.limiter.wait_ms',
  method: 'olchat.method',
  webhookType: 'olchat.webhook.type',
  webhookId: 'olchat.webhook.id',
  /** The vendor's (or a webhook endpoint's) HTTP status, when it answered one. */
  httpStatus: 'http.response.status_code',
  url: 'url.full',
  serverAddress: 'server.address',
} as const;

/** The value of `messaging.system` on every span. */
export const MESSAGING_SYSTEM = 'olchat';

/** The event on a send span at the moment its request goes out, after the limiter's wait. */
export const REQUEST_EVENT = 'olchat.request';

/** Ends `span` as failed with `code`. */
export function failSpan(span: TelemetrySpan, code: string): void {
  span.setAttributes({ [ATTRIBUTES.errorCode]: code });
  span.setError(code);
}

/** Checks a `telemetry` option; a wrong one is a programming error, said at construction. */
export function isTelemetry(value: unknown): value is Telemetry {
  return typeof (value as Telemetry | null)?.startSpan === 'function';
}

export type { TraceCarrier };
