import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AnyNotifier, createNotifier, defineRule, type LineEvent, type NotifierOptions } from '../src/index.js';
import { type FakeVendor, startFakeClock, stopFakeClock } from './helpers/fake-vendor.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

const confirmation = defineRule({ id: 'order-confirmed', to: 'phone', text: 'Заказ {{n}} принят', priority: 'high' });
const reminder = defineRule({ id: 'reminder', to: 'phone', text: 'Напоминание {{n}}' }); // transactional
const promo = defineRule({ id: 'promo', to: 'phone', text: 'Скидка {{n}}', priority: 'low' }); // marketing

let vendor: FakeVendor;
let notifier: AnyNotifier;
let events: LineEvent[];

function make(options: Partial<NotifierOptions> = {}): AnyNotifier {
  notifier = createNotifier({
    client: vendor,
    rules: [confirmation, reminder, promo],
    line: { checkIntervalMs: false },
    maxAgeMs: 3 * DAY,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...options,
  } as NotifierOptions);
  events = [];
  notifier.on('line', (event) => events.push(event));
  return notifier;
}

const phone = (i: number) => `7912${String(10_000_000 + i).slice(1)}`;

async function triggerMany(ruleId: 'promo' | 'reminder', from: number, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + count; i++) ids.push((await notifier.trigger(ruleId, { phone: phone(i), n: i })).id);
  return ids;
}

beforeEach(() => {
  vendor = startFakeClock();
});
afterEach(() => stopFakeClock(vendor, notifier));

describe('the new-recipient budget', () => {
  it('holds marketing to new phones over the budget (scheduled, heldBy) until the rolling 24 h frees it; high passes and counts', async () => {
    make({ guard: { newRecipients: { perDay: 3 }, pacing: false } });
    const ids = await triggerMany('promo', 0, 5);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(vendor.sent).toHaveLength(3);
    const held = await notifier.get(ids[4] as string);
    expect(held).toMatchObject({ status: 'scheduled', heldBy: 'new_recipients' });
    // high passes the spent budget, and counts.
    await notifier.trigger('order-confirmed', { phone: phone(100), n: 1 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(vendor.sent).toHaveLength(4);
    expect(notifier.stats().guard).toEqual({ newRecipients24h: 4, newRecipientBudget: 3, sent7d: 4, replies7d: 0 });
    // Nothing more within the day; the budget frees 24 h after the first three went.
    await vi.advanceTimersByTimeAsync(DAY - 20_000);
    expect(vendor.sent).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(vendor.sent).toHaveLength(6);
    expect((await notifier.get(ids[4] as string))?.status).toBe('sent');
    expect((await notifier.get(ids[4] as string))?.heldBy).toBeUndefined();
  });

  it('a known phone is not new: contacts, earlier sends', async () => {
    make({ guard: { newRecipients: { perDay: 1 }, pacing: false } });
    await notifier.contacts.add([phone(1), phone(2)]);
    await triggerMany('promo', 0, 3);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(vendor.sent.map((s) => s.phone).sort()).toEqual([phone(0), phone(1), phone(2)]);
  });

  it('with appliesTo marketing a transactional send to a new phone spends no budget (but counts as new)', async () => {
    make({ guard: { newRecipients: { perDay: 2 }, pacing: false } });
    await triggerMany('reminder', 0, 5);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(vendor.sent).toHaveLength(5);
    await triggerMany('promo', 10, 2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(vendor.sent).toHaveLength(7);
    expect(notifier.stats().guard?.newRecipients24h).toBe(7);
  });

  it('a held job whose deadline comes before the budget frees expires', async () => {
    make({ guard: { newRecipients: { perDay: 1 }, pacing: false } });
    await notifier.trigger('promo', { phone: phone(0), n: 0 });
    const late = await notifier.trigger('promo', { phone: phone(1), n: 1 }, { notAfter: new Date(Date.now() + HOUR) });
    await vi.advanceTimersByTimeAsync(5_000);
    expect((await notifier.get(late.id))?.status).toBe('expired');
    expect(vendor.sent).toHaveLength(1);
  });

  it('a warm-up line gets 20 new recipients a day for every category for its first 10 days', async () => {
    make({ guard: { warmup: { since: new Date() }, pacing: false } });
    expect(notifier.stats().guard?.newRecipientBudget).toBe(20);
    const ids = await triggerMany('reminder', 0, 25);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(vendor.sent).toHaveLength(20);
    expect(await notifier.get(ids[24] as string)).toMatchObject({ status: 'scheduled', heldBy: 'new_recipients' });
    await vi.advanceTimersByTimeAsync(DAY);
    expect(vendor.sent).toHaveLength(25);
    await vi.advanceTimersByTimeAsync(9 * DAY);
    // After the warm-up: the configured budget, for marketing only.
    expect(notifier.stats().guard?.newRecipientBudget).toBe(50);
    await triggerMany('reminder', 100, 30);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(vendor.sent).toHaveLength(55);
  }, 30_000);

  it('guard: false holds nothing', async () => {
    make({ guard: false });
    await triggerMany('promo', 0, 60);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(vendor.sent).toHaveLength(60);
    expect(notifier.stats().guard).toBeUndefined();
  });
});

describe('the per-recipient cap', () => {
  it('a third marketing message to one phone in 24 h ends skipped per_recipient; transactional ones are not capped', async () => {
    make({ guard: { pacing: false } });
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push((await notifier.trigger('promo', { phone: phone(1), n })).id);
    for (let n = 0; n < 3; n++) await notifier.trigger('reminder', { phone: phone(1), n });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await notifier.get(ids[2] as string)).toMatchObject({ status: 'skipped', reason: 'per_recipient' });
    expect(vendor.sent).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(DAY);
    const next = await notifier.trigger('promo', { phone: phone(1), n: 9 });
    await vi.advanceTimersByTimeAsync(5_000);
    expect((await notifier.get(next.id))?.status).toBe('sent');
  });
});

describe('the reply ratio', () => {
  it('50 sent with replies under 30 %: the budget halves and a line warning is emitted once', async () => {
    make({ guard: { pacing: false } });
    await triggerMany('reminder', 0, 50);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(vendor.sent).toHaveLength(50);
    for (let i = 0; i < 10; i++) await notifier.contacts.replied(phone(i));
    expect(notifier.stats().guard).toMatchObject({ newRecipientBudget: 25, sent7d: 50, replies7d: 10 });
    notifier.stats();
    expect(events.filter((e) => e.warning === 'low_reply_ratio')).toHaveLength(1);
    for (let i = 10; i < 20; i++) await notifier.contacts.replied(phone(i));
    expect(notifier.stats().guard?.newRecipientBudget).toBe(50);
  }, 30_000);
});
