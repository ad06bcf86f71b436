import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AnyNotifier,
  createHandler,
  createNotifier,
  defineRule,
  generateWebhookSecret,
  MemoryLimiterStore,
  type NotifierOptions,
  OlchatClient,
  type OlchatClientOptions,
} from '@olchat-kit/core';
import type { NotifierInternalOptions } from '@olchat-kit/core/queue';
import { createWebhookDispatcher } from '@olchat-kit/core/webhooks';
import { startEmulator } from '@olchat-kit/testing';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { otelTelemetry } from '../src/index.js';
import { eventually, spanStrings, startTracing } from './helpers/tracing.js';

const TOKEN = 'tok-5f2c9a71e0d4b83c';
const PHONE = '+7 912 345-67-89';
const DIGITS = '79123456789';
const NAME = 'Анна';
const TEXT = `Здравствуйте, ${NAME}! Ваш заказ №A-17 принят`;

const order = defineRule({
  id: 'order-received',
  input: z.object({ name: z.string().min(1), phone: z.string(), orderId: z.string() }),
  to: 'phone',
  text: 'Здравствуйте, {{name}}! Ваш заказ №{{orderId}} принят',
  priority: 'high',
});

let emu: Awaited<ReturnType<typeof startEmulator>>;
let tracing: ReturnType<typeof startTracing>;
const open: AnyNotifier[] = [];

beforeAll(async () => {
  emu = await startEmulator({ tokens: [TOKEN], latencyMs: [0, 10], delivery: { deliveredAfterMs: 0 } });
  tracing = startTracing();
});
afterEach(async () => {
  for (const notifier of open.splice(0)) {
    await notifier.close({ timeoutMs: 5_000 });
    await notifier.client.close();
  }
  emu.reset();
  tracing.exporter.reset();
});
afterAll(async () => {
  await tracing.stop();
  await emu.close();
});

function notifierWith(
  options: Partial<NotifierOptions & NotifierInternalOptions> = {},
  clientOptions: Partial<OlchatClientOptions> = {},
) {
  const client = new OlchatClient({
    token: TOKEN,
    baseUrl: emu.baseUrl,
    limiterStore: new MemoryLimiterStore(),
    ...clientOptions,
  });
  const notifier = createNotifier({
    client,
    rules: [order],
    telemetry: otelTelemetry({ tracerProvider: tracing.provider }),
    backoff: { minMs: 50, maxMs: 100 },
    ...options,
  });
  open.push(notifier);
  return notifier;
}

const data = { name: NAME, phone: PHONE, orderId: 'A-17' };
const one = (spans: ReadableSpan[], what: string) => {
  expect(spans, what).toHaveLength(1);
  return spans[0] as ReadableSpan;
};
const finished = (name: string, count: number) =>
  eventually(() => {
    const spans = tracing.spans(name);
    return spans.length >= count ? spans : undefined;
  }, `${count} ${name} span(s)`);

