import { ValidationError } from '../errors.js';
import { CATEGORIES, type Category, type JobMeta, PRIORITIES, type Priority, type TimeInput } from '../job.js';
import { checkOneOf } from '../util/validate.js';

export const MAX_KEY_LENGTH = 256;
export const MAX_META_BYTES = 4096;

/** A time option as ms since the epoch; undefined stays undefined. */
export function toTime(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new ValidationError(`${path} must be a valid Date or ms since the epoch`, [
      { path, message: 'Expected a date' },
    ]);
  }
  return ms;
}

export function toPriority(value: unknown, path: string): Priority | undefined {
  if (value === undefined) return undefined;
  return checkOneOf(value, PRIORITIES, path);
}

export function toCategory(value: unknown, path: string): Category | undefined {
  if (value === undefined) return undefined;
  return checkOneOf(value, CATEGORIES, path);
}

export function toKey(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > MAX_KEY_LENGTH) {
    throw new ValidationError(`${path} must be a string of 1–${MAX_KEY_LENGTH} characters`, [
      { path, message: 'Invalid key' },
    ]);
  }
  return value;
}

/** Plain JSON of at most 4 KiB, copied so later changes by the app do not reach the job. */
export function toMeta(value: unknown, path = 'meta'): JobMeta | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`${path} must be a plain object`, [{ path, message: 'Expected an object' }]);
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    throw new ValidationError(`${path} must be plain JSON`, [{ path, message: 'Not serialisable as JSON' }]);
  }
  if (Buffer.byteLength(json) > MAX_META_BYTES) {
    throw new ValidationError(`${path} must be at most ${MAX_META_BYTES} bytes as JSON`, [
      { path, message: `At most ${MAX_META_BYTES} bytes` },
    ]);
  }
  return JSON.parse(json) as JobMeta;
}

export type { TimeInput };
