// Heap and trigger cost of 100 000 jobs in the default MemoryQueue, through `notifier.trigger` as a
// user runs it, in three shapes measured in the same run: queued without a key, queued with a
// dedupe key (a shop's order rule), and scheduled over 30 days. Each against baselines of the same
// run: the raw input data held in an array, and zod alone parsing it.
//
// Run: pnpm -r build && node --expose-gc bench/queue.mjs [--jobs 100000] [--rounds 3]
//   [--snapshot keyed] [--only keyed] [--block 10000]
//   --snapshot <queued|keyed|scheduled>: heap snapshots of that scenario's notifier before and after
//   its jobs were added; prints the difference by type, per job.
//   --only <scenario>: runs one scenario (for `node --cpu-prof`) and prints its rate per block.
//   --block N: triggers per block for the first-versus-last rate (default 10 000).
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotifier, defineRule, MemoryLimiterStore, OlchatClient } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import { z } from 'zod';
import { diffPerJob, groupBySize, takeSnapshot } from './heap-summary.mjs';

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc bench/queue.mjs');
  process.exit(1);
}
const argument = (name) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const JOBS = Number(argument('--jobs') ?? 100_000);
const SNAPSHOT = argument('--snapshot');
const ONLY = argument('--only'); // one scenario alone, e.g. under --cpu-prof
const BLOCK = Number(argument('--block') ?? Math.min(10_000, Math.floor(JOBS / 4)));
const WARM_IN = Math.min(10_000, JOBS);
const ROUNDS = Number(argument('--rounds') ?? 1);
const MB = 1024 * 1024;
const EMPTY_FILE = join(tmpdir(), `bench-queue-${process.pid}.json`);
const DAY_MS = 24 * 3600_000;
const HEAP_GOAL_MB = 40; // 100 000 jobs with a dedupe key
const RATE_GOAL = 100_000; // triggers a second

const input = z.object({ name: z.string().min(1), phone: z.string(), orderId: z.string() });
const text = 'Здравствуйте, {{name}}! Мы получили вашу заявку, номер вашего заказа №{{orderId}}';
const plainRule = defineRule({ id: 'order-received', input, to: 'phone', text });
const keyedRule = defineRule({ id: 'order-keyed', input, to: 'phone', text, dedupeKey: (d) => d.orderId });
const dataFor = (i) => ({
  name: `Покупатель ${i}`,
  phone: `+7 912 ${String(i % 1000).padStart(3, '0')}-45-67`,
  orderId: `A-${i}`,
});

const now = Date.now();
// Spread over 30 days in a scrambled order (7919 is prime to the job counts used), as reminders
// for visits booked at random arrive.
const sendAtFor = (i, jobs) => now + 3600_000 + Math.floor((((i * 7919) % jobs) / jobs) * 30 * DAY_MS);

const SCENARIOS = {
  queued: { rule: 'order-received', options: () => undefined },
  keyed: { rule: 'order-keyed', options: () => undefined },
  scheduled: { rule: 'order-received', options: (i, jobs) => ({ sendAt: sendAtFor(i, jobs) }) },
};

/** The JS heap plus the memory of typed arrays, which V8 keeps outside its heap: a queue could
 *  otherwise look small by moving its data into ArrayBuffers. */
