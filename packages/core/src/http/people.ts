/**
 * The people routes (apiKey): opt-outs by phone, and replies forwarded from Bitrix24 or 1C so the
 * reply ratio counts them and a STOP opts the customer out. A phone comes in any common spelling.
 */

import { ValidationError } from '../errors.js';
import type { AnyNotifier } from '../notifier/types.js';
import type { SuppressOptions } from '../people/people.js';
import { json } from './answers.js';
import { InboundError } from './errors.js';
import type { HandlerResponse } from './types.js';

/** `GET`, `PUT` and `DELETE /suppressions/:phone`. */
export async function suppressionAnswer(
  notifier: AnyNotifier,
  method: string,
  phone: string,
  readBody: () => Promise<unknown>,
): Promise<HandlerResponse> {
  if (method === 'PUT') return json(200, await notifier.suppress(phone, suppressOptions(await readBody())));
  if (method === 'DELETE') {
    // Idempotent: a phone that had no suppression is just as unsuppressed afterwards.
    await notifier.unsuppress(phone);
    return { status: 204, headers: { 'cache-control': 'no-store' } };
  }
  const suppression = await notifier.suppressed(phone);
  if (!suppression) throw new InboundError('not_found', 'No suppression for this phone');
  return json(200, suppression);
}

/**
 * `DELETE /people/:phone[?suppression=true]`: erases what is kept about the phone and answers what
 * was erased, with the time (the app's record that the data was destroyed).
 */
export async function forgetAnswer(notifier: AnyNotifier, phone: string, query: string): Promise<HandlerResponse> {
  const flag = new URLSearchParams(query).get('suppression');
  if (flag !== null && flag !== 'true' && flag !== 'false') {
    throw new ValidationError('suppression must be true or false', [
      { path: 'suppression', message: 'Expected true or false' },
    ]);
  }
  return json(200, await notifier.forget(phone, { suppression: flag === 'true' }));
}

/** `POST /replies` (a JSON or urlencoded body) and `GET /replies?secret=…` (its query): `{ phone, text? }`. */
export async function replyAnswer(notifier: AnyNotifier, data: unknown): Promise<HandlerResponse> {
  const fields = objectOf(data, '{ "phone": "+7…", "text"?: "…" }');
  const { phone, text } = fields;
  if (phone === undefined || phone === '') {
    throw new ValidationError('phone is required', [{ path: 'phone', message: 'Required' }]);
  }
  if (text !== undefined && typeof text !== 'string') {
    throw new ValidationError('text must be a string', [{ path: 'text', message: 'Expected a string' }]);
  }
  const options = text === undefined ? {} : { text };
  return json(200, await notifier.contacts.replied(phone as string, options));
}

/** A PUT body: nothing at all (the defaults), or `{ scope?, reason? }`; other fields are ignored. */
function suppressOptions(body: unknown): SuppressOptions {
  if (body === undefined || body === null || body === '') return {};
  const { scope, reason } = objectOf(body, '{ "scope"?: "marketing" | "all", "reason"?: "…" }');
  const options: SuppressOptions = {};
  if (scope !== undefined) options.scope = scope as SuppressOptions['scope'];
  if (reason !== undefined) options.reason = reason as string;
  return options;
}

function objectOf(value: unknown, shape: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`Expected an object: ${shape}`, [{ path: '', message: 'Expected an object' }]);
  }
  return value as Record<string, unknown>;
}
