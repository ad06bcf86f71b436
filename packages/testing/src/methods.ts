import type { EmulatorLimit, EmulatorLimits, OlchatMethod } from './types.js';

export const OLCHAT_METHODS: readonly OlchatMethod[] = [
  'sendText',
  'sendFile',
  'checkPhone',
  'checkStatus',
  'checkMessageStatus',
];

/** The vendor's limits per webhook token, which cannot be raised. */
export const DEFAULT_LIMITS: Readonly<Record<OlchatMethod, Readonly<EmulatorLimit>>> = Object.freeze({
  sendText: Object.freeze({ points: 5, durationMs: 3000 }),
  sendFile: Object.freeze({ points: 5, durationMs: 3000 }),
  checkPhone: Object.freeze({ points: 3, durationMs: 1000 }),
  checkStatus: Object.freeze({ points: 5, durationMs: 3000 }),
  checkMessageStatus: Object.freeze({ points: 5, durationMs: 3000 }),
});

export function isOlchatMethod(name: string): name is OlchatMethod {
  return (OLCHAT_METHODS as readonly string[]).includes(name);
}

/** Merges overrides over the defaults, refusing limits that are not positive. */
export function resolveLimits(overrides: EmulatorLimits | undefined): Record<OlchatMethod, EmulatorLimit> {
  const out = {} as Record<OlchatMethod, EmulatorLimit>;
  for (const method of OLCHAT_METHODS) {
    const limit = overrides?.[method] ?? DEFAULT_LIMITS[method];
    if (!Number.isInteger(limit.points) || limit.points < 1) {
      throw new RangeError(`limits.${method}.points must be a positive integer`);
    }
    if (!Number.isFinite(limit.durationMs) || limit.durationMs <= 0) {
      throw new RangeError(`limits.${method}.durationMs must be a positive number`);
    }
    out[method] = { points: limit.points, durationMs: limit.durationMs };
  }
  for (const key of Object.keys(overrides ?? {})) {
    if (!isOlchatMethod(key)) throw new RangeError(`limits: unknown method ${JSON.stringify(key)}`);
  }
  return out;
}
