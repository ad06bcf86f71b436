import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AnyNotifier,
  createNotifier,
  defineRule,
  generateWebhookSecret,
  type LineEvent,
  MemoryLimiterStore,
  OlchatClient,
} from '../src/index.js';

// Campaign-sized bursts at a scaled-up limit: the limiter is proven at vendor scale elsewhere.
const limits = {
  sendText: { points: 50, durationMs: 500 },
  checkStatus: { points: 20, durationMs: 500 },
};
const promo = defineRule({
  id: 'promo',
  to: 'phone',
  text: '{Здравствуйте|Добрый день}, {{name}}! Скидка 10%',
  priority: 'low',
});
const confirmation = defineRule({ id: 'order-confirmed', to: 'phone', text: 'Заказ {{n}} принят', priority: 'high' });

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function phone(i: number): string {
  return `7913${String(i).padStart(7, '0')}`;
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  // Bounded: gives up after timeoutMs.
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function receiver() {
  const bodies: { headers: Record<string, string>; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(async () => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, bodies };
}

interface Setup {
  emu: Emulator;
  notifier: AnyNotifier;
  hooks: Awaited<ReturnType<typeof receiver>>;
  secret: string;
}

async function setup(): Promise<Setup> {
  // A line connected 2 days ago: the vendor's 20 new recipients a day.
  const emu = await startEmulator({ limits, whatsapp: { lineAgeDays: 2 } });
  closers.push(() => emu.close());
  const hooks = await receiver();
  const secret = generateWebhookSecret();
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limits,
    limiterStore: new MemoryLimiterStore(),
  });
  const notifier = createNotifier({
    client,
    rules: [promo, confirmation],
    webhooks: [{ url: hooks.url, secret, events: ['line.flagged'] }],
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    // The line is asked every 10 s at least; here the breaker's background check asks every 100 ms.
    // Pacing off: a campaign at the (scaled) limit reaches the threshold in seconds.
    guard: { flagged: { checkEveryMs: 10_000 }, pacing: false },
    line: { checkIntervalMs: 100 },
  });
  closers.push(() => notifier.close({ timeoutMs: 500 }));
  return { emu, notifier, hooks, secret };
}

describe('the guard against the emulator’s WhatsApp', () => {
  it('a campaign past the young line’s 20 new recipients gets it flagged: low waits, high goes, line.flagged is sent', async () => {
    const { emu, notifier, hooks, secret } = await setup();
    const lineEvents: LineEvent[] = [];
    notifier.on('line', (event) => lineEvents.push(event));

    for (let i = 0; i < 21; i++) await notifier.trigger('promo', { phone: phone(i), name: `Клиент ${i}` });
    await until(() => emu.whatsapp.flagged, 'the emulator to flag the line');
    expect(emu.whatsapp).toMatchObject({ newRecipients: 21, reason: 'new_recipients' });
    // Variants: the campaign did not go out as one identical text.
    expect(new Set(emu.messages.map((m) => m.text?.split(',')[0]))).toEqual(new Set(['Здравствуйте', 'Добрый день']));

    await until(() => notifier.line === 'flagged', 'the notifier to read the flag');
    expect(lineEvents.at(-1)).toMatchObject({ state: 'flagged', until: expect.any(Number) });
    const sentBefore = emu.messages.length;
    for (let i = 100; i < 110; i++) await notifier.trigger('promo', { phone: phone(i), name: 'Ещё' });
    await notifier.trigger('order-confirmed', { phone: phone(500), n: 7 });
    await until(() => emu.messages.some((m) => m.text === 'Заказ 7 принят'), 'the order confirmation');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(emu.messages.length).toBe(sentBefore + 1);
    expect(notifier.stats().queued).toBe(10);

    await until(() => hooks.bodies.length > 0, 'the line.flagged webhook');
    const [hook] = hooks.bodies;
    const payload = new Webhook(secret).verify(hook?.body as string, hook?.headers as Record<string, string>) as {
      type: string;
      data: { state: string; until: string };
    };
    expect(payload.type).toBe('line.flagged');
    expect(payload.data.state).toBe('flagged');
    expect(Date.parse(payload.data.until)).toBeGreaterThan(Date.now() + 71 * 3600_000);
  });
});
