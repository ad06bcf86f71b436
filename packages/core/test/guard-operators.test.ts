import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AnyNotifier,
  createNotifier,
  defineRule,
  type JobRecord,
  type NotifierOptions,
  type Priority,
} from '../src/index.js';
import { LaneGates } from '../src/queue/lane-gates.js';
import { type FakeVendor, startFakeClock, stopFakeClock } from './helpers/fake-vendor.js';
import { rejection } from './helpers/rejection.js';

const HOUR = 3600_000;
const confirmation = defineRule({ id: 'order-confirmed', to: 'phone', text: 'Заказ {{n}} принят', priority: 'high' });
const reminder = defineRule({ id: 'reminder', to: 'phone', text: 'Напоминание {{n}}' });
const promo = defineRule({ id: 'promo', to: 'phone', text: 'Скидка {{n}}', priority: 'low' });
const autumn = defineRule({ id: 'autumn', to: 'phone', text: 'Осень {{n}}', priority: 'low' });

let vendor: FakeVendor;
let notifier: AnyNotifier;

function make(options: Partial<NotifierOptions> = {}): AnyNotifier {
  notifier = createNotifier({
    client: vendor,
    rules: [confirmation, reminder, promo, autumn],
    concurrency: 1,
    line: { checkIntervalMs: false },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...options,
  } as NotifierOptions);
  return notifier;
}

function phone(i: number): string {
  return `7912${String(i).padStart(7, '0')}`;
}

async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

beforeEach(() => {
  vendor = startFakeClock();
});
afterEach(() => stopFakeClock(vendor, notifier));

describe('pause(lane) and resume(lane)', () => {
  it('a paused lane keeps its jobs queued and holds no worker: with one worker, high still goes at once', async () => {
    make();
    await notifier.pause('low');
    expect(notifier.lanes()).toEqual({
      high: { open: true, paused: false },
      normal: { open: true, paused: false },
      low: { open: false, paused: true },
    });
    for (let i = 0; i < 3; i++) await notifier.trigger('promo', { phone: phone(i), n: i });
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(vendor.sent).toEqual([]);
    expect(notifier.stats()).toMatchObject({ queued: 3, sending: 0 });

    // concurrency 1: were a low job holding the worker (waiting inside it), this would wait too.
    await notifier.trigger('order-confirmed', { phone: phone(9), n: 42 });
    await settle();
    expect(vendor.sent.map((m) => m.text)).toEqual(['Заказ 42 принят']);

    await notifier.resume('low');
    await vi.advanceTimersByTimeAsync(20_000); // the low lane's pacing gaps (2–6 s each)
    expect(vendor.sent.map((m) => m.text)).toEqual(['Заказ 42 принят', 'Скидка 0', 'Скидка 1', 'Скидка 2']);
    expect(notifier.lanes().low).toEqual({ open: true, paused: false });
  });

  it('pause() holds every lane; resume(lane) lifts only that one, resume() all of them', async () => {
    make();
    await notifier.pause();
    await notifier.trigger('order-confirmed', { phone: phone(1), n: 1 });
    await notifier.trigger('reminder', { phone: phone(2), n: 2 });
    await notifier.trigger('promo', { phone: phone(3), n: 3 });
    await settle();
    expect(vendor.sent).toEqual([]);

    await notifier.resume('normal');
    await settle();
    expect(vendor.sent.map((m) => m.text)).toEqual(['Напоминание 2']);
    expect(notifier.lanes().high.paused).toBe(true);

    await notifier.resume();
    await settle();
    expect(vendor.sent.map((m) => m.text)).toEqual(['Напоминание 2', 'Заказ 1 принят', 'Скидка 3']);
  });

  it('a job of a paused lane still expires at its deadline', async () => {
    make();
    await notifier.pause('low');
    const job = await notifier.trigger('promo', { phone: phone(1), n: 1 }, { notAfter: Date.now() + HOUR });
    await vi.advanceTimersByTimeAsync(HOUR + 60_000);
    expect(await notifier.get(job.id)).toMatchObject({ status: 'expired' });
  });

  it('refuses an unknown lane, and pausing a closed notifier', async () => {
    make();
    const error = await rejection(notifier.pause('urgent' as Priority));
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toMatch(/lane must be one of 'high', 'normal', 'low'/);
    await notifier.close({ timeoutMs: 10 });
    expect((await rejection(notifier.resume())).code).toBe('CLOSED');
  });
});

