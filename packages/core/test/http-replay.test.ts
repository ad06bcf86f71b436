import { startEmulator } from '@olchat-kit/testing';
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { createHandler, createNotifier, defineRule, MemoryLimiterStore, OlchatClient } from '../src/index.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('a repeated form submission (same dedupe key) answers its first job without spending the per-phone limit', async () => {
  const emu = await startEmulator();
  const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
  const order = defineRule({
    id: 'order',
    input: z.object({ phone: z.string(), orderId: z.string() }),
    to: 'phone',
    text: 'Заказ {{orderId}} принят',
    dedupeKey: (d) => d.orderId,
  });
  const notifier = createNotifier({ client, rules: [order] });
  cleanups.push(
    () => emu.close(),
    () => client.close(),
    () => notifier.close({ timeoutMs: 1_000 }),
  );
  const handler = createHandler(notifier, {
    inboundLimits: { perIp: false, perPhone: { points: 2, durationMs: 3_600_000 } },
  });
  const submit = async (orderId: string) => {
    const answer = await handler.handle({
      method: 'POST',
      path: '/forms/order',
      headers: { 'content-type': 'application/json' },
      body: { parsed: { phone: '+7 912 345-67-89', orderId } },
    });
    return { status: answer?.status, body: JSON.parse(answer?.body ?? '{}') as { id?: string } };
  };
  const first = await submit('A-1');
  expect(first.status).toBe(202);
  // A customer pressing "send" five more times: the same job every time, no 429, no new message.
  for (let i = 0; i < 5; i++) {
    const again = await submit('A-1');
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
  }
  // The limit of 2 an hour still has its second point for a real second order.
  expect((await submit('A-2')).status).toBe(202);
  expect((await submit('A-3')).status).toBe(429);
  await emu.waitForMessages(2);
  expect(emu.messages.map((m) => m.text)).toEqual(['Заказ A-1 принят', 'Заказ A-2 принят']);
});
