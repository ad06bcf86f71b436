import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AnyNotifier,
  createNotifier,
  defineRule,
  generateWebhookSecret,
  type JobRecord,
  MemoryLimiterStore,
  OlchatClient,
} from '@olchat-kit/core';
import { phoneKeyer } from '@olchat-kit/core/queue';
import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/helpers/waiting.js';
import { redisQueue } from '../src/index.js';
import { RedisServer } from './helpers/redis-server.js';

/*
 * forget() and retention as a reader of the Redis dump sees them: every key's value, of every
 * type, is read back, and the forgotten phone (in any spelling), its texts and its jobs' ids are
 * nowhere — in our records, keys, sets and outbox, nor in BullMQ's job hashes and event stream —
 * while another phone's data is all there.
 */

const SECRET = 'forget-on-redis-secret-0123456789';
const ANNA = '79123456789';
const BORIS = '79031234567';
const loose = { points: 1_000, durationMs: 1_000 };
let redis: RedisServer;
let emu: Emulator;
let admin: Redis;
const cleanup: (() => Promise<unknown>)[] = [];
let names = 0;

beforeAll(async () => {
  redis = await RedisServer.start();
  admin = new Redis(redis.connection);
  emu = await startEmulator({ limits: { sendText: loose, sendFile: loose, checkMessageStatus: loose } });
});
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
  emu.clearFaults();
  emu.setLatency(undefined);
  emu.reset();
});
afterAll(async () => {
  admin?.disconnect();
  await emu?.close();
  await redis?.destroy();
});

const order = defineRule({
  id: 'order',
  to: 'phone',
  text: '{{name}}, заказ {{orderId}} собран',
  dedupeKey: (data) => String(data.orderId),
});

/** A webhook receiver that refuses everything: the webhooks wait in the Redis outbox. */
async function refusingEndpoint(): Promise<string> {
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(503).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
}

async function start(options: { keepFinishedMs?: number; sweepIntervalMs?: number; webhooks?: boolean } = {}) {
  const name = `forget-${++names}-${process.pid}`;
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limiterStore: new MemoryLimiterStore(),
    limits: { sendText: loose, sendFile: loose, checkMessageStatus: loose },
    timeoutMs: 5_000,
  });
  const queue = redisQueue({
    connection: redis.connection,
    name,
    statsIntervalMs: 100,
    sweepIntervalMs: options.sweepIntervalMs ?? 200,
    lockDurationMs: 2_000,
    stalledIntervalMs: 1_000,
  });
  const notifier = createNotifier({
    client,
    queue,
    rules: [order],
    secret: SECRET,
    deliveryChecks: { afterMs: [60_000] },
    ...(options.webhooks === false
      ? {}
      : { webhooks: [{ url: await refusingEndpoint(), secret: generateWebhookSecret() }] }),
    line: { checkIntervalMs: false },
    ...(options.keepFinishedMs === undefined ? {} : { keepFinishedMs: options.keepFinishedMs }),
  });
  cleanup.push(async () => {
    await notifier.close({ timeoutMs: 2_000 });
    await client.close();
  });
  return { name, notifier };
}

async function settled(notifier: AnyNotifier, id: string, status: string): Promise<JobRecord> {
  let record: JobRecord | undefined;
  await waitFor(
    async () => {
      record = await notifier.get(id);
      return record?.status === status;
    },
    15_000,
    `job ${id} ${status}`,
  );
  return record as JobRecord;
}

/** Every key of the Redis database with its value read back whole, whatever its type. */
async function dump(): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await admin.type(key);
      let value: unknown;
      if (type === 'string') value = await admin.get(key);
      else if (type === 'hash') value = await admin.hgetall(key);
      else if (type === 'list') value = await admin.lrange(key, 0, -1);
      else if (type === 'set') value = await admin.smembers(key);
      else if (type === 'zset') value = await admin.zrange(key, '0', '-1', 'WITHSCORES');
      else if (type === 'stream') value = await admin.xrange(key, '-', '+');
      else if (type !== 'none') throw new Error(`a key of type ${type}: read it too`);
      out.push(`${type} ${key} ${JSON.stringify(value)}`);
    }
  } while (cursor !== '0');
  return out;
}

/** A phone's ten national digits with anything but a digit between them: every spelling of it. */
function spellingsOf(phone: string): RegExp {
  return new RegExp(phone.slice(1).split('').join('\\D{0,4}'));
}

/** The jobs of one customer, in every state a job can be in when its phone is forgotten. */
async function customer(notifier: AnyNotifier, phone: string, name: string) {
  const texts: string[] = [];
  const ids: string[] = [];
  const trigger = async (orderId: string, options: object = {}) => {
    texts.push(`${name}, заказ ${orderId} собран`);
    const job = await notifier.trigger(
      'order',
      { phone, name, orderId },
      { idempotencyKey: `${orderId}-idem`, ...options },
    );
    ids.push(job.id);
    return job;
  };
  const sent = await trigger(`${name}-1`, { meta: { customer: name, phone } });
  await settled(notifier, sent.id, 'sent');
  emu.fail('500', 1);
  const failed = await trigger(`${name}-2`);
  await settled(notifier, failed.id, 'failed');
  // Scheduled days ahead (no BullMQ job yet), and in two seconds (a delayed BullMQ job).
  await trigger(`${name}-3`, { sendAt: Date.now() + 3 * 86_400_000, replaceKey: `${name}-visit` });
  await trigger(`${name}-4`, { sendAt: Date.now() + 2_000 });
  const cancelled = await trigger(`${name}-5`, { sendAt: Date.now() + 86_400_000 });
  await notifier.cancel(cancelled.id);
  const file = await notifier.send({
    phone,
    file: { url: `https://shop.example/${name}.pdf`, caption: `Счёт для ${name}` },
  });
  texts.push(`https://shop.example/${name}.pdf`, `Счёт для ${name}`);
  ids.push(file.id);
  await settled(notifier, file.id, 'sent');
  await notifier.contacts.replied(phone, { text: 'Спасибо' });
  return { texts, ids };
}

