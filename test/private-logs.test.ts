import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AnyNotifier,
  createHandler,
  createNotifier,
  defineRule,
  generateWebhookSecret,
  type HandlerRequest,
  type JobQueue,
  type Logger,
  MemoryLimiterStore,
  OlchatClient,
} from '@olchat-kit/core';
import { createDashboard } from '@olchat-kit/core/dashboard';
import { redisQueue } from '@olchat-kit/redis';
import { startEmulator } from '@olchat-kit/testing';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { RedisServer } from '../packages/redis/test/helpers/redis-server.js';
import { skipReason } from '../scripts/system-deps.mjs';

/*
 * No log line holds a whole phone or a message text. One recording logger is given to every part
 * that logs (client, notifier, HTTP handler, dashboard, Redis queue), and the app goes through what
 * makes them talk: vendor outages and refusals, a vendor that quotes the phone and text back, a
 * line going down, bad input, a listener that throws with the job in its message, failing webhook
 * endpoints, and (on Redis) the Redis server going away. Then every line is read.
 */

const PHONES = ['79123456789', '79031234567'];
const SECRET = 'private-logs-secret-0123456789';
const TOKEN = 'private-logs-token';
const loose = { points: 1_000, durationMs: 1_000 };
const rule = defineRule({
  id: 'order',
  to: 'phone',
  text: 'Анна Петрова, заказ {{orderId}} собран, код выдачи {{code}}',
});

interface Line {
  level: string;
  obj: unknown;
  msg: string | undefined;
}

function recorder(lines: Line[]): Logger {
  const write = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj: JSON.parse(JSON.stringify(obj ?? {})), msg });
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A phone's ten national digits with anything but a digit between them: every spelling of it. */
function spellingsOf(phone: string): RegExp {
  return new RegExp(phone.slice(1).split('').join('\\D{0,3}'));
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

let redis: RedisServer | undefined;
afterAll(async () => {
  await redis?.destroy();
});

/** A vendor that refuses every send, quoting the phone and the text back in its error. */
async function quotingVendor(): Promise<string> {
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const phone = url.searchParams.get('phone_number') ?? '';
    const body = url.searchParams.get('body') ?? '';
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ result: false, error: `Номер ${phone}: сообщение «${body}» не доставлено` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/rest/webhook/wa`;
}

/** A webhook endpoint answering 500, and one nobody listens on. */
async function failingEndpoints(): Promise<string[]> {
  const server: Server = createServer((_request, response) => response.writeHead(500).end('no'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  return [`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, `http://127.0.0.1:${deadPort}/hooks`];
}

