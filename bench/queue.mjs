// Heap of 100 000 queued jobs and trigger throughput, each against a baseline measured in this run.
// Run: pnpm -r build && node --expose-gc bench/queue.mjs [--jobs 100000]
import { createNotifier, defineRule, MemoryLimiterStore, OlchatClient } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import { z } from 'zod';

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc bench/queue.mjs');
  process.exit(1);
}
const jobsArg = process.argv.indexOf('--jobs');
const JOBS = jobsArg > 0 ? Number(process.argv[jobsArg + 1]) : 100_000;
const MB = 1024 * 1024;

const input = z.object({ name: z.string().min(1), phone: z.string(), orderId: z.string() });
const rule = defineRule({
  id: 'order-received',
  input,
  to: 'phone',
  text: 'Здравствуйте, {{name}}! Мы получили вашу заявку, номер вашего заказа №{{orderId}}',
});
const dataFor = (i) => ({
  name: `Покупатель ${i}`,
  phone: `+7 912 ${String(i % 1000).padStart(3, '0')}-45-67`,
  orderId: `A-${i}`,
});

function heapUsed() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

// The vendor limit at one request per minute: every job stays queued while we measure.
const emu = await startEmulator();
const client = new OlchatClient({
  token: emu.token,
  baseUrl: emu.baseUrl,
  limiterStore: new MemoryLimiterStore(),
  limits: { sendText: { points: 1, durationMs: 60_000 } },
});

// Baseline 1: the user's own data for the same jobs, held in an array.
let before = heapUsed();
const held = Array.from({ length: JOBS }, (_, i) => dataFor(i));
const rawBytes = heapUsed() - before;
held.length = 0;

// Baseline 2: validating the same data with zod alone, the unavoidable work of a trigger.
let started = performance.now();
for (let i = 0; i < JOBS; i++) input.parse(dataFor(i));
const zodPerSecond = JOBS / ((performance.now() - started) / 1000);

const notifier = createNotifier({ client, rules: [rule], concurrency: 1 });
before = heapUsed();
started = performance.now();
for (let i = 0; i < JOBS; i++) await notifier.trigger('order-received', dataFor(i));
const triggersPerSecond = JOBS / ((performance.now() - started) / 1000);
const queueBytes = heapUsed() - before;
const stats = notifier.stats();

const row = (label, value, note) => console.log(`${label.padEnd(44)}${String(value).padStart(14)}  ${note}`);
console.log(`bench/queue: ${JOBS} jobs queued in memory (node ${process.version})\n`);
row('queued + sending', stats.queued + stats.sending, '');
row(
  'heap of the queued jobs (MB)',
  (queueBytes / MB).toFixed(1),
  `floor 100 MB → ${(queueBytes / (100 * MB)).toFixed(2)}× of floor, goal 50 MB → ${(queueBytes / (50 * MB)).toFixed(2)}× of goal`,
);
row('heap of the raw input data (MB)', (rawBytes / MB).toFixed(1), 'baseline');
row('queue heap ÷ raw input heap', `${(queueBytes / rawBytes).toFixed(2)}×`, '');
row('bytes per queued job', Math.round(queueBytes / JOBS), '');
row('triggers per second', Math.round(triggersPerSecond), '');
row('zod parse per second', Math.round(zodPerSecond), 'baseline');
row('trigger rate ÷ zod-only rate', `${(triggersPerSecond / zodPerSecond).toFixed(2)}×`, '');

await notifier.close({ timeoutMs: 10 });
await client.close();
await emu.close();
