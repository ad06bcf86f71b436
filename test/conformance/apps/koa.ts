import type { RequestListener } from 'node:http';
import Router from '@koa/router';
import { notify, olchatRouter } from '@olchat-kit/koa';
import Koa, { type Context } from 'koa';
import { type AppSetup, failingFrom } from '../harness.js';

type WithBody = { body?: Record<string, unknown> };

/** The conformance app on Koa: the router under /olchat and notify() on the app's own routes. */
export function buildApp({ notifier, router, notifyOptions = {} }: AppSetup): RequestListener {
  const app = new Koa();
  const olchat = olchatRouter(notifier, { prefix: '/olchat', ...router });
  app.use(olchat.routes()).use(olchat.allowedMethods());
  // The same router behind the app's own body parser.
  const parsed = olchatRouter(notifier, { ...router, prefix: '/parsed' });
  app.use((ctx, next) => (ctx.path.startsWith('/parsed/') ? appBodyParser(ctx, next) : next()));
  app.use(parsed.routes());
  const routes = new Router();
  const reply = (ctx: Context) => {
    ctx.body = { reached: true, job: ctx.state.olchat, body: (ctx.request as WithBody).body };
  };
  const named = (ctx: Context) => {
    const body = (ctx.request as WithBody).body;
    return { ...body, name: `Web: ${body?.name}` };
  };
  routes.post('/order', notify(notifier, 'order', notifyOptions), reply);
  routes.post('/callback', notify(notifier, 'callback', notifyOptions), reply);
  routes.post('/reminder', notify(notifier, 'reminder', notifyOptions), reply);
  routes.post('/order-parsed', appBodyParser, notify(notifier, 'order', notifyOptions), reply);
  routes.post('/order-from', notify(notifier, 'order', { ...notifyOptions, from: named }), reply);
  routes.post(
    '/order-custom',
    notify(notifier, 'order', {
      ...notifyOptions,
      onInvalid: (error, ctx) => {
        ctx.status = 422;
        ctx.body = { custom: error.code, issues: error.issues ?? [] };
      },
    }),
    reply,
  );
  routes.post('/order-broken', notify(notifier, 'order', { ...notifyOptions, from: failingFrom }), reply);
  app.use(routes.routes());
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = { error: 'app_not_found' };
  });
  return app.callback();
}

/** The app's own body parser, as koa-bodyparser would be: it reads the stream and sets ctx.request.body. */
async function appBodyParser(ctx: Context, next: Koa.Next): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    (ctx.request as WithBody).body = ctx.is('json')
      ? JSON.parse(text || '{}')
      : Object.fromEntries(new URLSearchParams(text));
  } catch {
    ctx.throw(400, 'bad body');
  }
  await next();
}
