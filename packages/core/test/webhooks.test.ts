import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../../../test/helpers/waiting.js';
import { ClosedError, ValidationError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { JobRecord } from '../src/queue/types.js';
import {
  createWebhookDispatcher,
  generateWebhookSecret,
  MemoryWebhookOutbox,
  WEBHOOK_RETRY_SCHEDULE,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  webhookData,
} from '../src/webhooks/index.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** What the receiver does with one request: answer a status (with headers), or never answer. */
type Answer = number | { status: number; headers: Record<string, string> } | 'hang';

/** A real HTTP receiver on 127.0.0.1 that records every request it gets. */
async function startReceiver(answer: (index: number, request: Received) => Answer = () => 204) {
  const requests: Received[] = [];
  const hung: ServerResponse[] = [];
  let open = 0;
  let maxOpen = 0;
  const server = createServer((req, res) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    res.once('close', () => open--);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const reply = answer(requests.push(request) - 1, request);
      if (reply === 'hang') {
        hung.push(res);
        return;
      }
      const { status, headers } = typeof reply === 'number' ? { status: reply, headers: {} } : reply;
      res.writeHead(status, headers).end(status === 204 ? undefined : 'answer');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    requests,
    get open() {
      return open;
    },
    get maxOpen() {
      return maxOpen;
    },
    /** Answers every request left hanging with 200. */
    release() {
      for (const res of hung.splice(0)) if (!res.destroyed) res.writeHead(200).end('ok');
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

function recordingLogger() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines, text: () => JSON.stringify(lines) };
}

const sentRecord: JobRecord = {
  id: 'job-1',
  ruleId: 'order-paid',
  phone: '79123456789',
  priority: 'normal',
  category: 'transactional',
  attempts: 1,
  status: 'sent',
  messageId: 'wamid.1',
  meta: { orderId: 42 },
  createdAt: 1,
  updatedAt: 2,
};

const open: { close(): Promise<void> }[] = [];
const dispatchers: WebhookDispatcher[] = [];

async function receiver(answer?: (index: number, request: Received) => Answer): Promise<Receiver> {
  const started = await startReceiver(answer);
  open.push(started);
  return started;
}

function dispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const made = createWebhookDispatcher({ logger: recordingLogger().logger, ...options });
  dispatchers.push(made);
  return made;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(dispatchers.splice(0).map((d) => d.close({ timeoutMs: 100 })));
  await Promise.all(open.splice(0).map((r) => r.close()));
});

function verify(secret: string, request: Received): unknown {
  return new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
}

