import { startEmulator } from '@olchat-kit/testing';
import { expect, it } from 'vitest';
import { createNotifier, defineRule, MemoryLimiterStore, OlchatClient } from '../src/index.js';

it('an order confirmation triggered behind 2 000 queued low-priority messages goes out within the next free slot', async () => {
  // The vendor's shape, faster: 2 per 300 ms. The campaign alone would take about 5 minutes.
  const limits = { sendText: { points: 2, durationMs: 300 } };
  const emu = await startEmulator({ limits });
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limits,
    limiterStore: new MemoryLimiterStore(),
  });
  const campaign = defineRule({ id: 'campaign', to: 'phone', text: 'Скидка {{n}}', priority: 'low' });
  const confirmation = defineRule({ id: 'order', to: 'phone', text: 'Заказ {{orderId}} принят', priority: 'high' });
  // Pacing and the per-recipient cap off: this is about the limit's slots (one phone, many sends;
  // guard-pacing.test.ts and guard-budget.test.ts show those).
  const notifier = createNotifier({
    client,
    rules: [campaign, confirmation],
    line: { checkIntervalMs: false },
    guard: { pacing: false, perRecipient: false },
  });
  try {
    for (let n = 0; n < 2_000; n++) await notifier.trigger('campaign', { phone: '79120000000', n: String(n) });
    await emu.waitForMessages(6, 10_000);
    const before = emu.messages.length;
    await notifier.trigger('order', { phone: '79123456789', orderId: 'A-1' });
    const texts = (await emu.waitForMessages(before + 4, 10_000)).map((m) => m.text);
    const position = texts.indexOf('Заказ A-1 принят');
    expect(position).toBeGreaterThanOrEqual(before);
    // At most the request already on the wire and the one its answer frees a worker for come first.
    expect(position - before).toBeLessThanOrEqual(limits.sendText.points);
    expect(notifier.stats().queued).toBeGreaterThan(1_900);
    expect(emu.violations).toEqual([]);
  } finally {
    await notifier.close({ timeoutMs: 100 });
    await client.close();
    await emu.close();
  }
});

it('a high job queued behind 20 low ones takes the next free slot (6th of 21), not the one after the low jobs workers already hold', async () => {
  // The vendor's own limit (5 per 3 s), a real round trip (the next window's five are all on the
  // wire before the first answer frees a worker) and the default concurrency (10): the first 5 low
  // jobs go out at once, and 10 more would be waiting for the next window if jobs were held while
  // they wait for a slot. The high one must not wait behind those: it goes in the next window.
  const emu = await startEmulator({ latencyMs: 250 });
  const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
  const campaign = defineRule({ id: 'campaign', to: 'phone', text: 'Скидка {{n}}', priority: 'low' });
  const confirmation = defineRule({ id: 'order', to: 'phone', text: 'Заказ {{orderId}} принят', priority: 'high' });
  // Pacing and the per-recipient cap off: this is about the limit's slots (one phone, many sends;
  // guard-pacing.test.ts and guard-budget.test.ts show those).
  const notifier = createNotifier({
    client,
    rules: [campaign, confirmation],
    line: { checkIntervalMs: false },
    guard: { pacing: false, perRecipient: false },
  });
  const low = (...ns: number[]) => ns.map((n) => `Скидка ${n}`);
  try {
    for (let n = 1; n <= 20; n++) await notifier.trigger('campaign', { phone: '79120000000', n: String(n) });
    await emu.waitForMessages(5, 10_000);
    // Their answers are in, and the workers they held are free again (as 200 ms later in the field).
    for (let tries = 0; notifier.stats().sent < 5; tries++) {
      if (tries > 200) throw new Error('the first 5 were not recorded as sent within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    await notifier.trigger('order', { phone: '79123456789', orderId: 'A-1' });
    const texts = (await emu.waitForMessages(10, 15_000)).map((m) => m.text);
    // Each window's five leave together, so their order on the wire is chance: compare as sets.
    expect(new Set(texts.slice(0, 5))).toEqual(new Set(low(1, 2, 3, 4, 5)));
    expect(new Set(texts.slice(5, 10))).toEqual(new Set(['Заказ A-1 принят', ...low(6, 7, 8, 9)]));
    expect(emu.violations).toEqual([]);
  } finally {
    await notifier.close({ timeoutMs: 100 });
    await client.close();
    await emu.close();
  }
}, 40_000);
