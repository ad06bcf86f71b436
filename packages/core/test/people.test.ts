import { randomBytes } from 'node:crypto';
import { startEmulator } from '@olchat-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  type AnyRule,
  createNotifier,
  defineRule,
  type JobQueue,
  MemoryLimiterStore,
  MemoryQueue,
  type AnyNotifier as Notifier,
  type NotifierOptions,
  OlchatClient,
  type OlchatClientOptions,
  ValidationError,
} from '../src/index.js';
import { MemoryPeopleStore } from '../src/people/memory-store.js';
import { phoneKeyer } from '../src/people/phone-key.js';
import { isStopWord } from '../src/people/stop-words.js';
import { PEOPLE_WINDOW_MS } from '../src/queue/people-store.js';
import { rejection } from './helpers/rejection.js';

const SECRET = 'people-test-secret-0123456789';
const keyOf = phoneKeyer(SECRET);
const loose = { points: 1000, durationMs: 1000 };
let emu: Awaited<ReturnType<typeof startEmulator>>;
const open: Notifier[] = [];

beforeAll(async () => {
  emu = await startEmulator({ limits: { sendText: loose, sendFile: loose } });
});
afterEach(async () => {
  for (const notifier of open.splice(0)) {
    await notifier.close({ timeoutMs: 2000 });
    await notifier.client.close();
  }
  emu.clearFaults();
  emu.reset();
});
afterAll(async () => {
  await emu.close();
});

const campaign = defineRule({
  id: 'campaign',
  input: z.object({ phone: z.string() }),
  to: 'phone',
  text: 'Скидка 10% до воскресенья',
  priority: 'low',
});
const orderPaid = defineRule({
  id: 'order-paid',
  input: z.object({ phone: z.string() }),
  to: 'phone',
  text: 'Заказ оплачен',
});
const newsletter = defineRule({
  id: 'newsletter',
  input: z.object({ phone: z.string() }),
  to: 'phone',
  text: 'Новости магазина',
  category: 'marketing',
});
const maybe = defineRule({
  id: 'maybe',
  input: z.object({ phone: z.string() }),
  to: 'phone',
  text: 'never',
  when: () => false,
});
const rules: AnyRule[] = [campaign, orderPaid, newsletter, maybe];

/** A memory queue whose people store the test can look into. */
class PeopleQueue extends MemoryQueue {
  readonly people = new MemoryPeopleStore();
  peopleStore(): MemoryPeopleStore {
    return this.people;
  }
}

function make(
  options: Partial<NotifierOptions> = {},
  clientOptions: Partial<OlchatClientOptions> = {},
): { notifier: Notifier; people: MemoryPeopleStore } {
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limits: { sendText: loose, sendFile: loose },
    limiterStore: new MemoryLimiterStore(),
    retry: { minDelayMs: 10, maxDelayMs: 30 },
    ...clientOptions,
  });
  const queue = new PeopleQueue();
  const notifier = createNotifier({ client, rules, queue, secret: SECRET, ...options });
  open.push(notifier);
  return { notifier, people: queue.people };
}

async function statusOf(notifier: Notifier, id: string, status: string) {
  await vi.waitFor(async () => expect((await notifier.get(id))?.status).toBe(status), {
    timeout: 10_000,
    interval: 10,
  });
  return notifier.get(id);
}

describe('stop words', () => {
  it('are the whole message, in any case, with punctuation and spaces trimmed', () => {
    for (const text of [
      'стоп',
      'СТОП',
      ' Стоп!!! ',
      'stop',
      'STOP.',
      'Отписаться',
      'unsubscribe',
      'Не  пишите!',
      '«стоп»',
    ])
      expect(isStopWord(text), text).toBe(true);
    for (const text of ['стоп, я передумал', 'не стоп', 'stopp', 'пишите', '', 'stop it', 'ОТПИСАТЬСЯ ОТ ВСЕГО'])
      expect(isStopWord(text), text).toBe(false);
    expect(isStopWord(undefined)).toBe(false);
    expect(isStopWord(`${' '.repeat(10_000)}stop`)).toBe(false);
  });
});

