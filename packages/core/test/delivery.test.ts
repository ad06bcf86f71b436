import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/helpers/waiting.js';
import { mapDeliveryStatus } from '../src/delivery/delivery.js';
import {
  type AnyNotifier,
  createNotifier,
  generateWebhookSecret,
  type JobRecord,
  MemoryLimiterStore,
  type NotifierOptions,
  OlchatClient,
} from '../src/index.js';

describe('the vendor’s words for a message’s state', () => {
  it.each([
    ['read', 'read'],
    ['READ', 'read'],
    [' Seen ', 'read'],
    ['played', 'read'],
    ['прочитано', 'read'],
    ['delivered', 'delivered'],
    ['Delivered', 'delivered'],
    ['delivered-to-device', 'delivered'],
    ['доставлено', 'delivered'],
    ['failed', 'undelivered'],
    ['error', 'undelivered'],
    ['undelivered', 'undelivered'],
    ['not delivered', 'undelivered'],
    ['NOT_DELIVERED', 'undelivered'],
    ['rejected', 'undelivered'],
    ['не доставлено', 'undelivered'],
    [2, 'delivered'],
    ['3', 'read'],
    [4, 'read'],
    [-1, 'undelivered'],
  ] as const)('%j → %s', (word, expected) => {
    expect(mapDeliveryStatus(word)).toBe(expected);
  });

  it.each([
    'sent',
    'pending',
    'queued',
    'unknown',
    'unread',
    '',
    '<html>502 Bad Gateway</html>',
    1,
    0,
    null,
    undefined,
    {},
    ['read'],
  ])('%j changes nothing', (word) => {
    expect(mapDeliveryStatus(word)).toBeUndefined();
  });
});

const open: { notifier: AnyNotifier; client: OlchatClient }[] = [];
let emu: Emulator | undefined;
let receiver: Server | undefined;

afterEach(async () => {
  for (const { notifier, client } of open.splice(0)) {
    await notifier.close({ timeoutMs: 2000 });
    await client.close();
  }
  await emu?.close();
  emu = undefined;
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  receiver = undefined;
});

async function setUp(
  emulatorOptions: Parameters<typeof startEmulator>[0],
  notifierOptions: Omit<NotifierOptions, 'client'>,
  limits = {
    sendText: { points: 5, durationMs: 500 },
    checkMessageStatus: { points: 2, durationMs: 500 },
  },
) {
  emu = await startEmulator({ limits, ...emulatorOptions });
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limits,
    limiterStore: new MemoryLimiterStore(),
  });
  const notifier = createNotifier({ client, line: { checkIntervalMs: false }, ...notifierOptions });
  open.push({ notifier, client });
  return { emu, notifier };
}

const message = (i: number) => ({ phone: `7912345${String(i).padStart(4, '0')}`, text: `Заказ ${i} отправлен` });

