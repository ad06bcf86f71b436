import type { IncomingMessage } from 'node:http';
import type { Params } from './params.js';

export type BodyResult = { ok: true; params: Params } | { ok: false; status: 400 | 413 | 415; error: string };

/**
 * Reads a request body of at most `maxBytes`. A larger body is drained and discarded (never held in
 * memory) so the client can still read the 413 answer. Resolves undefined for a body over the limit.
 */
function readRaw(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
      } else if (!tooLarge) {
        chunks.push(chunk);
      }
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      resolve(tooLarge ? undefined : Buffer.concat(chunks));
    });
    req.on('error', reject);
    req.on('close', () => {
      if (!ended) reject(new Error('request closed before its body ended'));
    });
  });
}

/** Copies `[key, value]` pairs into a null-prototype record: the last value of a repeated key wins. */
export function paramsFrom(entries: Iterable<[string, string]>, into: Params = Object.create(null)): Params {
  for (const [key, value] of entries) into[key] = value;
  return into;
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Reads a POST body (JSON or urlencoded) and merges its params over `query`. */
export async function readBodyParams(req: IncomingMessage, query: Params, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const raw = await readRaw(req, maxBytes);
  if (raw === undefined || declared > maxBytes) {
    return { ok: false, status: 413, error: `Request body larger than ${maxBytes} bytes` };
  }
  if (raw.length === 0) return { ok: true, params: query };
  const type = mediaType(req);
  const text = raw.toString('utf8');
  if (type === 'application/json' || type.endsWith('+json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { ok: false, status: 400, error: 'Malformed JSON body' };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return { ok: false, status: 400, error: 'JSON body must be an object' };
    }
    const entries: [string, string][] = [];
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        entries.push([key, String(value)]);
      } else if (value !== null && value !== undefined) {
        return { ok: false, status: 400, error: `${key} must be a string` };
      }
    }
    return { ok: true, params: paramsFrom(entries, query) };
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') {
    return { ok: true, params: paramsFrom(new URLSearchParams(text), query) };
  }
  return {
    ok: false,
    status: 415,
    error: 'Content-Type must be application/json or application/x-www-form-urlencoded',
  };
}
