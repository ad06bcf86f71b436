import { ValidationError, type ValidationIssue } from '../errors.js';
import type { AnyNotifier, RetryJobOptions, TriggerOptions } from '../notifier/types.js';
import { parseIsoDate } from '../util/iso-date.js';
import { json } from './answers.js';
import { InboundError } from './errors.js';
import type { HandlerResponse } from './types.js';

/** The fields of a `POST /messages` body that say how to send, not what: handed to `notifier.send` as options. */
const SEND_OPTION_FIELDS = ['sendAt', 'notAfter', 'priority', 'category', 'replaceKey', 'meta'] as const;

export type SendOptions = Omit<TriggerOptions, 'beforeEnqueue'>;

// RFC 3339: a date, a time and an explicit zone. A time without a zone would be read in the
// server's zone, which is nobody's business in an API call from 1C or a CRM.
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A `POST /messages` body split into the message and the options of `notifier.send`. The times
 * are ISO 8601 strings with a zone; everything else is checked by the notifier, with the same paths.
 */
export function splitSendBody(body: unknown, idempotencyKey: string): { message: unknown; options: SendOptions } {
  const options: SendOptions = idempotencyKey === '' ? {} : { idempotencyKey };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { message: body, options };
  const given = body as Record<string, unknown>;
  const message: Record<string, unknown> = { ...given };
  const issues: ValidationIssue[] = [];
  for (const field of SEND_OPTION_FIELDS) {
    if (!Object.hasOwn(given, field)) continue;
    delete message[field];
    const value = given[field];
    if (field === 'sendAt' || field === 'notAfter') {
      const ms = parseTime(value);
      if (ms === undefined) issues.push({ path: field, message: 'Expected an ISO 8601 date and time with a zone' });
      else options[field] = ms;
    } else {
      (options as Record<string, unknown>)[field] = value;
    }
  }
  if (issues.length > 0) {
    throw new ValidationError(`Invalid message: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return { message, options };
}

/** ms since the epoch for an RFC 3339 string such as `2025-11-28T10:00:00+03:00`; undefined for anything else. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (!ISO_WITH_ZONE.test(value)) return undefined;
  // The syntax is RFC 3339's (stricter than templates take); whether such a time exists is shared.
  return parseIsoDate(value)?.ms;
}

/** `DELETE /messages/:id`: cancels a scheduled or queued job. */
export async function cancelMessage(notifier: AnyNotifier, id: string): Promise<HandlerResponse> {
  const record = await notifier.get(id);
  if (!record) throw notFound();
  if (await notifier.cancel(id)) return json(200, { id, status: 'cancelled' });
  const now = await notifier.get(id);
  if (!now) throw notFound();
  throw new InboundError('conflict', `Only a scheduled or queued message can be cancelled; this one is ${now.status}`);
}

/** `POST /messages/:id/retry`: puts a failed or expired job back in line. */
export async function retryMessage(notifier: AnyNotifier, id: string, body: unknown): Promise<HandlerResponse> {
  const result = await notifier.retry(id, retryOptions(body));
  if (!result) throw notFound();
  return json(202, result);
}

function retryOptions(body: unknown): RetryJobOptions {
  // No body at all: an app's own parser may leave undefined where the handler reads an empty object.
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('Expected a JSON object: { "ambiguous"?: boolean }', [
      { path: '', message: 'Expected an object' },
    ]);
  }
  const { ambiguous } = body as { ambiguous?: unknown };
  if (ambiguous === undefined) return {};
  if (typeof ambiguous !== 'boolean') {
    throw new ValidationError('ambiguous must be true or false', [
      { path: 'ambiguous', message: 'Expected a boolean' },
    ]);
  }
  return { ambiguous };
}

export function notFound(): InboundError {
  return new InboundError('not_found', 'No message with this id');
}
