import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flagWords } from '../src/client/flag-words.js';
import {
  type AnyNotifier,
  createHandler,
  createNotifier,
  defineRule,
  type LineEvent,
  type NotifierOptions,
} from '../src/index.js';
import type { NotifierInternalOptions } from '../src/queue/index.js';
import { type FakeVendor, startFakeClock, stopFakeClock } from './helpers/fake-vendor.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const SPAM = { status: 'connected', warning: 'Номер подозревается в рассылке спама' };

const confirmation = defineRule({ id: 'order-confirmed', to: 'phone', text: 'Заказ {{n}} принят', priority: 'high' });
const reminder = defineRule({ id: 'reminder', to: 'phone', text: 'Напоминание {{n}}' });
const promo = defineRule({ id: 'promo', to: 'phone', text: 'Скидка {{n}}', priority: 'low' });

let vendor: FakeVendor;
let notifier: AnyNotifier;
let events: LineEvent[];
const warnings: string[] = [];

function make(options: Partial<NotifierOptions> & NotifierInternalOptions = {}): AnyNotifier {
  notifier = createNotifier({
    client: vendor,
    rules: [confirmation, reminder, promo],
    line: { checkIntervalMs: false, probeMinMs: 1_000, probeMaxMs: 5_000 },
    logger: { debug() {}, info() {}, warn: (_obj, msg) => warnings.push(String(msg)), error() {} },
    ...options,
  } as NotifierOptions);
  events = [];
  notifier.on('line', (event) => events.push(event));
  return notifier;
}

function texts(): string[] {
  return vendor.sent.map((m) => m.text);
}

async function sendEach(): Promise<void> {
  await notifier.trigger('order-confirmed', { phone: '79120000001', n: 1 });
  await notifier.trigger('reminder', { phone: '79120000002', n: 2 });
  await notifier.trigger('promo', { phone: '79120000003', n: 3 });
  await vi.advanceTimersByTimeAsync(0);
}

beforeEach(() => {
  vendor = startFakeClock();
  warnings.length = 0;
});
afterEach(() => stopFakeClock(vendor, notifier));

describe('the words of a flag', () => {
  it.each([
    [{ status: 'banned' }],
    [{ result: { state: 'SUSPICIOUS_ACTIVITY' } }],
    [{ error: 'Номер заблокирован' }],
    [{ message: 'Подозрение на спам' }],
    [{ data: { flags: ['ok', 'spam'] } }],
    [{ is_blocked: true }],
    [{ status: 'suspected_spam', connected: true }],
    ['Number blocked for spam'],
    [{ status: 'блокировка номера' }],
  ])('%j says the number is flagged', (raw) => {
    expect(flagWords(raw)).toBeDefined();
  });

  it.each([
    [{ status: 'connected', connected: true }],
    [{ blocked: false, banned: 0 }],
    [{ status: 'unblocked' }],
    [{ bank: 'urban' }],
    [{ antispam: 'passed' }],
    [{}],
    [null],
  ])('%j does not', (raw) => {
    expect(flagWords(raw)).toBeUndefined();
  });

  it('says where it read them, without a whole phone number', () => {
    expect(flagWords({ error: 'Номер 79123456789 заблокирован за спам' })).toBe('Номер 7912*** заблокирован за спам');
  });

  it('reads a deep or huge answer within bounds', () => {
    let deep: unknown = { status: 'spam' };
    for (let i = 0; i < 50; i++) deep = { inner: deep };
    expect(flagWords(deep)).toBeUndefined();
    expect(flagWords(Array.from({ length: 10_000 }, () => 'ok'))).toBeUndefined();
  });
});

