import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startEmulator } from '@olchat-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { finished, waitFor } from '../../../test/helpers/waiting.js';
import {
  type AnyRule,
  createNotifier,
  defineRule,
  type JobRecord,
  MemoryLimiterStore,
  MemoryQueue,
  type AnyNotifier as Notifier,
  OlchatClient,
  type OlchatClientOptions,
  OlchatError,
} from '../src/index.js';
import type { NotifierInternalOptions } from '../src/queue/index.js';
import { rejection } from './helpers/rejection.js';

// Scaled-down limits keep the suite quick; the limiter itself is proven at vendor scale in burst.test.ts.
const limits = { sendText: { points: 5, durationMs: 500 }, sendFile: { points: 5, durationMs: 500 } };
let emu: Awaited<ReturnType<typeof startEmulator>>;
// One store for every client in this file: the no-violation check below spans all tests.
const store = new MemoryLimiterStore();
const open: Notifier[] = [];
const violationsSeen: number[] = [];

beforeAll(async () => {
  emu = await startEmulator({ limits, latencyMs: [0, 30] });
});
afterEach(async () => {
  for (const n of open.splice(0)) {
    await n.close({ timeoutMs: 5000 });
    await n.client.close();
  }
  violationsSeen.push(emu.violations.length);
  emu.reset();
});
afterAll(async () => {
  await emu.close();
});

afterAll(() => {
  expect(violationsSeen.reduce((a, b) => a + b, 0)).toBe(0);
});

const orderReceived = defineRule({
  id: 'order-received',
  input: z.object({ name: z.string().min(1), phone: z.string(), orderId: z.string() }),
  to: 'phone',
  text: 'Здравствуйте, {{name}}! Мы получили ваш заказ №{{orderId}}',
});

function make(
  rules: AnyRule[] = [orderReceived],
  clientOptions: Partial<OlchatClientOptions> = {},
  queue?: MemoryQueue,
  notifierOptions: NotifierInternalOptions = {},
): Notifier {
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limits,
    limiterStore: store,
    retry: { minDelayMs: 20, maxDelayMs: 60 },
    ...clientOptions,
  });
  const notifier = createNotifier({ client, rules, ...(queue ? { queue } : {}), ...notifierOptions });
  open.push(notifier);
  return notifier;
}

