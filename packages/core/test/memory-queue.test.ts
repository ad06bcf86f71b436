import { describe, expect, it } from 'vitest';
import { Fifo } from '../src/fifo.js';
import { newId } from '../src/ids.js';
import { MemoryQueue } from '../src/index.js';
import { Scheduler } from '../src/scheduler.js';

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
    times.forEach((at, item) => scheduler.add(item, at));
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
