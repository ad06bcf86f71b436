import { createRequire } from 'node:module';
import type { Telemetry, TelemetrySpan, TelemetrySpanKind, TelemetrySpanOptions } from '@olchat-kit/core';
import { ValidationError } from '@olchat-kit/core';
import {
  context,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { fromCarrier, toCarrier } from './carrier.js';

export interface OtelTelemetryOptions {
  /** Where the tracer comes from. Default: the global one (`trace.getTracerProvider()`, set by the SDK). */
  tracerProvider?: TracerProvider;
  /** A tracer of your own; wins over `tracerProvider`. */
  tracer?: Tracer;
}

const NAME = '@olchat-kit/opentelemetry';
const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const KINDS: Record<TelemetrySpanKind, SpanKind> = { producer: SpanKind.PRODUCER, client: SpanKind.CLIENT };

/**
 * olchat-kit's traces on OpenTelemetry: pass it as `createNotifier({ telemetry: otelTelemetry() })`.
 * A trigger's span is a child of the active context (the app's HTTP span); each send attempt,
 * delivery check and webhook attempt starts a trace of its own, the send linked to its trigger
 * (whichever process sends it, however late).
 */
export function otelTelemetry(options: OtelTelemetryOptions = {}): Telemetry {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('otelTelemetry takes { tracerProvider?, tracer? }');
  }
  const { tracer, tracerProvider } = options;
  if (tracer !== undefined && typeof tracer.startSpan !== 'function') {
    throw new ValidationError('tracer must be an OpenTelemetry Tracer', [
      { path: 'tracer', message: 'No startSpan()' },
    ]);
  }
  if (tracerProvider !== undefined && typeof tracerProvider.getTracer !== 'function') {
    throw new ValidationError('tracerProvider must be an OpenTelemetry TracerProvider', [
      { path: 'tracerProvider', message: 'No getTracer()' },
    ]);
  }
  // The global provider is a proxy: a tracer taken now follows the SDK registered later.
  const used = tracer ?? (tracerProvider ?? trace.getTracerProvider()).getTracer(NAME, VERSION);
  return {
    startSpan(name: string, spanOptions: TelemetrySpanOptions): TelemetrySpan {
      const links: Link[] = [];
      for (const carrier of spanOptions.links ?? []) {
        const linked = fromCarrier(carrier);
        if (linked) links.push({ context: linked });
      }
      const span = used.startSpan(
        name,
        { kind: KINDS[spanOptions.kind], attributes: spanOptions.attributes, root: spanOptions.root, links },
        context.active(),
      );
      return new OtelSpan(span);
    },
  };
}

class OtelSpan implements TelemetrySpan {
  readonly #span: Span;

  constructor(span: Span) {
    this.#span = span;
  }

  setAttributes(attributes: Record<string, string | number | boolean>): void {
    this.#span.setAttributes(attributes);
  }

  addEvent(name: string, attributes?: Record<string, string | number | boolean>): void {
    this.#span.addEvent(name, attributes);
  }

  setError(code: string): void {
    // The code only: an error's message may quote the vendor's answer.
    this.#span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  }

  run<T>(fn: () => T): T {
    return context.with(trace.setSpan(context.active(), this.#span), fn);
  }

  carrier(): Record<string, string> | undefined {
    return toCarrier(this.#span.spanContext());
  }

  end(): void {
    this.#span.end();
  }
}