function request(method: string, path: string, body?: string, headers: Record<string, string> = {}): HandlerRequest {
  return {
    method,
    path,
    headers: {
      host: 'shop.test',
      ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
      ...headers,
    },
    ...(body === undefined
      ? {}
      : {
          body: (async function* () {
            yield body;
          })(),
        }),
  };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`still waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 25 },
  );
}

async function walkThrough(kind: 'memory' | 'redis'): Promise<{ lines: Line[]; texts: string[] }> {
  const lines: Line[] = [];
  const logger = recorder(lines);
  const texts: string[] = [];
  const emu = await startEmulator({ tokens: [TOKEN], limits: { sendText: loose, sendFile: loose } });
  cleanups.push(() => emu.close());
  const client = new OlchatClient({
    token: TOKEN,
    baseUrl: emu.baseUrl,
    limiterStore: new MemoryLimiterStore(),
    limits: { sendText: loose, sendFile: loose },
    timeoutMs: 1_000,
    retry: { retries: 1, minDelayMs: 10, maxDelayMs: 20 },
    logger,
  });
  cleanups.push(() => client.close());
  let queue: JobQueue | undefined;
  if (kind === 'redis') {
    redis ??= await RedisServer.start();
    queue = redisQueue({
      connection: redis.connection,
      name: `private-logs-${process.pid}`,
      logger,
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
      sweepIntervalMs: 200,
      statsIntervalMs: 200,
      addTimeoutMs: 1_000,
    });
  }
  const notifier: AnyNotifier = createNotifier({
    client,
    rules: [rule],
    secret: SECRET,
    logger,
    maxAgeMs: 60_000,
    backoff: { minMs: 50, maxMs: 200 },
    line: { checkIntervalMs: false, probeMinMs: 50, probeMaxMs: 200 },
    webhooks: (await failingEndpoints()).map((url) => ({ url, secret: generateWebhookSecret() })),
    ...(queue ? { queue } : {}),
  });
  cleanups.push(() => notifier.close({ timeoutMs: 1_000 }));
  const handler = createHandler(notifier, { apiKey: 'private-logs-api-key-0123', logger });
  const dashboard = createDashboard(notifier, { logger });

  // A listener that quotes its job back when it throws.
  notifier.on('sent', (record) => {
    throw new Error(`listener broke on ${record.phone}: ${record.text}`);
  });
  notifier.on('failed', async (record) => {
    throw new Error(
      `async listener broke on +7 ${record.phone?.slice(1, 4)} ${record.phone?.slice(4)}: ${record.text}`,
    );
  });

  let n = 0;
  const trigger = async (phone: string) => {
    const orderId = `A-${++n}`;
    const code = `${7000 + n}-ZX`;
    texts.push(`Анна Петрова, заказ ${orderId} собран, код выдачи ${code}`);
    return notifier.trigger('order', { phone, orderId, code });
  };
  const settled = async (id: string) =>
    until(async () => ['sent', 'failed', 'expired'].includes((await notifier.get(id))?.status ?? ''), `job ${id}`);

  // Sent: the listener throws with the phone and the text.
  await settled((await trigger(PHONES[0] as string)).id);
  // The vendor down: 502s and a timeout, then back.
  emu.fail('502', 3);
  await settled((await trigger(PHONES[1] as string)).id);
  emu.fail('timeout', 1);
  await settled((await trigger(PHONES[0] as string)).id);
  emu.fail('drop', 1);
  await settled((await trigger(PHONES[1] as string)).id);
  emu.fail('500', 2);
  await settled((await trigger(PHONES[0] as string)).id);
  // The line goes down and comes back.
  emu.setConnected(false);
  await notifier.refreshLine(0);
  emu.setConnected(true);
  const afterLine = await trigger(PHONES[1] as string);
  await notifier.refreshLine(0);
  await settled(afterLine.id);

  // A vendor that quotes the phone and the text in its refusal.
  const quoting = new OlchatClient({
    token: TOKEN,
    baseUrl: await quotingVendor(),
    limiterStore: new MemoryLimiterStore(),
    limits: { sendText: loose },
    logger,
  });
  cleanups.push(() => quoting.close());
  const quotedText = 'Анна Петрова, ваш пропуск 4417-QQ готов';
  texts.push(quotedText);
  await expect(quoting.sendText({ phone: '+7 903 123-45-67', text: quotedText })).rejects.toMatchObject({
    code: 'VENDOR_ERROR',
  });

  // Bad input at the door, and an ad-hoc message through the API.
  const bodies: [string, string, string | undefined, Record<string, string>][] = [
    [
      'POST',
      '/forms/order',
      JSON.stringify({ phone: '+7 912 345-67-8', orderId: 'x', code: 'y' }),
      { 'content-type': 'application/json' },
    ],
    ['POST', '/forms/order', '{"phone": "79123456789", ', { 'content-type': 'application/json' }],
    [
      'POST',
      '/forms/order',
      `phone=${encodeURIComponent('8 912 345 67 89')}&__proto__=1`,
      { 'content-type': 'application/x-www-form-urlencoded' },
    ],
    ['POST', '/forms/nope', JSON.stringify({ phone: PHONES[0] }), { 'content-type': 'application/json' }],
    ['DELETE', '/people/12345', undefined, { authorization: 'Bearer private-logs-api-key-0123' }],
    ['GET', `/suppressions/${PHONES[1]}`, undefined, { authorization: 'Bearer wrong' }],
    [
      'POST',
      '/replies',
      JSON.stringify({ phone: PHONES[1], text: 'стоп' }),
      { 'content-type': 'application/json', authorization: 'Bearer private-logs-api-key-0123' },
    ],
  ];
  for (const [method, path, body, headers] of bodies) {
    const answer = await handler.handle(request(method, path, body, headers));
    expect(answer?.status, `${method} ${path}`).toBeLessThan(500);
  }
  const apiText = 'Ваш курьер Сергей приедет к 18:00, код 5512';
  texts.push(apiText);
  const api = await handler.handle(
    request('POST', '/messages', JSON.stringify({ phone: '+7 (903) 123-45-67', text: apiText }), {
      'content-type': 'application/json',
      authorization: 'Bearer private-logs-api-key-0123',
    }),
  );
  expect(api?.status).toBe(202);
  await settled(JSON.parse(api?.body as string).id);
  // The dashboard's search with a phone, and one with rubbish.
  for (const phone of ['8 912 345-67-89', 'not a phone']) {
    const body = new URLSearchParams({ phone }).toString();
    await dashboard.handle({
      ...request('POST', '/search', body, { 'content-type': 'application/x-www-form-urlencoded' }),
      basePath: '/admin',
    });
  }

  if (kind === 'redis' && redis) {
    // Redis goes away while jobs are triggered and worked, then comes back.
    await redis.stop();
    await trigger(PHONES[0] as string).catch(() => undefined);
    await notifier.find({ phone: PHONES[0] as string }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await redis.start();
    // Once the connections are back, a trigger goes through again.
    let after: string | undefined;
    await until(async () => {
      after = await trigger(PHONES[1] as string).then(
        (job) => job.id,
        () => undefined,
      );
      return after !== undefined;
    }, 'a trigger after Redis came back');
    await settled(after as string);
  }
  // The webhooks about all of it have failed at least once at both endpoints.
  await until(() => lines.some((line) => line.msg?.includes('webhook endpoint failing')), 'failing webhooks');
  await notifier.forget(PHONES[0] as string);
  return { lines, texts };
}

function check(lines: Line[], texts: string[]): void {
  // The walk made every part talk: these lines must be there for the test to mean anything.
  const said = (fragment: string) => lines.some((line) => `${line.msg}`.includes(fragment));
  expect(said('listener threw'), 'a listener error').toBe(true);
  expect(said('WhatsApp line is down'), 'the line down').toBe(true);
  expect(said('webhook endpoint failing'), 'failing webhooks').toBe(true);
  expect(
    lines.some((line) => line.msg?.includes('reported a failure') || line.msg?.includes('answered HTTP')),
    'a vendor refusal',
  ).toBe(true);
  for (const line of lines) {
    const text = `${line.msg ?? ''} ${JSON.stringify(line.obj)}`;
    for (const phone of [...PHONES, '79031234567']) expect(text, text).not.toMatch(spellingsOf(phone));
    for (const message of texts) expect(text, text).not.toContain(message);
    // Not even a distinctive part of one (the name, a code).
    expect(text, text).not.toMatch(/Анна Петрова|код выдачи|4417-QQ|курьер Сергей/);
  }
}

describe('no log line holds a whole phone or a message text', () => {
  it('on the memory queue: outages, failures, a quoting vendor, bad input, throwing listeners, failing webhooks', async () => {
    const { lines, texts } = await walkThrough('memory');
    expect(lines.length).toBeGreaterThan(10);
    check(lines, texts);
  });

  it('on the Redis queue, Redis going away and coming back included', async ({ skip }) => {
    const missing = skipReason('redis-server');
    if (missing) skip(missing);
    const { lines, texts } = await walkThrough('redis');
    expect(lines.some((line) => line.msg?.includes('olchat-kit redis'))).toBe(true);
    check(lines, texts);
  });
});
