import type { RequestListener } from 'node:http';
import { notify, olchatRouter } from '@olchat-kit/express';
import express, { type Request } from 'express';
import { type AppSetup, failingFrom } from '../harness.js';

/** The conformance app on Express: the router at /olchat and notify() on the app's own routes. */
export function buildApp({ notifier, router, notifyOptions = {} }: AppSetup): RequestListener {
  const app = express();
  const mounted = olchatRouter(notifier, router);
  // The adapter must run on the Express this project aliased, not on whichever one it was built with.
  if (routerPrototype(mounted) !== routerPrototype(express.Router())) {
    throw new Error('the adapter and the app use different copies of express');
  }
  app.use('/olchat', mounted);
  // The same router behind the app's own body parsers.
  app.use('/parsed', express.json(), express.urlencoded({ extended: false }), olchatRouter(notifier, router));
  // The job is read where notify() types it (res.locals); req.olchat, kept for older apps, must be the same job.
  const reply = (req: Request, res: express.Response) => {
    const job = res.locals.olchat;
    res.json({ reached: true, job, body: req.body, ...(req.olchat === job ? {} : { requestJob: req.olchat }) });
  };
  const named = (req: Request) => ({ ...req.body, name: `Web: ${req.body?.name}` });
  app.post('/order', notify(notifier, 'order', notifyOptions), reply);
  app.post('/callback', notify(notifier, 'callback', notifyOptions), reply);
  app.post('/reminder', notify(notifier, 'reminder', notifyOptions), reply);
  app.post(
    '/order-parsed',
    express.json(),
    express.urlencoded({ extended: true }),
    notify(notifier, 'order', notifyOptions),
    reply,
  );
  app.post('/order-from', notify(notifier, 'order', { ...notifyOptions, from: named }), reply);
  app.post(
    '/order-custom',
    notify(notifier, 'order', {
      ...notifyOptions,
      onInvalid: (error, _req, res) => {
        res.status(422).json({ custom: error.code, issues: error.issues ?? [] });
      },
    }),
    reply,
  );
  app.post('/order-broken', notify(notifier, 'order', { ...notifyOptions, from: failingFrom }), reply);
  app.use((_req, res) => {
    res.status(404).json({ error: 'app_not_found' });
  });
  return app;
}

/** The object that defines a router's `handle`: one per copy of Express (4 and 5 build routers differently). */
function routerPrototype(router: object): object | null {
  let proto = Object.getPrototypeOf(router);
  while (proto && !Object.hasOwn(proto, 'handle')) proto = Object.getPrototypeOf(proto);
  return proto;
}
