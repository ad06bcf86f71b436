import type { JobError, JobQueue, JobRecord, JobStatus } from '@olchat-kit/core';
import {
  allows,
  JOB_STATUSES,
  type JobOutcome,
  LIFECYCLE_EVENTS,
  type LifecycleEvent,
  type NoJob,
  nextStatus,
  TRANSITIONS,
} from '@olchat-kit/core/queue';
import { describe, expect, it } from 'vitest';
import {
  Desk,
  durable,
  eventually,
  freshQueue,
  nameOf,
  newJob,
  type Pickup,
  reaches,
  reopen,
  sleep,
  statusOf,
} from './harness.js';

/*
 * Every row of core's transition table (queue/transitions.ts), driven on this run's queue: each
 * step checks that the queue moved the job where the table says, and the last test checks that
 * every row was exercised.
 */

const exercised = new Set<string>();

/** The job went from `from` through `event` to the status the table names. */
function step(from: JobStatus | NoJob, event: LifecycleEvent, status: JobStatus | undefined): void {
  const to = nextStatus(from, event);
  expect(to, `the table has no ${event} from ${from}`).toBeDefined();
  expect(status, `${from} --${event}--> ${to}`).toBe(to);
  exercised.add(`${from} --${event}`);
}

const SOME_ERROR: JobError = { code: 'HTTP', message: 'Bad request', status: 400 };
const NOT_ACCEPTED: JobError = { code: 'NETWORK', message: 'Connection refused' };

/** A job of a fresh queue brought into `status`, by the moves the table allows. */
async function reach(status: JobStatus): Promise<{ queue: JobQueue; id: string; desk?: Desk; pickup?: Pickup }> {
  const queue = freshQueue();
  if (status === 'scheduled') {
    const { record } = await queue.add(newJob('later', { sendAt: Date.now() + 60_000 }));
    return { queue, id: record.id };
  }
  if (status === 'queued' || status === 'cancelled') {
    const { record } = await queue.add(newJob('now'));
    if (status === 'cancelled') await queue.cancel(record.id);
    return { queue, id: record.id };
  }
  if (status === 'skipped') {
    const { record } = await queue.add(newJob('', { skipped: true }));
    return { queue, id: record.id };
  }
  const desk = new Desk(queue);
  const { record } = await queue.add(newJob('worked'));
  const pickup = await desk.next();
  await pickup.attempt();
  if (status === 'sent') pickup.end({ status: 'sent', messageId: 'm-1' });
  if (status === 'failed') pickup.end({ status: 'failed', error: SOME_ERROR });
  if (status === 'expired') pickup.end({ status: 'expired', error: NOT_ACCEPTED });
  await reaches(queue, record.id, status);
  return { queue, id: record.id, desk, pickup };
}

describe('adding', () => {
  it('a job due now is queued; one whose sendAt passed already too', async () => {
    const queue = freshQueue();
    const now = await queue.add(newJob('now'));
    step('new', 'add', now.record.status);
    expect(now.created).toBe(true);
    expect(await statusOf(queue, now.record.id)).toBe('queued');
    const late = await queue.add(newJob('late', { sendAt: Date.now() - 1_000 }));
    step('new', 'add', late.record.status);
  });

  it('a job whose sendAt is ahead is scheduled', async () => {
    const queue = freshQueue();
    const sendAt = Date.now() + 60_000;
    const { record } = await queue.add(newJob('later', { sendAt }));
    step('new', 'schedule', record.status);
    expect(record.sendAt).toBe(sendAt);
    expect(await statusOf(queue, record.id)).toBe('scheduled');
  });

  it('a skipped job is recorded finished and never handed to the worker', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('', { skipped: true, ruleId: 'r' }));
    step('new', 'skip', record.status);
    expect(await queue.get(record.id)).toMatchObject({ id: record.id, status: 'skipped', ruleId: 'r', attempts: 0 });
    // The next job is the first the worker sees.
    const { record: next } = await queue.add(newJob('after'));
    expect((await desk.next()).id).toBe(next.id);
    expect(desk.pickups.map((p) => p.id)).toEqual([next.id]);
    expect(desk.reports(record.id)).toBe(0);
  });
});

describe('time', () => {
  it('a scheduled job joins its lane when its sendAt comes, and is handed over no earlier', async () => {
    const queue = freshQueue();
    const sendAt = Date.now() + 500;
    const { record } = await queue.add(newJob('soon', { sendAt }));
    expect(record.status).toBe('scheduled');
    const queued = await reaches(queue, record.id, 'queued');
    step('scheduled', 'due', queued.status);
    expect(Date.now()).toBeGreaterThanOrEqual(sendAt);
    const desk = new Desk(queue);
    const pickup = await desk.next();
    expect(pickup.id).toBe(record.id);
    await pickup.send();
    expect((await desk.finishedWith(record.id)).status).toBe('sent');
  });
});

