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
  const notifier = createNotifier({ client, rules: [campaign, confirmation], line: { checkIntervalMs: false } });
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