async function heapUsed() {
  globalThis.gc();
  // V8 frees the memory of dead ArrayBuffers on a background thread after the GC: let it finish.
  await new Promise((resolve) => setTimeout(resolve, 20));
  globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

// The limiter's line holds on to a waiter that gave up until its next wake, and with it that
// waiter's notifier: with every free announced, that is the whole 60 s window, long enough to leave
// one scenario's jobs in the heap while the next is measured. Polling every 50 ms lets go of them.
class PollingStore extends MemoryLimiterStore {
  maxPollMs = 50;
  constructor() {
    super({ assumeRecentUse: false }); // a fresh emulator: no earlier process used its window
  }
}

// The vendor limit at one request per minute: every job stays queued (or scheduled) while we measure.
const emu = await startEmulator();
const client = new OlchatClient({
  token: emu.token,
  baseUrl: emu.baseUrl,
  limiterStore: new PollingStore(),
  limits: { sendText: { points: 1, durationMs: 60_000 } },
});

/** Makes sure a closed notifier's jobs are gone before the next scenario is measured. */
async function untilCollected(gone) {
  for (let wait = 0; wait < 40 && gone.deref(); wait++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await heapUsed();
  }
  if (gone.deref()) console.warn('bench/queue: a closed notifier is still in the heap; the next heap row is off');
}

const trigger = (notifier, scenario, i, jobs) => {
  const options = scenario.options(i, jobs);
  return options ? notifier.trigger(scenario.rule, dataFor(i), options) : notifier.trigger(scenario.rule, dataFor(i));
};

const newNotifier = (jobs) =>
  // Room for the warm-in's first job, which the worker holds and a cancel cannot take back.
  createNotifier({ client, rules: [plainRule, keyedRule], concurrency: 1, maxQueued: jobs + 1 });

/**
 * The heap one scenario's jobs take: a fresh notifier, a full GC, the triggers, a full GC. With
 * `snapshot`, also what those jobs added to the heap by type.
 */
async function measureHeap(name, jobs, snapshot) {
  const scenario = SCENARIOS[name];
  let notifier = newNotifier(jobs);
  // Kept in a file, so its own strings and objects do not show up as the jobs' in the second snapshot.
  if (snapshot) writeFileSync(EMPTY_FILE, JSON.stringify([...groupBySize(takeSnapshot())]));
  const before = await heapUsed();
  for (let i = 0; i < jobs; i++) await trigger(notifier, scenario, i, jobs);
  const bytes = (await heapUsed()) - before;
  const stats = notifier.stats();
  const waiting = stats.queued + stats.sending + stats.scheduled;
  // A snapshot misses what only this frame's locals hold: a global holds the notifier meanwhile.
  globalThis.benchNotifier = notifier;
  const summary = snapshot
    ? diffPerJob(groupBySize(takeSnapshot()), new Map(JSON.parse(readFileSync(EMPTY_FILE, 'utf8'))), jobs)
    : undefined;
  globalThis.benchNotifier = undefined;
  if (snapshot) unlinkSync(EMPTY_FILE);
  await notifier.close({ timeoutMs: 10 });
  const gone = new WeakRef(notifier);
  notifier = undefined;
  await untilCollected(gone);
  return { bytes, waiting, summary };
}

/**
 * Triggers per second of one scenario, overall and per block of BLOCK, on a notifier warmed in
 * first. No forced GC here: V8 drops optimised code tied to objects that die, so a GC right after
 * the warm-in (or a notifier collected mid-run) would leave the first block to the JIT again.
 */
async function measureRate(name, jobs) {
  const scenario = SCENARIOS[name];
  let notifier = newNotifier(jobs);
  // Jobs it then cancels, as a notifier that has served traffic has.
  const warm = [];
  for (let i = 0; i < WARM_IN; i++) warm.push((await trigger(notifier, scenario, jobs + i, jobs)).id);
  for (const id of warm) await notifier.cancel(id);
  // Wall time is what a user sees; CPU time (this process, GC threads included) is what a trigger
  // costs, and is not stretched when other work on the machine takes the cores.
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const blocks = [];
  const started = performance.now();
  const cpuStarted = cpuMs();
  let blockStarted = cpuStarted;
  for (let i = 0; i < jobs; i++) {
    await trigger(notifier, scenario, i, jobs);
    if ((i + 1) % BLOCK === 0) {
      const t = cpuMs();
      blocks.push((1000 * (t - blockStarted)) / BLOCK);
      blockStarted = t;
    }
  }
  const perSecond = jobs / ((performance.now() - started) / 1000);
  const cpuUs = (1000 * (cpuMs() - cpuStarted)) / jobs;
  await notifier.close({ timeoutMs: 10 });
  const gone = new WeakRef(notifier);
  notifier = undefined;
  await untilCollected(gone);
  return { perSecond, cpuUs, blocks, first: blocks[0], last: blocks[blocks.length - 1] };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Baseline 1: the user's own data for the same jobs, held in an array.
const before = await heapUsed();
const held = Array.from({ length: JOBS }, (_, i) => dataFor(i));
const rawBytes = (await heapUsed()) - before;
held.length = 0;

// Baseline 2: validating the same data with zod alone, the unavoidable work of a trigger.
for (let i = 0; i < WARM_IN; i++) input.parse(dataFor(i));
const started = performance.now();
for (let i = 0; i < JOBS; i++) input.parse(dataFor(i));
const zodPerSecond = JOBS / ((performance.now() - started) / 1000);

// Rounds interleave the scenarios, so a busy moment of the machine does not fall on one of them;
// each figure is the median over the rounds.
const names = ONLY ? [ONLY] : Object.keys(SCENARIOS);
const runs = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const name of names) {
    const heap = await measureHeap(name, JOBS, name === SNAPSHOT && round === 0);
    runs[name].push({ ...heap, ...(await measureRate(name, JOBS)) });
  }
}
const results = {};
for (const [name, list] of Object.entries(runs)) {
  results[name] = {
    waiting: list[0].waiting,
    summary: list[0].summary,
    blocks: list[0].blocks,
    bytes: median(list.map((r) => r.bytes)),
    perSecond: median(list.map((r) => r.perSecond)),
    cpuUs: median(list.map((r) => r.cpuUs)),
    first: median(list.map((r) => r.first)),
    last: median(list.map((r) => r.last)),
  };
}