describe('forget() on Redis', () => {
  it('afterwards no Redis value of any type names the phone in any spelling, its texts or its jobs’ ids; the other phone is whole', async () => {
    const { notifier } = await start();
    const anna = await customer(notifier, ANNA, 'Анна');
    const boris = await customer(notifier, BORIS, 'Борис');
    // One of Anna's is on the wire when she is forgotten: the vendor answers in 1.5 s.
    emu.setLatency(1_500);
    const onTheWire = await notifier.send({ phone: ANNA, text: 'Анна, последнее сообщение' });
    anna.texts.push('Анна, последнее сообщение');
    anna.ids.push(onTheWire.id);
    await settled(notifier, onTheWire.id, 'sending');
    await notifier.suppress(ANNA, { reason: 'asked' });

    const before = (await dump()).join('\n');
    // The test reads what it means to: before, Anna is everywhere.
    expect(before).toMatch(spellingsOf(ANNA));
    for (const id of anna.ids) expect(before).toContain(id);
    expect(before).toMatch(/bull:|:events/);

    const result = await notifier.forget('8 (912) 345-67-89');
    expect(result).toMatchObject({ jobs: anna.ids.length, contacts: 1, suppressions: 0 });
    expect(result.webhooks).toBeGreaterThan(0);
    emu.setLatency(undefined);
    // Her scheduled ones never go, though one was due in two seconds.
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    const after = await dump();
    const text = after.join('\n');
    for (const line of after) {
      expect(line).not.toMatch(spellingsOf(ANNA));
      for (const id of anna.ids) expect(line).not.toContain(id);
    }
    for (const message of anna.texts) expect(text).not.toContain(JSON.stringify(message).slice(1, -1));
    expect(text).not.toContain('Анна');
    // Boris is all there: his records, texts, keys, and BullMQ's events about his jobs.
    expect(text).toMatch(spellingsOf(BORIS));
    for (const id of boris.ids) expect(text).toContain(id);
    expect(text).toContain('Борис');
    expect(await notifier.find({ phone: BORIS })).toHaveLength(boris.ids.length);
    expect(await notifier.find({ phone: ANNA })).toEqual([]);
    // Her opt-out stays, as a hash that names no one; asked, it goes too.
    expect(await notifier.suppressed(ANNA)).toMatchObject({ reason: 'asked' });
    expect(await notifier.forget(ANNA, { suppression: true })).toMatchObject({ jobs: 0, suppressions: 1 });
    // Not even her HMAC is left: no index, no contact memory, no opt-out, no place in the guard's counts.
    const hmac = phoneKeyer(SECRET)(ANNA);
    expect(before).toContain(hmac);
    expect((await dump()).join('\n')).not.toContain(hmac);
    expect((await dump()).join('\n')).toContain(phoneKeyer(SECRET)(BORIS));
    expect(emu.messages.filter((m) => m.phone === ANNA).map((m) => m.text ?? m.url)).toEqual([
      'Анна, заказ Анна-1 собран',
      'https://shop.example/Анна.pdf',
      'Анна, последнее сообщение',
    ]);
  });

  it('keepFinishedMs: a finished job is erased, its text and BullMQ’s events with it; one a key still needs keeps only what a replay answers', async () => {
    // No webhook endpoint here: one not answering keeps its webhooks (the phone in their data) for
    // the outbox's own retention, up to 7 days, whatever keepFinishedMs says.
    const { notifier } = await start({ keepFinishedMs: 1_500, sweepIntervalMs: 200, webhooks: false });
    const plain = await notifier.send({ phone: ANNA, text: 'Анна, ваш заказ R-1 собран' });
    await settled(notifier, plain.id, 'sent');
    // A dedupe key lives 24 h: a repeat of the trigger must still get this job's answer.
    const keyed = await notifier.trigger('order', { phone: ANNA, name: 'Анна', orderId: 'R-2' });
    await settled(notifier, keyed.id, 'sent');
    expect((await dump()).join('\n')).toContain('заказ R-1 собран');
    await waitFor(
      async () => !/заказ R-\d собран|Анна/.test((await dump()).join('\n')),
      20_000,
      'retention to erase the texts',
    );
    expect(await notifier.get(plain.id)).toBeUndefined();
    expect(await notifier.get(keyed.id)).toBeUndefined();
    expect(await notifier.find({ phone: ANNA })).toEqual([]);
    const left = (await dump()).join('\n');
    expect(left).not.toContain(plain.id);
    expect(await notifier.trigger('order', { phone: ANNA, name: 'Анна', orderId: 'R-2' })).toEqual({
      id: keyed.id,
      status: 'sent',
    });
    expect(emu.messages).toHaveLength(2);
    // The phone stays with the key-held one until its key expires, or until it is forgotten.
    expect(await notifier.forget(ANNA)).toMatchObject({ jobs: 1 });
    const forgotten = (await dump()).join('\n');
    expect(forgotten).not.toMatch(spellingsOf(ANNA));
    expect(forgotten).not.toContain(keyed.id);
  });
});
