import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { MemoryQueue } from '../src/index.js';
import type { NewJob } from '../src/queue/index.js';
import { KeyIndex } from '../src/queue/key-index.js';
import { Lanes } from '../src/queue/lanes.js';
import { Scheduler } from '../src/queue/scheduler.js';
import { Fifo, NumberFifo } from '../src/util/fifo.js';
import { newId } from '../src/util/ids.js';

const message = { phone: '79123456789', text: 'x', sendToImol: false };
const lane = { priority: 'normal', deadline: Date.now() + 3600_000, quiet: false } as const;

describe('MemoryQueue history', () => {
  it('keeps at most maxFinished records and maxKeys keys, oldest out first', async () => {
    const queue = new MemoryQueue({ maxFinished: 50, maxKeys: 80 });
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const { record } = await queue.add({ message, keys: [`k${i}`], keyTtlMs: 60_000, skipped: true, ...lane });
      ids.push(record.id);
    }
    expect(await queue.get(ids[149] as string)).toBeUndefined();
    expect(await queue.get(ids[150] as string)).toMatchObject({ status: 'skipped' });
    // The newest 80 keys still return their first job; older ones were forgotten.
    expect((await queue.add({ message, keys: ['k199'], keyTtlMs: 60_000, skipped: true, ...lane })).created).toBe(
      false,
    );
    expect((await queue.add({ message, keys: ['k100'], keyTtlMs: 60_000, skipped: true, ...lane })).created).toBe(true);
  });

  it('a key set again after it expired is not dropped by its old entry', async () => {
    const queue = new MemoryQueue();
    const first = await queue.add({ message, keys: ['same'], keyTtlMs: 1, skipped: true, ...lane });
    await new Promise((r) => setTimeout(r, 5));
    const second = await queue.add({ message, keys: ['same'], keyTtlMs: 60_000, skipped: true, ...lane });
    expect(second.created).toBe(true);
    await queue.get(first.record.id); // runs the expiry pass over the old entry
    const third = await queue.add({ message, keys: ['same'], keyTtlMs: 60_000, skipped: true, ...lane });
    expect(third).toMatchObject({ created: false, record: { id: second.record.id } });
  });
});

describe('MemoryQueue deadlines', () => {
  it('a job added past its deadline ends expired at once: never worked, keys freed, replaces its key’s job, never refused as full', async () => {
    const queue = new MemoryQueue();
    const worked: string[] = [];
    const finished: [string, string][] = [];
    queue.start({
      concurrency: 1,
      maxQueued: 1,
      worker: async (job) => {
        worked.push('text' in job.message ? job.message.text : '');
        await job.markAttempt();
        return { status: 'sent' };
      },
      onFinished: (record) => finished.push([record.id, record.status]),
    });
    const later = Date.now() + 60_000;
    const job = (text: string, extra: Partial<NewJob> = {}): NewJob => ({
      message: { ...message, text },
      keys: [],
      keyTtlMs: 60_000,
      ...lane,
      ...extra,
    });
    const pending = await queue.add(job('old reminder', { sendAt: later, replaceKey: 'visit:1' }));
    const { record, replaced } = await queue.add(
      job('too late', { deadline: Date.now() - 1, keys: ['idem:late'], replaceKey: 'visit:1' }),
    );
    expect(record).toMatchObject({ status: 'expired', attempts: 0, error: { code: 'EXPIRED' } });
    expect(replaced).toMatchObject({ id: pending.record.id, status: 'cancelled' });
    expect(finished).toEqual([
      [pending.record.id, 'cancelled'],
      [record.id, 'expired'],
    ]);
    expect(await queue.find(['idem:late'])).toBeUndefined();
    const filling = await queue.add(job('pending', { sendAt: later }));
    await expect(queue.add(job('one too many', { sendAt: later }))).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect((await queue.add(job('late again', { deadline: Date.now() - 1 }))).record.status).toBe('expired');
    expect(queue.stats()).toMatchObject({ scheduled: 1, queued: 0, expired: 2, cancelled: 1 });
    await queue.cancel(filling.record.id);
    expect(await queue.requeue(record.id, later)).toMatchObject({ id: record.id });
    await vi.waitFor(() => expect(worked).toEqual(['too late']));
    await queue.close({ timeoutMs: 100 });
  });
});

