import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RAMP_START_INTERVALS } from '../src/guard/pacing.js';
import { type AnyNotifier, createNotifier, defineRule, type NotifierOptions } from '../src/index.js';
import { LaneGates } from '../src/queue/lane-gates.js';
import { FakeVendor, startFakeClock, stopFakeClock } from './helpers/fake-vendor.js';

const MIN = 60_000;
/** The vendor's send interval: 5 sends per 3 s. */
const INTERVAL = 600;

const confirmation = defineRule({ id: 'order-confirmed', to: 'phone', text: 'Заказ {{n}} принят', priority: 'high' });
const reminder = defineRule({ id: 'reminder', to: 'phone', text: 'Напоминание {{n}}' });
const promo = defineRule({ id: 'promo', to: 'phone', text: 'Скидка {{n}}', priority: 'low' });

let vendor: FakeVendor;
let notifier: AnyNotifier;

function make(options: Partial<NotifierOptions> = {}): AnyNotifier {
  notifier = createNotifier({
    client: vendor,
    rules: [confirmation, reminder, promo],
    line: { checkIntervalMs: false, failureThreshold: 1, probeMinMs: 1_000, probeMaxMs: 5_000 },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...options,
  } as NotifierOptions);
  return notifier;
}

async function trigger(rule: string, from: number, count: number): Promise<void> {
  for (let n = from; n < from + count; n++)
    await notifier.trigger(rule, { phone: `7912${String(n).padStart(7, '0')}`, n });
}

/** When each text starting with `prefix` was sent (ms, in send order). */
function times(prefix: string): number[] {
  return vendor.sent.filter((m) => m.text.startsWith(prefix)).map((m) => m.at);
}

function gaps(at: number[]): number[] {
  return at.slice(1).map((t, i) => t - (at[i] as number));
}

beforeEach(() => {
  vendor = startFakeClock();
});
afterEach(() => stopFakeClock(vendor, notifier));

