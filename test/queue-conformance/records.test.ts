import type { JobStats } from '@olchat-kit/core';
import { describe, expect, it } from 'vitest';
import { Desk, eventually, freshQueue, newJob, PHONE, reaches, sleep } from './harness.js';

/* What a queue answers about its jobs: records, counts, recent lists, and the order of work. */

describe('records', () => {
  it('a record carries what the job was added with, and nothing else', async () => {
    const queue = freshQueue();
    const before = Date.now();
    const sendAt = before + 60_000;
    const notAfter = before + 120_000;
    const { record } = await queue.add(
      newJob('hello', {
        ruleId: 'visit-reminder',
        priority: 'low',
        sendAt,
        notAfter,
        deadline: notAfter,
        replaceKey: 'visit:7',
        meta: { visitId: 7, tags: ['a'] },
      }),
    );
    const expected = {
      id: record.id,
      ruleId: 'visit-reminder',
      status: 'scheduled',
      phone: PHONE,
      priority: 'low',
      category: 'marketing',
      attempts: 0,
      sendAt,
      notAfter,
      replaceKey: 'visit:7',
      meta: { visitId: 7, tags: ['a'] },
      text: 'hello',
      createdAt: record.createdAt,
      updatedAt: record.createdAt,
    };
    expect(record).toEqual(expected);
    expect(record.createdAt).toBeGreaterThanOrEqual(before);
    expect(await queue.get(record.id)).toEqual(expected);
  });

  it('a job due now has no sendAt; a sendAt already past is not kept as a schedule', async () => {
    const queue = freshQueue();
    const { record } = await queue.add(newJob('now'));
    expect(record).toEqual({
      id: record.id,
      status: 'queued',
      phone: PHONE,
      priority: 'normal',
      category: 'transactional',
      attempts: 0,
      text: 'now',
      createdAt: record.createdAt,
      updatedAt: record.createdAt,
    });
    const { record: late } = await queue.add(newJob('late', { sendAt: Date.now() - 60_000 }));
    expect(late.status).toBe('queued');
    expect(late.sendAt).toBeUndefined();
  });

  it('a skipped record names its rule and why; a recipient only when it had one, never a text', async () => {
    const queue = freshQueue();
    // when() said no: the notifier never worked out a recipient.
    const noRecipient = { phone: '', text: '', sendToImol: false };
    const { record } = await queue.add(
      newJob('', { skipped: true, ruleId: 'r', meta: { a: 1 }, message: noRecipient }),
    );
    expect(record).toEqual({
      id: record.id,
      ruleId: 'r',
      status: 'skipped',
      reason: 'when',
      priority: 'normal',
      category: 'transactional',
      attempts: 0,
      meta: { a: 1 },
      createdAt: record.createdAt,
      updatedAt: record.createdAt,
    });
    // The phone opted out: the record says whose message was not sent.
    const { record: opted } = await queue.add(
      newJob('', { skipped: true, reason: 'suppressed', category: 'marketing', priority: 'low' }),
    );
    expect(await queue.get(opted.id)).toEqual({
      id: opted.id,
      status: 'skipped',
      reason: 'suppressed',
      phone: PHONE,
      priority: 'low',
      category: 'marketing',
      attempts: 0,
      createdAt: opted.createdAt,
      updatedAt: opted.createdAt,
    });
  });

  it("every job keeps its category: the given one, else the lane's default (marketing for low)", async () => {
    const queue = freshQueue();
    const low = await queue.add(newJob('campaign', { priority: 'low' }));
    const normal = await queue.add(newJob('receipt'));
    const marketing = await queue.add(newJob('offer', { priority: 'high', category: 'marketing' }));
    const transactional = await queue.add(newJob('reminder', { priority: 'low', category: 'transactional' }));
    const categories = await Promise.all(
      [low, normal, marketing, transactional].map(async ({ record }) => (await queue.get(record.id))?.category),
    );
    expect(categories).toEqual(['marketing', 'transactional', 'marketing', 'transactional']);
  });

  it('delivery news is recorded on a sent job only', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('a'));
    const { record: waiting } = await queue.add(newJob('b', { sendAt: Date.now() + 60_000 }));
    await (await desk.next()).send('vendor-1');
    await reaches(queue, record.id, 'sent');
    const checkedAt = Date.now();
    expect(await queue.setDelivery(record.id, 'delivered', checkedAt, 'DELIVERED')).toMatchObject({
      delivery: 'delivered',
      deliveryCheckedAt: checkedAt,
      deliveryRaw: 'DELIVERED',
    });
    // No news: only the check is recorded; the last word stays.
    expect(await queue.setDelivery(record.id, undefined, checkedAt + 1)).toMatchObject({
      delivery: 'delivered',
      deliveryCheckedAt: checkedAt + 1,
      deliveryRaw: 'DELIVERED',
    });
    const notSent = await queue.setDelivery(waiting.id, 'read', checkedAt, 'READ');
    expect(notSent?.status).toBe('scheduled');
    expect(notSent?.delivery).toBeUndefined();
    expect(notSent?.deliveryCheckedAt).toBeUndefined();
    expect(await queue.setDelivery('no-such-job', 'read', checkedAt)).toBeUndefined();
  });
});