const row = (label, value, note = '') => console.log(`${label.padEnd(52)}${String(value).padStart(10)}  ${note}`);
const mb = (bytes) => (bytes / MB).toFixed(1);
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
console.log(
  `bench/queue: ${JOBS} jobs in the default MemoryQueue via notifier.trigger (node ${process.version}, ${ROUNDS} round${ROUNDS > 1 ? 's, medians' : ''})\n`,
);
row('load average of the machine (1 min)', loadavg()[0].toFixed(2), `${availableParallelism()} cores`);
row('heap of the raw input data (MB)', mb(rawBytes), 'baseline');
row('zod parse per second', Math.round(zodPerSecond), 'baseline');
const { queued, keyed, scheduled } = results;
const labels = { queued: 'queued, no key', keyed: 'queued, dedupe key', scheduled: 'scheduled over 30 days' };
for (const [name, r] of Object.entries(results)) {
  console.log('');
  row(`${labels[name]}: jobs waiting`, r.waiting);
  row(`${labels[name]}: heap + typed arrays (MB)`, mb(r.bytes), `${ratio(r.bytes, rawBytes)} raw input`);
  row(`${labels[name]}: bytes per job`, Math.round(r.bytes / JOBS));
  row(`${labels[name]}: triggers per second`, Math.round(r.perSecond), `${ratio(r.perSecond, zodPerSecond)} zod`);
  row(`${labels[name]}: CPU per trigger (µs)`, r.cpuUs.toFixed(2), `${Math.round(1e6 / r.cpuUs)} per CPU second`);
  row(`${labels[name]}: CPU per trigger, last ÷ first ${BLOCK}`, ratio(r.last, r.first), 'goal ≈ 1.0×');
}
if (ONLY) {
  console.log(
    `CPU µs per trigger, per block of ${BLOCK}: ${results[ONLY].blocks.map((us) => us.toFixed(1)).join(' ')}`,
  );
  if (results[SNAPSHOT]) console.log(`\n${results[SNAPSHOT].summary}`);
  process.exit(0);
}
console.log('');
row('dedupe key ÷ no key: heap', ratio(keyed.bytes, queued.bytes));
row('dedupe key ÷ no key: trigger cost', ratio(keyed.cpuUs, queued.cpuUs), '(CPU per trigger)');
row('scheduled ÷ queued: heap', ratio(scheduled.bytes, queued.bytes), 'goal ≈ 1.0×');
row('scheduled ÷ queued: trigger cost', ratio(scheduled.cpuUs, queued.cpuUs), 'goal ≈ 1.0× (CPU per trigger)');
console.log('');
const heapOk = keyed.bytes <= HEAP_GOAL_MB * MB * (JOBS / 100_000);
const cpuRate = 1e6 / keyed.cpuUs;
row('goal: dedupe-keyed heap ≤ 40 MB per 100 000', heapOk ? 'met' : 'NOT MET', `${mb(keyed.bytes)} MB`);
// Judged on CPU time: wall time on a shared machine depends on what else runs.
row(
  'goal: dedupe-keyed ≥ 100 000 triggers/s',
  cpuRate >= RATE_GOAL ? 'met' : 'NOT MET',
  `${Math.round(cpuRate)} per CPU second, ${Math.round(keyed.perSecond)}/s wall`,
);

if (SNAPSHOT && results[SNAPSHOT]?.summary) {
  console.log(`\nheap snapshot of "${labels[SNAPSHOT]}": what its jobs added, by type, per job:`);
  console.log(results[SNAPSHOT].summary);
}

await client.close();
await emu.close();
// The limiter may keep polling for a slot no waiter wants any more (up to its 60 s window here).
process.exit(0);