describe('rules and the notifier', () => {
  it('renders a rule from validated data, queues at once and sends', async () => {
    const notifier = make();
    const job = await notifier.trigger('order-received', {
      name: 'Айгуль 🌷',
      phone: '8 (701) 234-56-78',
      orderId: 'A-42',
    });
    expect(job.status).toBe('queued');
    const record = await finished(notifier, job.id);
    expect(record).toMatchObject({ id: job.id, ruleId: 'order-received', status: 'sent', attempts: 1 });
    expect(record.messageId).toBe(emu.messages[0]?.id);
    expect(emu.messages[0]).toMatchObject({
      phone: '77012345678',
      text: 'Здравствуйте, Айгуль 🌷! Мы получили ваш заказ №A-42',
      sendToImol: false,
    });
  });

  it('renders nested fields, uses a function recipient and sendToImol', async () => {
    const rule = defineRule({
      id: 'shipped',
      input: z.object({
        order: z.object({ id: z.number(), customer: z.object({ tel: z.string(), name: z.string() }) }),
      }),
      to: (data) => data.order.customer.tel,
      text: '{{order.customer.name}}, заказ {{ order.id }} передан в доставку 🚚',
      sendToImol: true,
    });
    const notifier = make([rule]);
    const job = await notifier.trigger('shipped', {
      order: { id: 7, customer: { tel: '+7 912 345 67 89', name: 'Иван' } },
    });
    await finished(notifier, job.id);
    expect(emu.messages[0]).toMatchObject({
      phone: '79123456789',
      text: 'Иван, заказ 7 передан в доставку 🚚',
      sendToImol: true,
    });
  });

  it('sends file rules with a templated link and caption', async () => {
    const rule = defineRule({
      id: 'invoice',
      input: z.object({ phone: z.string(), invoice: z.string() }),
      to: 'phone',
      file: { url: 'https://shop.example/invoices/{{invoice}}.pdf', caption: 'Счёт №{{invoice}}' },
    });
    const notifier = make([rule]);
    const job = await notifier.trigger('invoice', { phone: '79123456789', invoice: '1001' });
    await finished(notifier, job.id);
    expect(emu.messages[0]).toMatchObject({
      method: 'sendFile',
      url: 'https://shop.example/invoices/1001.pdf',
      caption: 'Счёт №1001',
    });
  });

  it('when() false records a skipped job and sends nothing', async () => {
    const rule = defineRule({ id: 'vip', to: 'phone', text: 'Hi {{name}}', when: (d) => d.vip === true });
    const notifier = make([rule]);
    const job = await notifier.trigger('vip', { phone: '79123456789', name: 'A', vip: false });
    expect(job.status).toBe('skipped');
    expect((await notifier.get(job.id))?.status).toBe('skipped');
    await new Promise((r) => setTimeout(r, 100));
    expect(emu.requests).toHaveLength(0);
  });

  it('invalid data, a missing template field or a bad recipient is VALIDATION and nothing is queued or sent', async () => {
    const loose = defineRule({ id: 'loose', to: 'phone', text: 'Заказ {{orderId}} для {{customer.name}}' });
    const notifier = make([orderReceived, loose]);
    const bad = [
      notifier.trigger('order-received', { name: '', phone: '79123456789', orderId: '1' }),
      notifier.trigger('order-received', { name: 'A', phone: '79123456789' }),
      notifier.trigger('order-received', { name: 'A', phone: '+1 202 555 0143', orderId: '1' }),
      notifier.trigger('order-received', 'not an object'),
      notifier.trigger('loose', { phone: '79123456789', orderId: '1' }),
      notifier.trigger('loose', { phone: '79123456789', orderId: '1', customer: { name: { nested: 'object' } } }),
      notifier.trigger('loose', { phone: '79123456789', orderId: '  ', customer: { name: 'A' } }),
      notifier.trigger('loose', { orderId: '1', customer: { name: 'A' } }),
    ];
    for (const promise of bad) expect((await rejection(promise)).code).toBe('VALIDATION');
    const missing = await rejection(notifier.trigger('loose', { phone: '79123456789', orderId: '1' }));
    expect((missing as OlchatError & { issues: { path: string }[] }).issues[0]?.path).toBe('customer.name');
    expect(notifier.stats()).toMatchObject({ scheduled: 0, queued: 0, sending: 0, sent: 0, failed: 0 });
    await new Promise((r) => setTimeout(r, 100));
    expect(emu.requests).toHaveLength(0);
  });

  it('unknown rules are UNKNOWN_RULE; duplicate rule ids are refused', async () => {
    const notifier = make();
    expect((await rejection(notifier.trigger('nope', {}))).code).toBe('UNKNOWN_RULE');
    expect(() => createNotifier({ client: notifier.client, rules: [orderReceived, orderReceived] })).toThrow(
      /Two rules/,
    );
  });

  it('templates are inert: values are never expanded again and prototype paths are refused', async () => {
    const rule = defineRule({ id: 'echo', to: 'phone', text: 'Вы написали: {{comment}}' });
    const notifier = make([rule]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text must reach the phone literally
    const hostile = '{{phone}} {{__proto__}} {{constructor.name}} ${process.env}';
    const job = await notifier.trigger(
      'echo',
      JSON.parse(`{"phone":"79123456789","comment":${JSON.stringify(hostile)},"__proto__":{"polluted":1}}`),
    );
    await finished(notifier, job.id);
    expect(emu.messages[0]?.text).toBe(`Вы написали: ${hostile}`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    for (const text of ['{{__proto__.polluted}}', '{{a.constructor}}', '{{prototype}}', '{{a b}}']) {
      expect(() => defineRule({ id: 'evil', to: 'phone', text })).toThrow(OlchatError);
    }
    // A recipient path through the prototype is refused as well.
    expect(() => defineRule({ id: 'evil', to: '__proto__.phone', text: 'x' })).toThrow(OlchatError);
    // Inherited properties are not fields: {{toString}} has no value on a plain object.
    const inherited = defineRule({ id: 'inherited', to: 'phone', text: 'x {{toString}}' });
    const other = make([inherited]);
    expect((await rejection(other.trigger('inherited', { phone: '79123456789' }))).code).toBe('VALIDATION');
  });

  it('the same idempotencyKey returns the same job and sends once', async () => {
    const notifier = make();
    const data = { name: 'A', phone: '79123456789', orderId: '1' };
    const [a, b] = await Promise.all([
      notifier.trigger('order-received', data, { idempotencyKey: 'crm-77' }),
      notifier.trigger('order-received', data, { idempotencyKey: 'crm-77' }),
    ]);
    expect(b?.id).toBe(a?.id);
    await finished(notifier, a?.id as string);
    const c = await notifier.trigger('order-received', data, { idempotencyKey: 'crm-77' });
    expect(c).toEqual({ id: a?.id, status: 'sent' });
    const adhoc1 = await notifier.send({ phone: '79123456789', text: 'ad hoc' }, { idempotencyKey: '1c-5' });
    const adhoc2 = await notifier.send({ phone: '79123456789', text: 'ad hoc' }, { idempotencyKey: '1c-5' });
    expect(adhoc2.id).toBe(adhoc1.id);
    await finished(notifier, adhoc1.id);
    expect(emu.messages).toHaveLength(2);
  });

  it('dedupeKey sends once within dedupeTtlMs, and again after it', async () => {
    const rule = defineRule({
      id: 'paid',
      input: z.object({ phone: z.string(), orderId: z.string() }),
      to: 'phone',
      text: 'Оплата заказа {{orderId}} получена',
      dedupeKey: (d) => d.orderId,
    });
    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limits, limiterStore: store });
    const notifier = createNotifier({ client, rules: [rule], dedupeTtlMs: 400 });
    open.push(notifier);
    const first = await notifier.trigger('paid', { phone: '79123456789', orderId: '9' });
    const again = await notifier.trigger('paid', { phone: '+7 912 345-67-89', orderId: '9' });
    const otherOrder = await notifier.trigger('paid', { phone: '79123456789', orderId: '10' });
    expect(again.id).toBe(first.id);
    expect(otherOrder.id).not.toBe(first.id);
    await new Promise((r) => setTimeout(r, 450));
    const later = await notifier.trigger('paid', { phone: '79123456789', orderId: '9' });
    expect(later.id).not.toBe(first.id);
    await Promise.all([first, otherOrder, later].map((j) => finished(notifier, j.id)));
    expect(emu.messages.map((m) => m.text).sort()).toEqual([
      'Оплата заказа 10 получена',
      'Оплата заказа 9 получена',
      'Оплата заказа 9 получена',
    ]);
  });

  it('three 502s, then sent: one message, four attempts', async () => {
    const notifier = make();
    emu.fail('502', 3);
    const sent: JobRecord[] = [];
    notifier.on('sent', (r) => sent.push(r));
    const job = await notifier.trigger('order-received', { name: 'A', phone: '79123456789', orderId: '3' });
    const record = await finished(notifier, job.id);
    expect(record).toMatchObject({ status: 'sent', attempts: 4 });
    expect(sent.map((r) => r.id)).toEqual([job.id]);
    expect(emu.messages).toHaveLength(1);
  });

  it('a vendor that keeps answering 503 never fails the job: it waits, then expires at notAfter with the last error', async () => {
    const notifier = make([orderReceived], {}, undefined, { backoff: { minMs: 20, maxMs: 60 } });
    emu.fail('503', Number.POSITIVE_INFINITY);
    const ended: JobRecord[] = [];
    notifier.on('failed', (r) => ended.push(r)).on('expired', (r) => ended.push(r));
    const notAfter = Date.now() + 3_000;
    const job = await notifier.trigger(
      'order-received',
      { name: 'A', phone: '79123456789', orderId: '3' },
      { notAfter },
    );
    // Between its attempts it waits in line with the vendor's error, never failed.
    const waiting = await waitFor(
      async () => {
        const record = await notifier.get(job.id);
        return record && record.attempts >= 2 ? record : undefined;
      },
      10_000,
      'a second attempt',
    );
    expect(['queued', 'sending', 'expired']).toContain(waiting.status);
    expect(waiting.error).toMatchObject({ code: 'HTTP', status: 503 });
    const record = await finished(notifier, job.id, ['expired']);
    expect(record).toMatchObject({ status: 'expired', error: { code: 'HTTP', status: 503 } });
    expect(record.attempts).toBeGreaterThan(1);
    // It kept trying until its deadline: it ends when the next try (at most 60 ms away) would be too late.
    expect(record.updatedAt).toBeGreaterThanOrEqual(notAfter - 60);
    expect(ended.map((r) => r.status)).toEqual(['expired']);
    expect(emu.messages).toHaveLength(0);
    emu.clearFaults();
  });

  it('a hang is AMBIGUOUS with exactly one request seen, never repeated', async () => {
    const notifier = make([orderReceived], { timeoutMs: 300 });
    emu.fail('timeout');
    const job = await notifier.trigger('order-received', { name: 'A', phone: '79123456789', orderId: '5' });
    const record = await finished(notifier, job.id);
    expect(record).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'AMBIGUOUS' } });
    await new Promise((r) => setTimeout(r, 200));
    expect(emu.requests).toHaveLength(1);
  });

  it('send() queues ad-hoc text and file messages, and refuses bad ones', async () => {
    const notifier = make();
    const a = await notifier.send({ phone: '8 912 345 67 89', text: 'Ваш заказ готов' });
    const b = await notifier.send({ phone: '79123456789', file: { url: 'https://x.example/a.pdf', caption: 'Чек' } });
    await Promise.all([finished(notifier, a.id), finished(notifier, b.id)]);
    expect(emu.messages).toHaveLength(2);
    for (const bad of [
      { phone: '1', text: 'x' },
      { phone: '79123456789' },
      { phone: '79123456789', text: 'x', file: { url: 'https://x' } },
      { phone: '79123456789', file: { url: 'file:///etc/passwd' } },
    ]) {
      expect((await rejection(notifier.send(bad as never))).code).toBe('VALIDATION');
    }
  });

  it('close() drains 12 queued jobs, then refuses new ones with CLOSED', async () => {
    const notifier = make();
    const jobs = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        notifier.trigger('order-received', { name: 'A', phone: '79123456789', orderId: `${i}` }),
      ),
    );
    expect(notifier.stats().queued + notifier.stats().sending).toBe(12);
    await notifier.close();
    expect(emu.messages).toHaveLength(12);
    expect(notifier.stats()).toMatchObject({ queued: 0, sending: 0, sent: 12 });
    for (const job of jobs) expect((await notifier.get(job.id))?.status).toBe('sent');
    expect(
      (await rejection(notifier.trigger('order-received', { name: 'A', phone: '79123456789', orderId: 'x' }))).code,
    ).toBe('CLOSED');
    expect((await rejection(notifier.send({ phone: '79123456789', text: 'x' }))).code).toBe('CLOSED');
  });

  it('close() past its timeout marks what could not be sent as failed CLOSED instead of losing it silently', async () => {
    const slow = { sendText: { points: 1, durationMs: 60_000 } };
    const client = new OlchatClient({
      token: emu.token,
      baseUrl: emu.baseUrl,
      limits: slow,
      // The first job must go at once and the rest wait a minute: an empty window at the start (the
      // emulator is this file's own, nothing used it before).
      limiterStore: new MemoryLimiterStore({ assumeRecentUse: false }),
    });
    const notifier = createNotifier({ client, rules: [orderReceived], concurrency: 2 });
    const jobs = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        notifier.trigger('order-received', { name: 'A', phone: '79123456789', orderId: `${i}` }),
      ),
    );
    await notifier.close({ timeoutMs: 300 });
    const records = await Promise.all(jobs.map((j) => notifier.get(j.id)));
    expect(records.map((r) => r?.status)).toEqual(['sent', 'failed', 'failed', 'failed']);
    expect(records.slice(1).every((r) => r?.error?.code === 'CLOSED')).toBe(true);
    expect(emu.messages).toHaveLength(1);
    await client.close();
  });
});