describe("a worker's marks and outcomes", () => {
  it('markAttempt makes a queued job sending; a second attempt of the same pickup keeps it sending', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('a'));
    const pickup = await desk.next();
    expect(await statusOf(queue, record.id)).toBe('queued'); // held, not yet written
    await pickup.attempt();
    step('queued', 'attempt', await statusOf(queue, record.id));
    await pickup.attempt();
    step('sending', 'attempt', await statusOf(queue, record.id));
    expect((await queue.get(record.id))?.attempts).toBe(2);
    pickup.end({ status: 'sent' });
    expect((await desk.finishedWith(record.id)).attempts).toBe(2);
  });

  const outcomes: { event: LifecycleEvent; outcome: () => JobOutcome }[] = [
    { event: 'sent', outcome: () => ({ status: 'sent', messageId: 'vendor-42' }) },
    { event: 'failed', outcome: () => ({ status: 'failed', error: SOME_ERROR }) },
    { event: 'expired', outcome: () => ({ status: 'expired', error: NOT_ACCEPTED }) },
    { event: 'retry', outcome: () => ({ status: 'retry', at: Date.now() + 400, error: NOT_ACCEPTED }) },
    { event: 'deferred', outcome: () => ({ status: 'deferred', until: Date.now() + 400 }) },
    { event: 'released', outcome: () => ({ status: 'released' }) },
  ];

  it('queued --skipped--> skipped: its phone opted out before the request; reported once, with its reason', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('x', { priority: 'low' }));
    const pickup = await desk.next();
    expect(pickup.job.category).toBe('marketing');
    pickup.end({ status: 'skipped', reason: 'suppressed' });
    const ended = await desk.finishedWith(record.id);
    step('queued', 'skipped', ended.status);
    expect(ended).toMatchObject({ reason: 'suppressed', attempts: 0, category: 'marketing' });
    expect(await queue.get(record.id)).toMatchObject({ status: 'skipped', reason: 'suppressed' });
    await sleep(300);
    expect(desk.reports(record.id)).toBe(1);
    expect(desk.pickups).toHaveLength(1);
    // Only before a request: a job being sent is not skipped.
    expect(nextStatus('sending', 'skipped')).toBeUndefined();
  });

  for (const from of ['queued', 'sending'] as const) {
    for (const { event, outcome } of outcomes) {
      it(`${from} --${event}--> ${nextStatus(from, event)}`, async () => {
        const queue = freshQueue();
        const desk = new Desk(queue);
        const { record } = await queue.add(newJob('x', { ruleId: 'rule' }));
        const pickup = await desk.next();
        if (from === 'sending') await pickup.attempt();
        const attempts = from === 'sending' ? 1 : 0;
        const given = outcome();
        pickup.end(given);
        const to = nextStatus(from, event) as JobStatus;
        // The outcome is stored once the record shows it: a status, an error, a new sendAt; a
        // released job shows nothing new until it is handed over again.
        const after =
          given.status === 'released'
            ? undefined
            : await eventually(async () => {
                const now = await queue.get(record.id);
                expect(now?.status).toBe(to);
                if (given.status === 'retry') expect(now?.error).toEqual(NOT_ACCEPTED);
                if (given.status === 'deferred') expect(now?.sendAt).toBe(given.until);
                return now as JobRecord;
              });
        if (after) {
          step(from, event, after.status);
          expect(after.attempts).toBe(attempts);
          if (given.status === 'sent') expect([after.messageId, after.error]).toEqual(['vendor-42', undefined]);
          if (given.status === 'failed' || given.status === 'expired') expect(after.error).toEqual(given.error);
        }
        if (to === 'sent' || to === 'failed' || to === 'expired') {
          // Final: reported once, never handed over again.
          expect((await desk.finishedWith(record.id)).status).toBe(to);
          await sleep(300);
          expect(desk.reports(record.id)).toBe(1);
          expect(desk.pickups).toHaveLength(1);
          return;
        }

        // Back in line: not reported, handed over again (not before its time), the last error kept.
        const notBefore = given.status === 'retry' ? given.at : given.status === 'deferred' ? given.until : 0;
        const again = await desk.next();
        expect(again.id).toBe(record.id);
        // A durable queue may hand a job over up to 50 ms early (its timers are not exact).
        expect(again.at).toBeGreaterThanOrEqual(notBefore - 50);
        expect(again.job.attempts).toBe(attempts);
        if (given.status === 'released') step(from, event, await statusOf(queue, record.id));
        if (given.status === 'retry') expect(again.job.lastError).toEqual(NOT_ACCEPTED);
        await again.send();
        const sent = await desk.finishedWith(record.id);
        expect(sent).toMatchObject({ status: 'sent', attempts: attempts + 1 });
        expect(desk.reports(record.id)).toBe(1);
      });
    }
  }
});

