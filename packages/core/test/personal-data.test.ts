import { startEmulator } from '@olchat-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createNotifier,
  MemoryLimiterStore,
  MemoryQueue,
  type AnyNotifier as Notifier,
  type NotifierOptions,
  OlchatClient,
} from '../src/index.js';
import { ContactTable } from '../src/people/contact-table.js';
import { MemoryPeopleStore } from '../src/people/memory-store.js';
import { phoneKeyer } from '../src/people/phone-key.js';
import { JobTable } from '../src/queue/job-table.js';
import { PhoneIndex } from '../src/queue/phone-index.js';

/* The memory queue's side of personal data: what is left in memory, and retention on a fake clock. */

const PHONE = '79123456789';
const DAY_MS = 24 * 3600_000;
const loose = { points: 1_000, durationMs: 1_000 };
let emu: Awaited<ReturnType<typeof startEmulator>>;
const open: Notifier[] = [];

beforeAll(async () => {
  emu = await startEmulator({ limits: { sendText: loose, sendFile: loose, checkMessageStatus: loose } });
});
afterEach(async () => {
  vi.useRealTimers();
  for (const notifier of open.splice(0)) {
    await notifier.close({ timeoutMs: 1_000 });
    await notifier.client.close();
  }
  emu.reset();
});
afterAll(async () => {
  await emu.close();
});

function make(options: Partial<NotifierOptions> = {}, queue = new MemoryQueue()): Notifier {
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limits: { sendText: loose, sendFile: loose, checkMessageStatus: loose },
    limiterStore: new MemoryLimiterStore(),
  });
  const notifier = createNotifier({ client, queue, ...options });
  open.push(notifier);
  return notifier;
}

async function sent(notifier: Notifier, text: string, phone = PHONE): Promise<string> {
  const { id } = await notifier.send({ phone, text });
  await vi.waitFor(async () => expect((await notifier.get(id))?.status).toBe('sent'), { timeout: 10_000 });
  return id;
}

describe('retention on a fake clock', () => {
  it('keeps a finished job 7 days by default, then erases it: get(), find() and its key no longer know it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const notifier = make();
    const id = await sent(notifier, 'Неделя');
    const other = await sent(notifier, 'Другому', '79001112233');
    vi.setSystemTime(Date.now() + 7 * DAY_MS - 60_000);
    expect((await notifier.find({ phone: PHONE })).map((r) => r.id)).toEqual([id]);
    vi.setSystemTime(Date.now() + 120_000);
    expect(await notifier.get(id)).toBeUndefined();
    expect(await notifier.get(other)).toBeUndefined();
    expect(await notifier.find({ phone: PHONE })).toEqual([]);
  });

  it("the notifier's keepFinishedMs wins over the queue's", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const notifier = make({ keepFinishedMs: 3_600_000 }, new MemoryQueue({ keepFinishedMs: 30 * DAY_MS }));
    const id = await sent(notifier, 'Час');
    vi.setSystemTime(Date.now() + 3_600_000 + 1_000);
    expect(await notifier.get(id)).toBeUndefined();
    expect(await notifier.find({ phone: PHONE })).toEqual([]);
  });

  it('a record kept only for its idempotency key past retention keeps no text and no meta', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const notifier = make({ dedupeTtlMs: 10 * DAY_MS, keepFinishedMs: DAY_MS });
    const { id } = await notifier.send(
      { phone: PHONE, text: 'Ключ' },
      { idempotencyKey: 'k-1', meta: { name: 'Анна' } },
    );
    await vi.waitFor(async () => expect((await notifier.get(id))?.status).toBe('sent'), { timeout: 10_000 });
    vi.setSystemTime(Date.now() + 2 * DAY_MS);
    expect(await notifier.get(id)).toBeUndefined();
    // A late duplicate still answers the first job, and sends nothing.
    expect(await notifier.send({ phone: PHONE, text: 'Ключ' }, { idempotencyKey: 'k-1' })).toEqual({
      id,
      status: 'sent',
    });
    expect(emu.messages).toHaveLength(1);
    // forget() finds it by its phone all the same, and frees the key.
    expect(await notifier.forget(PHONE)).toMatchObject({ jobs: 1 });
    const again = await notifier.send({ phone: PHONE, text: 'Ключ' }, { idempotencyKey: 'k-1' });
    expect(again.id).not.toBe(id);
  });
});

