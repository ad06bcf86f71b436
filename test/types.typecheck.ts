/**
 * Type-level tests of the adapters: `tsc -p test/tsconfig.json` (the `typecheck` step of `pnpm test`)
 * fails if their inference regresses. An unused `@ts-expect-error` is itself an error, so each one
 * proves a call is refused. Nothing here runs (the conformance suite runs the same calls).
 */
import Router from '@koa/router';
import {
  type AnyRule,
  createNotifier,
  defineRule,
  type InboundErrorCode,
  type Notifier,
  type OlchatClient,
  type TriggerResult,
} from '@olchat-kit/core';
import { notify as expressNotify, olchatRouter as expressRouter } from '@olchat-kit/express';
import { notify as koaNotify, olchatRouter as koaRouter } from '@olchat-kit/koa';
import express, { type RequestHandler } from 'express';
import Koa from 'koa';
import { expectTypeOf } from 'vitest';
import { z } from 'zod';

declare const client: OlchatClient;

const order = defineRule({
  id: 'order-received',
  input: z.object({ name: z.string(), phone: z.string(), orderId: z.string() }),
  to: 'phone',
  text: 'Заказ {{orderId}}',
});
const callback = defineRule({ id: 'callback', to: 'phone', text: 'Перезвоним' });
const notifier = createNotifier({ client, rules: [order, callback] });

export function expressRoutes(): void {
  const app = express();

  // The app's handler after notify() has the job on res.locals, typed: no `!`, no cast.
  app.post('/order', expressNotify(notifier, 'order-received'), (req, res) => {
    expectTypeOf(res.locals.olchat).toEqualTypeOf<TriggerResult>();
    expectTypeOf(res.locals.olchat.id).toEqualTypeOf<string>();
    // Express's own types stay as they are: the body is the app's, the params come from the path.
    expectTypeOf(req.body).toBeAny();
    expectTypeOf<keyof typeof req.params>().toBeNever();
    // req.olchat stays for apps written before res.locals; it is optional (any route may read it).
    expectTypeOf(req.olchat).toEqualTypeOf<TriggerResult | undefined>();
    res.redirect(303, `/thanks?job=${res.locals.olchat.id}`);
  });
  app.post('/shops/:shop/order', expressNotify(notifier, 'callback'), (req, res) => {
    expectTypeOf(req.params).toEqualTypeOf<{ shop: string }>();
    res.json(res.locals.olchat);
  });
  // Behind an app's own body parser, on a router, on a route object, with the options' callbacks.
  app.post(
    '/parsed',
    express.urlencoded({ extended: false }),
    expressNotify(notifier, 'order-received', {
      from: (req) => ({ ...req.body, orderId: '1' }),
      onInvalid: (error, _req, res) => {
        expectTypeOf(error.code).toEqualTypeOf<InboundErrorCode>();
        res.status(422).send(error.message);
      },
    }),
    (_req, res) => {
      expectTypeOf(res.locals.olchat).toEqualTypeOf<TriggerResult>();
      res.end();
    },
  );
  const router = express.Router();
  router.post('/callback', expressNotify(notifier, 'callback'), (_req, res) => {
    expectTypeOf(res.locals.olchat.status).toEqualTypeOf<TriggerResult['status']>();
    res.end();
  });
  app.use(expressNotify(notifier, 'callback'));
  // Still a RequestHandler, as before it was typed: code that stored one as such compiles as it did.
  const stored: RequestHandler = expressNotify(notifier, 'callback');
  const handlers: RequestHandler[] = [expressNotify(notifier, 'order-received'), stored];
  router.post('/stored', ...handlers);

  // Without notify() in front, nothing says a job is there.
  app.post('/plain', (_req, res) => {
    expectTypeOf(res.locals.olchat).toBeAny();
    res.end();
  });
  app.post('/legacy', expressNotify(notifier, 'callback'), (req, res) => {
    // @ts-expect-error req.olchat is optional: res.locals.olchat is the typed one
    res.send(req.olchat.id);
  });

  // @ts-expect-error an id the notifier has no rule for
  expressNotify(notifier, 'order-recieved');
  // @ts-expect-error rule ids are strings
  expressNotify(notifier, 42);
  // @ts-expect-error a NotifyOptions field of the wrong type
  expressNotify(notifier, 'callback', { maxBodyBytes: '64kb' });
  // The customer's language, the same option on the router and on notify(), in both adapters.
  expressNotify(notifier, 'callback', { locale: 'en' });
  expressRouter(notifier, { locale: 'ru' });
  // @ts-expect-error only 'ru' and 'en'
  expressRouter(notifier, { locale: 'de' });
}

export function koaRoutes(): void {
  const router = new Router();
  router.post('/order', koaNotify(notifier, 'order-received'), (ctx) => {
    expectTypeOf(ctx.state.olchat).toEqualTypeOf<TriggerResult>();
    expectTypeOf(ctx.state.olchat.id).toEqualTypeOf<string>();
    ctx.status = 202;
    ctx.body = ctx.state.olchat;
  });
  router.post('/shops/:shop/callback', koaNotify(notifier, 'callback', { inboundLimits: false }), (ctx) => {
    expectTypeOf(ctx.params).toEqualTypeOf<Record<string, string>>();
    expectTypeOf(ctx.state.olchat).toEqualTypeOf<TriggerResult>();
  });
  // A router with a state of the app's own keeps it, with the job beside it.
  const typed = new Router<{ user: string }>();
  typed.post('/order', koaNotify(notifier, 'callback'), (ctx) => {
    expectTypeOf(ctx.state.user).toEqualTypeOf<string>();
    expectTypeOf(ctx.state.olchat).toEqualTypeOf<TriggerResult>();
  });
  const app = new Koa();
  app.use(koaNotify(notifier, 'callback', { onInvalid: (error, ctx) => ctx.throw(error.status) }));
  app.use(router.routes());

  // @ts-expect-error an id the notifier has no rule for
  koaNotify(notifier, 'order-recieved');
  // @ts-expect-error rule ids are strings
  koaNotify(notifier, 42);
  koaNotify(notifier, 'callback', { locale: 'en' });
  koaRouter(notifier, { locale: 'ru' });
  // @ts-expect-error only 'ru' and 'en'
  koaNotify(notifier, 'callback', { locale: 'kk' });
}

export function untypedNotifiers(rules: AnyRule[], anyNotifier: Notifier): void {
  // Rules from a registry or a config file: any id, checked when the middleware is made.
  const fromConfig = createNotifier({ client, rules });
  expressNotify(fromConfig, 'whatever');
  koaNotify(fromConfig, 'whatever');
  // A function that takes any notifier passes it on as it is.
  expressNotify(anyNotifier, 'whatever');
  koaNotify(anyNotifier, String(Math.random()));
  // @ts-expect-error still a string
  koaNotify(anyNotifier, 1);
}