describe('MemoryQueue trace context', () => {
  it("keeps a job's trace carrier and hands it to every pickup; a job without one gets none", async () => {
    const queue = new MemoryQueue();
    const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    const seen: { text: string; trace: unknown; attempt: number }[] = [];
    const done = new Promise<void>((resolve) => {
      queue.start({
        concurrency: 1,
        worker: async (job) => {
          seen.push({ text: 'text' in job.message ? job.message.text : '', trace: job.trace, attempt: job.attempts });
          await job.markAttempt();
          // The first pickup is not accepted: the job comes back for a second one.
          if (job.attempts === 0 && job.trace)
            return { status: 'retry', at: Date.now(), error: { code: 'NETWORK', message: 'x' } };
          return { status: 'sent' };
        },
        onFinished: () => {
          if (seen.length === 3) resolve();
        },
      });
    });
    await queue.add({ message: { ...message, text: 'traced' }, keys: [], keyTtlMs: 1, trace, ...lane });
    await queue.add({ message: { ...message, text: 'plain' }, keys: [], keyTtlMs: 1, ...lane });
    await done;
    await queue.close({ timeoutMs: 1_000 });
    expect(seen).toEqual([
      { text: 'traced', trace, attempt: 0 },
      { text: 'plain', trace: undefined, attempt: 0 },
      { text: 'traced', trace, attempt: 1 },
    ]);
  });
});

describe('Fifo', () => {
  it('keeps order across compactions', () => {
    const fifo = new Fifo<number>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      fifo.push(i);
      if (i % 3 === 0) out.push(fifo.shift() as number);
    }
    out.push(...fifo.drain());
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(fifo.size).toBe(0);
  });
});

describe('Scheduler', () => {
  it('hands items out earliest first, equal times in the order they were added, each once', () => {
    let now = 0;
    const out: number[] = [];
    const scheduler = new Scheduler<number>(
      (item) => out.push(item),
      () => now,
    );
    // 2 000 items over 50 distinct times, so many share one; the reference is a stable sort.
    const times = Array.from({ length: 2000 }, (_, i) => ((i * 7919) % 50) * 1000);
    for (const [item, at] of times.entries()) scheduler.add(item, at);
    for (now = 0; now <= 50_000; now += 5_000) scheduler.runDue();
    scheduler.stop();
    const expected = times.map((at, item) => ({ at, item })).sort((a, b) => a.at - b.at);
    expect(out).toEqual(expected.map((entry) => entry.item));
    expect(scheduler.size).toBe(0);
  });

  it('keeps only what is not due yet, and its next time', () => {
    let now = 0;
    const out: string[] = [];
    const scheduler = new Scheduler<string>(
      (item) => out.push(item),
      () => now,
    );
    scheduler.add('late', 3_000);
    scheduler.add('early', 1_000);
    scheduler.add('middle', 2_000);
    now = 2_000;
    scheduler.runDue();
    scheduler.stop();
    expect(out).toEqual(['early', 'middle']);
    expect(scheduler.size).toBe(1);
    expect(scheduler.nextAt).toBe(3_000);
    expect([...scheduler.items()]).toEqual(['late']);
  });
});

