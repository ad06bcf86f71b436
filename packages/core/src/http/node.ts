import type { IncomingMessage } from 'node:http';
import type { HandlerRequest } from './types.js';

/**
 * A Node request as the handler reads it. `parsedBody` is what the app's body parser left
 * (`req.body`, `ctx.request.body`): it counts only when that parser actually read the stream;
 * otherwise the handler reads the stream itself.
 */
export function fromNodeRequest(req: IncomingMessage, path: string, parsedBody: unknown): HandlerRequest {
  const consumed = req.readableDidRead || req.readableEnded;
  return {
    method: req.method ?? 'GET',
    path,
    headers: req.headers,
    ip: req.socket?.remoteAddress,
    body: consumed ? { parsed: parsedBody } : req,
  };
}
