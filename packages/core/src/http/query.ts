import { decodeComponent, parseUrlencoded } from './body.js';
import { InboundError } from './errors.js';
import type { HandlerRequest } from './types.js';

/** The parameter of a GET trigger that carries its secret; it never reaches the rule. */
export const SECRET_PARAM = 'secret';

/** The request's query string without `?`: its `query` field, else whatever follows `?` in its path. */
export function queryOf(request: HandlerRequest): string {
  if (request.query !== undefined) return request.query.replace(/^\?/, '');
  const mark = request.path.indexOf('?');
  return mark === -1 ? '' : request.path.slice(mark + 1);
}

/**
 * The data of a GET trigger: the query, parsed as an urlencoded body is (same size limit, same
 * refusal of prototype keys), without its secret. The secret is checked first, so a caller without
 * it learns nothing about the rest of its request; a repeated `secret` counts as none.
 */
export function readTriggerQuery(
  query: string,
  maxBytes: number,
  authorized: (secret: string) => boolean,
): Record<string, string | string[]> {
  if (Buffer.byteLength(query) > maxBytes) {
    throw new InboundError('payload_too_large', `The query is larger than ${maxBytes} bytes`);
  }
  const secret = secretOf(query);
  // Compared even when missing, so a missing secret takes as long as a wrong one.
  if (!authorized(secret ?? '') || secret === undefined) {
    throw new InboundError('unauthorized', `A valid "${SECRET_PARAM}" query parameter is required`);
  }
  const data = parseUrlencoded(query);
  delete data[SECRET_PARAM];
  return data;
}

function secretOf(query: string): string | undefined {
  let secret: string | undefined;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || lenientDecode(pair.slice(0, eq)) !== SECRET_PARAM) continue;
    if (secret !== undefined) return undefined;
    secret = lenientDecode(pair.slice(eq + 1)) ?? '';
  }
  return secret;
}

function lenientDecode(text: string): string | undefined {
  try {
    return decodeComponent(text);
  } catch {
    return undefined;
  }
}
