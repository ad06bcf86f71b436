import { randomInt } from 'node:crypto';
import { notify, olchatRouter } from '@olchat-kit/express';
import express from 'express';
import { callbackPage, contactsPage, orderPage, thanksPage } from './views.js';

const RUSSIAN = {
  too_many_requests: 'Слишком много заявок подряд. Попробуйте, пожалуйста, позже.',
  closed: 'Сайт обновляется. Попробуйте через минуту.',
};

/**
 * The flower shop's site. `notifier` sends the WhatsApp messages; `olchat` are the router
 * options (inbound limits, honeypot…).
 */
export function createSite({ notifier, olchat = {} }) {
  const app = express();
  const olchatOptions = { honeypot: 'website', redirect: '/thanks', ...olchat };

  app.get('/', (_req, res) => res.type('html').send(orderPage()));
  app.get('/callback', (_req, res) => res.type('html').send(callbackPage()));
  app.get('/contacts', (_req, res) => res.type('html').send(contactsPage()));
  app.get('/thanks', (_req, res) => res.type('html').send(thanksPage()));

  // The site's own form route: notify() validates, renders and queues the confirmation,
  // then the shop's handler runs with the job on req.olchat.
  app.post(
    '/order',
    express.urlencoded({ extended: false }),
    notify(notifier, 'order-received', {
      ...olchatOptions,
      from: (req) => ({ ...req.body, orderId: String(randomInt(10_000, 99_999)) }),
      onInvalid: (error, req, res) => {
        const errors = Object.fromEntries((error.issues ?? []).map((issue) => [issue.path, issue.message]));
        res
          .status(error.status)
          .type('html')
          .send(orderPage({ values: req.body ?? {}, errors, alert: RUSSIAN[error.code] }));
      },
    }),
    (req, res) => {
      // Here the shop would save the order; req.olchat.id tracks the WhatsApp message.
      res.redirect(303, `/thanks?job=${encodeURIComponent(req.olchat.id)}`);
    },
  );

  // POST /olchat/forms/callback, GET /olchat/health, and /olchat/messages when an apiKey is set.
  app.use('/olchat', olchatRouter(notifier, olchatOptions));
  return app;
}
