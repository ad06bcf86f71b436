import Router from '@koa/router';
import { fromNodeRequest, type HandlerResponse, type AnyNotifier as Notifier, ValidationError } from '@olchat-kit/core';
import { createDashboard, type DashboardOptions } from '@olchat-kit/core/dashboard';
import type { Context, Middleware } from 'koa';

export interface OlchatDashboardOptions extends DashboardOptions {
  /** The router's path prefix, e.g. '/admin/olchat'. */
  prefix?: string;
}

type WithBody = { body?: unknown };

/**
 * The admin dashboard as an @koa/router router. It has no auth of its own: put the app's admin auth
 * in front of its prefix. The router matches the prefix case-sensitively, so an auth check that
 * compares the path as written covers every page.
 */
export function olchatDashboard(notifier: Notifier, options: OlchatDashboardOptions = {}): Router {
  const { prefix = '', ...dashboardOptions } = options;
  if (typeof prefix !== 'string' || (prefix !== '' && !prefix.startsWith('/'))) {
    const message = "The dashboard's prefix is a path such as '/admin/olchat'";
    throw new ValidationError(message, [{ path: 'prefix', message }]);
  }
  const base = prefix.replace(/\/+$/, '');
  const dashboard = createDashboard(notifier, dashboardOptions);
  const router = new Router({ ...(base ? { prefix: base } : {}), sensitive: true });
  const route: Middleware = async (ctx, next) => {
    const request = { ...toRequest(ctx), path: ctx.path.slice(base.length), basePath: base };
    const answer = await dashboard.handle(request);
    return answer ? write(ctx, answer) : next();
  };
  for (const path of dashboard.routes) router.all(path, route);
  return router;
}

function toRequest(ctx: Context) {
  return fromNodeRequest(ctx.req, ctx.path, (ctx.request as WithBody).body);
}

function write(ctx: Context, answer: HandlerResponse): void {
  ctx.status = answer.status;
  ctx.set(answer.headers);
  if (answer.body !== undefined) ctx.body = answer.body;
}