describe('job ids', () => {
  it('are 16 characters of base64url, flat, and distinct', async () => {
    const queue = new MemoryQueue();
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const { record } = await queue.add({ message, keys: [], keyTtlMs: 60_000, skipped: true, ...lane });
      ids.add(record.id);
    }
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    // A decoy answer (the honeypot's) has the same shape.
    expect(newId()).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});

describe('MemoryQueue slots', () => {
  const queued = (text: string): NewJob => ({ message: { ...message, text }, keys: [], keyTtlMs: 60_000, ...lane });

  it('a job that takes a forgotten job’s place is not reached through what that job left in its lane', async () => {
    const queue = new MemoryQueue({ maxFinished: 1 });
    const first = await queue.add(queued('first'));
    await queue.add(queued('second'));
    await queue.cancel(first.record.id); // its lane entry stays behind, to be skipped
    await queue.add({ ...queued('skipped'), skipped: true }); // pushes the cancelled record out
    expect(await queue.get(first.record.id)).toBeUndefined();
    const third = await queue.add(queued('third')); // may reuse the first one's storage
    expect(third.record.id).not.toBe(first.record.id);
    const sent: string[] = [];
    queue.start({
      concurrency: 1,
      worker: async (job) => {
        await job.markAttempt();
        sent.push('text' in job.message ? job.message.text : '');
        return { status: 'sent' };
      },
      onFinished: () => {},
    });
    await queue.close({ timeoutMs: 1_000 });
    // Lane order: second, then third. The first one's stale entry, ahead of both, reaches no one.
    expect(sent).toEqual(['second', 'third']);
  });

  it('answers only its own ids: other shapes, changed ones and forgotten jobs are unknown', async () => {
    const queue = new MemoryQueue({ maxFinished: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 500; i++) {
      ids.push((await queue.add({ ...queued(`m${i}`), skipped: true })).record.id);
    }
    const newest = ids[499] as string;
    expect(await queue.get(newest)).toMatchObject({ id: newest, status: 'skipped' });
    for (const id of ids.slice(0, 490)) expect(await queue.get(id)).toBeUndefined();
    for (const id of ids.slice(490)) expect((await queue.get(id))?.id).toBe(id);
    const changed = `${newest.slice(0, 15)}${newest[15] === 'A' ? 'B' : 'A'}`;
    for (const id of [changed, newId(), 'not-an-id', '', `${newest}x`, '0b2f7c1e-3d4a-4f5b-8c6d-7e8f9a0b1c2d']) {
      expect(await queue.get(id)).toBeUndefined();
      expect(await queue.cancel(id)).toBeUndefined();
    }
  });

  it('keeps records, keys and order right while storage grows, empties and grows again', async () => {
    const queue = new MemoryQueue({ maxFinished: 5 });
    const texts: string[] = [];
    queue.start({
      concurrency: 4,
      worker: async (job) => {
        await job.markAttempt();
        texts.push('text' in job.message ? job.message.text : '');
        return { status: 'sent', messageId: 'm' };
      },
      onFinished: () => {},
    });
    const sentAll = async (count: number) => {
      for (let wait = 0; wait < 500 && queue.stats().sent < count; wait++) await new Promise((r) => setTimeout(r, 10));
    };
    // 12 000 jobs without keys: sent, their records forgotten, their storage given back.
    for (let i = 0; i < 12_000; i++) await queue.add(queued(`a${i}`));
    await sentAll(12_000);
    // 12 000 more with keys, into storage that shrank: their keys outlive their records.
    const ids: string[] = [];
    for (let i = 0; i < 12_000; i++) ids.push((await queue.add({ ...queued(`b${i}`), keys: [`k${i}`] })).record.id);
    await sentAll(24_000);
    await queue.close({ timeoutMs: 10_000 });
    expect(texts).toEqual([
      ...Array.from({ length: 12_000 }, (_, i) => `a${i}`),
      ...Array.from({ length: 12_000 }, (_, i) => `b${i}`),
    ]);
    expect(queue.stats()).toMatchObject({ queued: 0, sending: 0, sent: 24_000 });
    expect(await queue.get(ids[0] as string)).toBeUndefined();
    expect(await queue.find(['k0'])).toMatchObject({ id: ids[0], status: 'sent', messageId: 'm' });
    expect(await queue.get(ids[11_999] as string)).toMatchObject({ status: 'sent' });
  });
});

describe('KeyIndex', () => {
  it('answers as a Map would, through growth, collisions, replacements and deletions', () => {
    // Up to 700 keys keep the table near half full at 1 024 entries, so clusters are long and wrap
    // around its end; slots hold up to two keys each, as jobs with an idempotency and a dedupe key do.
    const KEYS = 700;
    const SLOTS = 400;
    const keysOf = new Map<number, string[]>();
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: KEYS }), slot: fc.nat(SLOTS) }),
      // Mostly the key's own job (a removal), sometimes another one (nothing to remove).
      fc.record({
        kind: fc.constant('delete' as const),
        key: fc.integer({ min: 0, max: KEYS }),
        slot: fc.oneof(fc.constant(-1), fc.constant(-1), fc.nat(SLOTS)),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 2000, maxLength: 6000 }), (ops) => {
        keysOf.clear();
        const index = new KeyIndex((slot, i) => keysOf.get(slot)?.[i] as string);
        const model = new Map<string, number>();
        for (const { kind, key: n, slot } of ops) {
          const key = `dedupe:rule:${n}`;
          if (kind === 'set') {
            const keys = keysOf.get(slot) ?? [];
            // A slot's keys never change once set; a third one starts the slot over (a new job).
            if (keys.length === 2) {
              for (const old of keys) {
                if (model.get(old) !== slot) continue;
                model.delete(old);
                index.deleteIf(old, slot);
              }
              keys.length = 0;
            }
            if (!keys.includes(key)) keys.push(key);
            keysOf.set(slot, keys);
            index.set(key, slot, keys.indexOf(key));
            model.set(key, slot);
          } else {
            const owner = slot < 0 ? (model.get(key) ?? 0) : slot;
            const removed = model.get(key) === owner;
            if (removed) model.delete(key);
            expect(index.deleteIf(key, owner)).toBe(removed);
          }
        }
        expect(index.size).toBe(model.size);
        for (let n = 0; n <= KEYS; n++) {
          const key = `dedupe:rule:${n}`;
          expect(index.get(key)).toBe(model.get(key) ?? -1);
        }
      }),
      { numRuns: 20 },
    );
  });
});