describe('the memory queue keeps a bounded history', () => {
  it('forgets finished records past maxFinished, but never lets a known key send again', async () => {
    const queue = new MemoryQueue({ maxFinished: 3 });
    const notifier = make([orderReceived], {}, queue);
    const first = await notifier.trigger(
      'order-received',
      { name: 'A', phone: '79123456789', orderId: '0' },
      { idempotencyKey: 'k0' },
    );
    const rest = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        notifier.trigger('order-received', { name: 'A', phone: '79123456789', orderId: `${i + 1}` }),
      ),
    );
    await Promise.all([first, ...rest].map((j) => finished(notifier, j.id)));
    expect(await notifier.get(first.id)).toBeUndefined();
    expect(await notifier.get(rest[4]?.id as string)).toBeDefined();
    const repeat = await notifier.trigger(
      'order-received',
      { name: 'A', phone: '79123456789', orderId: '0' },
      { idempotencyKey: 'k0' },
    );
    expect(repeat).toEqual({ id: first.id, status: 'sent' });
    expect(emu.messages).toHaveLength(6);
  });

  it('forgets finished records after keepFinishedMs', async () => {
    const notifier = make([orderReceived], {}, new MemoryQueue({ keepFinishedMs: 50 }));
    const job = await notifier.trigger('order-received', { name: 'A', phone: '79123456789', orderId: '0' });
    await finished(notifier, job.id);
    await new Promise((r) => setTimeout(r, 80));
    expect(await notifier.get(job.id)).toBeUndefined();
  });
});

describe('what a queued job keeps', () => {
  it('its own copy of the strings it was given, not the large ones they were sliced from', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const used = () => {
      gc();
      return getHeapStatistics().used_heap_size;
    };
    const bare = defineRule({ id: 'bare', to: 'phone', text: '{{message}}' });
    const notifier = make([bare]);
    const sendAt = Date.now() + 3600_000; // scheduled: each job keeps its text meanwhile
    const before = used();
    for (let i = 0; i < 20; i++) {
      // A 1 MB request body; each slice of it would keep all of it alive.
      const body = `${i}-`.repeat(400_000).slice(0, 1_000_000);
      const data = { phone: '+79123456789', message: body.slice(0, 50) };
      await notifier.trigger('bare', data, { sendAt, replaceKey: body.slice(50, 100) });
      await notifier.send({ phone: '+79123456789', text: body.slice(100, 150) }, { sendAt });
    }
    expect(notifier.stats().scheduled).toBe(40);
    // Kept whole, the 20 bodies would be 20 MB.
    expect(used() - before).toBeLessThan(4_000_000);
  });
});
