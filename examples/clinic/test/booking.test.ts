import type { AnyNotifier } from '@olchat-kit/core';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeVendor } from '../../../packages/core/test/helpers/fake-vendor.js';
import { createClinicApp } from '../app.js';
import { createClinicNotifier } from '../olchat.js';

// Every timing here runs on a fake clock: the vendor is a client living in this process (a fake
// clock cannot hurry real sockets), the app is driven over HTTP by supertest, which needs no timers.

const SITE = 'https://clinic.example';
const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);

let vendor: FakeVendor;
let notifier: AnyNotifier;
let app: ReturnType<typeof createClinicApp>;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-11-27T10:00:00+03:00') });
  vendor = new FakeVendor();
  notifier = createClinicNotifier({ client: vendor });
  app = createClinicApp({ notifier, publicUrl: SITE });
});
afterEach(async () => {
  vendor.release();
  const closing = notifier.close({ timeoutMs: 1_000 });
  await vi.advanceTimersByTimeAsync(2_000);
  await closing;
  vi.useRealTimers();
});

const anna = { name: 'Анна', phone: '+7 912 345-67-89', service: 'therapist' };

/** Books through the form; resolves the visit's id from the redirect to its page. */
async function book(fields: Record<string, string>): Promise<string> {
  const res = await request(app)
    .post('/visits')
    .type('form')
    .send({ ...anna, ...fields })
    .expect(303);
  const match = /^\/visits\/([\w-]+)\?done=booked$/.exec(String(res.headers.location));
  expect(match, String(res.headers.location)).not.toBeNull();
  await settle();
  return match?.[1] as string;
}

function move(id: string, date: string, time: string) {
  return request(app).post(`/visits/${id}/move`).type('form').send({ date, time });
}

async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** Runs the clock to `iso` (an ISO time with its offset). */
async function advanceTo(iso: string): Promise<void> {
  await vi.advanceTimersByTimeAsync(at(iso) - Date.now());
}

const texts = () => vendor.sent.map((s) => s.text);
const link = (id: string) => `${SITE}/visits/${id}`;

async function visitPage(id: string, query = ''): Promise<string> {
  return (await request(app).get(`/visits/${id}${query}`).expect(200)).text;
}

