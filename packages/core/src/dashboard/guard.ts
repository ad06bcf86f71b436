import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { headerValue } from '../http/answers.js';
import type { HandlerRequest } from '../http/types.js';

/** How long a page's forms stay usable: a tab left open over a working day still works. */
export const TOKEN_TTL_MS = 12 * 3600_000;
// A token from a clock a little ahead (another process sharing the secret) is still fine.
const CLOCK_SKEW_MS = 60_000;

/**
 * The two checks every action passes before it does anything: the origin check, and a token that
 * shows the POST came from a form the dashboard rendered, a second check independent of the first.
 */
export interface ActionGuard {
  /**
   * Whether a browser sent the request from this site: `Origin` (else `Referer`) names the request's
   * `Host` (or an allowed origin), and `Sec-Fetch-Site`, when sent, says `same-origin`. A browser
   * does not let a page forge any of them, so this carries the main weight against cross-site posts.
   */
  sameOrigin(request: HandlerRequest): boolean;
  /** A fresh token for a form: `<issued>.<nonce>.<mac>`, the mac an HMAC of the first two. */
  issue(now?: number): string;
  /** Whether the token is one this guard issued (or one sharing its secret) within `TOKEN_TTL_MS`. */
  verify(token: unknown, now?: number): boolean;
}

export interface GuardOptions {
  /** Shared by every process serving the dashboard; default: random per process. */
  secret?: string | undefined;
  /** Origins (`https://host[:port]`, lower case) accepted besides the request's own host (a proxy that rewrites `Host`). */
  allowedOrigins?: readonly string[] | undefined;
}

export function createActionGuard(options: GuardOptions = {}): ActionGuard {
  const secret = options.secret !== undefined ? Buffer.from(options.secret) : randomBytes(32);
  const allowed = new Set(options.allowedOrigins ?? []);

  function mac(payload: string): Buffer {
    return createHmac('sha256', secret).update(payload).digest();
  }

  function validToken(token: unknown, now: number): boolean {
    if (typeof token !== 'string' || token.length > 200) return false;
    const [issued, nonce, signature, extra] = token.split('.');
    if (issued === undefined || nonce === undefined || signature === undefined || extra !== undefined) return false;
    const expected = mac(`${issued}.${nonce}`);
    const given = Buffer.from(signature, 'base64url');
    // Compared whole, in constant time: a forger learns nothing from how long a refusal takes. Only
    // the canonical spelling counts (base64 decoding ignores a last character's spare bits).
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    if (given.toString('base64url') !== signature) return false;
    const issuedAt = Number.parseInt(issued, 36);
    return Number.isFinite(issuedAt) && issuedAt <= now + CLOCK_SKEW_MS && now - issuedAt <= TOKEN_TTL_MS;
  }

  function sameOrigin(request: HandlerRequest): boolean {
    const headers = request.headers;
    const site = headerValue(headers['sec-fetch-site']).toLowerCase();
    if (site !== '' && site !== 'same-origin') return false;
    const host = headerValue(headers.host).toLowerCase();
    const origin = headerValue(headers.origin);
    // `Origin: null` (a sandboxed frame, a data: page) names no origin at all, so it never matches.
    const source = origin !== '' ? origin : headerValue(headers.referer);
    const claimed = originOf(source);
    if (claimed === undefined) return false;
    return (host !== '' && claimed.host === host) || allowed.has(claimed.origin);
  }

  return {
    issue(now = Date.now()) {
      const payload = `${now.toString(36)}.${randomBytes(12).toString('base64url')}`;
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    verify: (token, now = Date.now()) => validToken(token, now),
    sameOrigin,
  };
}

function originOf(source: string): { host: string; origin: string } | undefined {
  if (source === '' || source === 'null') return undefined;
  try {
    const url = new URL(source);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return { host: url.host.toLowerCase(), origin: url.origin.toLowerCase() };
  } catch {
    return undefined;
  }
}
