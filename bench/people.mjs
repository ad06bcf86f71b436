// Support and personal data at scale: a customer's messages found by phone among 100 000 finished
// jobs, the memory the phone index takes, and forget() of a phone with 100 jobs among them, on the
// memory queue and on Redis, each against baselines measured in the same run.
//
// Run: pnpm -r build && node --expose-gc bench/people.mjs [--jobs 100000] [--phones 20000]
//   [--lookups 2000] [--only memory|redis]
// The Redis part needs redis-server on PATH; it starts its own on a free 127.0.0.1 port.
import { randomBytes } from 'node:crypto';
import { normalizePhone } from '@olchat-kit/core';
import { MemoryQueue, phoneKeyer } from '@olchat-kit/core/queue';
import { PhoneIndex } from '../packages/core/dist/queue/phone-index.js';

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc bench/people.mjs');
  process.exit(1);
}
const argument = (name) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const JOBS = Number(argument('--jobs') ?? 100_000);
const PHONES = Number(argument('--phones') ?? 20_000);
const LOOKUPS = Number(argument('--lookups') ?? 2_000);
const ONLY = argument('--only');
const TARGET_JOBS = 100;
const MB = 1024 * 1024;
const GOALS = { memoryFindMs: 1, redisFindMs: 5, indexShare: 0.1 };

// Phones as a shop's customers: some write often, most once or twice. Phone i is +7 9xx…; the
// target phone has exactly 100 jobs, spread through the history.
const phoneOf = (i) => `79${String(100_000_000 + ((i * 48_271) % 900_000_000)).slice(-9)}`;
const TARGET = '79990001122';
let seed = 42;
const random = (n) => {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
  return seed % n;
};
const plan = [];
for (let i = 0; i < JOBS; i++) {
  const target = i % Math.floor(JOBS / TARGET_JOBS) === 0 && plan.filter((p) => p === TARGET).length < TARGET_JOBS;
  // A skewed choice: a quarter of the jobs go to 2 % of the phones.
  const customer = random(4) === 0 ? random(Math.max(1, Math.floor(PHONES / 50))) : random(PHONES);
  plan.push(target ? TARGET : phoneOf(customer));
}
const textOf = (i) => `Здравствуйте, Покупатель ${i}! Ваш заказ №A-${i} собран и ждёт вас в пункте выдачи.`;
const spellings = (phone) => [
  phone,
  `+7 ${phone.slice(1, 4)} ${phone.slice(4, 7)}-${phone.slice(7, 9)}-${phone.slice(9)}`,
  `8 (${phone.slice(1, 4)}) ${phone.slice(4, 7)}-${phone.slice(7, 9)}-${phone.slice(9)}`,
  phone.slice(1),
];

