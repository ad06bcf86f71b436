import {
  type AnyNotifier,
  createNotifier,
  defineRule,
  type LimitsOption,
  MemoryLimiterStore,
  type NotifierOptions,
  OlchatClient,
} from '@olchat-kit/core';
import type { NotifierInternalOptions } from '@olchat-kit/core/queue';
import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, freshQueue, sleep } from './harness.js';

/*
 * The same contract seen by an app: a notifier on this run's queue, sending to the emulator
 * through a real client. What only the notifier adds on top of the queue (etaMs, retry's
 * AMBIGUOUS guard, deadlines from maxAgeMs and notAfter) must hold on both queues.
 */

const TOKEN = 'queue-conformance-token';
const PHONE = '+7 912 345-67-89';
const loose = { points: 1_000, durationMs: 1_000 };
const order = defineRule({ id: 'order', to: 'phone', text: 'Заказ {{orderId}} принят' });
const silent = { debug() {}, info() {}, warn() {}, error() {} };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  clientLimits?: LimitsOption;
  notifier?: Partial<NotifierOptions> & NotifierInternalOptions;
}

async function setup(options: Setup = {}): Promise<{ emu: Emulator; notifier: AnyNotifier; client: OlchatClient }> {
  const emu = await startEmulator({ tokens: [TOKEN], limits: { sendText: loose, sendFile: loose } });
  const client = new OlchatClient({
    token: TOKEN,
    baseUrl: emu.baseUrl,
    // A fresh store that has seen no send: this test counts windows from its first send.
    limiterStore: new MemoryLimiterStore({ assumeRecentUse: false }),
    timeoutMs: 2_000,
    limits: { sendText: loose, sendFile: loose, ...options.clientLimits },
  });
  const notifier = createNotifier({
    client,
    rules: [order],
    queue: freshQueue(),
    logger: silent,
    secret: 'queue-conformance-secret-0123456789',
    line: { checkIntervalMs: false, probeMinMs: 100, probeMaxMs: 500 },
    ...options.notifier,
  });
  cleanups.push(
    () => emu.close(),
    () => client.close(),
    () => notifier.close({ timeoutMs: 300 }),
  );
  return { emu, notifier, client };
}

