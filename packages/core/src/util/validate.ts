import { ValidationError } from '../errors.js';

/**
 * The checks that options and inputs share, in one place: each throws a `ValidationError` whose
 * message and issue name the option (`path`), so a mistake reads the same wherever it is made.
 */

/** A whole number ≥ `min` (default 1), else `ValidationError`: "`path` must be an integer ≥ min". */
export function checkInteger(value: unknown, path: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new ValidationError(`${path} must be an integer ${range}`, [
      { path, message: `Expected an integer ${range}` },
    ]);
  }
  return value;
}

/** Whether `value` is one of `allowed` (no prototype lookups: a plain array scan). */
export function isOneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return allowed.includes(value as T);
}

/** One of `allowed`, else `ValidationError`: "`path` must be one of 'a', 'b'". */
export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (isOneOf(value, allowed)) return value;
  const list = allowed.map((v) => `'${v}'`).join(', ');
  throw new ValidationError(`${path} must be one of ${list}`, [{ path, message: `Expected one of ${list}` }]);
}
