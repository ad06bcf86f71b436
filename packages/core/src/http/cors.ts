import type { CorsOption } from './types.js';

export type CorsHeaders = (origin: string) => Record<string, string>;

const ALLOWED_HEADERS = 'Content-Type, Authorization, Idempotency-Key';

/** The CORS headers for a request from `origin` (none when it is not allowed), or undefined when CORS is off. */
export function corsHeaders(option: CorsOption | undefined): CorsHeaders | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true)
    return (origin): Record<string, string> => (origin === '' ? {} : { 'access-control-allow-origin': '*' });
  const allowed = option.origin;
  const allows =
    typeof allowed === 'function'
      ? (origin: string) => allowed(origin) === true
      : typeof allowed === 'string'
        ? (origin: string) => origin === allowed
        : (origin: string) => allowed.includes(origin);
  return (origin): Record<string, string> =>
    origin !== '' && allows(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : { vary: 'Origin' };
}

/** The extra headers of a preflight answer. */
export function preflightHeaders(allow: string): Record<string, string> {
  return {
    'access-control-allow-methods': allow,
    'access-control-allow-headers': ALLOWED_HEADERS,
    'access-control-max-age': '600',
  };
}
