import type { JobError, JobQueue } from '@olchat-kit/core';
import { freesKeys, KEYS_AFTER } from '@olchat-kit/core/queue';
import { describe, expect, it } from 'vitest';
import { Desk, eventually, freshQueue, keysOf, newJob, reaches, sleep } from './harness.js';

/*
 * Idempotency and dedupe keys (DESIGN "Keys after a failure"): a job whose message was certainly
 * never accepted frees them, one that may have reached the customer keeps them. Each ending below
 * says what DESIGN expects; the test checks the queue does it and the table (`freesKeys`) agrees.
 */

interface Ending {
  name: string;
  status: 'sent' | 'failed' | 'expired' | 'cancelled' | 'skipped';
  error?: JobError;
  /** What DESIGN says: true when a new trigger with the key makes a new job. */
  frees: boolean;
}

const err = (code: string, status?: number): JobError =>
  status === undefined ? { code, message: `${code} test` } : { code, message: `${code} test`, status };

const ENDINGS: Ending[] = [
  { name: 'sent', status: 'sent', frees: false },
  { name: 'skipped', status: 'skipped', frees: false },
  { name: 'cancelled', status: 'cancelled', frees: true },
  { name: 'failed NETWORK', status: 'failed', error: err('NETWORK'), frees: true },
  { name: 'failed TIMEOUT', status: 'failed', error: err('TIMEOUT'), frees: true },
  { name: 'failed RATE_LIMITED', status: 'failed', error: err('RATE_LIMITED'), frees: true },
  { name: 'failed HTTP 502', status: 'failed', error: err('HTTP', 502), frees: true },
  { name: 'failed HTTP 503', status: 'failed', error: err('HTTP', 503), frees: true },
  { name: 'failed HTTP 504', status: 'failed', error: err('HTTP', 504), frees: true },
  { name: 'failed CLOSED', status: 'failed', error: err('CLOSED'), frees: true },
  { name: 'failed HTTP 500', status: 'failed', error: err('HTTP', 500), frees: false },
  { name: 'failed HTTP 400', status: 'failed', error: err('HTTP', 400), frees: false },
  { name: 'failed VENDOR_ERROR', status: 'failed', error: err('VENDOR_ERROR'), frees: false },
  { name: 'failed AMBIGUOUS', status: 'failed', error: err('AMBIGUOUS'), frees: false },
  { name: 'failed STALLED', status: 'failed', error: err('STALLED'), frees: false },
  { name: 'failed INTERNAL', status: 'failed', error: err('INTERNAL'), frees: false },
  { name: 'expired never sent', status: 'expired', error: err('EXPIRED'), frees: true },
  { name: 'expired after a 502', status: 'expired', error: err('HTTP', 502), frees: true },
  { name: 'expired after AMBIGUOUS (a retried job)', status: 'expired', error: err('AMBIGUOUS'), frees: false },
];

/** Ends a job with these keys as `ending` says; answers its id. */
async function end(queue: JobQueue, ending: Ending, keys: string[]): Promise<string> {
  if (ending.status === 'skipped') return (await queue.add(newJob('', { keys, skipped: true }))).record.id;
  const { record } = await queue.add(newJob('k', { keys }));
  if (ending.status === 'cancelled') {
    await queue.cancel(record.id);
    return record.id;
  }
  const desk = new Desk(queue);
  const pickup = await desk.next();
  await pickup.attempt();
  if (ending.status === 'sent') pickup.end({ status: 'sent' });
  else pickup.end({ status: ending.status, error: ending.error as JobError });
  await reaches(queue, record.id, ending.status);
  return record.id;
}

describe('keys after each ending', () => {
  it('the table covers every ending', () => {
    expect(Object.keys(KEYS_AFTER).sort()).toEqual(['cancelled', 'expired', 'failed', 'sent', 'skipped']);
  });

  for (const ending of ENDINGS) {
    it(`${ending.name}: ${ending.frees ? 'frees' : 'keeps'} its idempotency and dedupe keys`, async () => {
      expect(freesKeys(ending.status, ending.error), 'the table agrees with DESIGN').toBe(ending.frees);
      const queue = freshQueue();
      const [idem, dedupe] = keysOf(ending.name.replace(/\W+/g, '-')) as [string, string];
      const id = await end(queue, ending, [idem, dedupe]);
      expect((await queue.find([idem, dedupe]))?.id).toBe(ending.frees ? undefined : id);
      // Each key on its own: a new job, or the first one again.
      for (const key of [idem, dedupe]) {
        const again = await queue.add(newJob('again', { keys: [key] }));
        expect(again.created, key).toBe(ending.frees);
        if (ending.frees) expect(again.record.id).not.toBe(id);
        else expect(again.record).toMatchObject({ id, status: ending.status });
        if (ending.frees) await queue.cancel(again.record.id);
      }
    });
  }
});

