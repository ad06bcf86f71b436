import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Emulator, EmulatorOptions } from '../src/index.js';
import { call, sendTextParams, start } from './helpers.js';

// Campaign-sized bursts: the vendor's 5 per 3 s would only slow these tests down.
const roomy = { sendText: { points: 10_000, durationMs: 1_000 }, checkStatus: { points: 10_000, durationMs: 1_000 } };

function guided(whatsapp: EmulatorOptions['whatsapp'], tokens?: string[]): Promise<Emulator> {
  return start({ limits: roomy, whatsapp, ...(tokens ? { tokens } : {}) });
}

function phone(i: number): string {
  return `7912${String(i).padStart(7, '0')}`;
}

async function send(emu: Emulator, text: string, to: string, token = emu.token): Promise<void> {
  const res = await call(emu, 'sendText', sendTextParams(text, to), { token });
  expect(res.status).toBe(200);
}

async function status(emu: Emulator, token = emu.token): Promise<Record<string, unknown>> {
  return (await call(emu, 'checkStatus', {}, { token })).body;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the emulator models WhatsApp’s guidance', () => {
  it('a line younger than 10 days is flagged past 20 new recipients a day; checkStatus then says spam', async () => {
    const emu = await guided({ lineAgeDays: 3 });
    for (let i = 0; i < 20; i++) await send(emu, `Здравствуйте, заказ ${i} готов`, phone(i));
    expect(emu.whatsapp).toMatchObject({ newRecipients: 20, identicalTexts: 1, shortLinks: 0, flagged: false });
    expect(await status(emu)).toEqual({ result: true, status: 'connected', connected: true });
    // Writing again to someone already written to is no new recipient.
    await send(emu, 'Ещё раз', phone(0));
    expect(emu.whatsapp.flagged).toBe(false);

    await send(emu, 'Новый клиент', phone(20));
    const state = emu.whatsapp;
    expect(state).toMatchObject({ newRecipients: 21, flagged: true, reason: 'new_recipients' });
    expect(state.flaggedAt).toBeGreaterThan(0);
    const answer = await status(emu);
    expect(answer).toMatchObject({ result: true, status: 'suspected_spam', connected: true });
    // In words of both languages, as the vendor writes them.
    expect(String(answer.message)).toMatch(/спам/);
    expect(String(answer.message)).toMatch(/spam/);
  });

  it('an older line has room for more new recipients; the threshold is configurable', async () => {
    const mature = await guided({});
    for (let i = 0; i < 30; i++) await send(mature, `Текст ${i}`, phone(i));
    expect(mature.whatsapp).toMatchObject({ newRecipients: 30, flagged: false });

    const strict = await guided({ flagAfter: { newRecipientsPerDay: 5 } });
    for (let i = 0; i < 6; i++) await send(strict, `Текст ${i}`, phone(i));
    expect(strict.whatsapp).toMatchObject({ flagged: true, reason: 'new_recipients' });
  });

  it('counts one identical text sent to many people, and flags past the threshold', async () => {
    const emu = await guided({ flagAfter: { identicalTexts: 10, newRecipientsPerDay: 1_000 } });
    for (let i = 0; i < 10; i++) await send(emu, 'Скидка 20% только сегодня', phone(i));
    // The same text to the same person again is not a wider broadcast.
    await send(emu, 'Скидка 20% только сегодня', phone(0));
    await send(emu, 'Другой текст', phone(11));
    expect(emu.whatsapp).toMatchObject({ identicalTexts: 10, flagged: false });
    await send(emu, 'Скидка 20% только сегодня', phone(12));
    expect(emu.whatsapp).toMatchObject({ identicalTexts: 11, flagged: true, reason: 'identical_texts' });
  });

  it('counts shortened links, and flags past the threshold', async () => {
    const emu = await guided({ flagAfter: { shortLinks: 1 } });
    await send(emu, 'Подробнее: https://example.ru/promo', phone(1));
    await send(emu, 'Подробнее: https://bit.ly/3xYz', phone(2));
    expect(emu.whatsapp).toMatchObject({ shortLinks: 1, flagged: false });
    await send(emu, 'Ссылка clck.ru/abc', phone(3));
    expect(emu.whatsapp).toMatchObject({ shortLinks: 2, flagged: true, reason: 'short_links' });
  });

  it('counts over a rolling day: what was sent 24 h ago no longer counts', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-28T10:00:00Z') });
    const emu = await guided({ lineAgeDays: 1 });
    for (let i = 0; i < 15; i++) await send(emu, `Текст ${i}`, phone(i));
    vi.setSystemTime(new Date('2026-11-29T09:59:00Z'));
    expect(emu.whatsapp.newRecipients).toBe(15);
    vi.setSystemTime(new Date('2026-11-29T10:00:01Z'));
    expect(emu.whatsapp).toMatchObject({ newRecipients: 0, identicalTexts: 0 });
    // A new day's 20 are within the guidance again.
    for (let i = 100; i < 120; i++) await send(emu, `Текст ${i}`, phone(i));
    expect(emu.whatsapp).toMatchObject({ newRecipients: 20, flagged: false });
  });

  it('keeps each line (token) apart', async () => {
    const emu = await guided({ flagAfter: { newRecipientsPerDay: 2 } }, ['line-a', 'line-b']);
    for (let i = 0; i < 3; i++) await send(emu, `Текст ${i}`, phone(i), 'line-a');
    await send(emu, 'Текст', phone(1), 'line-b');
    expect(emu.whatsappOf(0)).toMatchObject({ newRecipients: 3, flagged: true });
    expect(emu.whatsappOf(1)).toMatchObject({ newRecipients: 1, flagged: false });
    expect((await status(emu, 'line-a')).status).toBe('suspected_spam');
    expect((await status(emu, 'line-b')).status).toBe('connected');
  });

  it('reset() clears the counts and the flag; setFlagged flags and lifts by hand', async () => {
    const emu = await guided({ flagAfter: { newRecipientsPerDay: 0 } });
    await send(emu, 'Текст', phone(1));
    expect(emu.whatsapp.flagged).toBe(true);
    emu.reset();
    expect(emu.whatsapp).toEqual({ newRecipients: 0, identicalTexts: 0, shortLinks: 0, flagged: false });
    expect((await status(emu)).status).toBe('connected');

    emu.setFlagged(true);
    expect(emu.whatsapp).toMatchObject({ flagged: true, reason: 'manual' });
    expect((await status(emu)).status).toBe('suspected_spam');
    emu.setFlagged(false);
    expect((await status(emu)).status).toBe('connected');
  });

  it('without the whatsapp option it counts but never flags by itself (existing tests keep their answers)', async () => {
    const emu = await start({ limits: roomy });
    for (let i = 0; i < 60; i++) await send(emu, 'Одинаковый текст', phone(i));
    expect(emu.whatsapp).toMatchObject({ newRecipients: 60, identicalTexts: 60, flagged: false });
    expect((await status(emu)).status).toBe('connected');
  });

  it('refuses thresholds that are not whole numbers ≥ 0', async () => {
    await expect(start({ whatsapp: { flagAfter: { identicalTexts: -1 } } })).rejects.toThrow(/identicalTexts/);
    await expect(start({ whatsapp: { lineAgeDays: Number.NaN } })).rejects.toThrow(/lineAgeDays/);
  });
});
