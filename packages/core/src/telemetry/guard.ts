import type { Logger } from '../logger.js';
import type { Telemetry, TelemetrySpan, TelemetrySpanOptions } from './telemetry.js';

/** A span that records nothing: what a failing tracer gets replaced by. */
const NOOP_SPAN: TelemetrySpan = {
  setAttributes() {},
  addEvent() {},
  setError() {},
  run: (fn) => fn(),
  carrier: () => undefined,
  end() {},
};

/**
 * The app's telemetry, made harmless: a tracer that throws is logged (once) and never fails a
 * trigger or a send, nor stops the queue. OpenTelemetry's API never throws; another
 * implementation of `Telemetry` might.
 */
export function guardTelemetry(telemetry: Telemetry, logger: Logger): Telemetry {
  let reported = false;
  const report = (error: unknown) => {
    if (reported) return;
    reported = true;
    logger.error(
      { err: error instanceof Error ? error.message : String(error) },
      'olchat-kit: telemetry threw; its spans may be incomplete (reported once)',
    );
  };
  const safely = (call: () => void) => {
    try {
      call();
    } catch (error) {
      report(error);
    }
  };
  return {
    startSpan(name: string, options: TelemetrySpanOptions): TelemetrySpan {
      let span: TelemetrySpan;
      try {
        span = telemetry.startSpan(name, options);
      } catch (error) {
        report(error);
        return NOOP_SPAN;
      }
      return {
        setAttributes: (attributes) => safely(() => span.setAttributes(attributes)),
        addEvent: (event, attributes) => safely(() => span.addEvent(event, attributes)),
        setError: (code) => safely(() => span.setError(code)),
        end: () => safely(() => span.end()),
        carrier: () => {
          try {
            return span.carrier();
          } catch (error) {
            report(error);
            return undefined;
          }
        },
        run: <T>(fn: () => T): T => {
          // `fn` runs exactly once: inside the span when the tracer manages, else on its own; its
          // own throw goes to the caller, the tracer's is only reported.
          let called = false;
          let threw = false;
          let result: T | undefined;
          const inside = () => {
            called = true;
            try {
              result = fn();
            } catch (error) {
              threw = true;
              throw error;
            }
            return result as T;
          };
          try {
            return span.run(inside);
          } catch (error) {
            if (threw) throw error;
            report(error);
            return called ? (result as T) : fn();
          }
        },
      };
    },
  };
}