describe('delivery checks', () => {
  it('ask at each offset, record delivered then read with the vendor’s word, and emit each once', async () => {
    const { notifier } = await setUp(
      { delivery: { deliveredAfterMs: 500, readAfterMs: 1_600 } },
      { deliveryChecks: { afterMs: [1_000, 2_000] } },
    );
    const seen: string[] = [];
    notifier.on('delivered', (r) => seen.push(`delivered ${r.id}`)).on('read', (r) => seen.push(`read ${r.id}`));
    const { id } = await notifier.send(message(1));
    await waitFor(() => seen.length >= 2, 10_000, 'two delivery updates');
    expect(seen).toEqual([`delivered ${id}`, `read ${id}`]);
    expect(await notifier.get(id)).toMatchObject({ status: 'sent', delivery: 'read', deliveryRaw: 'read' });
    expect((await notifier.get(id))?.deliveryCheckedAt).toBeGreaterThan(0);
    const checks = emu?.requests.filter((r) => r.method === 'checkMessageStatus') ?? [];
    expect(checks).toHaveLength(2);
  });

  it('a failed message becomes undelivered and is not asked about again', async () => {
    const { emu, notifier } = await setUp({}, { deliveryChecks: { afterMs: [1_000, 1_500, 2_000] } });
    const undelivered: JobRecord[] = [];
    notifier.on('undelivered', (r) => undelivered.push(r));
    const { id } = await notifier.send(message(2));
    const sent = await waitFor(() => emu.messages[0], 10_000, 'the message');
    emu.setDelivery(sent.id, 'failed');
    await waitFor(() => undelivered[0], 10_000, 'the undelivered event');
    await new Promise((r) => setTimeout(r, 1_300));
    expect(undelivered.map((r) => [r.id, r.delivery])).toEqual([[id, 'undelivered']]);
    expect(emu.requests.filter((r) => r.method === 'checkMessageStatus')).toHaveLength(1);
  });

  it('never go over the checkMessageStatus limit, nor take a send’s slot, with sends in flight', async () => {
    const { emu, notifier } = await setUp(
      { delivery: { deliveredAfterMs: 0 } },
      { deliveryChecks: { afterMs: [1_000, 1_200] } },
    );
    const delivered: string[] = [];
    notifier.on('delivered', (r) => delivered.push(r.id));
    const jobs = [];
    for (let i = 0; i < 12; i++) jobs.push(await notifier.send(message(i)));
    await waitFor(() => delivered.length === 12, 30_000, 'twelve delivered');
    expect(emu.violations).toEqual([]);
    expect(new Set(delivered)).toEqual(new Set(jobs.map((j) => j.id)));
    // Sends kept their own pace: 12 at 5 per 500 ms take about 1 s whatever the checks do.
    const sends = emu.requests.filter((r) => r.method === 'sendText');
    expect(sends).toHaveLength(12);
    expect((sends[11]?.at ?? 0) - (sends[0]?.at ?? 0)).toBeLessThan(3_000);
  });

  it('fall behind gracefully: late offsets collapse into one check and stale checks are dropped', async () => {
    const slowChecks = {
      sendText: { points: 5, durationMs: 300 },
      checkMessageStatus: { points: 1, durationMs: 400 },
    };
    const { emu, notifier } = await setUp(
      {},
      { deliveryChecks: { afterMs: [1_000, 1_100, 1_200, 1_300], maxLagMs: 2_000 } },
      slowChecks,
    );
    for (let i = 0; i < 15; i++) await notifier.send(message(i));
    await waitFor(() => emu.requests.filter((r) => r.method === 'sendText').length === 15, 10_000, 'fifteen sends');
    await new Promise((r) => setTimeout(r, 5_000));
    const checks = emu.requests.filter((r) => r.method === 'checkMessageStatus');
    // 15 messages × 4 offsets would be 60 checks; at 1 per 400 ms about 12 fit in the lag bound.
    expect(checks.length).toBeGreaterThanOrEqual(5);
    expect(checks.length).toBeLessThanOrEqual(20);
    expect(emu.violations).toEqual([]);
    const before = checks.length;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(emu.requests.filter((r) => r.method === 'checkMessageStatus')).toHaveLength(before);
  });

  it('refuses bad options', async () => {
    for (const bad of [{ afterMs: [] }, { afterMs: [500] }, { afterMs: [1000.5] }, { afterMs: 'soon' }]) {
      await expect(setUp({}, { deliveryChecks: bad as never })).rejects.toMatchObject({ code: 'VALIDATION' });
      await emu?.close();
      emu = undefined;
    }
  });
});

describe('status webhooks from the notifier', () => {
  it('post sent, delivered and line events that verify with the standardwebhooks package', async () => {
    const secret = generateWebhookSecret();
    const received: { headers: IncomingMessage['headers']; body: string }[] = [];
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/olchat`;
    const { emu, notifier } = await setUp(
      { delivery: { deliveredAfterMs: 0 } },
      { deliveryChecks: { afterMs: [1_000] }, webhooks: [{ url, secret }] },
    );
    const { id } = await notifier.send(message(7), { meta: { orderId: 'A-7' } });
    await waitFor(() => received.length >= 2, 10_000, 'two webhooks');
    emu.setConnected(false);
    await notifier.refreshLine();
    await waitFor(() => received.length >= 3, 10_000, 'three webhooks');
    const hook = new Webhook(secret);
    const payloads = received.map(({ headers, body }) => hook.verify(body, headers as Record<string, string>)) as {
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(payloads.map((p) => p.type)).toEqual(['message.sent', 'message.delivered', 'line.down']);
    expect(payloads[0]?.data).toMatchObject({ id, status: 'sent', phone: '79123450007', meta: { orderId: 'A-7' } });
    expect(payloads[1]?.data).toMatchObject({ id, delivery: 'delivered' });
    expect(payloads[2]?.data).toEqual({ state: 'down', reason: 'line_down' });
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(3);
  });
});
