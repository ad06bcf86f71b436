import { fromNodeRequest, type HandlerResponse, type AnyNotifier as Notifier } from '@olchat-kit/core';
import { createDashboard, type DashboardOptions } from '@olchat-kit/core/dashboard';
import express, { type Response, type Router } from 'express';

export type OlchatDashboardOptions = DashboardOptions;

/**
 * The admin dashboard as an `express.Router`. It has no auth of its own: mount it behind the app's
 * admin auth, `app.use('/admin/olchat', basicAuth, olchatDashboard(notifier))`.
 */
export function olchatDashboard(notifier: Notifier, options: OlchatDashboardOptions = {}): Router {
  const dashboard = createDashboard(notifier, options);
  const router = express.Router();
  router.use((req, res, next) => {
    // `req.baseUrl` is where the app mounted the router: the pages link below it.
    const request = { ...fromNodeRequest(req, req.path, req.body), basePath: req.baseUrl };
    dashboard
      .handle(request)
      .then((answer) => (answer ? write(res, answer) : next()))
      .catch(next);
  });
  return router;
}

function write(res: Response, answer: HandlerResponse): void {
  res.writeHead(answer.status, answer.headers).end(answer.body);
}
