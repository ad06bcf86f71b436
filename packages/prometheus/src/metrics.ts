import type { LineState, NotifierEvent, NotifierEvents, NotifierStats } from '@olchat-kit/core';
import { Counter, Gauge, Histogram, type OpenMetricsContentType, type Registry } from 'prom-client';
import {
  DELIVERY_STATUSES,
  LIMITER_WAIT_BUCKETS,
  type METRIC_NAMES,
  QUEUE_STATES,
  SEND_DURATION_BUCKETS,
} from './metric-defs.js';

/** A prom-client registry of either exposition format. */
export type MetricsRegistry = Registry | Registry<OpenMetricsContentType>;

/** What the metrics read from a notifier: any notifier (`AnyNotifier`) has it. */
export interface MetricsSource {
  on<E extends NotifierEvent>(event: E, listener: (payload: NotifierEvents[E]) => void): unknown;
  off<E extends NotifierEvent>(event: E, listener: (payload: NotifierEvents[E]) => void): unknown;
  stats(): NotifierStats;
  readonly line: LineState;
}

export type MetricNames = { readonly [K in keyof typeof METRIC_NAMES]: string };

/** The metrics events feed; the queue and line gauges read the notifier themselves at scrape time. */
export interface EventMetrics {
  messages: Counter<'rule' | 'status'>;
  sendDuration: Histogram<never>;
  limiterWait: Histogram<never>;
  rateLimited: Counter<never>;
  delivery: Counter<'status'>;
}

// Unknown is neither up nor down: NaN keeps the series present while `== 0` and `== 1` stay false.
// A flagged line sends only `high`: as far as a campaign is concerned, it is not up.
const LINE_VALUES: Record<LineState, number> = { up: 1, down: 0, flagged: 0, unknown: Number.NaN };

/** Registers every metric on `registry` under `names`; the caller has checked the names are free. */
export function registerMetrics(
  source: MetricsSource,
  registry: MetricsRegistry,
  names: MetricNames,
): { metrics: EventMetrics; all: (Counter<string> | Gauge<string> | Histogram<string>)[] } {
  const registers = [registry];

  const messages = new Counter({
    name: names.messages,
    help: 'Messages that reached an end, by rule id (empty for notifier.send) and status: sent, failed, expired, cancelled.',
    labelNames: ['rule', 'status'] as const,
    registers,
  });
  const queueJobs = new Gauge({
    name: names.queueJobs,
    help: 'Unfinished jobs by state: scheduled (waiting for their time), queued (waiting for the limit), sending.',
    labelNames: ['state'] as const,
    registers,
    // Read at scrape time, as prom-client's own collectors do: no timer, never stale.
    collect() {
      const stats = statsOrUndefined(source);
      for (const state of QUEUE_STATES) this.set({ state }, stats ? stats[state] : Number.NaN);
    },
  });
  const queueEta = new Gauge({
    name: names.queueEta,
    help: 'Seconds until every queued job would be sent at the vendor limit.',
    registers,
    collect() {
      const stats = statsOrUndefined(source);
      this.set(stats ? stats.etaMs / 1000 : Number.NaN);
    },
  });
  const sendDuration = new Histogram({
    name: names.sendDuration,
    help: 'Seconds from writing a sendText or sendFile request to its answer (or failure), per request.',
    buckets: SEND_DURATION_BUCKETS,
    registers,
  });
  const limiterWait = new Histogram({
    name: names.limiterWait,
    help: 'Seconds a job waited after its pickup before its request could be written: the vendor limit, and the line while it was down.',
    buckets: LIMITER_WAIT_BUCKETS,
    registers,
  });
  const rateLimited = new Counter({
    name: names.rateLimited,
    help: 'Requests the vendor answered 429 Too Many Requests.',
    registers,
  });
  const lineUp = new Gauge({
    name: names.lineUp,
    help: 'The WhatsApp line: 1 up, 0 down or flagged for spam (normal and low held), NaN while not yet known.',
    registers,
    collect() {
      this.set(lineValue(source));
    },
  });
  const delivery = new Counter({
    name: names.delivery,
    help: 'What the vendor reported of sent messages: delivered, read, undelivered.',
    labelNames: ['status'] as const,
    registers,
  });
  // Fixed label sets start at 0, so increase() sees the first event too.
  for (const status of DELIVERY_STATUSES) delivery.inc({ status }, 0);

  return {
    metrics: { messages, sendDuration, limiterWait, rateLimited, delivery },
    all: [messages, queueJobs, queueEta, sendDuration, limiterWait, rateLimited, lineUp, delivery],
  };
}

/** A scrape must not fail because one source did: the gauges show NaN instead. */
function statsOrUndefined(source: MetricsSource): NotifierStats | undefined {
  try {
    return source.stats();
  } catch {
    return undefined;
  }
}

function lineValue(source: MetricsSource): number {
  try {
    const state = source.line;
    return Object.hasOwn(LINE_VALUES, state) ? (LINE_VALUES[state] as number) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
