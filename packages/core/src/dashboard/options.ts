import { ValidationError, type ValidationIssue } from '../errors.js';
import type { HandlerLogger } from '../http/types.js';
import { privateLogger } from '../logger.js';
import { type DashboardLang, MESSAGES } from './i18n.js';
import type { DashboardOptions } from './types.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_TIME_ZONE = 'Europe/Moscow';
const MIN_SECRET_LENGTH = 32;

export interface ResolvedDashboardOptions {
  lang: DashboardLang;
  title: string;
  /** Undefined: the request's own. */
  basePath: string | undefined;
  pageSize: number;
  timeZone: string;
  secret: string | undefined;
  allowedOrigins: string[];
  logger: HandlerLogger;
}

const consoleLogger: HandlerLogger = { error: (obj, msg) => console.error(msg, obj) };

/** The options checked once, at setup: a typo fails when the app starts, not on the first visit. */
export function resolveDashboardOptions(options: DashboardOptions = {}): ResolvedDashboardOptions {
  const issues: ValidationIssue[] = [];
  const bad = (path: string, message: string) => issues.push({ path, message });
  const { lang = 'ru', pageSize = DEFAULT_PAGE_SIZE, timeZone = DEFAULT_TIME_ZONE } = options;
  if (!Object.hasOwn(MESSAGES, lang)) bad('lang', "Expected 'ru' or 'en'");
  if (options.title !== undefined && (typeof options.title !== 'string' || options.title.trim() === '')) {
    bad('title', 'Expected a non-empty string');
  }
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    bad('pageSize', `Expected an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  if (!isTimeZone(timeZone)) bad('timeZone', 'Expected an IANA time zone such as Europe/Moscow');
  const basePath = options.basePath === undefined ? undefined : normalizeBasePath(options.basePath);
  if (options.basePath !== undefined && basePath === undefined)
    bad('basePath', "Expected a path such as '/admin/olchat'");
  if (
    options.secret !== undefined &&
    (typeof options.secret !== 'string' || options.secret.length < MIN_SECRET_LENGTH)
  ) {
    bad('secret', `Expected a string of at least ${MIN_SECRET_LENGTH} characters`);
  }
  const allowedOrigins: string[] = [];
  for (const [index, origin] of (options.allowedOrigins ?? []).entries()) {
    const parsed = originOf(origin);
    if (parsed === undefined) bad(`allowedOrigins.${index}`, "Expected an origin such as 'https://admin.example.com'");
    else allowedOrigins.push(parsed);
  }
  if (issues.length > 0) {
    throw new ValidationError(`Invalid dashboard options: ${issues.map((i) => i.path).join(', ')}`, issues);
  }
  return {
    lang,
    title: options.title ?? MESSAGES[lang].title,
    basePath,
    pageSize,
    timeZone,
    secret: options.secret,
    allowedOrigins,
    logger: privateLogger(options.logger ?? consoleLogger),
  };
}

/** '/admin/olchat/' → '/admin/olchat'; the root is ''. Undefined for anything that is not a plain path. */
export function normalizeBasePath(path: unknown): string | undefined {
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#\s"'<>\\]/.test(path) || path.startsWith('//')) {
    return undefined;
  }
  return path.replace(/\/+$/, '');
}

function originOf(origin: unknown): string | undefined {
  if (typeof origin !== 'string') return undefined;
  try {
    const url = new URL(origin);
    const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '';
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !bare) return undefined;
    return url.origin.toLowerCase();
  } catch {
    return undefined;
  }
}

function isTimeZone(zone: unknown): boolean {
  if (typeof zone !== 'string') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