describe('keys', () => {
  it('a key of any pending job answers that job, in every pending status', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record: sending } = await queue.add(newJob('a', { keys: ['idem:a'] }));
    const pickup = await desk.next();
    await pickup.attempt();
    const { record: queued } = await queue.add(newJob('b', { keys: ['idem:b'] }));
    const { record: scheduled } = await queue.add(newJob('c', { keys: ['idem:c'], sendAt: Date.now() + 60_000 }));
    for (const [key, record] of [
      ['idem:a', sending],
      ['idem:b', queued],
      ['idem:c', scheduled],
    ] as const) {
      expect((await queue.find([key]))?.id).toBe(record.id);
      const again = await queue.add(newJob('again', { keys: ['idem:new', key] }));
      expect(again.created).toBe(false);
      expect(again.record.id).toBe(record.id);
    }
    // A hit added nothing, not even its other key.
    expect(await queue.find(['idem:new'])).toBeUndefined();
    pickup.end({ status: 'sent' });
  });

  it('find() of no key or an unknown one answers nothing', async () => {
    const queue = freshQueue();
    expect(await queue.find([])).toBeUndefined();
    expect(await queue.find(['idem:unknown'])).toBeUndefined();
  });

  it('keys hold for keyTtlMs, then a new job takes them', async () => {
    const queue = freshQueue();
    const { record } = await queue.add(newJob('first', { keys: ['idem:ttl'], keyTtlMs: 2_000 }));
    expect((await queue.add(newJob('dup', { keys: ['idem:ttl'] }))).record.id).toBe(record.id);
    await sleep(3_000);
    const later = await queue.add(newJob('later', { keys: ['idem:ttl'] }));
    expect(later.created).toBe(true);
    expect(later.record.id).not.toBe(record.id);
  });

  it('requeue() takes back the keys its failure freed, unless a newer job took them meanwhile', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('a', { keys: ['idem:taken', 'idem:free'] }));
    const pickup = await desk.next();
    await pickup.attempt();
    pickup.end({ status: 'failed', error: err('NETWORK') });
    await reaches(queue, record.id, 'failed');
    expect(await queue.find(['idem:free'])).toBeUndefined();
    const { record: newer } = await queue.add(newJob('newer', { keys: ['idem:taken'], sendAt: Date.now() + 60_000 }));

    await queue.requeue(record.id, Date.now() + 60_000);
    expect((await queue.find(['idem:free']))?.id).toBe(record.id);
    expect((await queue.find(['idem:taken']))?.id).toBe(newer.id);
    // A repeat of the retried job's trigger now gets that job, not a second message.
    expect(await queue.add(newJob('dup', { keys: ['idem:free'] }))).toMatchObject({
      created: false,
      record: { id: record.id },
    });
    const again = await desk.next();
    expect(again.id).toBe(record.id);
    await again.send();
    await desk.finishedWith(record.id, 'sent');
    expect((await queue.find(['idem:free']))?.id).toBe(record.id);
  });

  it('an ending frees only the keys that still point at its job', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record: first } = await queue.add(newJob('first', { keys: ['idem:shared'] }));
    const pickup = await desk.next();
    await pickup.attempt();
    pickup.end({ status: 'failed', error: err('NETWORK') });
    await reaches(queue, first.id, 'failed');
    const { record: second } = await queue.add(
      newJob('second', { keys: ['idem:shared'], sendAt: Date.now() + 60_000 }),
    );
    // The first job, retried and failing again, must not free the key the second one holds.
    await queue.requeue(first.id, Date.now() + 60_000);
    const again = await desk.next();
    expect(again.id).toBe(first.id);
    await again.attempt();
    again.end({ status: 'failed', error: err('NETWORK') });
    await eventually(() => expect(desk.reports(first.id)).toBe(2));
    expect((await queue.find(['idem:shared']))?.id).toBe(second.id);
  });
});