describe('cancel and requeue, from every status', () => {
  for (const status of JOB_STATUSES) {
    const verdict = allows(status, 'cancel') ? 'cancels it' : 'is refused';
    it(`cancel() of a ${status} job ${verdict}`, async () => {
      const { queue, id, desk } = await reach(status);
      const cancelled = await queue.cancel(id);
      if (allows(status, 'cancel')) {
        expect(cancelled).toMatchObject({ id, status: 'cancelled' });
        step(status, 'cancel', await statusOf(queue, id));
      } else {
        expect(cancelled).toBeUndefined();
        expect(await statusOf(queue, id)).toBe(status);
      }
      if (status === 'sending') {
        // The job being sent is not taken back: it ends as its worker says.
        const pickup = desk?.pickups[0] as Pickup;
        expect(pickup.job.signal.aborted).toBe(false);
        pickup.end({ status: 'sent' });
        expect((await desk?.finishedWith(id))?.status).toBe('sent');
      }
    });

    const requeueVerdict = allows(status, 'requeue') ? 'puts it back in line' : 'is refused';
    it(`requeue() of a ${status} job ${requeueVerdict}`, async () => {
      const { queue, id, desk, pickup } = await reach(status);
      const requeued = await queue.requeue(id, Date.now() + 60_000);
      if (!allows(status, 'requeue')) {
        expect(requeued).toBeUndefined();
        expect(await statusOf(queue, id)).toBe(status);
        pickup?.end({ status: 'sent' });
        return;
      }
      step(status, 'requeue', requeued?.status);
      // Attempts and the last error stay; the job is worked again.
      expect(requeued).toMatchObject({ id, status: 'queued', attempts: 1, error: expect.any(Object) });
      const again = await (desk as Desk).next();
      expect(again.id).toBe(id);
      await again.send();
      expect(await (desk as Desk).finishedWith(id, 'sent')).toMatchObject({ status: 'sent', attempts: 2 });
    });
  }

  it('an unknown id is neither cancelled nor requeued', async () => {
    const queue = freshQueue();
    expect(await queue.cancel('no-such-job')).toBeUndefined();
    expect(await queue.cancel({ replaceKey: 'no-such-key' })).toBeUndefined();
    expect(await queue.requeue('no-such-job', Date.now() + 60_000)).toBeUndefined();
    expect(await queue.get('no-such-job')).toBeUndefined();
  });
});

describe('deadlines', () => {
  it('a scheduled job whose deadline passes before its time ends expired, never handed over', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const deadline = Date.now() + 300;
    const { record } = await queue.add(newJob('too late', { sendAt: Date.now() + 10_000, deadline }));
    const expired = await desk.finishedWith(record.id);
    // The table's row; a queue may let it join its lane at its deadline first (then it ends from there).
    step('scheduled', 'deadline', expired.status);
    expect(expired.error?.code).toBe('EXPIRED');
    expect(expired.updatedAt).toBeGreaterThanOrEqual(deadline);
    expect(desk.pickups).toHaveLength(0);
  });

  it('a queued job still waiting at its deadline ends expired, never handed over', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue); // one at a time: the first job holds the worker
    const { record: first } = await queue.add(newJob('first'));
    const held = await desk.next();
    const deadline = Date.now() + 300;
    const { record } = await queue.add(newJob('waits', { deadline }));
    const expired = await desk.finishedWith(record.id);
    step('queued', 'deadline', expired.status);
    expect(expired.error?.code).toBe('EXPIRED');
    expect(expired.updatedAt).toBeGreaterThanOrEqual(deadline);
    await held.send();
    await desk.finishedWith(first.id);
    expect(desk.pickups.map((p) => p.id)).toEqual([first.id]);
  });

  it('a job waiting out its backoff past its deadline ends expired with its last error', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('retried', { deadline: Date.now() + 500 }));
    const pickup = await desk.next();
    await pickup.attempt();
    pickup.end({ status: 'retry', at: Date.now() + 30_000, error: NOT_ACCEPTED });
    const expired = await desk.finishedWith(record.id);
    step('queued', 'deadline', expired.status);
    expect(expired).toMatchObject({ status: 'expired', attempts: 1, error: NOT_ACCEPTED });
    expect(desk.pickups).toHaveLength(1);
  });

  it('a job held by its worker past its deadline is left to that worker', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('slow', { deadline: Date.now() + 200 }));
    const pickup = await desk.next();
    await pickup.attempt();
    await sleep(600); // several sweeps
    expect(await statusOf(queue, record.id)).toBe('sending');
    pickup.end({ status: 'sent' });
    expect((await desk.finishedWith(record.id)).status).toBe('sent');
  });
});