describe('spans of a message', () => {
  it('a trigger span (PRODUCER) and a send span (CLIENT) with the attributes DESIGN names', async () => {
    const notifier = notifierWith();
    const job = await notifier.trigger('order-received', data);
    const [send] = await finished('olchat.send', 1);
    const triggered = one(tracing.spans('olchat.trigger'), 'trigger spans');

    expect(triggered.kind).toBe(SpanKind.PRODUCER);
    expect(triggered.attributes).toMatchObject({
      'messaging.system': 'olchat',
      'olchat.rule': 'order-received',
      'olchat.priority': 'high',
      'olchat.job_id': job.id,
      'olchat.outcome': 'queued',
    });
    expect(triggered.status.code).toBe(SpanStatusCode.UNSET);

    expect(send?.kind).toBe(SpanKind.CLIENT);
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'olchat',
      'olchat.rule': 'order-received',
      'olchat.priority': 'high',
      'olchat.job_id': job.id,
      'olchat.attempt': 1,
      'olchat.outcome': 'sent',
      'olchat.method': 'sendText',
      'url.full': `${emu.baseUrl}/REDACTED/sendText`,
    });
    expect(send?.attributes['olchat.limiter.wait_ms']).toBeTypeOf('number');
    expect(send?.events.map((event) => event.name)).toEqual(['olchat.request']);
    expect(send?.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('the send span starts a trace of its own and links to its trigger span', async () => {
    const notifier = notifierWith();
    await notifier.trigger('order-received', data);
    const [send] = await finished('olchat.send', 1);
    const triggered = one(tracing.spans('olchat.trigger'), 'trigger spans');

    // A link, not a parent: the send happens outside the request that made it.
    expect(send?.parentSpanContext).toBeUndefined();
    expect(send?.spanContext().traceId).not.toBe(triggered.spanContext().traceId);
    expect(send?.links.map((link) => link.context)).toEqual([
      expect.objectContaining({
        traceId: triggered.spanContext().traceId,
        spanId: triggered.spanContext().spanId,
      }),
    ]);
  });

  it("the form route's HTTP span (the active context) is the trigger span's parent", async () => {
    const notifier = notifierWith();
    const handler = createHandler(notifier, { inboundLimits: false });
    const tracer = tracing.provider.getTracer('app-http');
    const http = tracer.startSpan('POST /olchat/forms/:ruleId', { kind: SpanKind.SERVER });
    const answer = await context.with(trace.setSpan(context.active(), http), () =>
      handler.handle({
        method: 'POST',
        path: '/forms/order-received',
        headers: { 'content-type': 'application/json' },
        body: { parsed: data },
      }),
    );
    http.end();
    expect(answer?.status).toBe(202);
    const triggered = one(tracing.spans('olchat.trigger'), 'trigger spans');
    expect(triggered.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
    expect(triggered.spanContext().traceId).toBe(http.spanContext().traceId);
    await finished('olchat.send', 1);
  });

  it('an ad-hoc send() has a trigger span too, without a rule, and its send links to it', async () => {
    const notifier = notifierWith();
    const job = await notifier.send({ phone: PHONE, text: TEXT }, { priority: 'low' });
    const [send] = await finished('olchat.send', 1);
    const triggered = one(tracing.spans('olchat.trigger'), 'trigger spans');
    expect(triggered.attributes['olchat.rule']).toBeUndefined();
    expect(triggered.attributes).toMatchObject({ 'olchat.job_id': job.id, 'olchat.priority': 'low' });
    expect(send?.links[0]?.context.spanId).toBe(triggered.spanContext().spanId);
  });

  it('a trigger that fails is an error with its code; a replayed key says duplicate', async () => {
    const notifier = notifierWith();
    await expect(notifier.trigger('order-received', { ...data, phone: '12345' })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    const first = await notifier.trigger('order-received', data, { idempotencyKey: 'k-1' });
    const again = await notifier.trigger('order-received', data, { idempotencyKey: 'k-1' });
    expect(again.id).toBe(first.id);
    const [failed, made, replay] = tracing.spans('olchat.trigger');
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes['olchat.error_code']).toBe('VALIDATION');
    expect(made?.attributes['olchat.outcome']).toBe('queued');
    expect(replay?.attributes).toMatchObject({ 'olchat.outcome': 'duplicate', 'olchat.job_id': first.id });
    await finished('olchat.send', 1);
  });
});

describe('failed attempts', () => {
  it('an attempt the vendor refused is an ERROR span with olchat.error_code and the status', async () => {
    const notifier = notifierWith();
    emu.fail('500');
    const job = await notifier.trigger('order-received', data);
    const [send] = await finished('olchat.send', 1);
    expect(send?.status.code).toBe(SpanStatusCode.ERROR);
    expect(send?.attributes).toMatchObject({
      'olchat.job_id': job.id,
      'olchat.outcome': 'failed',
      'olchat.error_code': 'HTTP',
      'http.response.status_code': 500,
    });
    expect(await notifier.get(job.id)).toMatchObject({ status: 'failed' });
  });

  it('a not-accepted attempt is an ERROR span (retry), and the next attempt links to the same trigger', async () => {
    const notifier = notifierWith();
    emu.fail('502');
    await notifier.trigger('order-received', data);
    const [failedAttempt, sentAttempt] = await finished('olchat.send', 2);
    const triggered = one(tracing.spans('olchat.trigger'), 'trigger spans');
    expect(failedAttempt?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failedAttempt?.attributes).toMatchObject({
      'olchat.attempt': 1,
      'olchat.outcome': 'retry',
      'olchat.error_code': 'HTTP',
      'http.response.status_code': 502,
    });
    expect(sentAttempt?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(sentAttempt?.attributes).toMatchObject({ 'olchat.attempt': 2, 'olchat.outcome': 'sent' });
    for (const attempt of [failedAttempt, sentAttempt]) {
      expect(attempt?.links[0]?.context.spanId).toBe(triggered.spanContext().spanId);
    }
  });
});

describe("the limiter's wait", () => {
  it('is on the send span in ms, and the request event marks when the request went out', async () => {
    // One send per 800 ms: the second message waits for the first one's slot.
    const notifier = notifierWith({}, { limits: { sendText: { points: 1, durationMs: 800 } } });
    await notifier.trigger('order-received', data);
    await notifier.trigger('order-received', { ...data, orderId: 'A-18' });
    const sends = await finished('olchat.send', 2);
    const waits = sends.map((span) => span.attributes['olchat.limiter.wait_ms'] as number);
    // Generous bounds: the first goes at once, the second waits out the window (≥ 800 ms after the first answer).
    expect(Math.min(...waits)).toBeLessThan(500);
    expect(Math.max(...waits)).toBeGreaterThanOrEqual(750);
    for (const span of sends) {
      const request = span.events.find((event) => event.name === 'olchat.request');
      expect(request?.attributes?.['olchat.limiter.wait_ms']).toBe(span.attributes['olchat.limiter.wait_ms']);
    }
  });
});

describe('delivery checks and webhooks', () => {
  let server: Server;
  let answers: number[] = [];
  let received = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        res.writeHead(answers.shift() ?? 204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  const endpoint = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/secret-path-77`;

  it('an olchat.delivery_check span with the job and what the vendor said', async () => {
    const notifier = notifierWith({ deliveryChecks: { afterMs: [1_000] } });
    const job = await notifier.trigger('order-received', data);
    const [check] = await finished('olchat.delivery_check', 1);
    expect(check?.kind).toBe(SpanKind.CLIENT);
    expect(check?.attributes).toMatchObject({
      'messaging.system': 'olchat',
      'olchat.job_id': job.id,
      'olchat.attempt': 1,
      'olchat.outcome': 'delivered',
      'olchat.method': 'checkMessageStatus',
    });
  });

  it('an olchat.webhook span per attempt: a refused one is an ERROR with its code, the next delivered', async () => {
    answers = [503];
    received = 0;
    const dispatcher = createWebhookDispatcher({
      endpoints: [{ url: endpoint(), secret: generateWebhookSecret() }],
      schedule: [0, 100],
      telemetry: otelTelemetry({ tracerProvider: tracing.provider }),
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    try {
      const webhookId = await dispatcher.publish('message.sent', {
        id: 'job-1',
        status: 'sent',
        phone: DIGITS,
        ruleId: 'order-received',
      } as never);
      const [refused, delivered] = await finished('olchat.webhook', 2);
      expect(received).toBe(2);
      expect(refused?.status.code).toBe(SpanStatusCode.ERROR);
      expect(refused?.attributes).toMatchObject({
        'messaging.system': 'olchat',
        'olchat.webhook.type': 'message.sent',
        'olchat.webhook.id': webhookId,
        'olchat.job_id': 'job-1',
        'olchat.attempt': 1,
        'olchat.outcome': 'retry',
        'olchat.error_code': 'HTTP',
        'http.response.status_code': 503,
        'server.address': '127.0.0.1',
      });
      expect(delivered?.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(delivered?.attributes).toMatchObject({ 'olchat.attempt': 2, 'olchat.outcome': 'delivered' });
      for (const span of [refused, delivered])
        expect(spanStrings(span as ReadableSpan).join('\n')).not.toContain('secret-path');
    } finally {
      await dispatcher.close();
    }
  });

  it("the notifier's webhooks are traced too", async () => {
    answers = [];
    const notifier = notifierWith({ webhooks: [{ url: endpoint(), secret: generateWebhookSecret() }] });
    const job = await notifier.trigger('order-received', data);
    const [hook] = await finished('olchat.webhook', 1);
    expect(hook?.attributes).toMatchObject({ 'olchat.job_id': job.id, 'olchat.outcome': 'delivered' });
  });
});

describe('what a span may hold', () => {
  it('no span names the token, the whole phone or the text, whatever happened', async () => {
    const notifier = notifierWith({ deliveryChecks: { afterMs: [1_000] } });
    emu.fail('502');
    await notifier.trigger('order-received', data);
    await notifier.send({ phone: PHONE, text: TEXT });
    await notifier.send({ phone: PHONE, file: { url: `https://shop.example/invoices/${DIGITS}.pdf`, caption: TEXT } });
    await expect(notifier.trigger('order-received', { ...data, name: '' })).rejects.toThrow();
    emu.fail('500');
    await notifier.send({ phone: PHONE, text: TEXT });
    await finished('olchat.send', 5);
    await finished('olchat.delivery_check', 1);

    const spans = tracing.spans();
    expect(new Set(spans.map((span) => span.name))).toEqual(
      new Set(['olchat.trigger', 'olchat.send', 'olchat.delivery_check']),
    );
    const shown = spans.flatMap(spanStrings).join('\n');
    expect(shown).toContain('olchat.job_id'); // the scan reads what the spans hold
    for (const secret of [TOKEN, DIGITS, DIGITS.slice(1), TEXT, NAME, 'invoices']) {
      expect(shown, `a span holds ${secret}`).not.toContain(secret);
    }
  });
});

describe('the telemetry option', () => {
  it('is refused at construction when it is not one', async () => {
    const client = new OlchatClient({ token: TOKEN, baseUrl: emu.baseUrl });
    expect(() => createNotifier({ client, telemetry: {} as never })).toThrow(/telemetry/);
    await client.close();
  });
});
