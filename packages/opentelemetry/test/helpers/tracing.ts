import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/**
 * A tracer provider that keeps every finished span in memory, and the AsyncLocalStorage context
 * manager an app's Node SDK installs (without it `context.with` does not reach across awaits).
 */
export function startTracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  return {
    exporter,
    provider,
    spans: (name?: string): ReadableSpan[] =>
      exporter.getFinishedSpans().filter((span) => name === undefined || span.name === name),
    async stop() {
      await provider.shutdown();
      context.disable();
    },
  };
}

/** Polls `read` until it returns something defined (bounded: fails after `timeoutMs`). */
export async function eventually<T>(read: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every string a span shows an exporter: its name, status, attributes, events and links. */
export function spanStrings(span: ReadableSpan): string[] {
  const out = [span.name, span.status.message ?? ''];
  const attributes = (attrs: Record<string, unknown> | undefined) => {
    for (const [key, value] of Object.entries(attrs ?? {})) out.push(key, String(value));
  };
  attributes(span.attributes);
  for (const event of span.events) {
    out.push(event.name);
    attributes(event.attributes);
  }
  for (const link of span.links) attributes(link.attributes);
  return out;
}
