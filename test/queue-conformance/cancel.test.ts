import { describe, expect, it } from 'vitest';
import { Desk, eventually, freshQueue, newJob, type Pickup, reaches, sleep, statusOf } from './harness.js';

/* Cancel races: a cancel meets a worker, another cancel, or a pickup in flight. */

describe('cancel races', () => {
  it('cancel while sending is refused; the job ends as its worker says, reported once', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('a'));
    const pickup = await desk.next();
    await pickup.attempt();
    expect(await queue.cancel(record.id)).toBeUndefined();
    expect(pickup.job.signal.aborted).toBe(false);
    pickup.end({ status: 'sent', messageId: 'm-a' });
    expect(await desk.finishedWith(record.id)).toMatchObject({ status: 'sent', messageId: 'm-a' });
    await sleep(200);
    expect(desk.reports(record.id)).toBe(1);
  });

  it('cancel twice: the first cancels, the second answers nothing; reported once', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('a', { sendAt: Date.now() + 60_000 }));
    expect(await queue.cancel(record.id)).toMatchObject({ id: record.id, status: 'cancelled' });
    expect(await queue.cancel(record.id)).toBeUndefined();
    expect((await desk.finishedWith(record.id)).status).toBe('cancelled');
    await sleep(200);
    expect(desk.reports(record.id)).toBe(1);
  });

  it('two cancels at once: exactly one wins', async () => {
    const queue = freshQueue();
    const { record } = await queue.add(newJob('a', { sendAt: Date.now() + 60_000 }));
    const answers = await Promise.all([
      queue.cancel(record.id),
      queue.cancel({ replaceKey: 'none' }),
      queue.cancel(record.id),
    ]);
    expect(answers.filter((a) => a !== undefined)).toHaveLength(1);
  });

  it('cancel of a job its worker holds but has not written: cancelled, the worker stopped and refused, its outcome dropped', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('a'));
    const pickup = await desk.next();
    expect(await queue.cancel(record.id)).toMatchObject({ id: record.id, status: 'cancelled' });
    await eventually(() => expect(pickup.job.signal.aborted).toBe(true));
    await expect(pickup.attempt()).rejects.toThrow();
    pickup.end({ status: 'sent' }); // too late: the harness gave it back when the signal aborted
    await sleep(300);
    expect(await queue.get(record.id)).toMatchObject({ status: 'cancelled', attempts: 0 });
    expect(desk.reports(record.id)).toBe(1);
    expect(desk.pickups).toHaveLength(1);
  });

  it('a late outcome of a worker whose job was cancelled does not bring it back', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('a'));
    const pickup = await desk.next();
    await queue.cancel(record.id);
    // Whatever the worker reports (here: back in line after a not-accepted attempt) is dropped.
    pickup.end({ status: 'retry', at: Date.now(), error: { code: 'NETWORK', message: 'refused' } });
    await sleep(400);
    expect(await statusOf(queue, record.id)).toBe('cancelled');
    expect(desk.pickups).toHaveLength(1);
  });

  it('cancels racing a busy worker: a job is either cancelled and never written, or written and not cancelled', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue, { concurrency: 4 });
    const written = new Set<string>();
    desk.auto = async (pickup: Pickup) => {
      await sleep(Math.floor(Math.random() * 10));
      try {
        await pickup.attempt();
      } catch {
        return; // refused: the job was cancelled; the harness gave it back on abort
      }
      written.add(pickup.id);
      pickup.end({ status: 'sent' });
    };
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await queue.add(newJob(`r${i}`))).record.id);
    const cancelled = await Promise.all(
      ids.map(async (id, i) => {
        await sleep(i % 5);
        return (await queue.cancel(id)) !== undefined;
      }),
    );
    for (const [i, id] of ids.entries()) {
      const final = await eventually(async () => {
        const status = await statusOf(queue, id);
        expect(['sent', 'cancelled']).toContain(status);
        return status;
      });
      expect(final, `job ${i}`).toBe(cancelled[i] ? 'cancelled' : 'sent');
      expect(written.has(id), `job ${i} written`).toBe(!cancelled[i]);
      await eventually(() => expect(desk.reports(id)).toBe(1));
    }
  });

  it('cancel by replace key after the job was sent answers nothing', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('a', { replaceKey: 'k' }));
    await (await desk.next()).send();
    await reaches(queue, record.id, 'sent');
    expect(await queue.cancel({ replaceKey: 'k' })).toBeUndefined();
    expect(await queue.cancel(record.id)).toBeUndefined();
  });
});
