import { isPhone, normalizePhone } from '@olchat-kit/core';
import { z } from 'zod';
import { CLINIC_TIME_ZONE, clinicInstant } from './clinic-time.js';
import { SERVICES } from './rules.js';

/** The clinic sees patients from 08:00 to 20:00 (the last visit starts before 20:00). */
export const OPENING_TIME = '08:00';
export const CLOSING_TIME = '20:00';
/** How far ahead the schedule is open. */
export const DAYS_AHEAD = 60;

const DAY_MS = 24 * 3600_000;

const text = (required) => z.string({ error: required }).trim().min(1, required);

const phone = text('Укажите телефон').refine(
  isPhone,
  'Введите номер в формате +7 912 345-67-89 (Россия или Казахстан)',
);

const visitTimeFields = {
  date: text('Укажите дату приёма').regex(/^\d{4}-\d{2}-\d{2}$/, 'Укажите дату приёма'),
  time: text('Укажите время приёма')
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Укажите время приёма')
    .refine((time) => time >= OPENING_TIME && time < CLOSING_TIME, 'Клиника принимает с 8:00 до 20:00'),
};

/**
 * Reads the clinic's wall-clock date and time as an instant, refusing a date that does not exist,
 * a time already past and one beyond the open schedule. `Date.now()` is read at parse time.
 */
function visitAt(timeZone) {
  return (fields, ctx) => {
    const at = clinicInstant(fields.date, fields.time, timeZone);
    if (at === undefined) {
      ctx.addIssue({ code: 'custom', path: ['date'], message: 'Такой даты нет в календаре' });
      return z.NEVER;
    }
    const now = Date.now();
    if (at <= now) {
      ctx.addIssue({ code: 'custom', path: ['time'], message: 'Это время уже прошло — выберите другое' });
      return z.NEVER;
    }
    if (at > now + DAYS_AHEAD * DAY_MS) {
      ctx.addIssue({ code: 'custom', path: ['date'], message: `Запись открыта на ${DAYS_AHEAD} дней вперёд` });
      return z.NEVER;
    }
    return new Date(at);
  };
}

/** The booking form: name, phone, doctor or service, date and time at the clinic. */
export function bookingForm(timeZone = CLINIC_TIME_ZONE) {
  const toVisitAt = visitAt(timeZone);
  return z
    .object({
      name: text('Укажите имя').max(80, 'Не длиннее 80 символов'),
      phone,
      service: z.enum(Object.keys(SERVICES), { error: 'Выберите врача или услугу' }),
      ...visitTimeFields,
    })
    .transform((form, ctx) => {
      const at = toVisitAt(form, ctx);
      if (at === z.NEVER) return z.NEVER;
      return { name: form.name, phone: normalizePhone(form.phone), service: form.service, visitAt: at };
    });
}

/** The move form on a visit's page: a new date and time. */
export function moveForm(timeZone = CLINIC_TIME_ZONE) {
  const toVisitAt = visitAt(timeZone);
  return z.object(visitTimeFields).transform((form, ctx) => toVisitAt(form, ctx));
}

/**
 * Parses a form body: `{ ok: true, value }` or `{ ok: false, errors }` with the first Russian
 * message for each field.
 */
export function readForm(schema, body) {
  const result = schema.safeParse(body ?? {});
  if (result.success) return { ok: true, value: result.data };
  const errors = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? '');
    errors[field] ??= issue.message;
  }
  return { ok: false, errors };
}
