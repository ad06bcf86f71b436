import type { InboundError } from './errors.js';
import type { HandlerResponse } from './types.js';

const JSON_TYPE = 'application/json; charset=utf-8';

export function json(status: number, value: unknown, headers: Record<string, string> = {}): HandlerResponse {
  return {
    status,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(value),
  };
}

export function errorAnswer(error: InboundError): HandlerResponse {
  const headers: Record<string, string> = { ...error.headers };
  if (error.retryAfterSec !== undefined) headers['retry-after'] = String(error.retryAfterSec);
  // The rest of an oversized body is not read: closing the connection is how to not wait for it.
  if (error.code === 'payload_too_large') headers.connection = 'close';
  return json(error.status, error, headers);
}

export function redirectAnswer(location: string): HandlerResponse {
  return {
    status: 303,
    headers: { location, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    body: `See Other. Redirecting to ${location}`,
  };
}

/** Whether the client is a browser form: an urlencoded body, or an `Accept` that prefers HTML to JSON. */
export function isBrowserForm(headers: Record<string, string | string[] | undefined>): boolean {
  const type = headerValue(headers['content-type']).toLowerCase();
  if (type.split(';')[0]?.trim() === 'application/x-www-form-urlencoded') return true;
  const accept = headerValue(headers.accept);
  if (accept === '') return false;
  const html = quality(accept, 'text', 'html');
  const json = quality(accept, 'application', 'json');
  return html.q > json.q || (html.q > 0 && html.q === json.q && html.order < json.order);
}

export function headerValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value.join(', ') : value) ?? '';
}

/** The q-value an `Accept` header gives a media type (the most specific range wins), and where it stands. */
function quality(accept: string, type: string, subtype: string): { q: number; order: number } {
  let best = { q: 0, order: Number.POSITIVE_INFINITY, specificity: -1 };
  const ranges = accept.split(',');
  for (let order = 0; order < ranges.length; order++) {
    const [range = '', ...params] = (ranges[order] as string).split(';');
    const [t, s] = range.trim().toLowerCase().split('/');
    const specificity = t === type && s === subtype ? 2 : t === type && s === '*' ? 1 : t === '*' && s === '*' ? 0 : -1;
    if (specificity < 0 || specificity < best.specificity) continue;
    const qParam = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number.parseFloat(qParam.slice(2));
    best = { q: Number.isFinite(q) ? q : 0, order, specificity };
  }
  return { q: best.q, order: best.order };
}
