// Redis memory per waiting job, and triggers per second, of the Redis queue (`redisQueue`), each
// against a bare BullMQ `Queue.add` of the same message measured in the same run.
// The job shape: a clinic's visit reminder, scheduled 1–30 days ahead (sendAt in the future), with a
// dedupe key, a Russian text of about 90 characters, no meta. A second shape, informational: the
// same job queued to be sent now (the vendor's limit at 1 a minute keeps them waiting).
//
// Memory: a fresh redis-server per contender; `used_memory` (INFO memory) before and after N jobs
// (after a warm-in, so loaded scripts and the first keys are not counted), divided by N. For the
// Redis queue it is read once the queue is at rest (its sweep has forgotten the adds), as a reminder
// spends its days waiting. The bytes by key (MEMORY USAGE … SAMPLES 0 over every key) are printed too.
// Rates: N triggers one at a time, then N at 50 concurrent, on fresh servers, wall clock.
//
// Run: pnpm -r build && node bench/redis-memory.mjs [--jobs 6000] [--concurrency 50] [--rounds 1]
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createNotifier, defineRule, OlchatClient } from '@olchat-kit/core';
import { redisQueue } from '@olchat-kit/redis';
import { startEmulator } from '@olchat-kit/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { startRedis } from './redis-server.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '6000' },
    concurrency: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '1' },
  },
});
const JOBS = Number(values.jobs);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
for (const [name, n] of [
  ['--jobs', JOBS],
  ['--concurrency', CONCURRENCY],
  ['--rounds', ROUNDS],
]) {
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a positive integer`);
    process.exit(2);
  }
}
const WARM_IN = 300;
const GOAL_BYTES = 1200; // per waiting job (the issue's goal)
const DAY_MS = 86_400_000;
const PREFIX = 'olchat';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const input = z.object({ name: z.string(), phone: z.string(), visitId: z.string(), visitAt: z.string() });
const text = 'Здравствуйте, {{name}}! Напоминаем о записи к врачу {{visitAt|datetime}}. Клиника «Здоровье»';
const reminder = defineRule({
  id: 'visit-reminder',
  input,
  to: 'phone',
  text,
  dedupeKey: (d) => d.visitId,
  sendAt: (d) => Date.parse(d.visitAt) - DAY_MS,
});
const booked = defineRule({ id: 'visit-booked', input, to: 'phone', text, dedupeKey: (d) => d.visitId });
const SHAPES = {
  reminder: { rule: reminder, status: 'scheduled', delay: (data) => Date.parse(data.visitAt) - DAY_MS - Date.now() },
  queued: { rule: booked, status: 'queued', delay: () => 0 },
};
const start = Date.now();
// Visits 2–31 days ahead, in a scrambled order (7919 is prime to the counts used).
const dataFor = (i) => ({
  name: ['Анна Петрова', 'Иван Смирнов', 'Ольга Кузнецова', 'Пётр Соколов'][i % 4],
  phone: `+7 912 ${String(i % 1000).padStart(3, '0')}-45-${String(i % 100).padStart(2, '0')}`,
  visitId: `visit-${String(i).padStart(7, '0')}`,
  visitAt: new Date(start + 2 * DAY_MS + (((i * 7919) % 100_000) / 100_000) * 29 * DAY_MS).toISOString(),
});

/** What a user of bare BullMQ would store: the rendered message as the job's data, delayed. */
async function bareContender(connection, name, shape) {
  const queue = new Queue(name, { connection, prefix: PREFIX });
  await queue.waitUntilReady();
  const messages = new Map();
  for (const i of [0, 1, 2, 3]) messages.set(i, (await shape.rule.prepare(dataFor(i))).message);
  return {
    async add(i) {
      const data = dataFor(i);
      // The bare side renders nothing: the message comes from a cache (one per name), its phone
      // normalised, so only the queue's own cost is compared.
      const message = { ...messages.get(i % 4), phone: data.phone.replace(/\D/g, '') };
      const delay = shape.delay(data);
      await queue.add('send', message, delay > 0 ? { delay } : {});
    },
    settle: async () => undefined,
    close: () => queue.close(),
  };
}

async function olchatContender(connection, name, shape, emu) {
  // The vendor's limit at 1 request a minute: queued jobs stay queued while they are measured.
  const limits = { sendText: { points: 1, durationMs: 60_000 } };
  const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limits });
  const queue = redisQueue({ connection, name, prefix: PREFIX });
  const notifier = createNotifier({ client, queue, rules: [shape.rule], secret: 'bench-secret-of-sixteen-or-more' });
  const redis = new Redis(connection);
  return {
    async add(i) {
      const result = await notifier.trigger(shape.rule.id, dataFor(i));
      if (result.status !== shape.status) throw new Error(`job ${i} is ${result.status}, not ${shape.status}`);
    },
    /** At rest: the sweep has forgotten the adds whose BullMQ job arrived (bounded wait). */
    async settle() {
      for (let i = 0; i < 300 && (await redis.zcard(`${PREFIX}:${name}:~adding`)) > 0; i++) await sleep(100);
    },
    async close() {
      await notifier.close({ timeoutMs: 5_000 });
      await client.close();
      redis.disconnect();
    },
  };
}

const CONTENDERS = { bullmq: bareContender, olchat: olchatContender };

/** CPU seconds redis-server has used (all its threads). */
async function redisCpu(redis) {
  const info = await redis.info('cpu');
  return Number(/used_cpu_user:([\d.]+)/.exec(info)[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)[1]);
}

async function usedMemory(redis) {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

/** MEMORY USAGE of every key: a key of 20 kB or more by its name (one set of many jobs), the others
 *  grouped by name with its last part as `*` (one key per job). */
async function bytesByKey(redis) {
  const groups = new Map();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const bytes = Number(await redis.memory('USAGE', key, 'SAMPLES', '0'));
      const group = bytes >= 20_000 ? key : key.replace(/:[^:]*$/, ':*');
      const entry = groups.get(group) ?? { keys: 0, bytes: 0, name: key };
      entry.keys++;
      entry.bytes += bytes;
      groups.set(group, entry);
    }
  } while (cursor !== '0');
  return [...groups].map(([group, e]) => ({ group: e.keys === 1 ? e.name : group, ...e }));
}

async function run(kind, shape, jobs, concurrency, emu, withMemory) {
  const server = await startRedis();
  const redis = new Redis(server.connection);
  const contender = await CONTENDERS[kind](server.connection, `${shape}-${kind}`, SHAPES[shape], emu);
  try {
    for (let i = 0; i < WARM_IN; i++) await contender.add(jobs + i);
    await contender.settle();
    const before = await usedMemory(redis);
    let next = 0;
    const redisCpuBefore = await redisCpu(redis);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < jobs) await contender.add(next++);
      }),
    );
    const rate = jobs / ((performance.now() - started) / 1000);
    const { user, system } = process.cpuUsage(cpuBefore);
    // Both processes' CPU per trigger: steadier than the rate on a machine shared with other work.
    const cpu = ((user + system) / 1e6 + (await redisCpu(redis)) - redisCpuBefore) / jobs;
    if (!withMemory) return { rate, cpu };
    await contender.settle();
    const bytes = (await usedMemory(redis)) - before;
    const keys = await bytesByKey(redis);
    return { rate, cpu, perJob: bytes / jobs, keys };
  } finally {
    await contender.close();
    redis.disconnect();
    await server.stop();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const emu = await startEmulator();
const results = {};
let keys;
try {
  const sample = (await reminder.prepare(dataFor(0))).message.text;
  console.log(
    `${JOBS} visit reminders (sendAt 1–30 days ahead, a dedupe key, a text of ${sample.length} characters, ` +
      `${Buffer.byteLength(sample)} bytes), redis-server ${await serverVersion()}`,
  );
  for (let round = 1; round <= ROUNDS; round++) {
    for (const shape of Object.keys(SHAPES)) {
      for (const kind of Object.keys(CONTENDERS)) {
        results[`${shape} ${kind}`] ??= { mem: [], one: [], many: [], cpu: [] };
        const r = results[`${shape} ${kind}`];
        const one = await run(kind, shape, JOBS, 1, emu, true);
        r.mem.push(one.perJob);
        r.one.push(one.rate);
        r.cpu.push(one.cpu);
        if (shape === 'reminder' && kind === 'olchat') keys = one.keys;
        const many = await run(kind, shape, JOBS, CONCURRENCY, emu, false);
        r.many.push(many.rate);
        r.cpu.push(many.cpu);
      }
    }
  }
} finally {
  await emu.close();
}

const r = (name, what) => median(results[name][what]);
console.log('\nRedis queue, reminders: bytes by key after the run (MEMORY USAGE, all keys of the queue):');
for (const { group, keys: count, bytes } of keys.sort((a, b) => b.bytes - a.bytes).slice(0, 14)) {
  console.log(
    `  ${group.padEnd(58)} ${String(count).padStart(6)} keys  ${(bytes / JOBS).toFixed(0).padStart(5)} B/job`,
  );
}
console.log(
  `\nMedians of ${ROUNDS} round(s), ${JOBS} jobs each (used_memory per job; triggers per second; CPU of node ` +
    `and redis-server per trigger); load average ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}:`,
);
for (const shape of Object.keys(SHAPES)) {
  const row = (label, kind) =>
    console.log(
      `${`${shape}: ${label}`.padEnd(34)} ${r(`${shape} ${kind}`, 'mem').toFixed(0).padStart(5)} B/job   ` +
        `${r(`${shape} ${kind}`, 'one').toFixed(0).padStart(6)}/s one at a time   ` +
        `${r(`${shape} ${kind}`, 'many').toFixed(0).padStart(6)}/s at ${CONCURRENCY} concurrent   ` +
        `CPU ${(r(`${shape} ${kind}`, 'cpu') * 1e6).toFixed(0).padStart(4)} µs/trigger`,
    );
  row('bare BullMQ Queue.add', 'bullmq');
  row('redisQueue (trigger)', 'olchat');
  const ratio = (what) => (r(`${shape} olchat`, what) / r(`${shape} bullmq`, what)).toFixed(2);
  console.log(
    `${`${shape}: ratio redisQueue ÷ BullMQ`.padEnd(34)} memory ${ratio('mem')}×, rate one at a time ${ratio('one')}×, ` +
      `at ${CONCURRENCY} ${ratio('many')}×, CPU per trigger ${ratio('cpu')}×`,
  );
}
const perJob = r('reminder olchat', 'mem');
console.log(
  `\nmemory per waiting reminder ${perJob.toFixed(0)} B (goal ≤ ${GOAL_BYTES} B): ` +
    `${perJob <= GOAL_BYTES ? 'goal met' : 'ABOVE THE GOAL'}; 100 000 reminders ≈ ${((perJob * 100_000) / 1e6).toFixed(0)} MB`,
);
if (perJob > GOAL_BYTES) process.exitCode = 1;

async function serverVersion() {
  const server = await startRedis();
  const redis = new Redis(server.connection);
  try {
    return /redis_version:(\S+)/.exec(await redis.info('server'))[1];
  } finally {
    redis.disconnect();
    await server.stop();
  }
}