async function heapUsed() {
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function newJob(i) {
  return {
    message: { phone: plan[i], text: textOf(i), sendToImol: false },
    keys: [],
    keyTtlMs: 60_000,
    priority: 'normal',
    deadline: Date.now() + 3600_000,
    quiet: false,
  };
}

/** Fills a queue with JOBS jobs, all sent by a worker that answers at once. */
async function fill(queue, concurrency, onProgress) {
  let sent = 0;
  let done;
  const all = new Promise((resolve) => {
    done = resolve;
  });
  queue.start({
    concurrency,
    worker: async (job) => {
      await job.markAttempt();
      return { status: 'sent', messageId: `m-${job.id}` };
    },
    onFinished: () => {
      if (++sent === JOBS) done();
    },
    phoneKey: phoneKeyer('bench-people-secret-0123456789'),
    keepFinishedMs: 7 * 24 * 3600_000,
  });
  const batch = 500;
  for (let at = 0; at < JOBS; at += batch) {
    const adds = [];
    for (let i = at; i < Math.min(JOBS, at + batch); i++) adds.push(queue.add(newJob(i)));
    await Promise.all(adds);
    onProgress?.(at + batch);
  }
  await all;
}

/** find() for phones of the history in every spelling: the median and the 95th percentile in ms. */
async function timeFinds(find) {
  const times = [];
  let found = 0;
  for (let i = 0; i < LOOKUPS; i++) {
    const phone = i % 10 === 0 ? TARGET : plan[random(JOBS)];
    const spelling = spellings(phone)[i % 4];
    const started = performance.now();
    const records = await find(normalizePhone(spelling), 50);
    times.push(performance.now() - started);
    found += records.length;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { median: median(times), p95: sorted[Math.floor(sorted.length * 0.95)], perLookup: found / LOOKUPS };
}

/** The baseline for a lookup: the same phones looked for by scanning the same records, no index. */
function timeScans(records) {
  const times = [];
  for (let i = 0; i < Math.min(LOOKUPS, 200); i++) {
    const phone = i % 10 === 0 ? TARGET : plan[random(JOBS)];
    const started = performance.now();
    const wanted = normalizePhone(spellings(phone)[i % 4]);
    const hits = [];
    for (let r = records.length - 1; r >= 0 && hits.length < 50; r--) {
      if (records[r].phone === wanted) hits.push(records[r]);
    }
    times.push(performance.now() - started);
  }
  return median(times);
}

const rows = [];
const verdicts = [];

async function memoryPart() {
  const before = await heapUsed();
  const queue = new MemoryQueue({ maxFinished: JOBS, keepFinishedMs: 7 * 24 * 3600_000 });
  await fill(queue, 100);
  const after = await heapUsed();
  const queueBytes = after - before;
  // The index the queue holds, rebuilt alone from the same phones (the same class, slots and hashes).
  const index = new PhoneIndex();
  for (let slot = 0; slot < JOBS; slot++) index.add(slot, index.hash(plan[slot]));
  const indexBytes = index.bytes;
  const records = plan.map((phone, i) => ({ id: String(i), phone, text: textOf(i) }));
  const find = await timeFinds((phone, limit) => queue.findByPhone(phone, limit));
  const getTimes = [];
  const ids = (await queue.findByPhone(TARGET, 50)).map((r) => r.id);
  for (let i = 0; i < LOOKUPS; i++) {
    const started = performance.now();
    await queue.get(ids[i % ids.length]);
    getTimes.push(performance.now() - started);
  }
  const scan = timeScans(records);
  const targetJobs = (await queue.findByPhone(TARGET, 500)).length;
  const started = performance.now();
  const forgotten = await queue.forget(TARGET);
  const forgetMs = performance.now() - started;
  const left = (await queue.findByPhone(TARGET, 500)).length;
  await queue.close({ timeoutMs: 1_000 });
  rows.push(
    ['memory', 'queue with 100 000 finished jobs', `${(queueBytes / MB).toFixed(1)} MB`, ''],
    [
      'memory',
      'phone index',
      `${(indexBytes / MB).toFixed(2)} MB`,
      `${((indexBytes / queueBytes) * 100).toFixed(1)} % of the queue`,
    ],
    [
      'memory',
      `find() median (p95), ${find.perLookup.toFixed(1)} records`,
      `${find.median.toFixed(3)} ms (${find.p95.toFixed(3)})`,
      `${(scan / find.median).toFixed(0)}× faster than a scan (${scan.toFixed(2)} ms); ${(find.median / median(getTimes)).toFixed(1)}× a get()`,
    ],
    [
      'memory',
      `forget() of ${targetJobs} jobs`,
      `${forgetMs.toFixed(2)} ms`,
      `${(forgetMs / find.median).toFixed(1)}× a find(); ${forgotten.jobs} erased, ${left} left`,
    ],
  );
  verdicts.push(
    [`memory find() median ≤ ${GOALS.memoryFindMs} ms`, find.median <= GOALS.memoryFindMs],
    [`memory phone index ≤ ${GOALS.indexShare * 100} % of the queue`, indexBytes / queueBytes <= GOALS.indexShare],
    ['memory forget() erased all 100 jobs', forgotten.jobs === TARGET_JOBS && left === 0],
  );
}

async function redisPart() {
  const { redisQueue } = await import('@olchat-kit/redis');
  const { startRedis } = await import('./redis-server.mjs');
  const { Redis } = await import('ioredis');
  const server = await startRedis();
  const admin = new Redis(server.connection);
  try {
    const name = `bench-people-${randomBytes(3).toString('hex')}`;
    const queue = redisQueue({ connection: server.connection, name });
    const memoryBefore = Number((await admin.info('memory')).match(/used_memory:(\d+)/)?.[1]);
    const started = performance.now();
    let reported = 0;
    await fill(queue, 50, (count) => {
      if (count - reported >= 20_000) {
        reported = count;
        process.stderr.write(`  redis: ${count} jobs added (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
      }
    });
    const memoryAfter = Number((await admin.info('memory')).match(/used_memory:(\d+)/)?.[1]);
    // The phone index's own keys (sorted sets by phone key).
    const indexBytes = await indexMemory(admin, name);
    const find = await timeFinds((phone, limit) => queue.findByPhone(phone, limit));
    const getTimes = [];
    const ids = (await queue.findByPhone(TARGET, 50)).map((r) => r.id);
    for (let i = 0; i < LOOKUPS; i++) {
      const t = performance.now();
      await queue.get(ids[i % ids.length]);
      getTimes.push(performance.now() - t);
    }
    const targetJobs = (await queue.findByPhone(TARGET, 500)).length;
    const t = performance.now();
    const forgotten = await queue.forget(TARGET);
    const forgetMs = performance.now() - t;
    const left = (await queue.findByPhone(TARGET, 500)).length;
    await queue.close({ timeoutMs: 1_000 });
    const queueBytes = memoryAfter - memoryBefore;
    rows.push(
      ['redis', 'Redis memory for 100 000 finished jobs', `${(queueBytes / MB).toFixed(1)} MB`, ''],
      [
        'redis',
        'phone index',
        `${(indexBytes / MB).toFixed(2)} MB`,
        `${((indexBytes / queueBytes) * 100).toFixed(1)} % of the queue`,
      ],
      [
        'redis',
        `find() median (p95), ${find.perLookup.toFixed(1)} records`,
        `${find.median.toFixed(3)} ms (${find.p95.toFixed(3)})`,
        `${(find.median / median(getTimes)).toFixed(1)}× a get() (${median(getTimes).toFixed(3)} ms)`,
      ],
      [
        'redis',
        `forget() of ${targetJobs} jobs`,
        `${forgetMs.toFixed(1)} ms`,
        `${(forgetMs / find.median).toFixed(1)}× a find(); ${forgotten.jobs} erased, ${left} left`,
      ],
    );
    verdicts.push(
      [`redis find() median ≤ ${GOALS.redisFindMs} ms`, find.median <= GOALS.redisFindMs],
      [`redis phone index ≤ ${GOALS.indexShare * 100} % of the queue`, indexBytes / queueBytes <= GOALS.indexShare],
      ['redis forget() erased all 100 jobs', forgotten.jobs === TARGET_JOBS && left === 0],
    );
  } finally {
    admin.disconnect();
    await server.stop();
  }
}

/** Bytes Redis reports for the phone index's keys (MEMORY USAGE of each). */
async function indexMemory(admin, name) {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `olchat:${name}:~ph:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) total += Number(await admin.memory('USAGE', key, 'SAMPLES', '0'));
  } while (cursor !== '0');
  return total;
}

console.log(
  `people: ${JOBS} finished jobs to ${PHONES} customers (a quarter to 2 % of them), one phone with ${TARGET_JOBS}; ${LOOKUPS} lookups in four spellings`,
);
if (ONLY !== 'redis') await memoryPart();
if (ONLY !== 'memory') await redisPart();
const width = Math.max(...rows.map((r) => r[1].length));
for (const [queue, what, value, ratio] of rows) {
  console.log(`${queue.padEnd(7)} ${what.padEnd(width)}  ${value.padStart(22)}  ${ratio}`);
}
let ok = true;
for (const [goal, met] of verdicts) {
  console.log(`${met ? 'ok  ' : 'MISS'} ${goal}`);
  ok &&= met;
}
process.exit(ok ? 0 : 1);
