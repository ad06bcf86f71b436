import type { Latency, LatencyInfo } from './types.js';

export type LatencyFn = (info: LatencyInfo) => number;

function checkMs(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what} must be a non-negative number of ms`);
  return value;
}

/** Turns the `latencyMs` option into a function; a function's bad results (NaN, negative) count as 0. */
export function toLatencyFn(latency: Latency | undefined): LatencyFn | undefined {
  if (latency === undefined) return undefined;
  if (typeof latency === 'number') {
    const ms = checkMs(latency, 'latencyMs');
    return ms === 0 ? undefined : () => ms;
  }
  if (typeof latency === 'function') {
    return (info) => {
      const ms = Number(latency(info));
      return Number.isFinite(ms) && ms > 0 ? ms : 0;
    };
  }
  if (Array.isArray(latency) && latency.length === 2) {
    const min = checkMs(latency[0], 'latencyMs[0]');
    const max = checkMs(latency[1], 'latencyMs[1]');
    if (max < min) throw new RangeError('latencyMs: [min, max] needs min <= max');
    return () => min + Math.random() * (max - min);
  }
  throw new TypeError('latencyMs must be a number, a [min, max] pair or a function');
}
