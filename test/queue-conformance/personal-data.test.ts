import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createNotifier,
  defineRule,
  generateWebhookSecret,
  MemoryLimiterStore,
  type NotifierOptions,
  OlchatClient,
} from '@olchat-kit/core';
import type { NotifierInternalOptions } from '@olchat-kit/core/queue';
import { type EmulatorOptions, startEmulator } from '@olchat-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Desk, eventually, freshQueue, keysOf, newJob, PHONE, reaches, sleep } from './harness.js';

/*
 * Support and personal data on both queues: a phone's jobs found by any spelling of it, what was
 * sent kept on the record (or not), a phone forgotten on request, and finished jobs erased after
 * keepFinishedMs.
 */

const OTHER = '79001112233';

describe('a phone’s jobs in the queue', () => {
  it('findByPhone: that phone’s recorded jobs, newest first, at most limit, each with what was sent', async () => {
    const queue = freshQueue();
    new Desk(queue);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await queue.add(newJob(`t${i}`, { sendAt: Date.now() + 60_000 }))).record.id);
      await queue.add({ ...newJob(`other${i}`, { sendAt: Date.now() + 60_000 }), message: msg(OTHER, `o${i}`) });
    }
    const file = await queue.add({
      ...newJob('', { sendAt: Date.now() + 60_000 }),
      message: { phone: PHONE, file: { url: 'https://shop.example/invoice.pdf', caption: 'Счёт' }, sendToImol: false },
    });
    const found = await queue.findByPhone(PHONE, 50);
    expect(found.map((r) => r.id)).toEqual([file.record.id, ...[...ids].reverse()]);
    expect(found[0]?.file).toEqual({ url: 'https://shop.example/invoice.pdf', caption: 'Счёт' });
    expect(found[1]?.text).toBe('t4');
    expect(found.every((r) => r.phone === PHONE)).toBe(true);
    expect((await queue.findByPhone(PHONE, 2)).map((r) => r.id)).toEqual([file.record.id, ids[4]]);
    expect(await queue.findByPhone('79990000000', 50)).toEqual([]);
  });

  it('forget: every job of the phone goes, in every state; the pending ones never reach the worker or onFinished', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    // A sent one, a scheduled one, and one queued behind a job the worker holds.
    const sent = await queue.add(newJob('sent', { keys: keysOf('sent') }));
    await (await desk.next()).send();
    await desk.finishedWith(sent.record.id, 'sent');
    const other = await queue.add({ ...newJob('other'), message: msg(OTHER, 'other') });
    const holding = await desk.next();
    const queued = await queue.add(newJob('queued', { keys: keysOf('queued'), replaceKey: 'visit:1' }));
    const scheduled = await queue.add(newJob('later', { sendAt: Date.now() + 60_000 }));
    const forgotten = await queue.forget(PHONE);
    expect(forgotten.jobs).toBe(3);
    expect([...forgotten.ids].sort()).toEqual([sent.record.id, queued.record.id, scheduled.record.id].sort());
    for (const id of forgotten.ids) expect(await queue.get(id)).toBeUndefined();
    expect(await queue.findByPhone(PHONE, 50)).toEqual([]);
    // Its keys and its replace key point nowhere: a new job takes them.
    expect(await queue.find(keysOf('sent'))).toBeUndefined();
    expect(await queue.find(keysOf('queued'))).toBeUndefined();
    expect(await queue.cancel({ replaceKey: 'visit:1' })).toBeUndefined();
    await holding.send();
    await desk.finishedWith(other.record.id, 'sent');
    await sleep(300);
    expect(desk.pickups.map((p) => p.id)).toEqual([sent.record.id, other.record.id]);
    expect(desk.finished.map((r) => r.id)).toEqual([sent.record.id, other.record.id]);
    await eventually(() => expect(queue.stats()).toMatchObject({ scheduled: 0, queued: 0, sending: 0, sent: 2 }));
    // The other phone's job is whole.
    expect(await queue.get(other.record.id)).toMatchObject({ status: 'sent', phone: OTHER, text: 'other' });
    expect(await queue.findByPhone(OTHER, 50)).toHaveLength(1);
    expect(await queue.forget(PHONE)).toEqual({ jobs: 0, ids: [] });
  });

  it('forget: a job being sent finishes its attempt, is then erased without onFinished, and forget waits for it', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const job = await queue.add(newJob('on the wire'));
    const pickup = await desk.next();
    await pickup.attempt();
    await reaches(queue, job.record.id, 'sending');
    let done = false;
    const forgetting = queue.forget(PHONE).then((result) => {
      done = true;
      return result;
    });
    await sleep(200);
    expect(done).toBe(false);
    expect((await queue.get(job.record.id))?.status).toBe('sending');
    // No second attempt of a forgotten job.
    await expect(pickup.attempt()).rejects.toBeDefined();
    pickup.end({ status: 'sent', messageId: 'm-1' });
    expect(await forgetting).toEqual({ jobs: 1, ids: [job.record.id] });
    expect(await queue.get(job.record.id)).toBeUndefined();
    await sleep(200);
    expect(desk.reports(job.record.id)).toBe(0);
    await eventually(() => expect(queue.stats()).toMatchObject({ sending: 0, sent: 0 }));
  });

  it('storeText: false: the text is kept while the job waits and dropped once it is finished', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue, { storeText: false });
    const job = await queue.add(newJob('secret words'));
    expect(job.record.text).toBe('secret words');
    await (await desk.next()).send();
    const record = await reaches(queue, job.record.id, 'sent');
    expect(record.text).toBeUndefined();
    expect((await queue.findByPhone(PHONE, 1))[0]?.text).toBeUndefined();
  });

  it('keepFinishedMs: a finished job is erased after it, and findByPhone no longer finds it', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue, { keepFinishedMs: 1_000 });
    const job = await queue.add(newJob('short-lived'));
    await (await desk.next()).send();
    await reaches(queue, job.record.id, 'sent');
    expect(await queue.findByPhone(PHONE, 5)).toHaveLength(1);
    await eventually(async () => {
      expect(await queue.get(job.record.id)).toBeUndefined();
      expect(await queue.findByPhone(PHONE, 5)).toEqual([]);
    });
  });
});

