import { createHmac } from 'node:crypto';
import { createNotifier, defineRule, MemoryLimiterStore, OlchatClient, ValidationError } from '@olchat-kit/core';
import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/helpers/waiting.js';
import { type RedisQueue, redisLimiterStore, redisQueue } from '../src/index.js';
import { assertBuilt, PeopleProcess } from './helpers/children.js';
import { RedisServer } from './helpers/redis-server.js';

const SECRET = 'people-on-redis-secret-0123456789';
/** What the store is given for a phone: 16 bytes of HMAC-SHA256 with the secret, base64url. */
const keyOf = (phone: string) =>
  createHmac('sha256', SECRET).update(phone).digest().subarray(0, 16).toString('base64url');
let redis: RedisServer;
let emu: Emulator;
const cleanup: (() => Promise<unknown>)[] = [];
let names = 0;

beforeAll(async () => {
  assertBuilt();
  redis = await RedisServer.start();
  emu = await startEmulator({ limits: { sendText: { points: 1000, durationMs: 1000 } } });
});
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
  emu.reset();
});
afterAll(async () => {
  await emu?.close();
  await redis?.destroy();
});

const campaign = defineRule({ id: 'campaign', to: 'phone', text: 'Скидка 10%', priority: 'low' });
const orderPaid = defineRule({ id: 'order-paid', to: 'phone', text: 'Заказ {{n}} оплачен' });

/** One "process": its own client and Redis connections on the queue `name`. */
function processOn(
  name: string,
  clientLimits?: { points: number; durationMs: number },
  guard?: Parameters<typeof createNotifier>[0]['guard'],
) {
  // A slow limit is the token's, shared by every process (as in production); a loose one needs no Redis.
  const limiterStore = clientLimits ? redisLimiterStore({ connection: redis.connection }) : new MemoryLimiterStore();
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limiterStore,
    ...(clientLimits ? { limits: { sendText: clientLimits } } : {}),
  });
  const queue: RedisQueue = redisQueue({ connection: redis.connection, name, statsIntervalMs: 100 });
  const notifier = createNotifier({
    client,
    queue,
    rules: [campaign, orderPaid],
    secret: SECRET,
    ...(guard === undefined ? {} : { guard }),
  });
  cleanup.push(async () => {
    await notifier.close({ timeoutMs: 3_000 });
    await client.close();
    if ('close' in limiterStore) await limiterStore.close();
  });
  return { notifier, queue, people: queue.peopleStore() };
}

async function statusBecomes(
  notifier: ReturnType<typeof processOn>['notifier'],
  id: string,
  status: string,
): Promise<void> {
  await waitFor(async () => (await notifier.get(id))?.status === status, 15_000, `job ${status}`);
}

