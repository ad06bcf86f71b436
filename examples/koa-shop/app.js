import { timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import { notify, olchatRouter } from '@olchat-kit/koa';
import Koa from 'koa';
import { WEBHOOKS } from './rules.js';

/**
 * The shop backend. 1C / the CRM post order events to /webhooks/* with the shared
 * `X-Webhook-Secret`; anything else (a manager's ad-hoc message) goes to POST /olchat/messages
 * with `Authorization: Bearer <apiKey>`.
 */
export function createShop({ notifier, apiKey, webhookSecret }) {
  const app = new Koa();
  const webhooks = new Router();

  webhooks.use(async (ctx, next) => {
    if (!sameSecret(ctx.get('x-webhook-secret'), webhookSecret)) {
      ctx.status = 401;
      ctx.body = { error: 'unauthorized', message: 'Wrong or missing X-Webhook-Secret' };
      return;
    }
    await next();
  });
  for (const [path, ruleId] of Object.entries(WEBHOOKS)) {
    webhooks.post(
      path,
      // Server-to-server calls behind a secret: the public-form inbound limits would only get in the way.
      notify(notifier, ruleId, { inboundLimits: { perIp: false, perPhone: false } }),
      (ctx) => {
        ctx.status = 202;
        ctx.body = ctx.state.olchat; // { id, status }: 1C may poll GET /olchat/messages/:id
      },
    );
  }

  const olchat = olchatRouter(notifier, { prefix: '/olchat', apiKey });
  app.use(webhooks.routes()).use(webhooks.allowedMethods());
  app.use(olchat.routes()).use(olchat.allowedMethods());
  return app;
}

function sameSecret(given, expected) {
  const a = Buffer.from(String(given ?? ''));
  const b = Buffer.from(String(expected));
  return a.length === b.length && timingSafeEqual(a, b);
}