describe('a flagged line', () => {
  it('is probed every checkEveryMs (5 min by default), within its own limit, and not more often', async () => {
    make();
    await vi.advanceTimersByTimeAsync(5 * MIN - 1);
    expect(vendor.statusChecks).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(vendor.statusChecks).toBe(1);
    await vi.advanceTimersByTimeAsync(25 * MIN);
    expect(vendor.statusChecks).toBe(6);
    expect(notifier.line).toBe('up');
  });

  it('holds normal and low for 72 h when checkStatus speaks of spam; high still goes; then they go', async () => {
    make({ maxAgeMs: 7 * 24 * HOUR }); // by default a job waits 24 h at most, then expires

    vendor.statusRaw = SPAM;
    await vi.advanceTimersByTimeAsync(5 * MIN);
    expect(notifier.line).toBe('flagged');
    const until = Date.now() + 72 * HOUR;
    expect(events).toEqual([{ state: 'flagged', until }]);
    expect(notifier.lineInfo()).toMatchObject({ state: 'flagged', since: Date.now(), until });
    expect(notifier.lanes()).toEqual({
      high: { open: true, paused: false },
      normal: { open: false, paused: false, flaggedUntil: until },
      low: { open: false, paused: false, flaggedUntil: until },
    });
    expect(warnings.some((w) => /suspects the WhatsApp number of spam/.test(w))).toBe(true);

    await sendEach();
    expect(texts()).toEqual(['Заказ 1 принят']);
    // The vendor still says spam at every probe: the pause is not stretched by them.
    await vi.advanceTimersByTimeAsync(72 * HOUR - 1);
    expect(texts()).toEqual(['Заказ 1 принят']);
    vendor.statusRaw = {};
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(notifier.line).toBe('up');
    expect(texts()).toEqual(['Заказ 1 принят', 'Напоминание 2', 'Скидка 3']);
    expect(events.at(-1)).toEqual({ state: 'up' });
  });

  it('jobs that wait past their deadline while the line is flagged expire as they always do', async () => {
    make();
    vendor.statusRaw = SPAM;
    await vi.advanceTimersByTimeAsync(5 * MIN);
    const job = await notifier.trigger('promo', { phone: '79120000003', n: 3 });
    await vi.advanceTimersByTimeAsync(24 * HOUR + MIN);
    expect(await notifier.get(job.id)).toMatchObject({ status: 'expired' });
    expect(texts()).toEqual([]);
  });

  it('resume() lifts the flag at once; a later probe that still hears spam flags it again', async () => {
    make();
    vendor.statusRaw = SPAM;
    await vi.advanceTimersByTimeAsync(5 * MIN);
    await sendEach();
    expect(texts()).toEqual(['Заказ 1 принят']);

    await notifier.resume();
    await vi.advanceTimersByTimeAsync(0);
    expect(notifier.line).toBe('up');
    expect(texts()).toEqual(['Заказ 1 принят', 'Напоминание 2', 'Скидка 3']);

    await vi.advanceTimersByTimeAsync(5 * MIN);
    expect(notifier.line).toBe('flagged');
    expect(events.map((e) => e.state)).toEqual(['flagged', 'up', 'flagged']);
  });

  it('resume(lane) lifts an operator pause, not the flag', async () => {
    make();
    vendor.statusRaw = SPAM;
    await vi.advanceTimersByTimeAsync(5 * MIN);
    await notifier.resume('low');
    await sendEach();
    expect(texts()).toEqual(['Заказ 1 принят']);
    expect(notifier.line).toBe('flagged');
  });

  it('with pauseHigh and a shorter pauseMs, high waits too, for that long', async () => {
    make({ guard: { flagged: { pauseMs: 2 * HOUR, pauseHigh: true, checkEveryMs: MIN } } });
    vendor.statusRaw = { status: 'banned' };
    await vi.advanceTimersByTimeAsync(MIN);
    expect(notifier.line).toBe('flagged');
    vendor.statusRaw = {};
    await sendEach();
    expect(texts()).toEqual([]);
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(texts()).toEqual(['Заказ 1 принят', 'Напоминание 2', 'Скидка 3']);
  });

  it('sends that start being refused make the line be asked at once, not at the next 5 minutes', async () => {
    make();
    vendor.mode = 'refusing';
    vendor.statusRaw = SPAM;
    await notifier.trigger('reminder', { phone: '79120000002', n: 2 });
    await vi.advanceTimersByTimeAsync(0);
    expect(vendor.statusChecks).toBe(1);
    expect(notifier.line).toBe('flagged');
  });

  it('/health answers 503 line_flagged while flagged', async () => {
    make();
    vendor.statusRaw = SPAM;
    await vi.advanceTimersByTimeAsync(5 * MIN);
    const handler = createHandler(notifier);
    const answer = await handler.handle({ method: 'GET', path: '/health', headers: {}, ip: '127.0.0.1' } as never);
    expect(answer?.status).toBe(503);
    expect(JSON.parse(String(answer?.body))).toMatchObject({
      error: 'line_flagged',
      status: 'flagged',
      reason: 'line_flagged',
      line: { state: 'flagged' },
    });
  });

  it('guard: false never reads a flag, and adds no probe', async () => {
    make({ guard: false });
    vendor.statusRaw = SPAM;
    await vi.advanceTimersByTimeAsync(30 * MIN);
    expect(vendor.statusChecks).toBe(0);
    await notifier.refreshLine();
    expect(notifier.line).toBe('up');
    await sendEach();
    expect(texts()).toHaveLength(3);
  });
});