describe('people on the Redis queue', () => {
  it('two notifiers on one queue share suppressions, contacts and reply counts', async () => {
    const name = `people-${++names}`;
    const a = processOn(name);
    const b = processOn(name);

    const made = await a.notifier.suppress('+7 912 345-67-89', { reason: 'asked in the shop' });
    expect(await b.notifier.suppressed('89123456789')).toEqual(made);
    const skipped = await b.notifier.trigger('campaign', { phone: '79123456789' });
    expect(skipped.status).toBe('skipped');
    // Any process reads the record, reason and category included.
    expect(await a.notifier.get(skipped.id)).toMatchObject({
      status: 'skipped',
      reason: 'suppressed',
      category: 'marketing',
      phone: '79123456789',
    });
    const paid = await b.notifier.trigger('order-paid', { phone: '79123456789', n: '1' });
    await statusBecomes(a.notifier, paid.id, 'sent');
    expect(await a.notifier.get(paid.id)).toMatchObject({ category: 'transactional' });

    expect(await b.notifier.contacts.add(['79123456781', '79123456782'])).toBe(2);
    expect(await a.notifier.contacts.add(['79123456782', '79123456783'])).toBe(1);
    expect(await a.people.isKnown(keyOf('79123456781'))).toBe(true);
    // Sent to by B (above): known to A too.
    await waitFor(() => a.people.isKnown(keyOf('79123456789')), 5_000, 'the phone sent to to be known');

    expect(await a.notifier.contacts.replied('79123456784', { text: 'Stop' })).toEqual({
      counted: true,
      stopWord: true,
    });
    expect(await b.notifier.suppressed('79123456784')).toMatchObject({ scope: 'marketing', reason: 'stop_word' });
    // The same conversation: B does not count it again.
    expect(await b.notifier.contacts.replied('79123456784')).toEqual({ counted: false, stopWord: false });
    expect(await b.people.counts(Date.now())).toEqual({ sent7d: 1, replies7d: 1 });

    expect(await b.notifier.unsuppress('79123456789')).toBe(true);
    expect(await a.notifier.suppressed('79123456789')).toBeUndefined();
    expect((await a.notifier.trigger('campaign', { phone: '79123456789' })).status).toBe('queued');
  });

  it('a job queued by one process is skipped before the send once another suppresses its phone', async () => {
    const name = `people-${++names}`;
    // One send per 6 s on the token: the second job waits for its slot, in whichever process took it,
    // long enough for a loaded machine to see it waiting and suppress its phone (it is skipped, so
    // the test never waits the window out).
    const slow = { points: 1, durationMs: 6_000 };
    const sender = processOn(name, slow);
    const other = processOn(name, slow);
    const phones = ['79123456780', '79123456789'];
    const jobs: { id: string }[] = [];
    for (const phone of phones) jobs.push(await sender.notifier.trigger('campaign', { phone }));
    // Either process may take the slot first, for either job: the other one then waits 6 s.
    const sentIndex = await waitFor(
      async () => {
        for (const [index, job] of jobs.entries())
          if ((await other.notifier.get(job.id))?.status === 'sent') return index + 1;
        return 0;
      },
      15_000,
      'one job sent',
    );
    const waiting = jobs[2 - sentIndex] as { id: string };
    const waitingPhone = phones[2 - sentIndex] as string;
    expect((await other.notifier.get(waiting.id))?.status).toMatch(/queued|sending/);
    await other.notifier.suppress(waitingPhone);
    await statusBecomes(other.notifier, waiting.id, 'skipped');
    expect(await other.notifier.get(waiting.id)).toMatchObject({ reason: 'suppressed', attempts: 0 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(emu.messages.map((m) => m.phone)).toEqual([phones[sentIndex - 1]]);
  });

  it('another Node process on the queue shares them too', async () => {
    const name = `people-${++names}`;
    const here = processOn(name);
    const child = new PeopleProcess({
      redisPort: redis.port,
      queueName: name,
      secret: SECRET,
      suppress: [['8 (912) 345-67-89', { scope: 'all', reason: 'complaint' }]],
      contacts: ['79123456781', '+7 912 345 67 82'],
      replies: [['79123456783', 'отписаться']],
    });
    const done = await child.next('done', 30_000);
    expect(done).toMatchObject({ added: 2, replies: [{ counted: true, stopWord: true }] });
    expect(await here.notifier.suppressed('79123456789')).toMatchObject({ scope: 'all', reason: 'complaint' });
    expect((await here.notifier.trigger('order-paid', { phone: '79123456789', n: '2' })).status).toBe('skipped');
    expect((await here.notifier.trigger('campaign', { phone: '79123456783' })).status).toBe('skipped');
    expect(await here.notifier.contacts.add(['79123456781', '79123456782'])).toBe(0);
    expect(await here.people.counts(Date.now())).toEqual({ sent7d: 0, replies7d: 1 });
  });

  it('two notifiers on one queue share the new-recipient budget: over it, jobs wait scheduled with heldBy', async () => {
    const name = `people-${++names}`;
    const guard = { newRecipients: { perDay: 3 }, pacing: false } as const;
    const a = processOn(name, undefined, guard);
    const b = processOn(name, undefined, guard);
    const ids: { id: string; by: typeof a }[] = [];
    for (let i = 0; i < 6; i++) {
      const by = i % 2 === 0 ? a : b;
      ids.push({ id: (await by.notifier.trigger('campaign', { phone: `7912555000${i}` })).id, by });
    }
    await waitFor(() => emu.messages.length >= 3, 15_000, 'three sent');
    let held = 0;
    await waitFor(
      async () => {
        held = 0;
        for (const { id, by } of ids) if ((await by.notifier.get(id))?.heldBy === 'new_recipients') held++;
        return held === 3;
      },
      15_000,
      'three held',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(emu.messages).toHaveLength(3);
    // Either process's stats read the shared counts (at most a second old).
    await waitFor(() => b.notifier.stats().guard?.newRecipients24h === 3, 5_000, 'shared stats');
    await waitFor(() => a.notifier.stats().guard?.newRecipients24h === 3, 5_000, 'shared stats');
    expect(a.notifier.stats().guard).toMatchObject({ newRecipients24h: 3, newRecipientBudget: 3 });
  });

  it('the notifier refuses a Redis queue without a secret', async () => {
    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
    const queue = redisQueue({ connection: redis.connection, name: `people-${++names}` });
    try {
      expect(() => createNotifier({ client, queue })).toThrow(ValidationError);
      expect(() => createNotifier({ client, queue })).toThrow(/secret is required with a shared queue/);
    } finally {
      await queue.close({ timeoutMs: 1_000 });
      await client.close();
    }
  });

  it('no key or value in Redis holds the digits of a contact, a reply or a suppression', async () => {
    const name = `people-${++names}`;
    const { notifier } = processOn(name);
    // Phones the shop only named as contacts, opted out or heard from: never sent to.
    const people = ['79031234567', '79161234568', '77011234569', '79261234570', '79851234571'];
    await notifier.contacts.add([people[0] as string, '+7 916 123-45-68']);
    await notifier.suppress(people[2] as string, { scope: 'all' });
    await notifier.suppress('8 926 123 45 70');
    await notifier.contacts.replied(people[4] as string, { text: 'СТОП' });
    // And jobs for other phones, so there is a queue around them.
    const sent = await notifier.trigger('order-paid', { phone: '79123456789', n: '3' });
    await statusBecomes(notifier, sent.id, 'sent');

    const dump = await everything(name);
    expect(dump).toContain('~pp:known'); // the dump does reach the people store
    expect(dump).toContain(keyOf(people[0] as string));
    expect(dump).toContain('79123456789'); // and to a job's record, which names its recipient
    for (const phone of people) {
      expect(dump).not.toContain(phone);
      expect(dump).not.toContain(phone.slice(1)); // the national number
    }
    // The people keys hold no digits of any phone, a job's recipient included.
    expect(await everything(`${name}:~pp`)).not.toContain('79123456789');
  });
});

/** Every key under `olchat:<prefix>` and its value, as text. */
async function everything(prefix: string): Promise<string> {
  const client = new Redis(redis.connection);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', `olchat:${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    const parts: string[] = [];
    for (const key of keys) {
      const type = await client.type(key);
      parts.push(key);
      if (type === 'string') parts.push(String(await client.get(key)));
      else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await client.zrange(key, '0', '-1', 'WITHSCORES')));
      else if (type === 'list') parts.push(JSON.stringify(await client.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await client.smembers(key)));
      else if (type === 'stream') parts.push(JSON.stringify(await client.xrange(key, '-', '+')));
      else parts.push(`<${type}>`);
    }
    return parts.join('\n');
  } finally {
    client.disconnect();
  }
}
