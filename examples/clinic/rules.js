import { defineRule } from '@olchat-kit/core';
import { z } from 'zod';

/** What the patient can book: the title for the form, and how a message says "booked to …". */
export const SERVICES = {
  therapist: { title: 'Терапевт', to: 'к терапевту' },
  cardiologist: { title: 'Кардиолог', to: 'к кардиологу' },
  neurologist: { title: 'Невролог', to: 'к неврологу' },
  dentist: { title: 'Стоматолог', to: 'к стоматологу' },
  ultrasound: { title: 'УЗИ брюшной полости', to: 'на УЗИ брюшной полости' },
  online: { title: 'Онлайн-консультация терапевта', to: 'на онлайн-консультацию терапевта' },
};

/** The reminder goes out this long before the visit. */
export const REMIND_BEFORE_MS = 24 * 3600_000;

/** One pending reminder per visit: a later trigger with the key replaces it, cancel() takes it back. */
export const reminderKey = (visitId) => `visit:${visitId}`;

/** What every message about a visit is rendered from (see `messageData` in reception.js). */
const visitMessage = z.object({
  visitId: z.string().min(1),
  name: z.string().min(1),
  phone: z.string().min(1),
  serviceTo: z.string().min(1),
  visitAt: z.coerce.date(),
  manageUrl: z.url(),
  bookUrl: z.url(),
});

// `{{visitAt|datetime}}` reads «30 ноября в 10:00» in the patient's time zone: Almaty time for a
// +7 7xx (Kazakhstan) number, Moscow time otherwise. Every message about a visit is useless once
// the visit has begun, so each carries `notAfter: visitAt`: late, it ends `expired`, never sent.

/** Sent the moment the patient books: `high`, so it never waits behind reminders. */
export const visitBooked = defineRule({
  id: 'visit-booked',
  input: visitMessage,
  to: 'phone',
  text: '{{name}}, вы записаны {{serviceTo}} на {{visitAt|datetime}}. Перенести или отменить запись: {{manageUrl}}',
  priority: 'high',
  notAfter: (visit) => visit.visitAt,
});

/**
 * 24 h before the visit. `normal` priority keeps the notifier's quiet hours (21:00–09:00 in the
 * patient's zone): a reminder due at 08:00 waits until 09:00. The replace key makes a move a
 * simple second trigger: the pending reminder is cancelled and the new one scheduled.
 */
export const visitReminder = defineRule({
  id: 'visit-reminder',
  input: visitMessage,
  to: 'phone',
  text: '{{name}}, напоминаем: вы записаны {{serviceTo}} на {{visitAt|datetime}}. Клиника «Здоровье», ул. Лесная, 7. Перенести или отменить запись: {{manageUrl}}',
  sendAt: (visit) => visit.visitAt.getTime() - REMIND_BEFORE_MS,
  notAfter: (visit) => visit.visitAt,
  replaceKey: (visit) => reminderKey(visit.visitId),
  priority: 'normal',
  // A reminder of the patient's own visit, not an advertisement: the guard's marketing limits (the
  // per-recipient cap, a STOP to marketing) do not apply to it.
  category: 'transactional',
  quietHours: true,
});

/** The patient moved the visit on its page: confirmed now, with the new time. */
export const visitMoved = defineRule({
  id: 'visit-moved',
  input: visitMessage,
  to: 'phone',
  text: '{{name}}, ваша запись {{serviceTo}} перенесена на {{visitAt|datetime}}. Перенести или отменить запись: {{manageUrl}}',
  priority: 'high',
  notAfter: (visit) => visit.visitAt,
});

/** The patient cancelled: said now, with a way back. */
export const visitCancelled = defineRule({
  id: 'visit-cancelled',
  input: visitMessage,
  to: 'phone',
  text: '{{name}}, ваша запись {{serviceTo}} на {{visitAt|datetime}} отменена. Записаться снова: {{bookUrl}}',
  priority: 'high',
  notAfter: (visit) => visit.visitAt,
});

export const rules = [visitBooked, visitReminder, visitMoved, visitCancelled];