describe('NumberFifo and Lanes', () => {
  it('a NumberFifo answers as an array would, through growth, wrap-around and shrinking', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), value: fc.double({ noNaN: true }) }),
      fc.record({ kind: fc.constant('unshift' as const), value: fc.double({ noNaN: true }) }),
      fc.record({ kind: fc.constant('shift' as const), value: fc.constant(0) }),
    );
    // Bursts of pushes then of shifts: the ring grows past 1 024 entries and shrinks back.
    const bursts = fc.array(fc.tuple(fc.array(op, { minLength: 1, maxLength: 50 }), fc.nat(3000), fc.nat(3000)), {
      minLength: 5,
      maxLength: 20,
    });
    fc.assert(
      fc.property(bursts, (plan) => {
        const fifo = new NumberFifo();
        const model: number[] = [];
        for (const [ops, pushes, shifts] of plan) {
          for (let i = 0; i < pushes; i++) {
            fifo.push(i);
            model.push(i);
          }
          for (const { kind, value } of ops) {
            if (kind === 'push') {
              fifo.push(value);
              model.push(value);
            } else if (kind === 'unshift') {
              fifo.unshift(value);
              model.unshift(value);
            } else {
              expect(fifo.shift()).toBe(model.shift());
            }
          }
          for (let i = 0; i < shifts; i++) expect(fifo.shift()).toBe(model.shift());
          expect(fifo.size).toBe(model.length);
          expect(fifo.peek()).toBe(model[0]);
        }
        expect([...fifo]).toEqual(model);
        expect(fifo.drain()).toEqual(model);
        expect(fifo.size).toBe(0);
      }),
      { numRuns: 30 },
    );
  });

  it('lanes hand out high before normal before low, first in first out within each, and keep a turn given back', () => {
    const lanes = new Lanes();
    lanes.push(1, 'low');
    lanes.push(2, 'normal');
    lanes.push(3, 'high');
    lanes.push(4, 'normal');
    lanes.push(5, 'high');
    lanes.pushFront(6, 'normal');
    expect(lanes.size).toBe(6);
    expect([...lanes]).toEqual([3, 5, 6, 2, 4, 1]);
    const out: number[] = [];
    for (let item = lanes.shift(); item !== undefined; item = lanes.shift()) out.push(item);
    expect(out).toEqual([3, 5, 6, 2, 4, 1]);
    expect(lanes.size).toBe(0);
  });
});