describe('through a notifier', () => {
  const TOKEN = 'personal-data-token';
  const loose = { points: 1_000, durationMs: 1_000 };
  const order = defineRule({ id: 'order', to: 'phone', text: 'Заказ {{orderId}} принят' });
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(
    options: { notifier?: Partial<NotifierOptions> & NotifierInternalOptions; emulator?: EmulatorOptions } = {},
  ) {
    const emu = await startEmulator({
      tokens: [TOKEN],
      limits: { sendText: loose, sendFile: loose },
      ...options.emulator,
    });
    const client = new OlchatClient({
      token: TOKEN,
      baseUrl: emu.baseUrl,
      limiterStore: new MemoryLimiterStore(),
      timeoutMs: 5_000,
      limits: { sendText: loose, sendFile: loose, checkMessageStatus: loose },
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
    return { emu, notifier };
  }

  /** A webhook receiver that refuses everything (the webhooks wait in the outbox), counting attempts. */
  async function failingEndpoint(): Promise<{ url: string; bodies: string[] }> {
    const bodies: string[] = [];
    const server: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        bodies.push(body);
        response.writeHead(503).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, bodies };
  }

  it('find() takes the phone in any common spelling and answers its records with their texts', async () => {
    const { notifier } = await setup();
    const first = await notifier.trigger('order', { phone: '+7 (912) 345-67-89', orderId: 'A-1' });
    const second = await notifier.send({ phone: '89123456789', text: 'Ваш заказ в пути' });
    await notifier.send({ phone: OTHER, text: 'not this one' });
    await eventually(async () => expect((await notifier.get(second.id))?.status).toBe('sent'));
    for (const spelling of ['79123456789', '9123456789', '+7 912 345-67-89', 89123456789]) {
      const found = await notifier.find({ phone: spelling });
      expect(found.map((r) => r.id)).toEqual([second.id, first.id]);
    }
    const [latest] = await notifier.find({ phone: PHONE, limit: 1 });
    expect(latest).toMatchObject({ id: second.id, text: 'Ваш заказ в пути', phone: '79123456789' });
    expect((await notifier.get(first.id))?.text).toBe('Заказ A-1 принят');
    await expect(notifier.find({ phone: '12345' })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(notifier.find({ phone: PHONE, limit: 0 })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('forget(): pending jobs are never sent and no webhook is sent for them; undelivered webhooks and contacts go; the suppression stays unless asked', async () => {
    const endpoint = await failingEndpoint();
    const { emu, notifier } = await setup({
      notifier: { webhooks: [{ url: endpoint.url, secret: generateWebhookSecret() }] },
    });
    const sent = await notifier.send({ phone: PHONE, text: 'Первое сообщение' });
    const otherJob = await notifier.send({ phone: OTHER, text: 'Другому' });
    await eventually(async () => expect((await notifier.get(sent.id))?.status).toBe('sent'));
    await eventually(async () => expect((await notifier.get(otherJob.id))?.status).toBe('sent'));
    // The endpoint refused both sent webhooks: they wait in the outbox.
    await eventually(() => expect(endpoint.bodies.length).toBeGreaterThanOrEqual(2));
    const scheduled = await notifier.send({ phone: PHONE, text: 'Позже' }, { sendAt: Date.now() + 1_500 });
    await notifier.suppress(PHONE, { reason: 'asked' });
    const answer = await notifier.forget('8 912 345 67 89');
    expect(answer).toMatchObject({ jobs: 2, contacts: 1, webhooks: 1, suppressions: 0 });
    expect(answer.at).toBeGreaterThanOrEqual(Date.now() - 5_000);
    expect(await notifier.get(sent.id)).toBeUndefined();
    expect(await notifier.get(scheduled.id)).toBeUndefined();
    expect(await notifier.find({ phone: PHONE })).toEqual([]);
    expect(await notifier.suppressed(PHONE)).toMatchObject({ scope: 'marketing', reason: 'asked' });
    const attempts = endpoint.bodies.length;
    // The other phone's webhook is tried again (5 s on); the forgotten one's never is.
    await eventually(() =>
      expect(endpoint.bodies.slice(attempts).some((body) => body.includes(otherJob.id))).toBe(true),
    );
    await sleep(500);
    expect(endpoint.bodies.slice(attempts).every((body) => !body.includes('79123456789'))).toBe(true);
    // Its scheduled job's time passed: it never went.
    expect(emu.messages.map((m) => m.text)).toEqual(['Первое сообщение', 'Другому']);
    expect(await notifier.get(otherJob.id)).toMatchObject({ status: 'sent', text: 'Другому' });
    expect(await notifier.forget(PHONE, { suppression: true })).toMatchObject({
      jobs: 0,
      contacts: 0,
      webhooks: 0,
      suppressions: 1,
    });
    expect(await notifier.suppressed(PHONE)).toBeUndefined();
    await expect(notifier.forget('not a phone')).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('forget() lets a job being sent finish, then erases it: no event, no webhook, no contact left', async () => {
    const endpoint = await failingEndpoint();
    const { emu, notifier } = await setup({
      emulator: { latencyMs: 1_000 },
      notifier: { webhooks: [{ url: endpoint.url, secret: generateWebhookSecret() }] },
    });
    const events: string[] = [];
    notifier.on('sent', (record) => events.push(record.id));
    const job = await notifier.send({ phone: PHONE, text: 'На проводе' });
    await eventually(async () => expect((await notifier.get(job.id))?.status).toBe('sending'));
    const answer = await notifier.forget(PHONE);
    expect(answer).toMatchObject({ jobs: 1, contacts: 0, webhooks: 0 });
    // It reached the vendor: the attempt was let finish.
    expect(emu.messages.map((m) => m.text)).toEqual(['На проводе']);
    expect(await notifier.get(job.id)).toBeUndefined();
    await sleep(500);
    expect(events).toEqual([]);
    expect(endpoint.bodies.filter((body) => body.includes(job.id))).toEqual([]);
    expect(await notifier.forget(PHONE)).toMatchObject({ jobs: 0, contacts: 0, webhooks: 0 });
  });

  it('webhook endpoints may omit the phone and meta', async () => {
    const bare = await failingEndpoint();
    const full = await failingEndpoint();
    const { notifier } = await setup({
      notifier: {
        webhooks: [
          { url: bare.url, secret: generateWebhookSecret(), omit: ['phone', 'meta'] },
          { url: full.url, secret: generateWebhookSecret() },
        ],
      },
    });
    const job = await notifier.send({ phone: PHONE, text: 'hi' }, { meta: { orderId: 'Z-9' } });
    await eventually(() => expect(bare.bodies.length * full.bodies.length).toBeGreaterThan(0));
    const bareData = JSON.parse(bare.bodies[0] as string).data;
    expect(bareData).toEqual({ id: job.id, status: 'sent', messageId: expect.any(String) });
    expect(JSON.parse(full.bodies[0] as string).data).toMatchObject({ phone: '79123456789', meta: { orderId: 'Z-9' } });
  });
});

function msg(phone: string, text: string) {
  return { phone, text, sendToImol: false };
}
