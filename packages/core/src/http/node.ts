import type { IncomingMessage } from 'node:http';
import type { HandlerRequest } from './types.js';

/**
 * A Node request as the handler reads it. `parsedBody` is what the app's body parser left
 * (`req.body`, `ctx.request.body`): it counts only when that parser actually read the stream;
 * otherwise the handler reads the stream itself. The query comes from `req.url`, whose query part
 * mounting and routing leave as the client sent it.
 */
export function fromNodeRequest(req: IncomingMessage, path: string, parsedBody: unknown): HandlerRequest {
  const consumed = req.readableDidRead || req.readableEnded;
  const url = req.url ?? '';
  const mark = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path,
    query: mark === -1 ? '' : url.slice(mark + 1),
    headers: req.headers,
    ip: req.socket?.remoteAddress,
    body: consumed ? { parsed: parsedBody } : req,
  };
}
