export { type CollectMetricsOptions, collectMetrics, type MetricsCollector } from './collect-metrics.js';
export {
  AD_HOC_RULE,
  DELIVERY_STATUSES,
  LIMITER_WAIT_BUCKETS,
  MESSAGE_STATUSES,
  METRIC_NAMES,
  QUEUE_STATES,
  SEND_DURATION_BUCKETS,
} from './metric-defs.js';
export type { MetricNames, MetricsRegistry, MetricsSource } from './metrics.js';
