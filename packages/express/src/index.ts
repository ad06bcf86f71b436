import type { IncomingMessage } from 'node:http';
import type {
  AnyRule,
  HandlerOptions,
  HandlerResponse,
  InboundError,
  NotifyHandlerOptions,
  RuleIdOf,
  TriggerResult,
  Notifier as TypedNotifier,
} from '@olchat-kit/core';
import {
  createHandler,
  createNotify,
  fromNodeRequest,
  type AnyNotifier as Notifier,
  ValidationError,
} from '@olchat-kit/core';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';

declare global {
  namespace Express {
    interface Request {
      /** The job `notify()` queued for this request (also on `res.locals.olchat`, typed there). */
      olchat?: TriggerResult;
    }
  }
}

/** What `notify()` adds to `res.locals`: the handlers after it read `res.locals.olchat.id` without a `!`. */
export interface OlchatLocals {
  olchat: TriggerResult;
}

/**
 * The handler `notify()` returns: a `RequestHandler`, and a signature Express infers a route's types
 * from (TypeScript reads the last one), so the app's handler after it sees `res.locals.olchat`. That
 * signature's `req` is a plain Node request on purpose: a `Request<…>` would make Express take the
 * params type from `notify()` instead of the route's path (`/order/:shop` → `req.params.shop`).
 */
export type NotifyHandler = RequestHandler &
  // biome-ignore lint/suspicious/noExplicitAny: Express's own default for the answer body
  ((req: IncomingMessage, res: Response<any, OlchatLocals>, next: NextFunction) => void);

/** The handler's options; the path is where the app mounts the router (`app.use('/olchat', …)`), not an option. */
export type OlchatRouterOptions = Omit<HandlerOptions, 'prefix'>;

export interface NotifyOptions extends NotifyHandlerOptions {
  /** The rule's input. Default: `req.body` (parsed here when no body parser ran). */
  from?: (req: Request) => unknown;
  /** Called instead of the JSON error answer when the request is refused; `next` is not called for you. */
  onInvalid?: (error: InboundError, req: Request, res: Response, next: NextFunction) => void;
}

/**
 * An `express.Router` serving `POST /forms/:ruleId`, `POST /messages`, `GET` and `DELETE /messages/:id`,
 * `POST /messages/:id/retry`, `GET`, `PUT` and `DELETE /suppressions/:phone`, `POST /replies` and `GET /health`
 * (and `GET /forms/:ruleId`, `GET /replies` with `queryTrigger`).
 * Mount it where it should answer: `app.use('/olchat', …)`.
 */
export function olchatRouter(notifier: Notifier, options: OlchatRouterOptions = {}): Router {
  // Express hands a mounted router paths below its mount point, so a prefix would never match:
  // every route would answer 404. Said at setup rather than found in production.
  if ((options as HandlerOptions | undefined)?.prefix !== undefined) {
    const message =
      "The Express router has no prefix option: mount it with app.use('/olchat', olchatRouter(notifier, options))";
    throw new ValidationError(message, [{ path: 'prefix', message }]);
  }
  const handler = createHandler(notifier, options);
  const router = express.Router();
  router.use((req, res, next) => {
    handler
      .handle(fromNodeRequest(req, req.path, req.body))
      .then((answer) => (answer ? write(res, answer) : next()))
      .catch(next);
  });
  return router;
}

/**
 * Middleware for the app's own route: triggers `ruleId` (one of the notifier's rule ids), puts the
 * job on `res.locals.olchat` (and `req.olchat`), calls `next()`.
 */
export function notify<R extends AnyRule, Id extends RuleIdOf<R>>(
  notifier: TypedNotifier<R>,
  ruleId: Id,
  options: NotifyOptions = {},
): NotifyHandler {
  const { from, onInvalid, ...handlerOptions } = options;
  const run = createNotify(notifier, ruleId, handlerOptions);
  const handler: RequestHandler = (req, res, next) => {
    const hooks = {
      onBody: (body: unknown) => {
        req.body = body;
      },
      ...(from ? { from: () => from(req) } : {}),
    };
    run(fromNodeRequest(req, req.path, req.body), hooks)
      .then((outcome) => {
        if (outcome.ok) {
          req.olchat = outcome.job;
          res.locals.olchat = outcome.job;
          next();
        } else if (onInvalid) onInvalid(outcome.error, req, res, next);
        else write(res, outcome.response);
      })
      .catch(next);
  };
  // Express hands it an express Request: the plain type above is only what route inference sees.
  return handler as unknown as NotifyHandler;
}

function write(res: Response, answer: HandlerResponse): void {
  res.writeHead(answer.status, answer.headers).end(answer.body);
}

export type { RuleIdOf } from '@olchat-kit/core';
export { type OlchatDashboardOptions, olchatDashboard } from './dashboard.js';