describe('booking a visit', () => {
  it('3 days ahead: the confirmation goes now, the reminder exactly 24 h before the visit, with the date in Russian', async () => {
    const id = await book({ date: '2026-11-30', time: '10:00' });
    expect(vendor.sent).toEqual([
      {
        phone: '79123456789',
        text: `Анна, вы записаны к терапевту на 30 ноября в 10:00. Перенести или отменить запись: ${link(id)}`,
        at: at('2026-11-27T10:00:00+03:00'),
      },
    ]);
    expect(notifier.stats()).toMatchObject({ scheduled: 1, sent: 1 });
    expect(await notifier.list({ status: 'scheduled' })).toMatchObject([
      {
        ruleId: 'visit-reminder',
        priority: 'normal',
        sendAt: at('2026-11-29T10:00:00+03:00'),
        notAfter: at('2026-11-30T10:00:00+03:00'),
        replaceKey: `visit:${id}`,
      },
    ]);
    const page = await visitPage(id, '?done=booked');
    expect(page).toContain('Вы записаны!');
    expect(page).toContain('Подтверждение записи: отправлено');
    expect(page).toContain('Напоминание за сутки: запланировано на 29 ноября в 10:00 (мск)');

    await advanceTo('2026-11-29T09:59:00+03:00');
    expect(vendor.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(MIN - 1);
    expect(vendor.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(vendor.sent[1]).toEqual({
      phone: '79123456789',
      text: `Анна, напоминаем: вы записаны к терапевту на 30 ноября в 10:00. Клиника «Здоровье», ул. Лесная, 7. Перенести или отменить запись: ${link(id)}`,
      at: at('2026-11-29T10:00:00+03:00'),
    });
    expect(await visitPage(id)).toContain('Напоминание за сутки: отправлено');

    await advanceTo('2026-12-01T10:00:00+03:00');
    expect(vendor.sent).toHaveLength(2);
  });

  it('less than 24 h ahead: the confirmation only, it already says when', async () => {
    const id = await book({ date: '2026-11-28', time: '09:30' });
    expect(texts()).toEqual([
      `Анна, вы записаны к терапевту на 28 ноября в 09:30. Перенести или отменить запись: ${link(id)}`,
    ]);
    expect(notifier.stats().scheduled).toBe(0);
    await advanceTo('2026-11-29T10:00:00+03:00');
    expect(vendor.sent).toHaveLength(1);
  });

  it('a reminder due inside quiet hours (08:00) waits until they end at 09:00', async () => {
    const id = await book({ date: '2026-11-30', time: '08:00' });
    await advanceTo('2026-11-29T08:30:00+03:00');
    expect(vendor.sent).toHaveLength(1);
    expect(await visitPage(id)).toContain('Напоминание за сутки: запланировано на 29 ноября в 09:00 (мск)');
    await vi.advanceTimersByTimeAsync(at('2026-11-29T09:00:00+03:00') - Date.now() - 1);
    expect(vendor.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(vendor.sent[1]).toMatchObject({
      text: expect.stringMatching(/^Анна, напоминаем: вы записаны к терапевту на 30 ноября в 08:00\./),
      at: at('2026-11-29T09:00:00+03:00'),
    });
  });
});

describe('moving and cancelling', () => {
  it('moving the visit: the move is confirmed now, the old reminder never goes out, the new one at the new time', async () => {
    const id = await book({ date: '2026-11-30', time: '10:00' });
    await advanceTo('2026-11-28T12:00:00+03:00');
    const res = await move(id, '2026-12-02', '15:30').expect(303);
    expect(res.headers.location).toBe(`/visits/${id}?done=moved`);
    await settle();
    expect(vendor.sent[1]).toEqual({
      phone: '79123456789',
      text: `Анна, ваша запись к терапевту перенесена на 2 декабря в 15:30. Перенести или отменить запись: ${link(id)}`,
      at: at('2026-11-28T12:00:00+03:00'),
    });
    const page = await visitPage(id, '?done=moved');
    expect(page).toContain('Запись перенесена');
    expect(page).toContain('2 декабря в 15:30 (по московскому времени)');
    expect(page).toContain('Напоминание за сутки: отменено');
    expect(page).toContain('Напоминание за сутки: запланировано на 1 декабря в 15:30 (мск)');

    // The old reminder's time (29 November, 10:00) passes in silence.
    await vi.advanceTimersByTimeAsync(at('2026-12-01T15:30:00+03:00') - Date.now() - 1);
    expect(vendor.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(vendor.sent[2]).toMatchObject({
      text: expect.stringMatching(/^Анна, напоминаем: вы записаны к терапевту на 2 декабря в 15:30\./),
      at: at('2026-12-01T15:30:00+03:00'),
    });
    await advanceTo('2026-12-03T12:00:00+03:00');
    expect(vendor.sent).toHaveLength(3);
    expect(notifier.stats()).toMatchObject({ scheduled: 0, cancelled: 1, sent: 3 });
  });

  it('moving the visit to less than 24 h ahead takes the reminder back and schedules none', async () => {
    const id = await book({ date: '2026-11-30', time: '10:00' });
    await advanceTo('2026-11-29T08:00:00+03:00');
    await move(id, '2026-11-29', '18:00').expect(303);
    await advanceTo('2026-11-30T12:00:00+03:00');
    expect(texts()).toEqual([
      `Анна, вы записаны к терапевту на 30 ноября в 10:00. Перенести или отменить запись: ${link(id)}`,
      `Анна, ваша запись к терапевту перенесена на 29 ноября в 18:00. Перенести или отменить запись: ${link(id)}`,
    ]);
    expect(notifier.stats()).toMatchObject({ scheduled: 0, cancelled: 1 });
  });

  it('cancelling: a cancellation message now and no reminder ever; the visit can no longer be moved', async () => {
    const id = await book({ date: '2026-11-30', time: '10:00' });
    await advanceTo('2026-11-28T19:00:00+03:00');
    const res = await request(app).post(`/visits/${id}/cancel`).expect(303);
    expect(res.headers.location).toBe(`/visits/${id}?done=cancelled`);
    await settle();
    expect(vendor.sent[1]).toEqual({
      phone: '79123456789',
      text: `Анна, ваша запись к терапевту на 30 ноября в 10:00 отменена. Записаться снова: ${SITE}/`,
      at: at('2026-11-28T19:00:00+03:00'),
    });
    const page = await visitPage(id);
    expect(page).toContain('<h1>Ваша запись <strong>отменена</strong></h1>');
    expect(page).toContain('Напоминание за сутки: отменено');
    expect(page).not.toContain('/cancel"');

    const again = await request(app).post(`/visits/${id}/cancel`).expect(409);
    expect(again.text).toContain('Эта запись уже отменена.');
    expect((await move(id, '2026-12-05', '11:00').expect(409)).text).toContain('Эта запись уже отменена.');

    await advanceTo('2026-12-06T12:00:00+03:00');
    expect(vendor.sent).toHaveLength(2);
    expect(notifier.stats()).toMatchObject({ scheduled: 0, queued: 0, cancelled: 1, sent: 2 });
  });

  it('a reminder that could only go out after the visit (OLChat down until then) expires and is never sent late', async () => {
    const id = await book({ date: '2026-11-30', time: '10:00' });
    await advanceTo('2026-11-29T09:00:00+03:00');
    vendor.mode = 'refused';
    await advanceTo('2026-11-30T10:00:00+03:00');
    await vi.advanceTimersByTimeAsync(MIN);
    expect(vendor.sent).toHaveLength(1);
    expect(notifier.stats()).toMatchObject({ expired: 1, scheduled: 0, queued: 0 });
    expect(await visitPage(id)).toContain('Напоминание за сутки: не отправлено: приём уже начался');
    vendor.mode = 'ok';
    await advanceTo('2026-12-01T10:00:00+03:00');
    expect(vendor.sent).toHaveLength(1);
    // And the visit, begun, can no longer be moved or cancelled.
    expect((await request(app).post(`/visits/${id}/cancel`).expect(409)).text).toContain('уже наступило');
  });
});

describe('when the notifier refuses', () => {
  it('a reminder refused for a full queue still leaves the patient booked (no error page to book twice), and is logged', async () => {
    await notifier.close();
    notifier = createClinicNotifier({ client: vendor, maxQueued: 1 });
    app = createClinicApp({ notifier, publicUrl: SITE });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    vendor.mode = 'hang'; // the confirmation stays on the wire: the one place in the queue is taken
    const id = await book({ date: '2026-11-30', time: '10:00' });
    expect(logged.mock.calls.map((call) => String(call[0]))).toEqual([`clinic: no reminder for visit ${id}:`]);
    expect(logged.mock.calls[0]?.[1]).toMatchObject({ code: 'QUEUE_FULL' });
    logged.mockRestore();
    vendor.release();
    await settle();
    const page = await visitPage(id);
    expect(page).toContain('Подтверждение записи: отправлено');
    expect(page).not.toContain('Напоминание');
    expect(texts()).toHaveLength(1);
  });
});

describe('time zones', () => {
  it('a Kazakhstan number (+7 7xx) gets its times, and its quiet hours, in Almaty time', async () => {
    const online = { service: 'online', date: '2026-11-30', time: '19:30' };
    const moscow = await book({ ...online, name: 'Анна' });
    const almaty = await book({ ...online, name: 'Айгуль', phone: '+7 701 234 56 78' });
    expect(texts()).toEqual([
      `Анна, вы записаны на онлайн-консультацию терапевта на 30 ноября в 19:30. Перенести или отменить запись: ${link(moscow)}`,
      `Айгуль, вы записаны на онлайн-консультацию терапевта на 30 ноября в 21:30. Перенести или отменить запись: ${link(almaty)}`,
    ]);
    // 24 h before is 19:30 in Moscow, but 21:30 in Almaty: quiet there until 09:00 Almaty time.
    await advanceTo('2026-11-30T12:00:00+03:00');
    expect(vendor.sent.slice(2)).toEqual([
      {
        phone: '79123456789',
        text: expect.stringContaining(
          'Анна, напоминаем: вы записаны на онлайн-консультацию терапевта на 30 ноября в 19:30.',
        ),
        at: at('2026-11-29T19:30:00+03:00'),
      },
      {
        phone: '77012345678',
        text: expect.stringContaining(
          'Айгуль, напоминаем: вы записаны на онлайн-консультацию терапевта на 30 ноября в 21:30.',
        ),
        at: at('2026-11-30T09:00:00+05:00'),
      },
    ]);
  });
});

describe('bad input', () => {
  it('a visit in the past, a bad phone, no service: Russian errors on the form, what was typed kept, nothing queued', async () => {
    const res = await request(app)
      .post('/visits')
      .type('form')
      .send({ name: '<b>Иван</b>', phone: '12345', service: '', date: '2026-11-26', time: '10:00' })
      .expect(400);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('Введите номер в формате +7 912 345-67-89 (Россия или Казахстан)');
    expect(res.text).toContain('Выберите врача или услугу');
    expect(res.text).toContain('value="&lt;b&gt;Иван&lt;/b&gt;"');
    expect(res.text).not.toContain('<b>Иван</b>');
    expect(res.text).toContain('value="12345"');

    const past = await request(app)
      .post('/visits')
      .type('form')
      .send({ ...anna, date: '2026-11-27', time: '09:30' })
      .expect(400);
    expect(past.text).toContain('Это время уже прошло — выберите другое');
    const closed = await request(app)
      .post('/visits')
      .type('form')
      .send({ ...anna, date: '2026-11-30', time: '21:00' })
      .expect(400);
    expect(closed.text).toContain('Клиника принимает с 8:00 до 20:00');
    const noSuchDay = await request(app)
      .post('/visits')
      .type('form')
      .send({ ...anna, date: '2027-02-30', time: '10:00' })
      .expect(400);
    expect(noSuchDay.text).toContain('Такой даты нет в календаре');
    const empty = await request(app).post('/visits').type('form').send({}).expect(400);
    expect(empty.text).toContain('Укажите имя');
    expect(empty.text).toContain('Укажите дату приёма');

    await advanceTo('2026-12-05T10:00:00+03:00');
    expect(vendor.sent).toHaveLength(0);
    expect(await notifier.list()).toHaveLength(0);
  });

  it('a bad new time leaves the visit and its reminder as they were', async () => {
    const id = await book({ date: '2026-11-30', time: '10:00' });
    const res = await move(id, '2026-11-20', '10:00').expect(400);
    expect(res.text).toContain('Это время уже прошло — выберите другое');
    expect(res.text).toContain('30 ноября в 10:00 (по московскому времени)');
    await advanceTo('2026-11-29T10:00:00+03:00');
    expect(vendor.sent).toHaveLength(2);
    expect(vendor.sent[1]?.text).toContain('напоминаем: вы записаны к терапевту на 30 ноября в 10:00');
  });

  it('an unknown visit is a 404 page; a stranger’s phone cannot be flooded: the sixth booking in an hour is refused', async () => {
    expect((await request(app).get('/visits/nope').expect(404)).text).toContain('Запись не найдена');
    await request(app).post('/visits/nope/cancel').expect(404);
    for (let i = 0; i < 5; i++) await book({ date: '2026-12-01', time: '10:00' });
    const refused = await request(app)
      .post('/visits')
      .type('form')
      .send({ ...anna, date: '2026-12-01', time: '10:00' })
      .expect(429);
    expect(refused.text).toContain('Слишком много записей подряд');
    await settle();
    expect(vendor.sent).toHaveLength(5);
    expect(notifier.stats().scheduled).toBe(5);
  });
});