describe('replace keys', () => {
  it('a newer job replaces the scheduled one with its key', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const sendAt = Date.now() + 60_000;
    const { record: first } = await queue.add(newJob('first', { replaceKey: 'visit:1', sendAt }));
    const second = await queue.add(newJob('moved', { replaceKey: 'visit:1', sendAt: sendAt + 3_600_000 }));
    expect(second.created).toBe(true);
    expect(second.record).toMatchObject({ status: 'scheduled', replaceKey: 'visit:1' });
    expect(second.replaced).toMatchObject({ id: first.id, status: 'cancelled' });
    expect(await queue.get(first.id)).toMatchObject({ status: 'cancelled' });
    expect((await desk.finishedWith(first.id)).status).toBe('cancelled');
    expect(desk.reports(first.id)).toBe(1);
  });

  it('a newer job replaces a queued one, even one a worker holds but has not written', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record: first } = await queue.add(newJob('first', { replaceKey: 'order:1' }));
    const held = await desk.next();
    const second = await queue.add(newJob('second', { replaceKey: 'order:1' }));
    expect(second.replaced?.id).toBe(first.id);
    await eventually(() => expect(held.job.signal.aborted).toBe(true));
    await expect(held.attempt()).rejects.toThrow();
    expect(await queue.get(first.id)).toMatchObject({ status: 'cancelled', attempts: 0 });
    const next = await desk.next();
    expect(next.id).toBe(second.record.id);
    await next.send();
    await desk.finishedWith(second.record.id, 'sent');
    expect(desk.reports(first.id)).toBe(1);
  });

  it('a job being sent is not replaced: the newer job is made beside it and both go out', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue, { concurrency: 2 });
    const { record: first } = await queue.add(newJob('first', { replaceKey: 'k' }));
    const sending = await desk.next();
    await sending.attempt();
    const second = await queue.add(newJob('second', { replaceKey: 'k' }));
    expect(second.created).toBe(true);
    expect(second.replaced).toBeUndefined();
    expect(sending.job.signal.aborted).toBe(false);
    const next = await desk.next();
    expect(next.id).toBe(second.record.id);
    sending.end({ status: 'sent' });
    await next.send();
    expect((await desk.finishedWith(first.id)).status).toBe('sent');
    expect((await desk.finishedWith(second.record.id)).status).toBe('sent');
  });

  it('after a send, the key makes a new job and replaces nothing', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record: first } = await queue.add(newJob('first', { replaceKey: 'k' }));
    await (await desk.next()).send();
    await desk.finishedWith(first.id);
    const second = await queue.add(newJob('second', { replaceKey: 'k', sendAt: Date.now() + 60_000 }));
    expect(second.created).toBe(true);
    expect(second.replaced).toBeUndefined();
    expect(await queue.get(first.id)).toMatchObject({ status: 'sent' });
  });

  it('cancel({ replaceKey }) cancels the pending job of the key, once', async () => {
    const queue = freshQueue();
    const { record } = await queue.add(newJob('a', { replaceKey: 'k', sendAt: Date.now() + 60_000 }));
    expect(await queue.cancel({ replaceKey: 'k' })).toMatchObject({ id: record.id, status: 'cancelled' });
    expect(await queue.cancel({ replaceKey: 'k' })).toBeUndefined();
  });

  it('a job back in line after a not-accepted attempt holds its replace key again', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record: first } = await queue.add(newJob('first', { replaceKey: 'k' }));
    const pickup = await desk.next();
    await pickup.attempt(); // sending: the key is let go
    pickup.end({ status: 'retry', at: Date.now() + 60_000, error: err('NETWORK') });
    await eventually(async () => expect((await queue.get(first.id))?.error?.code).toBe('NETWORK'));
    const second = await queue.add(newJob('second', { replaceKey: 'k', sendAt: Date.now() + 60_000 }));
    expect(second.replaced?.id).toBe(first.id);
    expect(await queue.get(first.id)).toMatchObject({ status: 'cancelled' });
  });

  it('a skipped job replaces nothing', async () => {
    const queue = freshQueue();
    const { record } = await queue.add(newJob('pending', { replaceKey: 'k', sendAt: Date.now() + 60_000 }));
    const skipped = await queue.add(newJob('', { replaceKey: 'k', skipped: true }));
    expect(skipped.record.status).toBe('skipped');
    expect(skipped.replaced).toBeUndefined();
    expect(await queue.get(record.id)).toMatchObject({ status: 'scheduled' });
  });

  it('a full queue still lets a job replace a pending one (the count stays the same)', async () => {
    const queue = freshQueue({ maxQueued: 1 });
    const { record } = await queue.add(newJob('a', { replaceKey: 'k', sendAt: Date.now() + 60_000 }));
    await expect(queue.add(newJob('b'))).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    const replacing = await queue.add(newJob('moved', { replaceKey: 'k', sendAt: Date.now() + 60_000 }));
    expect(replacing.replaced?.id).toBe(record.id);
    await expect(queue.add(newJob('c'))).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    // A skipped job takes no room.
    expect((await queue.add(newJob('', { skipped: true }))).record.status).toBe('skipped');
  });
});