describe('what forget() leaves in memory', () => {
  it('a freed table slot keeps neither the digits nor the bits of its id', () => {
    const table = new JobTable();
    const now = Date.now();
    const slot = table.add(
      {
        message: { phone: PHONE, text: 'секрет', sendToImol: false },
        keys: ['idem:k'],
        keyTtlMs: 60_000,
        priority: 'normal',
        deadline: now + 60_000,
        quiet: false,
      },
      'queued',
      now,
    );
    const id = table.id(slot);
    expect(table.phone(slot)).toBe(PHONE);
    table.free(slot);
    // The columns are read as they are: nothing of the job is there any more.
    expect(table.phone(slot)).toBeUndefined();
    expect(table.keys(slot)).toBeUndefined();
    expect(table.hasMessage(slot)).toBe(false);
    expect(table.slotOfId(id)).toBe(-1);
    expect(table.id(slot)).not.toBe(id);
  });

  it('delivery checks of a forgotten job stop: the vendor is not asked about it again', async () => {
    const notifier = make({ deliveryChecks: { afterMs: [1_000, 2_000] } });
    const id = await sent(notifier, 'Проверка доставки');
    const other = await sent(notifier, 'Другому', '79001112233');
    expect(await notifier.forget(PHONE)).toMatchObject({ jobs: 1 });
    await vi.waitFor(() => expect(emu.requests.filter((r) => r.method === 'checkMessageStatus').length).toBe(2), {
      timeout: 10_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const checks = emu.requests.filter((r) => r.method === 'checkMessageStatus');
    expect(checks.every((r) => r.phone === '79001112233')).toBe(true);
    expect((await notifier.get(other))?.deliveryCheckedAt).toBeDefined();
    expect(await notifier.get(id)).toBeUndefined();
  });

  it('storeText: false: a finished job shows no text, and retry() says why it cannot be sent again', async () => {
    const notifier = make({ storeText: false });
    emu.fail('500', 1);
    const { id } = await notifier.send({ phone: PHONE, text: 'Не хранить' });
    const failed = await vi.waitFor(
      async () => {
        const record = await notifier.get(id);
        expect(record?.status).toBe('failed');
        return record;
      },
      { timeout: 10_000 },
    );
    expect(failed?.text).toBeUndefined();
    await expect(notifier.retry(id)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('storeText: false'),
    });
  });
});

describe('PhoneIndex', () => {
  it('agrees with a plain map through random adds and removes, newest first, chains of shared hashes included', () => {
    const index = new PhoneIndex();
    const model = new Map<number, number[]>(); // hash → slots, newest first
    const hashOf = new Map<number, number>();
    let seed = 7;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const live: number[] = [];
    let next = 0;
    for (let step = 0; step < 20_000; step++) {
      if (live.length === 0 || random(3) > 0) {
        const slot = next++;
        // Few hashes: long chains, and many buckets moved back on removal.
        const hash = random(2) === 0 ? random(50) : random(2 ** 32);
        index.add(slot, hash);
        hashOf.set(slot, hash);
        model.set(hash, [slot, ...(model.get(hash) ?? [])]);
        live.push(slot);
      } else {
        const at = random(live.length);
        const slot = live[at] as number;
        live.splice(at, 1);
        const hash = hashOf.get(slot) as number;
        index.remove(slot, hash);
        const left = (model.get(hash) ?? []).filter((s) => s !== slot);
        if (left.length === 0) model.delete(hash);
        else model.set(hash, left);
      }
      if (step % 1_000 === 0) {
        for (const [hash, slots] of model) expect([...index.slots(hash)]).toEqual(slots);
      }
    }
    for (const [hash, slots] of model) expect([...index.slots(hash)]).toEqual(slots);
    expect([...index.slots(123_456_789)]).toEqual(model.get(123_456_789) ?? []);
  });

  it('keys phones with a random key of its own: two queues hash one phone differently', () => {
    const a = new PhoneIndex();
    const b = new PhoneIndex();
    expect(a.hash(PHONE)).toBe(a.hash(PHONE));
    expect(a.hash(PHONE)).not.toBe(b.hash(PHONE));
  });
});

describe('contact memory forgotten', () => {
  it('ContactTable.delete agrees with a Set through random adds and deletes (keys moved back, none lost)', () => {
    const keyOf = phoneKeyer('contact-table-test-secret-0123');
    const table = new ContactTable();
    const model = new Set<string>();
    let seed = 11;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const keys = Array.from({ length: 3_000 }, (_, i) => keyOf(`7900${String(i).padStart(7, '0')}`));
    for (let step = 0; step < 30_000; step++) {
      const key = keys[random(keys.length)] as string;
      if (random(3) === 0) {
        expect(table.delete(key)).toBe(model.delete(key));
      } else {
        table.set(key, 0);
        model.add(key);
      }
    }
    expect(table.size).toBe(model.size);
    for (const key of keys) expect(table.get(key) >= 0).toBe(model.has(key));
  });

  it('the memory store forgets a phone: known, suppression when asked; its new-recipient place is kept, nameless', async () => {
    const store = new MemoryPeopleStore();
    const keyOf = phoneKeyer('memory-store-test-secret-0123');
    const anna = keyOf('79123456789');
    const now = Date.now();
    store.admitNow(anna, now, { marketing: false, budget: 10 });
    await store.recordSent(anna, now);
    await store.suppress(anna, { scope: 'marketing', at: now });
    expect(store.newRecipientsNow(now)).toEqual({ all: 1, budget: 1 });
    expect(await store.forget(anna, false)).toEqual({ contacts: 1, suppressions: 0 });
    expect(await store.isKnown(anna)).toBe(false);
    expect(await store.suppression(anna)).toBeDefined();
    // The day's budget is not refilled by forgetting: the count stays, and the phone would be new again.
    expect(store.newRecipientsNow(now)).toEqual({ all: 1, budget: 1 });
    expect(store.admitNow(anna, now, { marketing: false, budget: 10 })).toMatchObject({ known: false });
    expect(store.newRecipientsNow(now)).toEqual({ all: 2, budget: 2 });
    expect(await store.forget(anna, true)).toEqual({ contacts: 0, suppressions: 1 });
    expect(await store.suppression(anna)).toBeUndefined();
  });
});