describe('stats', () => {
  it('counts every job by its status; a skipped one is not counted; a retried one leaves its ending', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const ended: string[] = [];
    for (const outcome of ['sent', 'failed', 'expired'] as const) {
      const { record } = await queue.add(newJob(outcome));
      const pickup = await desk.next();
      await pickup.attempt();
      if (outcome === 'sent') pickup.end({ status: 'sent' });
      else pickup.end({ status: outcome, error: { code: 'HTTP', message: 'x', status: 500 } });
      await desk.finishedWith(record.id);
      ended.push(record.id);
    }
    const { record: cancelled } = await queue.add(newJob('c', { sendAt: Date.now() + 60_000 }));
    await queue.cancel(cancelled.id);
    await queue.add(newJob('', { skipped: true }));
    await queue.add(newJob('s', { sendAt: Date.now() + 60_000 }));
    await queue.add(newJob('held'));
    const held = await desk.next();
    await held.attempt();
    await queue.add(newJob('q1'));
    await queue.add(newJob('q2'));
    const expected: JobStats = { scheduled: 1, queued: 2, sending: 1, sent: 1, failed: 1, cancelled: 1, expired: 1 };
    await eventually(() => expect(queue.stats()).toEqual(expected));
    await sleep(500);
    expect(queue.stats()).toEqual(expected);

    await queue.requeue(ended[1] as string, Date.now() + 60_000);
    await queue.requeue(ended[2] as string, Date.now() + 60_000);
    const retried = { ...expected, queued: 4, failed: 0, expired: 0 };
    await eventually(() => expect(queue.stats()).toEqual(retried));
    // And it stays so (a shared queue's counts are refreshed from its store meanwhile).
    await sleep(500);
    expect(queue.stats()).toEqual(retried);
    held.end({ status: 'sent' });
    await eventually(() => expect(queue.stats()).toMatchObject({ sending: 0, sent: 2 }));
  });

  it('a full queue refuses to add or requeue past maxQueued', async () => {
    const queue = freshQueue({ maxQueued: 2 });
    const desk = new Desk(queue, { maxQueued: 2 });
    const { record } = await queue.add(newJob('a'));
    const pickup = await desk.next();
    await pickup.attempt();
    pickup.end({ status: 'failed', error: { code: 'HTTP', message: 'x', status: 500 } });
    await reaches(queue, record.id, 'failed');
    await queue.add(newJob('b', { sendAt: Date.now() + 60_000 }));
    await queue.add(newJob('c', { sendAt: Date.now() + 60_000 }));
    await expect(queue.add(newJob('d'))).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    await expect(queue.requeue(record.id, Date.now() + 60_000)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect((await queue.get(record.id))?.status).toBe('failed');
  });
});

describe('order', () => {
  it('list(): newest change first, by status, at most limit', async () => {
    const queue = freshQueue();
    const ids: string[] = [];
    for (const text of ['a', 'b', 'c']) {
      ids.push((await queue.add(newJob(text))).record.id);
      await sleep(5);
    }
    const [a, b, c] = ids as [string, string, string];
    await queue.cancel(a);
    const idsOf = async (options?: Parameters<typeof queue.list>[0]) => (await queue.list(options)).map((r) => r.id);
    expect(await idsOf()).toEqual([a, c, b]);
    expect(await idsOf({ status: 'queued' })).toEqual([c, b]);
    expect(await idsOf({ status: 'cancelled' })).toEqual([a]);
    expect(await idsOf({ limit: 2 })).toEqual([a, c]);
    expect(await idsOf({ status: 'sent' })).toEqual([]);
  });

  it('lanes: high before normal before low, first come first served within one', async () => {
    const queue = freshQueue();
    const added: [string, string][] = [];
    for (const [text, priority] of [
      ['low1', 'low'],
      ['normal1', 'normal'],
      ['high1', 'high'],
      ['normal2', 'normal'],
      ['low2', 'low'],
      ['high2', 'high'],
    ] as const) {
      added.push([(await queue.add(newJob(text, { priority }))).record.id, text]);
    }
    const desk = new Desk(queue);
    const order: string[] = [];
    for (let i = 0; i < added.length; i++) {
      const pickup = await desk.next();
      order.push(added.find(([id]) => id === pickup.id)?.[1] as string);
      await pickup.send();
    }
    expect(order).toEqual(['high1', 'high2', 'normal1', 'normal2', 'low1', 'low2']);
  });

  it('a job given back without an attempt keeps its turn at the head of its lane', async () => {
    const queue = freshQueue();
    const { record: first } = await queue.add(newJob('first'));
    const { record: second } = await queue.add(newJob('second'));
    const desk = new Desk(queue);
    const pickup = await desk.next();
    expect(pickup.id).toBe(first.id);
    pickup.end({ status: 'released' });
    const again = await desk.next();
    expect(again.id).toBe(first.id);
    await again.send();
    const next = await desk.next();
    expect(next.id).toBe(second.id);
    await next.send();
  });
});
