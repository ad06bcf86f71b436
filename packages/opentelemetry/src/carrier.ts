import { createTraceState, isSpanContextValid, type SpanContext, TraceFlags } from '@opentelemetry/api';

/*
 * A span's context as it travels with a job, in the W3C Trace Context format (`traceparent`,
 * `tracestate`). Written here rather than through the global propagator: the link from a send
 * back to its trigger must not depend on which propagators the app registered (a bare
 * `BasicTracerProvider` registers none).
 */

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** W3C allows 32 list members of up to 256 characters each; a longer value is not kept. */
const MAX_TRACESTATE = 512;

export function toCarrier(spanContext: SpanContext): Record<string, string> | undefined {
  if (!isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  const carrier: Record<string, string> = {
    traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
  };
  const state = spanContext.traceState?.serialize();
  if (state && state.length <= MAX_TRACESTATE) carrier.tracestate = state;
  return carrier;
}

/** The span context a carrier names, as a remote one; undefined for anything malformed. */
export function fromCarrier(carrier: Readonly<Record<string, string>>): SpanContext | undefined {
  const match = TRACEPARENT.exec(typeof carrier?.traceparent === 'string' ? carrier.traceparent : '');
  if (!match) return undefined;
  const spanContext: SpanContext = {
    traceId: match[1] as string,
    spanId: match[2] as string,
    traceFlags: Number.parseInt(match[3] as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  const state = carrier.tracestate;
  if (typeof state === 'string' && state.length > 0 && state.length <= MAX_TRACESTATE) {
    spanContext.traceState = createTraceState(state);
  }
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}
