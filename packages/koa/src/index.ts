import Router from '@koa/router';
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
import { createHandler, createNotify, fromNodeRequest, type AnyNotifier as Notifier } from '@olchat-kit/core';
import type { Context, Middleware, Next } from 'koa';

export interface OlchatRouterOptions extends HandlerOptions {
  /** The router's path prefix, e.g. '/olchat'. */
  prefix?: string;
}

export interface NotifyOptions extends NotifyHandlerOptions {
  /** The rule's input. Default: `ctx.request.body` (parsed here when no body parser ran). */
  from?: (ctx: Context) => unknown;
  /** Called instead of the JSON error answer when the request is refused; `next` is not called for you. */
  onInvalid?: (error: InboundError, ctx: Context, next: Next) => unknown;
}

type WithBody = { body?: unknown };

/** What `notify()` adds to `ctx.state`: the middleware after it reads `ctx.state.olchat.id` without a `!`. */
export interface OlchatState {
  olchat: TriggerResult;
}

/**
 * An @koa/router router serving `POST /forms/:ruleId`, `POST /messages`, `GET` and `DELETE /messages/:id`,
 * `POST /messages/:id/retry`, `GET`, `PUT` and `DELETE /suppressions/:phone`, `POST /replies` and `GET /health`
 * (and `GET /forms/:ruleId`, `GET /replies` with `queryTrigger`).
 */
export function olchatRouter(notifier: Notifier, options: OlchatRouterOptions = {}): Router {
  const handler = createHandler(notifier, options);
  const router = new Router(options.prefix ? { prefix: options.prefix } : {});
  const route: Middleware = async (ctx, next) => {
    const answer = await handler.handle(toRequest(ctx));
    return answer ? write(ctx, answer) : next();
  };
  for (const path of handler.routes) router.all(path, route);
  return router;
}

/**
 * Middleware for the app's own route: triggers `ruleId` (one of the notifier's rule ids), puts the
 * job on `ctx.state.olchat`, calls `next()`. Its state type carries the job to the route's next middleware.
 */
export function notify<R extends AnyRule, Id extends RuleIdOf<R>>(
  notifier: TypedNotifier<R>,
  ruleId: Id,
  options: NotifyOptions = {},
): Middleware<OlchatState> {
  const { from, onInvalid, ...handlerOptions } = options;
  const run = createNotify(notifier, ruleId, handlerOptions);
  return async (ctx, next) => {
    const outcome = await run(toRequest(ctx), {
      onBody: (body) => {
        (ctx.request as WithBody).body = body;
      },
      ...(from ? { from: () => from(ctx) } : {}),
    });
    if (!outcome.ok) return onInvalid ? onInvalid(outcome.error, ctx, next) : write(ctx, outcome.response);
    ctx.state.olchat = outcome.job;
    return next();
  };
}

function toRequest(ctx: Context) {
  return fromNodeRequest(ctx.req, ctx.path, (ctx.request as WithBody).body);
}

function write(ctx: Context, answer: HandlerResponse): void {
  ctx.status = answer.status;
  ctx.set(answer.headers);
  if (answer.body !== undefined) ctx.body = answer.body;
}

export type { RuleIdOf } from '@olchat-kit/core';
export { type OlchatDashboardOptions, olchatDashboard } from './dashboard.js';