describe('pacing', () => {
  it('by default spaces low sends 2–6 s apart, on top of the limit', async () => {
    make();
    await trigger('promo', 1, 10);
    await vi.advanceTimersByTimeAsync(10 * 6_000 + 1_000);
    const at = times('Скидка');
    expect(at).toHaveLength(10);
    for (const gap of gaps(at)) {
      expect(gap).toBeGreaterThanOrEqual(2_000);
      expect(gap).toBeLessThanOrEqual(6_000 + INTERVAL);
    }
    // Random, not a robot's beat.
    expect(new Set(gaps(at)).size).toBeGreaterThan(1);
  });

  it('does not slow the other lanes, and a job waiting for its gap holds no worker', async () => {
    make({ concurrency: 1 });
    await trigger('promo', 1, 3);
    await vi.advanceTimersByTimeAsync(100);
    expect(times('Скидка')).toHaveLength(1);
    // The low lane is in its gap: with one worker, normal and high still go at the vendor's pace.
    const start = Date.now();
    await trigger('reminder', 10, 4);
    await trigger('order-confirmed', 20, 1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(times('Заказ')).toHaveLength(1);
    expect(times('Напоминание')).toHaveLength(4);
    expect((times('Заказ')[0] as number) - start).toBeLessThan(100);
    expect(times('Скидка')).toHaveLength(1);
  });

  it('a job the budget holds gives its gap back: the next send is not delayed by it', async () => {
    make({ maxAgeMs: 48 * 60 * MIN, guard: { newRecipients: { perDay: 1 }, pacing: { low: [3_000, 3_000] } } });
    await notifier.contacts.add(['79120000003']);
    await trigger('promo', 1, 3); // 1: new, sent; 2: new, held by the budget; 3: a known contact
    await vi.advanceTimersByTimeAsync(10_000);
    const at = times('Скидка');
    expect(vendor.sent.map((m) => m.phone)).toEqual(['79120000001', '79120000003']);
    expect((at[1] as number) - (at[0] as number)).toBeLessThan(3_000 + INTERVAL);
    expect(notifier.stats().scheduled).toBe(1);
  });

  it('paces the lanes it is given and only those; pacing: false sends at the limit', async () => {
    make({ guard: { pacing: { normal: [1_000, 1_500] } } });
    await trigger('reminder', 1, 4);
    await trigger('promo', 10, 4);
    await vi.advanceTimersByTimeAsync(10_000);
    for (const gap of gaps(times('Напоминание'))) expect(gap).toBeGreaterThanOrEqual(1_000);
    // Low has no pacing here: its four go within the vendor's window.
    const low = times('Скидка');
    expect((low[3] as number) - (low[0] as number)).toBeLessThan(1_000);
    await notifier.close({ timeoutMs: 1_000 });

    vendor = new FakeVendor();
    make({ guard: { pacing: false, afterDowntime: false } });
    await trigger('promo', 1, 5);
    await vi.advanceTimersByTimeAsync(500);
    expect(times('Скидка')).toHaveLength(5);
  });
});

describe('after downtime', () => {
  /** Takes the line down (failed sends) for `downMs`, then back up (a probe answers). */
  async function outage(downMs: number): Promise<void> {
    vendor.mode = '503';
    await trigger('reminder', 900, 1);
    await vi.advanceTimersByTimeAsync(100);
    expect(notifier.line).toBe('down');
    await vi.advanceTimersByTimeAsync(downMs);
    vendor.mode = 'ok';
    await vi.advanceTimersByTimeAsync(6_000);
    expect(notifier.line).toBe('up');
    vendor.sent.length = 0;
  }

  it('a line down longer than overMs ramps normal back up over rampMs; high goes at once', async () => {
    make({ guard: { pacing: false } });
    await outage(20 * MIN);
    await trigger('reminder', 1, 5);
    await trigger('order-confirmed', 20, 3);
    await vi.advanceTimersByTimeAsync(200);
    expect(times('Заказ')).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(20_000);
    const at = times('Напоминание');
    expect(at.length).toBeGreaterThanOrEqual(5);
    // Near the ramp's start the gap is about RAMP_START_INTERVALS vendor intervals.
    for (const gap of gaps(at.slice(0, 5))) expect(gap).toBeGreaterThanOrEqual(RAMP_START_INTERVALS * INTERVAL * 0.9);
    // After rampMs (30 min) the full rate is back: five at once.
    await vi.advanceTimersByTimeAsync(30 * MIN);
    vendor.sent.length = 0;
    await trigger('reminder', 100, 5);
    await vi.advanceTimersByTimeAsync(500);
    expect(times('Напоминание')).toHaveLength(5);
  });

  it('a short outage (under overMs) comes back at the full rate', async () => {
    make({ guard: { pacing: false } });
    await outage(5 * MIN);
    await trigger('reminder', 1, 5);
    await vi.advanceTimersByTimeAsync(500);
    expect(times('Напоминание')).toHaveLength(5);
  });

  it('afterDowntime: false comes back at the full rate after a long outage', async () => {
    make({ guard: { pacing: false, afterDowntime: false } });
    await outage(20 * MIN);
    await trigger('reminder', 1, 5);
    await vi.advanceTimersByTimeAsync(500);
    expect(times('Напоминание')).toHaveLength(5);
  });
});

describe('the pacing hold in the lane gates', () => {
  it('holds one lane until its gap ends, grants one gap at a time, and reopens by itself', async () => {
    const gates = new LaneGates();
    let changes = 0;
    gates.onChange(() => changes++);
    const now = Date.now();
    expect(gates.apply({ op: 'pace', lane: 'low', at: now, until: now + 3_000 })).toBe(true);
    expect(gates.apply({ op: 'pace', lane: 'low', at: now, until: now + 5_000 })).toBe(false);
    expect(gates.isOpen('low')).toBe(false);
    expect(gates.isOpen('normal')).toBe(true);
    expect(gates.opensAt('low')).toBe(now + 3_000);
    expect(gates.state().notBefore).toEqual({ low: now + 3_000 });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(gates.isOpen('low')).toBe(true);
    expect(changes).toBe(2);
    gates.close();
  });
});