describe('webhook deliveries', () => {
  it('are Standard Webhooks: every one verifies with the standardwebhooks package', async () => {
    const secret = generateWebhookSecret();
    const crm = await receiver();
    const hooks = dispatcher({ endpoints: [{ url: crm.url, secret }] });
    const before = Math.floor(Date.now() / 1000);
    const id = await hooks.publish('message.sent', webhookData(sentRecord), { at: new Date('2025-03-01T10:00:00Z') });
    await hooks.publish('line.down', { state: 'down', reason: 'line_down' });
    await waitFor(() => crm.requests.length === 2, 10_000, 'two deliveries');

    const [sent, down] = crm.requests as [Received, Received];
    expect(verify(secret, sent)).toEqual({
      type: 'message.sent',
      timestamp: '2025-03-01T10:00:00.000Z',
      data: {
        id: 'job-1',
        ruleId: 'order-paid',
        status: 'sent',
        phone: '79123456789',
        messageId: 'wamid.1',
        meta: { orderId: 42 },
      },
    });
    expect(verify(secret, down)).toMatchObject({ type: 'line.down', data: { state: 'down', reason: 'line_down' } });
    expect(sent.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'olchat-kit',
      'webhook-id': id,
    });
    expect(id).toMatch(/^msg_[A-Za-z0-9_-]{22}$/);
    expect(down.headers['webhook-id']).not.toBe(id);
    expect(Number(sent.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(before);
    // Not vacuous: another endpoint's secret does not verify it.
    expect(() => verify(generateWebhookSecret(), sent)).toThrow(/No matching signature/);
  });

  it('are retried after 500s with the same webhook-id and body, each attempt signed anew, until a 2xx', async () => {
    const secret = generateWebhookSecret();
    const crm = await receiver((index) => (index < 2 ? 500 : 200));
    const outbox = new MemoryWebhookOutbox();
    const hooks = dispatcher({ endpoints: [{ url: crm.url, secret }], outbox, schedule: [0, 100, 100, 100] });
    const id = await hooks.publish(
      'message.failed',
      webhookData({ ...sentRecord, status: 'failed', error: { code: 'HTTP', message: 'no' } }),
    );
    await waitFor(() => crm.requests.length === 3, 10_000, 'three attempts');
    await waitFor(() => crm.open === 0, 10_000, 'the last answer');
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(crm.requests).toHaveLength(3); // the 2xx ended it
    expect(new Set(crm.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([id]));
    expect(new Set(crm.requests.map((r) => r.body)).size).toBe(1);
    for (const request of crm.requests) expect(verify(secret, request)).toMatchObject({ type: 'message.failed' });
    const [first, second, third] = crm.requests.map((r) => r.at) as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(95);
    expect(third - second).toBeGreaterThanOrEqual(95);
    expect(await outbox.size()).toBe(0);
  });

  it('treat a timeout as a failed attempt and retry it with the same webhook-id and body', async () => {
    const secret = generateWebhookSecret();
    const crm = await receiver((index) => (index === 0 ? 'hang' : 200));
    const { logger, lines } = recordingLogger();
    const outbox = new MemoryWebhookOutbox();
    const hooks = dispatcher({
      endpoints: [{ url: crm.url, secret }],
      outbox,
      logger,
      // Long enough that the answered retry is never cut short on a loaded machine.
      timeoutMs: 1_000,
      schedule: [0, 50],
    });
    const id = await hooks.publish('message.sent', webhookData(sentRecord));
    await waitFor(() => crm.requests.length === 2, 10_000, 'the retry');
    await waitFor(async () => (await outbox.size()) === 0, 10_000, 'the delivery to be done');

    expect(crm.requests.map((r) => r.headers['webhook-id'])).toEqual([id, id]);
    expect(crm.requests[1]?.body).toBe(crm.requests[0]?.body);
    expect(verify(secret, crm.requests[1] as Received)).toMatchObject({ data: { id: 'job-1' } });
    // The retry came after the timeout, not at once (arrivals are stamped by the receiver, which may
    // see the first request late on a loaded machine: half the timeout is the margin).
    expect((crm.requests[1]?.at as number) - (crm.requests[0]?.at as number)).toBeGreaterThanOrEqual(500);
    expect(lines.find((l) => l.level === 'warn')?.msg).toContain('no answer within 1000 ms');
  });

  it('wait at least as long as a Retry-After asks before the next attempt', async () => {
    const crm = await receiver((index) => (index === 0 ? { status: 503, headers: { 'retry-after': '1' } } : 204));
    const hooks = dispatcher({ endpoints: [{ url: crm.url, secret: generateWebhookSecret() }], schedule: [0, 50] });
    await hooks.publish('line.up', { state: 'up' });
    await waitFor(() => crm.requests.length === 2, 10_000, 'the retry');
    expect((crm.requests[1]?.at as number) - (crm.requests[0]?.at as number)).toBeGreaterThanOrEqual(990);
  });

  it('never follow a redirect: a 302 is a failure, retried, and its target gets nothing; then given up, logged without secrets', async () => {
    const secret = generateWebhookSecret();
    const target = await receiver();
    const moved = await receiver(() => ({ status: 302, headers: { location: target.url } }));
    const { logger, lines, text } = recordingLogger();
    const outbox = new MemoryWebhookOutbox();
    const url = `http://hook-user:hook-pass@127.0.0.1:${moved.port}/in?token=query-secret`;
    const hooks = dispatcher({ endpoints: [{ url, secret }], outbox, logger, schedule: [0, 50, 50] });
    const id = await hooks.publish('message.sent', webhookData(sentRecord));
    await waitFor(() => lines.some((l) => l.level === 'error'), 10_000, 'the give-up');

    expect(moved.requests).toHaveLength(3);
    expect(target.requests).toHaveLength(0);
    expect(moved.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('hook-user:hook-pass').toString('base64')}`,
    );
    const error = lines.find((l) => l.level === 'error');
    expect(error?.msg).toContain('given up after 3 attempts');
    expect(error?.msg).toContain('redirect 302');
    expect(error?.obj).toMatchObject({ webhookId: id, endpoint: `http://127.0.0.1:${moved.port}` });
    for (const leak of [secret, secret.slice(6), 'query-secret', 'hook-pass', '/in'])
      expect(text()).not.toContain(leak);
    expect(await outbox.size()).toBe(0);
  });

  it('go only to endpoints whose events filter includes the type (default: all)', async () => {
    const failures = await receiver();
    const everything = await receiver();
    const line = await receiver();
    const secret = generateWebhookSecret();
    const hooks = dispatcher({
      endpoints: [
        { url: failures.url.replace('/hooks', '/failures'), secret, events: ['message.failed', 'message.expired'] },
        { url: everything.url, secret },
        { url: line.url, secret, events: ['line.down', 'line.up'] },
      ],
    });
    await hooks.publish('message.sent', webhookData(sentRecord));
    await hooks.publish(
      'message.failed',
      webhookData({ ...sentRecord, status: 'failed', error: { code: 'HTTP', message: 'x' } }),
    );
    await hooks.publish('line.down', { state: 'down', reason: 'vendor_unreachable' });
    await hooks.publish('line.up', { state: 'up' });
    await waitFor(
      () => everything.requests.length === 4 && line.requests.length === 2 && failures.requests.length === 1,
      10_000,
      'fan-out',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    const types = (r: Receiver) => r.requests.map((q) => (JSON.parse(q.body) as { type: string }).type).sort();
    expect(types(failures)).toEqual(['message.failed']);
    expect(types(everything)).toEqual(['line.down', 'line.up', 'message.failed', 'message.sent']);
    expect(types(line)).toEqual(['line.down', 'line.up']);
    // One event, one webhook-id, at every endpoint it goes to.
    expect(line.requests[0]?.headers['webhook-id']).toBe(
      everything.requests.find((r) => r.body.includes('line.down'))?.headers['webhook-id'],
    );
    const onlyLine = dispatcher({ endpoints: [{ url: line.url, secret, events: ['line.up'] }] });
    expect(await onlyLine.publish('message.sent', webhookData(sentRecord))).toBeUndefined();
  });

  it('to a slow endpoint never delay another endpoint or publish(); at most 4 attempts per endpoint at once', async () => {
    const secret = generateWebhookSecret();
    const slow = await receiver(() => 'hang');
    const fast = await receiver();
    const hooks = dispatcher({
      endpoints: [
        { url: slow.url, secret },
        { url: fast.url, secret },
      ],
      timeoutMs: 30_000,
    });
    let slowestPublish = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      await hooks.publish('message.sent', webhookData({ ...sentRecord, id: `job-${i}` }));
      slowestPublish = Math.max(slowestPublish, performance.now() - started);
    }
    await waitFor(() => fast.requests.length === 20, 5_000, 'all 20 at the fast endpoint');
    // The slow endpoint answers nothing until release() below: a publish() that waited for it would
    // never return, or only after the 30 s attempt timeout. The bound is generous for a loaded machine.
    expect(slowestPublish).toBeLessThan(5_000);
    expect(slow.requests).toHaveLength(4); // the rest wait in the outbox
    expect(slow.maxOpen).toBe(4);

    slow.release();
    await waitFor(() => slow.requests.length === 4 + 4, 10_000, 'the next four once the first answered');
    const releaser = setInterval(() => slow.release(), 20);
    try {
      await waitFor(() => slow.requests.length === 20, 10_000, 'all 20 at the slow endpoint');
    } finally {
      clearInterval(releaser);
    }
    expect(slow.maxOpen).toBe(4);
    expect(new Set(slow.requests.map((r) => r.headers['webhook-id'])).size).toBe(20);
  });

  it('keep the memory outbox bounded: past maxPending the oldest undelivered is dropped, with a warning', async () => {
    const down = await receiver(() => 503);
    const { logger, lines } = recordingLogger();
    const outbox = new MemoryWebhookOutbox({ maxPending: 50, logger });
    const hooks = dispatcher({
      endpoints: [{ url: down.url, secret: generateWebhookSecret() }],
      outbox,
      logger,
      schedule: [0, 3_600_000],
    });
    for (let i = 0; i < 80; i++) await hooks.publish('message.sent', webhookData({ ...sentRecord, id: `job-${i}` }));
    expect(await outbox.size()).toBeLessThanOrEqual(50 + 4);
    await waitFor(() => down.requests.length >= 50, 10_000, 'the first attempts');
    expect(await outbox.size()).toBe(50);
    expect(outbox.dropped).toBe(30);
    expect(lines.filter((l) => l.level === 'warn' && l.msg?.includes('dropped the oldest'))).toHaveLength(1);
  });

  it('reject bad endpoints with ValidationError at webhooks[i], and publish after close with ClosedError', async () => {
    const secret = generateWebhookSecret();
    let error: unknown;
    try {
      createWebhookDispatcher({
        endpoints: [
          { url: 'http://127.0.0.1:1/', secret },
          { url: 'http://127.0.0.1:2/', secret: 'whsec_AAAA' },
        ],
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'webhooks[1].secret', message: expect.stringContaining('at least 24 bytes') },
    ]);
    const hooks = createWebhookDispatcher({ endpoints: [{ url: 'http://127.0.0.1:1/', secret }] });
    await hooks.close();
    await expect(hooks.publish('line.up', { state: 'up' })).rejects.toBeInstanceOf(ClosedError);
    const open = dispatcher({ endpoints: [{ url: 'http://127.0.0.1:1/', secret }] });
    await expect(open.publish('message.bounced' as never, {} as never)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('webhook timing (fake clock)', () => {
  /** A port nothing listens on: every attempt fails at once with ECONNREFUSED. */
  async function refusedUrl(): Promise<string> {
    const closed = await startReceiver();
    await closed.close();
    return closed.url;
  }

  it('one timer serves every pending delivery, not one each', async () => {
    const url = await refusedUrl();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { logger, lines } = recordingLogger();
    const outbox = new MemoryWebhookOutbox();
    const hooks = dispatcher({
      endpoints: [{ url, secret: generateWebhookSecret() }],
      outbox,
      logger,
      schedule: [0, 3_600_000],
    });
    for (let i = 0; i < 500; i++) await hooks.publish('message.sent', webhookData({ ...sentRecord, id: `job-${i}` }));
    const failed = () => lines.filter((l) => l.level === 'warn' || l.level === 'debug').length;
    await waitFor(() => failed() === 500, 10_000, 'every first attempt to fail');
    // 500 retries pending an hour away: the dispatcher's own timer and undici's clock tick, not 500.
    expect(await outbox.size()).toBe(500);
    expect(vi.getTimerCount()).toBeLessThanOrEqual(3);

    await vi.advanceTimersByTimeAsync(3_600_000 * 1.1 + 1_000);
    await waitFor(
      () => lines.filter((l) => l.level === 'error').length === 500,
      10_000,
      'every second attempt (the last)',
    );
    expect(await outbox.size()).toBe(0);
  });

  it('with the default schedule, retries for more than 24 h (8 attempts) before giving up', async () => {
    const url = await refusedUrl();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { logger, lines } = recordingLogger();
    const hooks = dispatcher({ endpoints: [{ url, secret: generateWebhookSecret() }], logger });
    const start = Date.now();
    await hooks.publish('message.sent', webhookData(sentRecord));
    const attempts: number[] = [];
    const outcomes = () => lines.filter((l) => l.level !== 'info').length;
    for (let i = 1; i <= WEBHOOK_RETRY_SCHEDULE.length; i++) {
      await waitFor(() => outcomes() === i, 10_000, `attempt ${i}`);
      attempts.push(Date.now() - start);
      if (i < WEBHOOK_RETRY_SCHEDULE.length) {
        const { nextAt } = (lines.at(-1) as { obj: { nextAt: string } }).obj;
        await vi.advanceTimersByTimeAsync(Date.parse(nextAt) - Date.now() + 20);
      }
    }
    expect(lines.at(-1)).toMatchObject({ level: 'error', obj: { attempt: 8 } });
    expect(attempts).toHaveLength(8);
    expect(attempts.at(-1)).toBeGreaterThanOrEqual(24 * 3_600_000);
    // Each wait at least the schedule's.
    for (let i = 1; i < attempts.length; i++) {
      expect((attempts[i] as number) - (attempts[i - 1] as number)).toBeGreaterThanOrEqual(
        WEBHOOK_RETRY_SCHEDULE[i] as number,
      );
    }
  });
});