describe('cancelMany(filter)', () => {
  it('cancels the pending jobs that match: a campaign by rule, a lane, scheduled or queued', async () => {
    make();
    await notifier.pause(); // nothing is sent meanwhile: every job stays pending
    const cancelled: JobRecord[] = [];
    notifier.on('cancelled', (record) => cancelled.push(record));
    const ids: Record<string, string[]> = { promo: [], autumn: [], reminder: [], later: [] };
    for (let i = 0; i < 4; i++) ids.promo?.push((await notifier.trigger('promo', { phone: phone(i), n: i })).id);
    for (let i = 0; i < 3; i++) ids.autumn?.push((await notifier.trigger('autumn', { phone: phone(i), n: i })).id);
    ids.reminder?.push((await notifier.trigger('reminder', { phone: phone(7), n: 7 })).id);
    for (let i = 0; i < 2; i++) {
      const later = await notifier.trigger('promo', { phone: phone(10 + i), n: i }, { sendAt: Date.now() + HOUR });
      ids.later?.push(later.id);
    }

    expect(await notifier.cancelMany({ ruleId: 'promo', status: 'scheduled' })).toBe(2);
    for (const id of ids.later ?? []) expect((await notifier.get(id))?.status).toBe('cancelled');
    expect(await notifier.cancelMany({ ruleId: 'promo' })).toBe(4);
    expect(await notifier.cancelMany({ ruleId: 'promo' })).toBe(0);
    expect(await notifier.cancelMany({ priority: 'low', status: 'queued' })).toBe(3);
    expect(cancelled).toHaveLength(9);
    expect(notifier.stats()).toMatchObject({ queued: 1, scheduled: 0, cancelled: 9 });
    expect((await notifier.get(ids.reminder?.[0] as string))?.status).toBe('queued');
    expect(await notifier.cancelMany({})).toBe(1);
  });

  it('never cancels a job being sent, nor a finished one', async () => {
    make();
    vendor.mode = 'hang';
    const sending = await notifier.trigger('promo', { phone: phone(1), n: 1 });
    await settle();
    expect((await notifier.get(sending.id))?.status).toBe('sending');
    expect(await notifier.cancelMany({ ruleId: 'promo' })).toBe(0);
    vendor.release();
    await settle();
    expect((await notifier.get(sending.id))?.status).toBe('sent');
    expect(await notifier.cancelMany({})).toBe(0);
  });

  it('refuses a filter it does not know', async () => {
    make();
    for (const filter of [
      null,
      'promo',
      { rule: 'promo' },
      { priority: 'urgent' },
      { status: 'sent' },
      { ruleId: 5 },
    ]) {
      expect((await rejection(notifier.cancelMany(filter as never))).code).toBe('VALIDATION');
    }
  });
});

describe('LaneGates', () => {
  it('tells open from held, and calls back when the flag ends by itself', async () => {
    const gates = new LaneGates();
    const heard: boolean[] = [];
    gates.onChange(() => heard.push(gates.isOpen('low')));
    const now = Date.now();
    expect(gates.apply({ op: 'flag', at: now, until: now + HOUR, high: false })).toBe(true);
    // A flag already up is not raised again (nor moved).
    expect(gates.apply({ op: 'flag', at: now, until: now + 5 * HOUR, high: true })).toBe(false);
    expect([gates.isOpen('high'), gates.isOpen('normal'), gates.isOpen('low')]).toEqual([true, false, false]);
    expect(gates.opensAt('low')).toBe(now + HOUR);
    expect(gates.holdOf('normal')).toEqual({ paused: false, flaggedUntil: now + HOUR });
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(gates.isOpen('low')).toBe(true);
    expect(heard).toEqual([false, true]);
    expect(gates.flag).toBeUndefined();
    gates.close();
  });

  it('a pause holds until resume: opensAt says so', () => {
    const gates = new LaneGates();
    gates.apply({ op: 'pause', lanes: ['low'] });
    expect(gates.opensAt('low')).toBeUndefined();
    expect(gates.isOpen('low')).toBe(false);
    expect(gates.apply({ op: 'pause', lanes: ['low'] })).toBe(false);
    expect(gates.set({ paused: ['normal'] })).toBe(true);
    expect([gates.isOpen('normal'), gates.isOpen('low')]).toEqual([false, true]);
    gates.close();
  });
});
