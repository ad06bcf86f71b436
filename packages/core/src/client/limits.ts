import { ValidationError } from '../errors.js';
import { checkInteger } from '../util/validate.js';
import { DEFAULT_MARGIN_MS, type MethodLimit, OLCHAT_METHODS, type OlchatMethod, VENDOR_LIMITS } from './methods.js';

export type ResolvedLimit = Required<MethodLimit>;
export type LimitsOption = Partial<Record<OlchatMethod, Partial<MethodLimit>>>;

/**
 * Merges user limits over the vendor's. Against the vendor's own URL a limit may only be
 * stricter (fewer points, a longer window); against an emulator or a proxy anything goes.
 */
export function resolveLimits(
  option: LimitsOption | undefined,
  isVendorUrl: boolean,
): Record<OlchatMethod, ResolvedLimit> {
  if (option !== undefined && (typeof option !== 'object' || option === null)) {
    throw new ValidationError('limits must be an object keyed by method name');
  }
  for (const key of Object.keys(option ?? {})) {
    if (!OLCHAT_METHODS.includes(key as OlchatMethod)) {
      throw new ValidationError(`limits: unknown method ${JSON.stringify(key)}`, [
        { path: `limits.${key}`, message: `Expected one of ${OLCHAT_METHODS.join(', ')}` },
      ]);
    }
  }
  const out = {} as Record<OlchatMethod, ResolvedLimit>;
  for (const method of OLCHAT_METHODS) {
    const vendor = VENDOR_LIMITS[method];
    const given = option?.[method] ?? {};
    const limit: ResolvedLimit = {
      points: given.points ?? vendor.points,
      durationMs: given.durationMs ?? vendor.durationMs,
      marginMs: given.marginMs ?? DEFAULT_MARGIN_MS,
    };
    check(method, 'points', limit.points, 1);
    check(method, 'durationMs', limit.durationMs, 1);
    check(method, 'marginMs', limit.marginMs, 0);
    if (isVendorUrl && (limit.points > vendor.points || limit.durationMs < vendor.durationMs)) {
      throw new ValidationError(
        `limits.${method} (${limit.points} per ${limit.durationMs} ms) is looser than OLChat allows ` +
          `(${vendor.points} per ${vendor.durationMs} ms); only stricter limits are accepted`,
        [{ path: `limits.${method}`, message: 'Looser than the vendor limit' }],
      );
    }
    out[method] = limit;
  }
  return out;
}

function check(method: string, field: string, value: unknown, min: number): void {
  checkInteger(value, `limits.${method}.${field}`, min);
}