describe('closing', () => {
  if (durable) {
    it('a durable queue keeps scheduled and queued jobs across a close; the next process works them', async () => {
      const queue = freshQueue();
      const { record: later } = await queue.add(newJob('later', { sendAt: Date.now() + 60_000 }));
      const { record: now } = await queue.add(newJob('now'));
      await queue.close({ timeoutMs: 1_000 });
      const next = reopen(nameOf(queue));
      expect(await statusOf(next, later.id)).toBe('scheduled');
      expect(await statusOf(next, now.id)).toBe('queued');
      const desk = new Desk(next);
      const pickup = await desk.next();
      expect(pickup.id).toBe(now.id);
      await pickup.send();
      expect((await desk.finishedWith(now.id)).status).toBe('sent');
    });
  } else {
    it('a queue that keeps nothing ends its scheduled, queued and held jobs failed CLOSED, keys freed', async () => {
      const queue = freshQueue();
      const desk = new Desk(queue);
      const { record: sending } = await queue.add(newJob('sending', { keys: ['idem:s'] }));
      const pickup = await desk.next();
      await pickup.attempt();
      const { record: queued } = await queue.add(newJob('queued', { keys: ['idem:q'] }));
      const { record: scheduled } = await queue.add(
        newJob('scheduled', { sendAt: Date.now() + 60_000, keys: ['idem:l'] }),
      );
      // Closing waits for due work; out of time, the held job's signal aborts and it is given back.
      await queue.close({ timeoutMs: 300 });
      for (const [from, id] of [
        ['sending', sending.id],
        ['queued', queued.id],
        ['scheduled', scheduled.id],
      ] as const) {
        const record = await queue.get(id);
        step(from, 'close', record?.status);
        expect(record?.error?.code).toBe('CLOSED');
        expect(desk.reports(id)).toBe(1);
      }
      expect(await queue.find(['idem:s'])).toBeUndefined();
      expect(await queue.find(['idem:q'])).toBeUndefined();
      expect(await queue.find(['idem:l'])).toBeUndefined();
    });
  }

  it('close() is not held up past its timeout by a job waiting out a backoff', async () => {
    const queue = freshQueue();
    const desk = new Desk(queue);
    const { record } = await queue.add(newJob('backoff'));
    const pickup = await desk.next();
    await pickup.attempt();
    pickup.end({ status: 'retry', at: Date.now() + 60_000, error: NOT_ACCEPTED });
    await eventually(async () => expect((await queue.get(record.id))?.error).toEqual(NOT_ACCEPTED));
    const closed = queue.close({ timeoutMs: 300 }).then(() => 'closed' as const);
    const stuck = sleep(10_000).then(() => 'stuck' as const);
    expect(await Promise.race([closed, stuck])).toBe('closed');
    // A durable queue keeps it waiting; one that keeps nothing ends it.
    if (durable) expect(await statusOf(reopen(nameOf(queue)), record.id)).toBe('queued');
    else expect(await queue.get(record.id)).toMatchObject({ status: 'failed', error: { code: 'CLOSED' } });
  });

  it('a closed queue takes no more jobs', async () => {
    const queue = freshQueue();
    await queue.close({ timeoutMs: 1_000 });
    await expect(queue.add(newJob('late'))).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('the table', () => {
  // Rows this suite cannot drive on this kind of queue, and why.
  const notHere = new Map<string, string>([
    ['sending --deadline', "only a durable queue's job whose worker died between attempts: a live worker decides"],
  ]);
  if (durable) {
    for (const from of ['scheduled', 'queued', 'sending']) {
      notHere.set(`${from} --close`, 'a durable queue keeps its jobs across a close');
    }
  }

  it('every row was exercised on this queue', () => {
    const rows = LIFECYCLE_EVENTS.flatMap((event) => TRANSITIONS[event].from.map((from) => `${from} --${event}`));
    const missing = rows.filter((row) => !exercised.has(row) && !notHere.has(row));
    expect(missing).toEqual([]);
  });
});
