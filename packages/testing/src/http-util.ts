import type { ServerResponse } from 'node:http';

export type Headers = Record<string, string | number>;

/** Writes a JSON answer unless the response is already gone. */
export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  if (res.destroyed || res.writableEnded) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

export function writeHtml(res: ServerResponse, status: number, html: string): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    // The page's only script is /inbox.js from this server; nothing inline may run.
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'self'; connect-src 'self'",
    'x-content-type-options': 'nosniff',
  });
  res.end(html);
}

/** The host part of a URL a local client can connect to, for the address the server listens on. */
export function urlHost(host: string, port: number): string {
  let h = host;
  if (h === '0.0.0.0' || h === '') h = '127.0.0.1';
  else if (h === '::') h = '::1';
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`;
}

/** decodeURIComponent that yields undefined instead of throwing on malformed escapes. */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
