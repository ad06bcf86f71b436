import { OlchatError } from '@olchat-kit/core';
import { notify } from '@olchat-kit/express';
import express from 'express';
import { bookingForm, DAYS_AHEAD, moveForm, readForm } from './booking-form.js';
import { CLINIC_TIME_ZONE, clinicDate, clinicWallTime, formatClinicTime, lastBookableDate } from './clinic-time.js';
import { createReception } from './reception.js';
import { bookingPage, errorPage, notFoundPage, visitPage } from './views.js';

const REFUSED = {
  too_many_requests: 'Слишком много записей подряд. Попробуйте, пожалуйста, позже или позвоните нам.',
  closed: 'Сайт обновляется. Попробуйте через минуту.',
};

const MESSAGE_KINDS = {
  booked: 'Подтверждение записи',
  reminder: 'Напоминание за сутки',
  moved: 'Подтверждение переноса',
  cancelled: 'Отмена записи',
};

/** A job's state in the patient's words; the memory queue forgets a finished job after a day, hence "нет данных". */
function describeJob(record, timeZone) {
  switch (record?.status) {
    case undefined:
      return 'нет данных';
    case 'scheduled':
      return `запланировано на ${formatClinicTime(record.sendAt, timeZone)} (мск)`;
    case 'queued':
    case 'sending':
      return 'отправляется';
    case 'sent':
      return 'отправлено';
    case 'cancelled':
      return 'отменено';
    case 'expired':
      return 'не отправлено: приём уже начался';
    case 'failed':
      return 'не удалось отправить';
    default:
      return 'не отправлялось';
  }
}

/**
 * The clinic's booking site. `notifier` sends the WhatsApp messages (see olchat.js for the one
 * with the clinic's rules and quiet hours); `publicUrl` is where patients reach the site, for the
 * links in those messages; `timeZone` is the clinic's, in which the form's times are read.
 */
export function createClinicApp({ notifier, publicUrl = 'http://localhost:3000', timeZone = CLINIC_TIME_ZONE }) {
  const reception = createReception({ notifier, publicUrl });
  const booking = bookingForm(timeZone);
  const move = moveForm(timeZone);
  const form = express.urlencoded({ extended: false });
  const app = express();

  const dateBounds = () => ({
    minDate: clinicDate(Date.now(), timeZone),
    maxDate: lastBookableDate(Date.now(), DAYS_AHEAD, timeZone),
  });

  async function renderVisit(res, visit, extra = {}) {
    const messages = await Promise.all(
      visit.messages.map(async ({ kind, jobId }) => ({
        label: MESSAGE_KINDS[kind],
        state: describeJob(await notifier.get(jobId), timeZone),
      })),
    );
    const open = visit.status !== 'cancelled' && visit.visitAt.getTime() > Date.now();
    res.type('html').send(
      visitPage({
        visit,
        when: formatClinicTime(visit.visitAt, timeZone),
        messages,
        open,
        values: clinicWallTime(visit.visitAt, timeZone),
        ...dateBounds(),
        ...extra,
      }),
    );
  }

  /** The visit of `:id`, or undefined once a 404 page is sent. */
  function findVisit(req, res) {
    const visit = reception.get(req.params.id);
    if (!visit) res.status(404).type('html').send(notFoundPage());
    return visit;
  }

  /** The visit of `:id` if it can still be moved or cancelled; otherwise answers 404 or 409. */
  async function openVisit(req, res) {
    const visit = findVisit(req, res);
    if (!visit) return undefined;
    const refusal =
      visit.status === 'cancelled'
        ? 'Эта запись уже отменена.'
        : visit.visitAt.getTime() <= Date.now()
          ? 'Время этого приёма уже наступило: запишитесь, пожалуйста, заново.'
          : undefined;
    if (refusal === undefined) return visit;
    res.status(409);
    await renderVisit(res, visit, { alert: refusal });
    return undefined;
  }

  app.get('/', (_req, res) => res.type('html').send(bookingPage(dateBounds())));

  app.post(
    '/visits',
    form,
    (req, res, next) => {
      const result = readForm(booking, req.body);
      if (!result.ok) {
        res
          .status(400)
          .type('html')
          .send(bookingPage({ values: req.body ?? {}, errors: result.errors, ...dateBounds() }));
        return;
      }
      req.visit = reception.newVisit(result.value);
      next();
    },
    // The confirmation goes through the kit's notify(): besides queueing it, it holds the form to
    // the per-IP and per-phone limits, so the form cannot be used to flood a stranger's WhatsApp.
    notify(notifier, 'visit-booked', {
      from: (req) => reception.messageData(req.visit),
      onInvalid: (error, req, res) => {
        const alert = REFUSED[error.code] ?? 'Не удалось записать. Попробуйте, пожалуйста, ещё раз.';
        res
          .status(error.status)
          .type('html')
          .send(bookingPage({ values: req.body ?? {}, alert, ...dateBounds() }));
      },
    }),
    async (req, res) => {
      await reception.booked(req.visit, req.olchat.id);
      res.redirect(303, `/visits/${req.visit.id}?done=booked`);
    },
  );

  app.get('/visits/:id', async (req, res) => {
    const visit = findVisit(req, res);
    if (visit) await renderVisit(res, visit, { notice: req.query.done });
  });

  app.post('/visits/:id/move', form, async (req, res) => {
    const visit = await openVisit(req, res);
    if (!visit) return;
    const result = readForm(move, req.body);
    if (!result.ok) {
      res.status(400);
      await renderVisit(res, visit, { values: req.body ?? {}, errors: result.errors });
      return;
    }
    await reception.move(visit, result.value);
    res.redirect(303, `/visits/${visit.id}?done=moved`);
  });

  app.post('/visits/:id/cancel', async (req, res) => {
    const visit = await openVisit(req, res);
    if (!visit) return;
    await reception.cancel(visit);
    res.redirect(303, `/visits/${visit.id}?done=cancelled`);
  });

  // The notifier refused (queue full, shutting down), a body the parser would not read, or a bug:
  // a page in Russian, never a stack trace.
  app.use((error, _req, res, next) => {
    if (res.headersSent) return next(error);
    const status = error instanceof OlchatError ? 503 : error?.status >= 400 && error.status < 500 ? error.status : 500;
    if (status >= 500) console.error('clinic: request failed:', error);
    res.status(status).type('html').send(errorPage());
  });

  return app;
}
