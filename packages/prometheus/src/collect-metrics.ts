import { ValidationError } from '@olchat-kit/core';
import { register } from 'prom-client';
import { metricListeners } from './listeners.js';
import { METRIC_NAMES } from './metric-defs.js';
import { type MetricNames, type MetricsRegistry, type MetricsSource, registerMetrics } from './metrics.js';

export interface CollectMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's global `register`. */
  registry?: MetricsRegistry;
  /**
   * Put before every name (`'shop_'` gives `shop_olchat_messages_total`): for a second notifier
   * on the same registry. Default: none.
   */
  prefix?: string;
}

export interface MetricsCollector {
  /** The registry the metrics are on. */
  readonly registry: MetricsRegistry;
  /** The registered names, prefix included. */
  readonly names: MetricNames;
  /** Removes the listeners and unregisters the metrics (their counts are gone); again: does nothing. */
  stop(): void;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Registers the olchat metrics of `notifier` on a prom-client registry. The queue and line gauges
 * are read at scrape time; the counters and histograms follow the notifier's events. A name
 * already on the registry throws `VALIDATION` before anything is registered: one collector per
 * notifier and registry (or give each its own `prefix`).
 */
export function collectMetrics(notifier: MetricsSource, options: CollectMetricsOptions = {}): MetricsCollector {
  if (
    typeof notifier?.on !== 'function' ||
    typeof notifier.off !== 'function' ||
    typeof notifier.stats !== 'function'
  ) {
    throw new ValidationError('collectMetrics needs a notifier (from createNotifier)', [
      { path: 'notifier', message: 'Expected a notifier' },
    ]);
  }
  const { registry, prefix } = readOptions(options);
  const names = Object.fromEntries(
    Object.entries(METRIC_NAMES).map(([key, name]) => [key, `${prefix}${name}`]),
  ) as unknown as MetricNames;
  for (const name of Object.values(names)) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw new ValidationError(
        `collectMetrics: ${name} is already registered on this registry. Call stop() on the collector ` +
          'that registered it, or give each notifier its own registry or prefix',
        [{ path: 'registry', message: `${name} is already registered` }],
      );
    }
  }

  const { metrics, all } = registerMetrics(notifier, registry, names);
  const subscriptions = metricListeners(metrics);
  for (const { event, listener } of subscriptions) notifier.on(event, listener as never);

  let stopped = false;
  return {
    registry,
    names,
    stop() {
      if (stopped) return;
      stopped = true;
      for (const { event, listener } of subscriptions) notifier.off(event, listener as never);
      // Only ours: a metric registered under the same name since then belongs to someone else.
      // (By registered name: an OpenMetrics registry renames its counters' `name` as it scrapes.)
      const ours = new Set<unknown>(all);
      for (const name of Object.values(names)) {
        if (ours.has(registry.getSingleMetric(name))) registry.removeSingleMetric(name);
      }
    },
  };
}

function readOptions(options: CollectMetricsOptions): { registry: MetricsRegistry; prefix: string } {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('collectMetrics options must be an object');
  }
  const { registry = register, prefix = '' } = options;
  if (
    typeof registry?.getSingleMetric !== 'function' ||
    typeof registry.registerMetric !== 'function' ||
    typeof registry.removeSingleMetric !== 'function'
  ) {
    throw new ValidationError('registry must be a prom-client Registry', [
      { path: 'registry', message: 'Expected a prom-client Registry' },
    ]);
  }
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix))) {
    throw new ValidationError('prefix must be letters, digits, "_" or ":" and not start with a digit', [
      { path: 'prefix', message: 'Not a valid metric name prefix' },
    ]);
  }
  return { registry, prefix };
}
