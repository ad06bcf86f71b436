import { headerValue } from './answers.js';
import { checkFormKey, checkJsonDepth, checkJsonKeys, checkParsed } from './body-guard.js';
import { InboundError } from './errors.js';
import type { HandlerRequest } from './types.js';

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

// Stateless between calls (no `stream` option), and it resets after an error: one serves every request.
export const UTF8 = new TextDecoder('utf-8', { fatal: true });

type BodyKind = 'json' | 'urlencoded';

/**
 * The request's body as data: `{ parsed }` as it is, JSON or urlencoded read from the stream.
 * Refuses before reading what it can (a declared length over the limit, an unsupported type) and
 * stops reading as soon as the limit is passed, leaving the rest of the stream unread. A body nested
 * deeper than `MAX_BODY_DEPTH` or holding prototype keys is malformed, whoever parsed it.
 */
export async function readBody(request: HandlerRequest, maxBytes: number): Promise<unknown> {
  const body = request.body;
  if (body !== undefined && 'parsed' in body) {
    checkParsed(body.parsed);
    return body.parsed;
  }
  const headers = request.headers;
  const declared = headerValue(headers['content-length']).trim();
  const chunked = headerValue(headers['transfer-encoding']).trim() !== '';
  const hasBody = chunked || (declared !== '' && declared !== '0');
  const kind = bodyKind(headerValue(headers['content-type']), hasBody);
  const encoding = headerValue(headers['content-encoding']).trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    throw new InboundError('unsupported_media_type', 'Compressed request bodies are not accepted');
  }
  if (/^\d+$/.test(declared) && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  const bytes = body === undefined || declared === '0' ? new Uint8Array(0) : await readAtMost(body, maxBytes);
  if (bytes.length === 0) return Object.create(null);
  if (kind === undefined) throw unsupported();
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new InboundError('malformed_body', 'The body is not valid UTF-8');
  }
  if (kind === 'urlencoded') return parseUrlencoded(text);
  checkJsonDepth(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InboundError('malformed_body', 'The body is not valid JSON');
  }
  checkJsonKeys(parsed, text);
  return parsed;
}

/** JSON or urlencoded in UTF-8; anything else is 415. No type at all is fine only for an empty body. */
function bodyKind(contentType: string, hasBody: boolean): BodyKind | undefined {
  const [mediaType = '', ...params] = contentType.toLowerCase().split(';');
  const type = mediaType.trim();
  if (type === '' && !hasBody) return undefined;
  const kind: BodyKind | undefined =
    type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
      ? 'json'
      : type === 'application/x-www-form-urlencoded'
        ? 'urlencoded'
        : undefined;
  if (kind === undefined) throw unsupported();
  for (const param of params) {
    const [name, value = ''] = param.split('=');
    if (name?.trim() !== 'charset') continue;
    const charset = value.trim().replace(/^"|"$/g, '');
    if (charset !== 'utf-8' && charset !== 'utf8') {
      throw new InboundError('unsupported_media_type', 'Only UTF-8 bodies are accepted');
    }
  }
  return kind;
}

async function readAtMost(body: AsyncIterable<Uint8Array | string>, maxBytes: number): Promise<Uint8Array> {
  // Pulled by hand: leaving a for-await early would destroy a Node request stream, and with it
  // the socket the 413 answer has to go out on.
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    total += chunk.length;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, total);
}

function unsupported(): InboundError {
  return new InboundError('unsupported_media_type', 'Send application/json or application/x-www-form-urlencoded');
}

function tooLarge(maxBytes: number): InboundError {
  return new InboundError('payload_too_large', `The body is larger than ${maxBytes} bytes`);
}

/**
 * Flat `name=value` pairs into an object without a prototype. A repeated name gives an array.
 * Bad percent-encoding, and a key naming `__proto__`, `constructor` or `prototype`, are a malformed body.
 */
export function parseUrlencoded(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    checkFormKey(key);
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1));
    const previous = out[key];
    if (previous === undefined) out[key] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else out[key] = [previous, value];
  }
  return out;
}

export function decodeComponent(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    throw new InboundError('malformed_body', 'The form data has bad percent-encoding or invalid UTF-8');
  }
}
