import { ValidationError, type ValidationIssue } from '../errors.js';
import type { WebhookEventType } from '../job.js';
import { WEBHOOK_EVENT_TYPES } from './events.js';
import { parseWebhookSecret } from './signature.js';

export interface WebhookEndpoint {
  url: string;
  /** `whsec_` followed by the base64 key (the Standard Webhooks format). */
  secret: string;
  /** Only these events; default all. */
  events?: WebhookEventType[];
  /**
   * Fields of a `message.*` event's `data` this endpoint is never sent: `'phone'` (the recipient),
   * `'meta'` (the app's own data). For a receiver that needs only the job id and status, so no
   * personal data travels to it or waits in the outbox for it.
   */
  omit?: WebhookOmittable[];
}

/** What an endpoint may leave out of a message event's `data`. */
export type WebhookOmittable = 'phone' | 'meta';
export const WEBHOOK_OMITTABLE: readonly WebhookOmittable[] = ['phone', 'meta'];

/** An endpoint checked and ready to post to. */
export interface ResolvedEndpoint {
  /** The URL, normalised (`new URL(url).href`): the key its deliveries are stored under. */
  url: string;
  /** Scheme, host and port only: all a log line ever shows (the path or query may hold a token). */
  origin: string;
  /** Path and query, as requested. */
  path: string;
  key: Buffer;
  /** Undefined: every event. */
  events: ReadonlySet<WebhookEventType> | undefined;
  /** The message data fields it is never sent, sorted (empty: none). */
  omit: readonly WebhookOmittable[];
  /** From `user:password@` in the URL, sent as `authorization: Basic …` (undici would drop it). */
  authorization: string | undefined;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

/**
 * Checks the `webhooks` option; every problem is one issue at `webhooks[i].<field>` of one
 * `ValidationError`. Secrets never appear in a message.
 */
export function resolveEndpoints(endpoints: unknown, path = 'webhooks'): ResolvedEndpoint[] {
  if (!Array.isArray(endpoints)) {
    throw new ValidationError(`${path} must be an array of { url, secret, events? }`, [
      { path, message: 'must be an array of { url, secret, events? }' },
    ]);
  }
  const issues: ValidationIssue[] = [];
  const resolved: ResolvedEndpoint[] = [];
  const seen = new Set<string>();
  endpoints.forEach((endpoint: unknown, i) => {
    const at = `${path}[${i}]`;
    if (typeof endpoint !== 'object' || endpoint === null) {
      issues.push({ path: at, message: 'must be an object { url, secret, events?, omit? }' });
      return;
    }
    const { url, secret, events, omit } = endpoint as Partial<WebhookEndpoint>;
    const before = issues.length;
    const target = parseUrl(url, `${at}.url`, issues);
    if (target && seen.has(target.href)) {
      issues.push({ path: `${at}.url`, message: 'is listed twice: give one endpoint all the events it wants' });
    }
    if (target) seen.add(target.href);
    let key: Buffer | undefined;
    try {
      key = parseWebhookSecret(secret, `${at}.secret`);
    } catch (error) {
      issues.push(...(error as ValidationError).issues);
    }
    const filter = parseEvents(events, `${at}.events`, issues);
    const omitted = parseOmit(omit, `${at}.omit`, issues);
    if (issues.length > before || !target || !key) return;
    resolved.push({
      url: target.href,
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      key,
      events: filter,
      omit: omitted,
      authorization: basicAuthorization(target),
    });
  });
  if (issues.length > 0) {
    throw new ValidationError(`Invalid ${path}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
  }
  return resolved;
}

/** The origin of a URL for a log line; never its credentials, path or query. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

function parseUrl(url: unknown, path: string, issues: ValidationIssue[]): URL | undefined {
  if (typeof url !== 'string' || url === '') {
    issues.push({ path, message: 'must be an http:// or https:// URL' });
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    issues.push({ path, message: 'is not a valid URL' });
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    issues.push({ path, message: 'must be an http:// or https:// URL' });
    return undefined;
  }
  if (parsed.hash !== '') {
    issues.push({ path, message: 'must not have a #fragment (it is never sent)' });
    return undefined;
  }
  return parsed;
}

function parseEvents(
  events: unknown,
  path: string,
  issues: ValidationIssue[],
): ReadonlySet<WebhookEventType> | undefined {
  if (events === undefined) return undefined;
  if (!Array.isArray(events) || events.length === 0) {
    issues.push({ path, message: 'must be a non-empty array of event types (leave it out for every event)' });
    return undefined;
  }
  const unknown = events.filter((type) => typeof type !== 'string' || !KNOWN_TYPES.has(type));
  if (unknown.length > 0) {
    issues.push({
      path,
      message: `has unknown event types ${unknown.map((t) => JSON.stringify(t)).join(', ')}; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
    });
    return undefined;
  }
  return new Set(events as WebhookEventType[]);
}

function parseOmit(omit: unknown, path: string, issues: ValidationIssue[]): readonly WebhookOmittable[] {
  if (omit === undefined) return [];
  if (!Array.isArray(omit) || omit.some((field) => !WEBHOOK_OMITTABLE.includes(field as WebhookOmittable))) {
    issues.push({ path, message: `must be an array of ${WEBHOOK_OMITTABLE.map((f) => `'${f}'`).join(', ')}` });
    return [];
  }
  return WEBHOOK_OMITTABLE.filter((field) => omit.includes(field));
}

function basicAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}
