import {
  type AnyNotifier,
  createNotifier,
  type JobRecord,
  type LineEvent,
  MemoryLimiterStore,
  type NotifierOptions,
  OlchatClient,
} from '@olchat-kit/core';
import { type ActiveJob, type JobOutcome, LaneGates } from '@olchat-kit/core/queue';
import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import { redisQueue } from '../src/index.js';
import { deliver, newJob, Queues, textOf } from './helpers/queue-harness.js';
import { RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;
const queues = new Queues(() => redis);
const gatesMade: LaneGates[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterEach(async () => {
  await queues.closeAll();
  for (const gates of gatesMade.splice(0)) gates.close();
});
afterAll(async () => {
  await redis?.destroy();
});

function gates(): LaneGates {
  const made = new LaneGates();
  gatesMade.push(made);
  return made;
}

/** A worker that records what it worked (and where) and delivers it. */
function recorder(worked: string[], tag = '') {
  return async (job: ActiveJob): Promise<JobOutcome> => {
    worked.push(`${tag}${textOf(job)}`);
    return deliver(job);
  };
}

describe('redisQueue: lane pauses and the flag, shared by every process', () => {
  it('a lane paused in one process is held in all; its jobs hold no worker; a resume anywhere sends them once', async () => {
    const name = queues.name('lanes');
    const worked: string[] = [];
    const gatesA = gates();
    const gatesB = gates();
    const a = queues.working(name, recorder(worked, 'a:'), { gates: gatesA });
    const b = queues.working(name, recorder(worked, 'b:'), { gates: gatesB });

    expect(await a.queue.updateGates({ op: 'pause', lanes: ['low'] })).toBe(true);
    expect(gatesA.isOpen('low')).toBe(false);
    await waitFor(() => !gatesB.isOpen('low'), 3_000, 'the other process to see the pause');
    expect(await b.queue.updateGates({ op: 'pause', lanes: ['low'] })).toBe(false); // already so

    for (let i = 0; i < 6; i++) await a.queue.add(newJob(`low ${i}`, { priority: 'low' }));
    // One worker each: were a low job holding either, the high one would wait behind it.
    const high = await b.queue.add(newJob('high', { priority: 'high' }));
    await waitFor(() => worked.some((w) => w.endsWith('high')), 5_000, 'the high job');
    await waitFor(async () => (await a.queue.get(high.record.id))?.status === 'sent', 5_000, 'the high job sent');
    await sleep(1_000);
    expect(worked.filter((w) => w.includes('low'))).toEqual([]);
    expect(await a.queue.list({ status: 'queued' })).toHaveLength(6);

    expect(await b.queue.updateGates({ op: 'resume', lane: 'low' })).toBe(true);
    // Parked in BullMQ's delayed set, promoted by whichever process sees the lane open first: generous on a loaded machine.
    await waitFor(() => worked.filter((w) => w.includes('low')).length === 6, 20_000, 'the low jobs');
    const lows = worked.filter((w) => w.includes('low')).map((w) => w.split(':')[1]);
    expect(new Set(lows).size).toBe(6);
    await waitFor(() => gatesA.isOpen('low'), 3_000, 'the first process to see the resume');
    await sleep(400);
    expect(worked.filter((w) => w.includes('low'))).toHaveLength(6); // each once
  });

  it('a process that starts while a lane is paused holds it from the start', async () => {
    const name = queues.name('lanes-late');
    const first = queues.working(name, recorder([]), { gates: gates() });
    await first.queue.updateGates({ op: 'pause', lanes: ['normal', 'low'] });
    const worked: string[] = [];
    const lateGates = gates();
    const late = queues.working(name, recorder(worked), { gates: lateGates });
    await waitFor(() => !lateGates.isOpen('normal') && !lateGates.isOpen('low'), 3_000, 'the pause');
    expect(lateGates.isOpen('high')).toBe(true);
    await late.queue.add(newJob('waits'));
    await sleep(800);
    expect(worked).toEqual([]);
    await late.queue.updateGates({ op: 'resume' });
    await waitFor(() => worked.length === 1, 5_000, 'the job');
  });

  it('the flag is raised once for all; jobs parked until its end come back by themselves', async () => {
    const name = queues.name('lanes-flag');
    const worked: string[] = [];
    const gatesA = gates();
    const gatesB = gates();
    const a = queues.working(name, recorder(worked), { gates: gatesA });
    const b = queues.working(name, recorder(worked), { gates: gatesB });
    const at = Date.now();
    const until = at + 2_500;
    expect(await a.queue.updateGates({ op: 'flag', at, until, high: false })).toBe(true);
    // Another process hearing the same words later raises nothing more (its webhook stays unsent).
    expect(await b.queue.updateGates({ op: 'flag', at: at + 10, until: until + 10_000, high: true })).toBe(false);
    await waitFor(() => gatesB.flag !== undefined, 3_000, 'the other process to see the flag');
    expect(gatesB.flag).toEqual({ at, until, high: false });

    const low = await a.queue.add(newJob('after the flag', { priority: 'low' }));
    await b.queue.add(newJob('order', { priority: 'high' }));
    await waitFor(() => worked.includes('order'), 5_000, 'the high job');
    await sleep(500);
    expect(worked).toEqual(['order']);
    await waitFor(() => worked.includes('after the flag'), 8_000, 'the parked job, at the flag’s end');
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    const record = (await a.queue.get(low.record.id)) as JobRecord;
    expect(record.status).toBe('sent');
  });

  it('resume() in any process lifts the flag and every pause for all', async () => {
    const name = queues.name('lanes-resume');
    const worked: string[] = [];
    const gatesA = gates();
    const gatesB = gates();
    const a = queues.working(name, recorder(worked), { gates: gatesA });
    const b = queues.working(name, recorder(worked), { gates: gatesB });
    await a.queue.updateGates({ op: 'pause', lanes: ['high'] });
    await a.queue.updateGates({ op: 'flag', at: Date.now(), until: Date.now() + 3_600_000, high: false });
    // Another process hears of a change within its read interval (200 ms here).
    await waitFor(() => gatesB.flag !== undefined && !gatesB.isOpen('high'), 3_000, 'the other process');
    for (const priority of ['high', 'normal', 'low'] as const) await a.queue.add(newJob(priority, { priority }));
    await sleep(800);
    expect(worked).toEqual([]);
    expect(await b.queue.updateGates({ op: 'resume' })).toBe(true);
    await waitFor(() => worked.length === 3, 8_000, 'every lane');
    await waitFor(() => gatesA.flag === undefined && gatesA.isOpen('high'), 3_000, 'the first process');
  });
});

describe('redisQueue: cancelMany', () => {
  it('cancels the pending jobs a filter matches, from any process, page by page', async () => {
    const name = queues.name('cancel-many');
    // No worker: every job stays pending. Generous timeouts: a loaded machine may be slow to add 1 100.
    const queue = queues.open(name, { addTimeoutMs: 30_000 });
    const other = queues.open(name, { addTimeoutMs: 30_000 });
    const ids: Record<string, string[]> = { promo: [], reminder: [], later: [], due: [] };
    // More than one page (500) of one campaign, added 50 at a time.
    for (let from = 0; from < 1_100; from += 50) {
      const adds = Array.from({ length: 50 }, (_, k) =>
        queue.add(newJob(`promo ${from + k}`, { ruleId: 'promo', priority: 'low', keys: [`idem:p${from + k}`] })),
      );
      for (const { record } of await Promise.all(adds)) ids.promo?.push(record.id);
    }
    for (let i = 0; i < 3; i++)
      ids.reminder?.push((await queue.add(newJob(`r ${i}`, { ruleId: 'reminder' }))).record.id);
    for (let i = 0; i < 2; i++) {
      const later = await queue.add(newJob(`later ${i}`, { ruleId: 'reminder', sendAt: Date.now() + 3_600_000 }));
      ids.later?.push(later.record.id);
    }
    // A schedule whose time came reads as queued, whether or not a sweep moved it yet.
    const due = await queue.add(newJob('due', { ruleId: 'reminder', sendAt: Date.now() + 300 }));
    await sleep(400);

    expect(await other.cancelMany({ ruleId: 'reminder', status: 'scheduled' })).toBe(2);
    for (const id of ids.later ?? []) expect((await queue.get(id))?.status).toBe('cancelled');
    expect(await other.cancelMany({ ruleId: 'reminder', status: 'queued' })).toBe(4);
    expect((await queue.get(due.record.id))?.status).toBe('cancelled');

    expect(await other.cancelMany({ priority: 'low' })).toBe(1_100);
    expect(await queue.get(ids.promo?.[1_099] as string)).toMatchObject({ status: 'cancelled' });
    // Their keys are free again, as a cancel frees them.
    expect(await queue.find(['idem:p0'])).toBeUndefined();
    expect(await other.cancelMany({})).toBe(0);
    await waitFor(() => queue.stats().cancelled === 1_106, 3_000, 'the counts');
    expect(queue.stats()).toMatchObject({ queued: 0, scheduled: 0 });
  });

  it('cancels parked jobs too: once the lane opens, none of them is worked', async () => {
    const name = queues.name('cancel-parked');
    const worked: string[] = [];
    const laneGates = gates();
    const { queue } = queues.working(name, recorder(worked), { gates: laneGates, concurrency: 2 });
    await queue.updateGates({ op: 'pause', lanes: ['low'] });
    for (let i = 0; i < 5; i++) await queue.add(newJob(`campaign ${i}`, { ruleId: 'promo', priority: 'low' }));
    await queue.add(newJob('kept', { ruleId: 'other', priority: 'low' }));
    await sleep(600); // handed over by BullMQ and parked
    expect(await queue.cancelMany({ ruleId: 'promo' })).toBe(5);
    await queue.updateGates({ op: 'resume', lane: 'low' });
    await waitFor(() => worked.includes('kept'), 8_000, 'the job that was kept');
    await sleep(500);
    expect(worked).toEqual(['kept']);
  });
});

describe('notifiers on one Redis queue', () => {
  const loose = { points: 100, durationMs: 1_000 };
  const open: AnyNotifier[] = [];
  let emu: Emulator | undefined;

  afterEach(async () => {
    for (const notifier of open.splice(0)) await notifier.close({ timeoutMs: 1_000 });
    await emu?.close();
  });

  function notifierOn(name: string, vendor: Emulator, extra: Partial<NotifierOptions> = {}): AnyNotifier {
    const client = new OlchatClient({
      token: vendor.token,
      baseUrl: vendor.baseUrl,
      limiterStore: new MemoryLimiterStore(),
      limits: { sendText: loose, checkStatus: loose },
    });
    const notifier = createNotifier({
      client,
      queue: redisQueue({ connection: redis.connection, name, statsIntervalMs: 200 }),
      secret: 'queue-lanes-test-secret-0123456789',
      line: { checkIntervalMs: false },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      ...extra,
    } as NotifierOptions);
    open.push(notifier);
    return notifier;
  }

  it('pause(lane) in one holds it in the other; a flag seen by one holds normal and low in both', async () => {
    emu = await startEmulator({ limits: { sendText: loose, checkStatus: loose } });
    const name = queues.name('notifiers');
    const a = notifierOn(name, emu);
    const b = notifierOn(name, emu);
    const heardByB: LineEvent[] = [];
    b.on('line', (event) => heardByB.push(event));

    await a.pause('low');
    await waitFor(() => b.lanes().low.paused, 3_000, 'b to see the pause');
    await b.send({ phone: '79123456789', text: 'campaign' }, { priority: 'low' });
    await b.send({ phone: '79123456789', text: 'order' }, { priority: 'high' });
    await emu.waitForMessages(1);
    await sleep(500);
    expect(emu.messages.map((m) => m.text)).toEqual(['order']);
    await a.resume('low');
    expect((await emu.waitForMessages(2)).map((m) => m.text)).toEqual(['order', 'campaign']);

    emu.setFlagged(true);
    await a.refreshLine();
    expect(a.line).toBe('flagged');
    await waitFor(() => b.line === 'flagged', 3_000, 'b to see the flag');
    expect(heardByB.at(-1)).toMatchObject({ state: 'flagged', until: expect.any(Number) });
    expect(b.lanes().normal).toMatchObject({ open: false, flaggedUntil: expect.any(Number) });
    await b.send({ phone: '79123456789', text: 'reminder' });
    await sleep(500);
    expect(emu.messages).toHaveLength(2);

    emu.setFlagged(false);
    await b.resume();
    expect((await emu.waitForMessages(3)).map((m) => m.text)).toContain('reminder');
    await waitFor(() => a.line === 'up', 3_000, 'a to see the flag lifted');
  });

  it('two notifiers pace one line: a low send in either leaves its gap for both', async () => {
    emu = await startEmulator({ limits: { sendText: loose, checkStatus: loose } });
    const name = queues.name('notifiers-pace');
    // 700–900 ms between two low sends; each process with its own (loose) limiter, so only the
    // shared gap keeps them apart.
    const guard = { pacing: { low: [700, 900] as const } };
    const a = notifierOn(name, emu, { guard });
    const b = notifierOn(name, emu, { guard });
    const attempts = { a: 0, b: 0 };
    a.on('attempt', () => attempts.a++);
    b.on('attempt', () => attempts.b++);
    for (let i = 0; i < 6; i++) {
      await (i % 2 === 0 ? a : b).send({ phone: `7912345670${i}`, text: `campaign ${i}` }, { priority: 'low' });
    }
    const high = Date.now();
    await b.send({ phone: '79123456799', text: 'order' }, { priority: 'high' });
    await emu.waitForMessages(7, 15_000);
    const lows = emu.messages.filter((m) => m.text?.startsWith('campaign')).map((m) => m.at);
    // A gap is taken as the send is written; arrivals may be a little closer than that.
    for (let i = 1; i < lows.length; i++)
      expect((lows[i] as number) - (lows[i - 1] as number)).toBeGreaterThanOrEqual(550);
    // The high one did not wait for the campaign's gaps.
    expect((emu.messages.find((m) => m.text === 'order')?.at as number) - high).toBeLessThan(1_500);
    await waitFor(() => attempts.a + attempts.b === 7, 3_000, 'every attempt reported');
  });
});

describe('redisQueue: pacing gaps, shared by every process', () => {
  it('one gap at a time for all: taken in one process, refused in the other, held in both until it ends', async () => {
    const name = queues.name('pace');
    const gatesA = gates();
    const gatesB = gates();
    const a = queues.working(name, recorder([]), { gates: gatesA });
    const b = queues.working(name, recorder([]), { gates: gatesB });
    const at = Date.now();
    expect(await a.queue.updateGates({ op: 'pace', lane: 'low', at, until: at + 1_500 })).toBe(true);
    expect(await b.queue.updateGates({ op: 'pace', lane: 'low', at: at + 5, until: at + 2_000 })).toBe(false);
    expect(gatesB.isOpen('low')).toBe(false);
    expect(gatesB.opensAt('low')).toBe(at + 1_500);
    expect(gatesB.isOpen('normal')).toBe(true);
    // Given back (its send did not happen): open for both.
    expect(await a.queue.updateGates({ op: 'unpace', lane: 'low', until: at + 1_500 })).toBe(true);
    await waitFor(() => gatesB.isOpen('low'), 3_000, 'the other process to see the gap given back');
    expect(await b.queue.updateGates({ op: 'pace', lane: 'low', at: Date.now(), until: Date.now() + 600 })).toBe(true);
    await waitFor(() => !gatesA.isOpen('low'), 3_000, 'the first process to see the new gap');
    await waitFor(() => gatesA.isOpen('low') && gatesB.isOpen('low'), 3_000, 'the gap to end by itself');
  });
});
