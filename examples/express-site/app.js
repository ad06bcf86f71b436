import { randomInt } from 'node:crypto';
import { notify, olchatRouter } from '@olchat-kit/express';
import express from 'express';
import { callbackPage, contactsPage, orderPage, thanksPage } from './views.js';

// What a refused form says above the fields; field errors come from the rules' own messages.
const RUSSIAN = {
  too_many_requests: 'Слишком много заявок подряд. Попробуйте, пожалуйста, позже.',
  closed: 'Сайт обновляется. Попробуйте через минуту.',
  payload_too_large: 'Заявка слишком длинная. Сократите комментарий и отправьте ещё раз.',
  malformed_body: 'Не удалось прочитать заявку. Обновите страницу и отправьте форму ещё раз.',
  unsupported_media_type: 'Не удалось прочитать заявку. Обновите страницу и отправьте форму ещё раз.',
};
const FALLBACK = 'Не удалось принять заявку. Попробуйте ещё раз или позвоните нам.';

/**
 * `notify()`'s onInvalid for a page form: the same page again, with what was typed, a Russian
 * message under each wrong field, and an alert for anything that is not about one field.
 */
function renderInvalid(page) {
  return (error, req, res) => {
    // The first message per field: an empty phone says "Укажите телефон", not the format hint too.
    const errors = {};
    for (const issue of error.issues ?? []) errors[issue.path] ??= issue.message;
    const alert = error.code === 'invalid_input' ? undefined : (RUSSIAN[error.code] ?? FALLBACK);
    res
      .status(error.status)
      .type('html')
      .send(page({ values: req.body ?? {}, errors, alert }));
  };
}

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

  // The site's own form routes: notify() reads the form (no body parser before it, so an oversized
  // form still gets this page and not Express's error page), validates it and queues the
  // confirmation, then the shop's handler runs with the job on req.olchat.
  app.post(
    '/order',
    notify(notifier, 'order-received', {
      ...olchatOptions,
      from: (req) => ({ ...req.body, orderId: String(randomInt(10_000, 99_999)) }),
      onInvalid: renderInvalid(orderPage),
    }),
    (req, res) => {
      // Here the shop would save the order; req.olchat.id tracks the WhatsApp message.
      res.redirect(303, `/thanks?job=${encodeURIComponent(req.olchat.id)}`);
    },
  );
  app.post(
    '/callback',
    notify(notifier, 'callback', { ...olchatOptions, onInvalid: renderInvalid(callbackPage) }),
    (req, res) => res.redirect(303, `/thanks?job=${encodeURIComponent(req.olchat.id)}`),
  );

  // POST /olchat/forms/<rule>, GET /olchat/health, and /olchat/messages when an apiKey is set.
  app.use('/olchat', olchatRouter(notifier, olchatOptions));
  return app;
}