describe('through a notifier', () => {
  it('an opted-out phone: skipped at trigger, and a job queued before the opt-out is skipped before its send', async () => {
    // One send per 5 s: the second job waits for its slot while the phone opts out (long enough for a
    // loaded machine to see the first sent and suppress the phone; the receipt below waits it out).
    const { emu, notifier } = await setup({ clientLimits: { sendText: { points: 1, durationMs: 5_000 } } });
    const first = await notifier.send({ phone: '79123456780', text: 'first' }, { priority: 'low' });
    const second = await notifier.send({ phone: PHONE, text: 'second' }, { priority: 'low' });
    await eventually(async () => expect((await notifier.get(first.id))?.status).toBe('sent'));
    await notifier.suppress(PHONE);
    await eventually(async () =>
      expect(await notifier.get(second.id)).toMatchObject({ status: 'skipped', reason: 'suppressed', attempts: 0 }),
    );
    const later = await notifier.send({ phone: '89123456789', text: 'third' }, { category: 'marketing' });
    expect(later.status).toBe('skipped');
    // Transactional messages still go to a phone that opted out of marketing.
    const receipt = await notifier.trigger('order', { phone: PHONE, orderId: 'C-1' });
    await eventually(async () => expect((await notifier.get(receipt.id))?.status).toBe('sent'));
    expect(emu.messages.map((m) => m.text)).toEqual(['first', 'Заказ C-1 принят']);
  });

  it('etaMs: the windows the queued and sending jobs need at the client limit', async () => {
    const minute = { points: 5, durationMs: 60_000 };
    const { emu, notifier, client } = await setup({ clientLimits: { sendText: minute } });
    expect(notifier.stats().etaMs).toBe(0);
    for (let i = 0; i < 11; i++) await notifier.send({ phone: PHONE, text: `m${i}` });
    // Five go out at once; six wait for the next minute: one more window.
    await eventually(() => expect(emu.messages).toHaveLength(5));
    const { durationMs, marginMs } = client.limits.sendText;
    await eventually(() => {
      const stats = notifier.stats();
      expect(stats.queued + stats.sending).toBe(6);
      expect(stats.sent).toBe(5);
      expect(stats.etaMs).toBe(durationMs + marginMs);
    });
  });

  it('a scheduled message goes out at its time, not before; a cancelled one never', async () => {
    const { emu, notifier } = await setup();
    const sendAt = Date.now() + 1_500;
    const job = await notifier.trigger('order', { phone: PHONE, orderId: 'A-1' }, { sendAt });
    const dropped = await notifier.trigger('order', { phone: PHONE, orderId: 'A-2' }, { sendAt });
    expect(job.status).toBe('scheduled');
    expect(notifier.stats().scheduled).toBe(2);
    expect(await notifier.cancel(dropped.id)).toBe(true);
    expect(await notifier.cancel(dropped.id)).toBe(false);
    await eventually(async () => expect((await notifier.get(job.id))?.status).toBe('sent'));
    expect(emu.messages.map((m) => m.text)).toEqual(['Заказ A-1 принят']);
    expect(emu.messages[0]?.at).toBeGreaterThanOrEqual(sendAt);
  });

  it('AMBIGUOUS keeps the idempotency key and is retried only with ambiguous: true', async () => {
    const { emu, notifier } = await setup();
    emu.fail('drop', 1); // the vendor got it, the answer never came
    const job = await notifier.trigger('order', { phone: PHONE, orderId: 'B-1' }, { idempotencyKey: 'order-B-1' });
    const failed = await eventually(async () => {
      const record = await notifier.get(job.id);
      expect(record?.status).toBe('failed');
      return record;
    });
    expect(failed?.error?.code).toBe('AMBIGUOUS');
    // A repeat of the trigger gets the same job: the customer may have the message already.
    const repeat = await notifier.trigger('order', { phone: PHONE, orderId: 'B-1' }, { idempotencyKey: 'order-B-1' });
    expect(repeat).toEqual({ id: job.id, status: 'failed' });
    await expect(notifier.retry(job.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await notifier.retry(job.id, { ambiguous: true })).toEqual({ id: job.id, status: 'queued' });
    await eventually(async () => expect((await notifier.get(job.id))?.status).toBe('sent'));
    expect(emu.messages).toHaveLength(2);
    await eventually(() => expect(notifier.stats()).toMatchObject({ failed: 0, sent: 1 }));
  });

  it('a job past its maxAgeMs after a 502 ends expired, frees its key, and can be retried', async () => {
    const { emu, notifier } = await setup({
      notifier: { maxAgeMs: 1_000, backoff: { minMs: 5_000, maxMs: 10_000 } },
    });
    emu.fail('502', 1);
    const options = { idempotencyKey: 'order-C-1' };
    const job = await notifier.trigger('order', { phone: PHONE, orderId: 'C-1' }, options);
    // Its next attempt would come after its deadline: it ends now, with the 502 as its reason.
    const expired = await eventually(async () => {
      const record = await notifier.get(job.id);
      expect(record?.status).toBe('expired');
      return record;
    });
    expect(expired?.error).toMatchObject({ code: 'HTTP', status: 502 });
    expect(emu.messages).toHaveLength(0);
    // Never accepted: the key makes a new job.
    const again = await notifier.trigger('order', { phone: PHONE, orderId: 'C-1' }, options);
    expect(again.id).not.toBe(job.id);
    expect(await notifier.retry(job.id)).toEqual({ id: job.id, status: 'queued' });
    await eventually(async () => expect((await notifier.get(job.id))?.status).toBe('sent'));
    await eventually(async () => expect((await notifier.get(again.id))?.status).toBe('sent'));
    expect(emu.messages).toHaveLength(2);
  });

  it('a job whose notAfter passes ends expired and cannot be retried after it', async () => {
    const { emu, notifier } = await setup({ notifier: { backoff: { minMs: 5_000, maxMs: 10_000 } } });
    emu.fail('502', 1);
    const notAfter = Date.now() + 1_500;
    const job = await notifier.trigger('order', { phone: PHONE, orderId: 'D-1' }, { notAfter });
    const expired = await eventually(async () => {
      const record = await notifier.get(job.id);
      expect(record?.status).toBe('expired');
      return record;
    });
    expect(expired?.notAfter).toBe(notAfter);
    await sleep(Math.max(0, notAfter - Date.now() + 50));
    await expect(notifier.retry(job.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(emu.messages).toHaveLength(0);
  });
});
