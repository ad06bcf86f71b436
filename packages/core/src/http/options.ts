import { ValidationError } from '../errors.js';
import { privateLogger } from '../logger.js';
import { checkInteger } from '../util/validate.js';
import { bearerCheck, secretCheck } from './auth.js';
import { DEFAULT_MAX_BODY_BYTES } from './body.js';
import { type CorsHeaders, corsHeaders } from './cors.js';
import { type InboundCheck, inboundCheck } from './inbound-limits.js';
import { FORM_LOCALES, type FormLocale } from './locale.js';
import type { HandlerLogger, HandlerOptions, InboundLimit, TrustProxy } from './types.js';

export const DEFAULT_INBOUND_LIMITS = {
  perIp: { points: 10, durationMs: 60_000 },
  perPhone: { points: 5, durationMs: 3_600_000 },
} as const satisfies Record<string, InboundLimit>;

export interface ResolvedOptions {
  prefix: string;
  maxBodyBytes: number;
  honeypot: string | undefined;
  redirect: string | undefined;
  authorized: ((authorization: string) => boolean) | undefined;
  /** The GET trigger's secret check; undefined when `queryTrigger` is off. */
  queryTrigger: ((secret: string) => boolean) | undefined;
  cors: CorsHeaders | undefined;
  trustProxy: TrustProxy;
  perIp: InboundCheck | undefined;
  perPhone: InboundCheck | undefined;
  healthCacheMs: number;
  logger: HandlerLogger;
  locale: FormLocale;
}

const consoleLogger: HandlerLogger = { error: (obj, msg) => console.error(msg, obj) };

/** Checks the options once, at setup: a mistake throws a `ValidationError` there, not per request. */
export function resolveOptions(owner: object, options: HandlerOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('', 'Expected an options object');
  const { apiKey, redirect, maxBodyBytes = DEFAULT_MAX_BODY_BYTES, honeypot, cors, trustProxy = false } = options;
  const { prefix = '', healthCacheMs = 30_000, logger = consoleLogger, inboundLimits = {}, queryTrigger } = options;
  const { locale = 'ru' } = options;
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey.trim() === '')) fail('apiKey', 'Expected a string');
  if (redirect !== undefined && (typeof redirect !== 'string' || redirect === '' || /[\r\n]/.test(redirect)))
    fail('redirect', 'Expected a URL or path');
  checkInteger(maxBodyBytes, 'maxBodyBytes');
  if (honeypot !== undefined && honeypot !== false && (typeof honeypot !== 'string' || honeypot === ''))
    fail('honeypot', 'Expected a field name or false');
  if (cors !== undefined && typeof cors !== 'boolean' && !isCorsObject(cors))
    fail('cors', 'Expected a boolean or { origin: string | string[] | (origin) => boolean }');
  if (
    typeof trustProxy !== 'boolean' &&
    typeof trustProxy !== 'function' &&
    !(Number.isInteger(trustProxy) && trustProxy >= 0)
  )
    fail('trustProxy', 'Expected a boolean, a number of proxies or a function');
  if (queryTrigger !== undefined) checkQueryTrigger(queryTrigger);
  if (typeof prefix !== 'string' || (prefix !== '' && !prefix.startsWith('/'))) fail('prefix', 'Expected a path');
  checkInteger(healthCacheMs, 'healthCacheMs', 0);
  if (typeof logger?.error !== 'function') fail('logger', 'Expected { error(obj, msg) }');
  if (!FORM_LOCALES.includes(locale)) fail('locale', "Expected 'ru' or 'en'");
  if (inboundLimits !== false && (typeof inboundLimits !== 'object' || inboundLimits === null))
    fail('inboundLimits', 'Expected { perIp?, perPhone? } or false');
  const limits = inboundLimits === false ? { perIp: false as const, perPhone: false as const } : inboundLimits;
  return {
    prefix: prefix.replace(/\/+$/, ''),
    maxBodyBytes,
    honeypot: honeypot === false ? undefined : honeypot,
    redirect,
    authorized: apiKey === undefined ? undefined : bearerCheck(apiKey),
    queryTrigger: queryTrigger === undefined ? undefined : secretCheck(queryTrigger.secret),
    cors: corsHeaders(cors),
    trustProxy,
    perIp: limitCheck(owner, 'ip', limits.perIp, DEFAULT_INBOUND_LIMITS.perIp),
    perPhone: limitCheck(owner, 'phone', limits.perPhone, DEFAULT_INBOUND_LIMITS.perPhone),
    healthCacheMs,
    logger: privateLogger(logger),
    locale,
  };
}

function limitCheck(
  owner: object,
  name: 'ip' | 'phone',
  limit: InboundLimit | false | undefined,
  fallback: InboundLimit,
): InboundCheck | undefined {
  if (limit === false) return undefined;
  const chosen = limit ?? fallback;
  const path = `inboundLimits.${name === 'ip' ? 'perIp' : 'perPhone'}`;
  if (typeof chosen !== 'object' || chosen === null) fail(path, 'Expected { points, durationMs } or false');
  checkInteger(chosen.points, `${path}.points`);
  checkInteger(chosen.durationMs, `${path}.durationMs`);
  return inboundCheck(owner, name, chosen);
}

export const MIN_TRIGGER_SECRET_LENGTH = 16;

function checkQueryTrigger(queryTrigger: unknown): void {
  if (typeof queryTrigger !== 'object' || queryTrigger === null) fail('queryTrigger', 'Expected { secret }');
  const { secret } = queryTrigger as { secret?: unknown };
  // The secret travels in URLs and lands in logs along the way: a short one would be guessed before it is rotated.
  if (typeof secret !== 'string' || secret.length < MIN_TRIGGER_SECRET_LENGTH)
    fail('queryTrigger.secret', `Expected a string of at least ${MIN_TRIGGER_SECRET_LENGTH} characters`);
}

function isCorsObject(cors: unknown): boolean {
  if (typeof cors !== 'object' || cors === null) return false;
  const origin = (cors as { origin?: unknown }).origin;
  return (
    typeof origin === 'string' ||
    typeof origin === 'function' ||
    (Array.isArray(origin) && origin.every((o) => typeof o === 'string'))
  );
}

function fail(path: string, message: string): never {
  throw new ValidationError(`Handler option ${path || '(options)'}: ${message}`, [{ path, message }]);
}