describe('the memory people store', () => {
  it('knows exactly the phones it was given, through growth, as a Set would', async () => {
    const store = new MemoryPeopleStore();
    const model = new Set<string>();
    const keys = Array.from({ length: 6000 }, () => randomBytes(16).toString('base64url'));
    for (const [index, key] of keys.entries()) {
      if (index % 3 === 0) {
        expect(await store.recordSent(key, 0)).toBe(!model.has(key));
        model.add(key);
      } else {
        // A batch with an earlier key in it, and the same key twice.
        const batch = [key, keys[index >> 1] as string, key];
        const fresh = new Set(batch.filter((k) => !model.has(k))).size;
        expect(await store.markKnown(batch, 0)).toBe(fresh);
        for (const k of batch) model.add(k);
      }
      if (index % 500 === 0) {
        for (const probe of keys) expect(await store.isKnown(probe)).toBe(model.has(probe));
      }
    }
    expect(store.contacts).toBe(model.size);
    await expect(store.isKnown('not-a-key')).rejects.toThrow(TypeError);
  });

  it('counts one reply per phone until it is written to again, over a rolling 7 days', async () => {
    const store = new MemoryPeopleStore();
    const key = randomBytes(16).toString('base64url');
    const t0 = Date.UTC(2025, 0, 6, 10);
    expect(await store.recordSent(key, t0)).toBe(true);
    expect(await store.recordReply(key, t0 + 60_000)).toBe(true);
    expect(await store.recordReply(key, t0 + 120_000)).toBe(false); // the same conversation
    expect(await store.recordSent(key, t0 + 3_600_000)).toBe(false); // known
    expect(await store.recordReply(key, t0 + 3_700_000)).toBe(true);
    // A phone never written to that writes in counts once too.
    const inbound = randomBytes(16).toString('base64url');
    expect(await store.recordReply(inbound, t0)).toBe(true);
    expect(await store.isKnown(inbound)).toBe(true);
    expect(await store.counts(t0 + 3_700_000)).toEqual({ sent7d: 2, replies7d: 3 });
    // Six days and 23 hours on everything is still in; an hour past 7 days the first hour's is out.
    expect(await store.counts(t0 + PEOPLE_WINDOW_MS - 3_600_000)).toEqual({ sent7d: 2, replies7d: 3 });
    expect(await store.counts(t0 + PEOPLE_WINDOW_MS + 10_000)).toEqual({ sent7d: 1, replies7d: 1 });
    expect(await store.counts(t0 + 2 * PEOPLE_WINDOW_MS)).toEqual({ sent7d: 0, replies7d: 0 });
  });
});

