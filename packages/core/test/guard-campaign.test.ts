import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AnyNotifier,
  createNotifier,
  defineRule,
  type GuardOptions,
  MemoryLimiterStore,
  OlchatClient,
} from '../src/index.js';

/*
 * The "done when": one 300-message marketing campaign to new numbers, against the
 * emulator's WhatsApp (a line past its warm-up: flagged past 100 new recipients in 24 h, the
 * emulator's default), sent without the guard and with the default guard.
 *
 * Scaled so the test takes seconds: the vendor limit is 100 sends per 2 s (not 5 per 3 s), and the
 * low lane's pacing is [20, 60] ms (not the default [2 000, 6 000]). The new-recipient budget (50 a
 * day) and the emulator's threshold (100) are not scaled.
 */
const WINDOW_MS = 2_000;
const limits = { sendText: { points: 100, durationMs: WINDOW_MS }, checkStatus: { points: 20, durationMs: 500 } };
const CAMPAIGN = 300;
const CONFIRMATIONS = 5;

const promo = defineRule({ id: 'promo', to: 'phone', text: 'Скидка для {{name}}', priority: 'low' });
const confirmation = defineRule({ id: 'order-confirmed', to: 'phone', text: 'Заказ {{n}} принят', priority: 'high' });

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  // Bounded: gives up after timeoutMs.
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function start(guard: GuardOptions | false): Promise<{ emu: Emulator; notifier: AnyNotifier }> {
  const emu = await startEmulator({ limits, whatsapp: {} });
  closers.push(() => emu.close());
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limits,
    limiterStore: new MemoryLimiterStore({ assumeRecentUse: false }),
  });
  const notifier = createNotifier({
    client,
    rules: [promo, confirmation],
    guard,
    concurrency: 8,
    line: { checkIntervalMs: false },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  closers.push(() => notifier.close({ timeoutMs: 2_000 }));
  return { emu, notifier };
}

/** Runs the campaign; midway, order confirmations to new buyers. Returns their latencies (ms). */
async function campaign(emu: Emulator, notifier: AnyNotifier, midwayAfter: number): Promise<number[]> {
  for (let i = 0; i < CAMPAIGN; i++) {
    await notifier.trigger('promo', { phone: `7913${String(i).padStart(7, '0')}`, name: `клиент ${i}` });
  }
  const lows = () => emu.messages.filter((m) => m.text?.startsWith('Скидка')).length;
  await until(() => lows() >= midwayAfter, 'the campaign to be under way');
  const latencies: number[] = [];
  for (let n = 0; n < CONFIRMATIONS; n++) {
    const triggered = Date.now();
    await notifier.trigger('order-confirmed', { phone: `7914${String(n).padStart(7, '0')}`, n });
    const text = `Заказ ${n} принят`;
    await until(() => emu.messages.some((m) => m.text === text), text, 5_000);
    latencies.push((emu.messages.find((m) => m.text === text)?.at as number) - triggered);
  }
  return latencies;
}

describe('a 300-message campaign to new numbers', () => {
  it('without the guard, the line is flagged for new recipients', async () => {
    const { emu, notifier } = await start(false);
    await campaign(emu, notifier, 20);
    await until(() => emu.whatsapp.flagged, 'the emulator to flag the line');
    expect(emu.whatsapp.reason).toBe('new_recipients');
  });

  it('with the default guard (budget, scaled pacing) it is not, and high confirmations keep their latency', async () => {
    const { emu, notifier } = await start({ pacing: { low: [20, 60] } });
    const latencies = await campaign(emu, notifier, 20);
    const lows = () => emu.messages.filter((m) => m.text?.startsWith('Скидка'));
    // The budget: 50 new recipients in 24 h, the confirmations among them (high passes but
    // counts); the rest of the campaign waits, held (scheduled), not failed.
    const budgeted = 50 - CONFIRMATIONS;
    await until(() => notifier.stats().scheduled === CAMPAIGN - budgeted, 'the rest of the campaign to be held');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lows()).toHaveLength(budgeted);
    expect(notifier.stats()).toMatchObject({ scheduled: CAMPAIGN - budgeted, failed: 0, queued: 0 });
    expect(emu.whatsapp.flagged).toBe(false);
    expect(emu.whatsapp.newRecipients).toBe(50);
    // Pacing: the campaign did not go out in one burst (at least 20 ms between two).
    const at = lows().map((m) => m.at);
    expect((at.at(-1) as number) - (at[0] as number)).toBeGreaterThanOrEqual((budgeted - 1) * 20 * 0.8);
    // The confirmations went out within one limit window each, the campaign notwithstanding.
    for (const latency of latencies) expect(latency).toBeLessThan(WINDOW_MS);
  });
});