describe('suppressions', () => {
  it('suppress, suppressed and unsuppress take a phone in any common spelling', async () => {
    const { notifier } = make();
    const before = Date.now();
    const made = await notifier.suppress('+7 (912) 345-67-89', { reason: 'asked by phone' });
    expect(made).toEqual({ scope: 'marketing', reason: 'asked by phone', at: expect.any(Number) });
    expect(made.at).toBeGreaterThanOrEqual(before);
    expect(await notifier.suppressed('89123456789')).toEqual(made);
    expect(await notifier.suppressed(79123456789)).toEqual(made);
    expect(await notifier.suppressed('79123456780')).toBeUndefined();
    // A later call replaces it, scope and all.
    expect(await notifier.suppress('79123456789', { scope: 'all' })).toMatchObject({ scope: 'all' });
    expect((await notifier.suppressed('79123456789'))?.reason).toBeUndefined();
    expect(await notifier.unsuppress('8 912 345 67 89')).toBe(true);
    expect(await notifier.unsuppress('79123456789')).toBe(false);
    expect(await notifier.suppressed('79123456789')).toBeUndefined();
  });

  it('refuses a bad phone, scope or reason with VALIDATION', async () => {
    const { notifier } = make();
    for (const call of [
      () => notifier.suppress('12345'),
      () => notifier.suppress('79123456789', { scope: 'everything' as 'all' }),
      () => notifier.suppress('79123456789', { reason: 'x'.repeat(201) }),
      () => notifier.unsuppress('not a phone'),
      () => notifier.suppressed({} as string),
      () => notifier.contacts.replied('79123456789', { text: 42 as unknown as string }),
      () => notifier.contacts.add('79123456789' as unknown as string[]),
    ]) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(ValidationError);
    }
    expect(await rejection(notifier.contacts.add(['79123456789', 'oops']))).toMatchObject({
      code: 'VALIDATION',
      issues: [{ path: '1' }],
    });
  });

  it('a marketing job for a suppressed phone is skipped at trigger; a transactional one still goes out', async () => {
    const { notifier } = make();
    await notifier.suppress('79123456789');
    const skipped = await notifier.trigger('campaign', { phone: '+79123456789' });
    expect(skipped).toEqual({ id: expect.any(String), status: 'skipped' });
    expect(await notifier.get(skipped.id)).toMatchObject({
      status: 'skipped',
      reason: 'suppressed',
      category: 'marketing',
      ruleId: 'campaign',
      phone: '79123456789',
    });
    // Marketing by the rule's own word, by the trigger's, and an ad-hoc one in the low lane.
    expect((await notifier.trigger('newsletter', { phone: '79123456789' })).status).toBe('skipped');
    expect((await notifier.trigger('order-paid', { phone: '79123456789' }, { category: 'marketing' })).status).toBe(
      'skipped',
    );
    expect((await notifier.send({ phone: '79123456789', text: 'Акция' }, { priority: 'low' })).status).toBe('skipped');
    const paid = await notifier.trigger('order-paid', { phone: '79123456789' });
    expect(paid.status).toBe('queued');
    expect(await statusOf(notifier, paid.id, 'sent')).toMatchObject({ category: 'transactional' });
    // A campaign rule triggered in the high lane is transactional: the category follows the effective priority.
    const forced = await notifier.trigger('campaign', { phone: '79123456789' }, { priority: 'high' });
    expect((await notifier.get(forced.id))?.category).toBe('transactional');
    await statusOf(notifier, forced.id, 'sent');
    expect(emu.messages.map((m) => m.text)).toEqual(['Заказ оплачен', 'Скидка 10% до воскресенья']);
  });

  it("scope 'all' holds back transactional messages too; unsuppress lets them through again", async () => {
    const { notifier } = make();
    await notifier.suppress('79123456789', { scope: 'all', reason: 'court order' });
    const paid = await notifier.trigger('order-paid', { phone: '79123456789' });
    expect(paid.status).toBe('skipped');
    expect(await notifier.get(paid.id)).toMatchObject({ reason: 'suppressed', category: 'transactional' });
    expect((await notifier.send({ phone: '79123456789', text: 'Чек' })).status).toBe('skipped');
    await notifier.unsuppress('79123456789');
    const again = await notifier.trigger('order-paid', { phone: '79123456789' });
    await statusOf(notifier, again.id, 'sent');
    expect(emu.messages).toHaveLength(1);
  });

  it("a job skipped by when() says reason 'when'; a replay of a suppressed job's key answers the same job", async () => {
    const { notifier } = make();
    const when = await notifier.trigger('maybe', { phone: '79123456789' });
    expect(await notifier.get(when.id)).toMatchObject({ status: 'skipped', reason: 'when', category: 'transactional' });
    expect((await notifier.get(when.id))?.phone).toBeUndefined();
    await notifier.suppress('79123456789');
    const first = await notifier.trigger('campaign', { phone: '79123456789' }, { idempotencyKey: 'c-1' });
    const replay = await notifier.trigger('campaign', { phone: '79123456789' }, { idempotencyKey: 'c-1' });
    expect(replay).toEqual(first);
  });

  it('a job queued before the suppression is checked again just before the send, and never sent', async () => {
    // One send a second: the second job waits for its slot with the worker holding it.
    const slow = { points: 1, durationMs: 1500 };
    const { notifier } = make({}, { limits: { sendText: slow, sendFile: slow } });
    const first = await notifier.trigger('campaign', { phone: '79123456780' });
    const second = await notifier.trigger('campaign', { phone: '79123456789' });
    await statusOf(notifier, first.id, 'sent');
    expect((await notifier.get(second.id))?.status).toBe('queued');
    await notifier.suppress('79123456789');
    const record = await statusOf(notifier, second.id, 'skipped');
    expect(record).toMatchObject({ reason: 'suppressed', attempts: 0, phone: '79123456789' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(emu.messages.map((m) => m.phone)).toEqual(['79123456780']);
    expect(notifier.stats()).toMatchObject({ queued: 0, sending: 0, sent: 1 });
  });
});

describe('contacts and replies', () => {
  it('a phone is known once sent to, added or replied; a send certainly not accepted does not make it known', async () => {
    const { notifier, people } = make({ maxAgeMs: 1500 }, { timeoutMs: 300 });
    const known = (phone: string) => people.isKnown(keyOf(phone));
    const sent = await notifier.trigger('order-paid', { phone: '79123456781' });
    await statusOf(notifier, sent.id, 'sent');
    await vi.waitFor(async () => expect(await known('79123456781')).toBe(true));

    // No answer to a written request: it may have been delivered (AMBIGUOUS), so it counts as written to.
    emu.fail('timeout');
    const ambiguous = await notifier.trigger('order-paid', { phone: '79123456782' });
    expect(await statusOf(notifier, ambiguous.id, 'failed')).toMatchObject({ error: { code: 'AMBIGUOUS' } });
    await vi.waitFor(async () => expect(await known('79123456782')).toBe(true));

    // OLChat refused it (500): not written to.
    emu.fail('500');
    const refusedAt500 = await notifier.trigger('order-paid', { phone: '79123456787' });
    expect(await statusOf(notifier, refusedAt500.id, 'failed')).toMatchObject({ error: { code: 'HTTP' } });

    // 503 until its deadline: certainly never accepted.
    emu.fail('503', Number.POSITIVE_INFINITY);
    const refused = await notifier.trigger('order-paid', { phone: '79123456783' });
    await statusOf(notifier, refused.id, 'expired');
    expect(await known('79123456783')).toBe(false);
    expect(await known('79123456787')).toBe(false);
    emu.clearFaults();

    expect(await notifier.contacts.add(['+7 912 345-67-84', '89123456785', '79123456781'])).toBe(2);
    expect(await known('79123456784')).toBe(true);
    expect(await known('79123456785')).toBe(true);
    expect(await notifier.contacts.replied('8 (912) 345-67-86')).toEqual({ counted: true, stopWord: false });
    expect(await known('79123456786')).toBe(true);
    expect(await people.counts(Date.now())).toEqual({ sent7d: 2, replies7d: 1 });
  });

  it('a STOP reply suppresses marketing with reason stop_word, and never narrows an opt-out of everything', async () => {
    const { notifier } = make();
    expect(await notifier.contacts.replied('79123456789', { text: ' СТОП! ' })).toEqual({
      counted: true,
      stopWord: true,
    });
    expect(await notifier.suppressed('79123456789')).toMatchObject({ scope: 'marketing', reason: 'stop_word' });
    expect((await notifier.trigger('campaign', { phone: '79123456789' })).status).toBe('skipped');
    expect((await notifier.trigger('order-paid', { phone: '79123456789' })).status).toBe('queued');

    await notifier.suppress('79123456780', { scope: 'all', reason: 'gdpr' });
    expect((await notifier.contacts.replied('79123456780', { text: 'unsubscribe' })).stopWord).toBe(true);
    expect(await notifier.suppressed('79123456780')).toMatchObject({ scope: 'all', reason: 'gdpr' });

    // A reply that merely mentions the word is a reply.
    expect(await notifier.contacts.replied('79123456781', { text: 'Стоп, а где мой заказ?' })).toEqual({
      counted: true,
      stopWord: false,
    });
    expect(await notifier.suppressed('79123456781')).toBeUndefined();
  });
});

describe('the secret', () => {
  it('is required with a shared queue, and must be long enough', () => {
    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
    const shared = new MemoryQueue() as JobQueue & { shared?: boolean };
    Object.defineProperty(shared, 'shared', { value: true });
    expect(() => createNotifier({ client, queue: shared })).toThrow(/secret is required with a shared queue/);
    expect(() => createNotifier({ client, secret: 'short' })).toThrow(ValidationError);
    void client.close();
  });

  it('the memory queue makes its own: suppressions work without one', async () => {
    const { notifier } = make({ secret: undefined as unknown as string });
    await notifier.suppress('79123456789');
    expect((await notifier.trigger('campaign', { phone: '79123456789' })).status).toBe('skipped');
  });
});
