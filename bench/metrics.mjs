// The cost of a Prometheus scrape with 100 000 queued jobs, against an empty queue in this run.
// Run: pnpm -r build && node bench/metrics.mjs [--jobs 100000] [--scrapes 300]
import { createNotifier, MemoryLimiterStore, MemoryQueue, OlchatClient } from '@olchat-kit/core';
import { collectMetrics } from '@olchat-kit/prometheus';
import { startEmulator } from '@olchat-kit/testing';
import { Registry } from 'prom-client';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const JOBS = arg('--jobs', 100_000);
const SCRAPES = arg('--scrapes', 300);
const ROUNDS = 5;

const emu = await startEmulator();
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A notifier at one request a minute, so everything after the first job stays queued. */
function setUp() {
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    // A fresh emulator: no earlier process used its window, so the bench starts with it empty.
    limiterStore: new MemoryLimiterStore({ assumeRecentUse: false }),
    limits: { sendText: { points: 1, durationMs: 60_000 } },
  });
  const notifier = createNotifier({
    client,
    queue: new MemoryQueue(),
    concurrency: 1,
    maxQueued: JOBS + 1000,
    logger: quiet,
    line: { checkIntervalMs: false },
  });
  const registry = new Registry();
  collectMetrics(notifier, { registry });
  return { client, notifier, registry };
}

/** Median ms per `registry.metrics()` over `SCRAPES` scrapes. */
async function scrapeMs(registry) {
  const times = [];
  for (let i = 0; i < SCRAPES; i++) {
    const started = performance.now();
    await registry.metrics();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const empty = setUp();
const loaded = setUp();
let started = performance.now();
for (let i = 0; i < JOBS; i++) {
  await loaded.notifier.send({ phone: `7912${String(i).padStart(7, '0')}`, text: `Заказ №${i} принят` });
}
const enqueueSeconds = (performance.now() - started) / 1000;
await emu.waitForMessages(1);
// One real send on the empty side too, so both expose the same series.
await empty.notifier.send({ phone: '79120000000', text: 'Заказ принят' });
await emu.waitForMessages(2);

// Warm-up, then rounds in alternating order so drift (GC, JIT, a busy neighbour) cancels out.
await scrapeMs(empty.registry);
await scrapeMs(loaded.registry);
const rows = { empty: [], loaded: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? ['empty', 'loaded'] : ['loaded', 'empty'];
  for (const side of order) rows[side].push(await scrapeMs((side === 'empty' ? empty : loaded).registry));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const emptyMs = median(rows.empty);
const loadedMs = median(rows.loaded);

started = performance.now();
for (let i = 0; i < 100_000; i++) loaded.notifier.stats();
const statsUs = ((performance.now() - started) / 100_000) * 1000;

const stats = loaded.notifier.stats();
const text = await loaded.registry.metrics();
const queuedLine = text.split('\n').find((line) => line.startsWith('olchat_queue_jobs{state="queued"}'));
const etaLine = text.split('\n').find((line) => line.startsWith('olchat_queue_eta_seconds'));

console.log(`queued jobs            ${stats.queued + stats.sending} (enqueued in ${enqueueSeconds.toFixed(1)} s)`);
console.log(`exposed                ${queuedLine}; ${etaLine}`);
console.log(`scrape, empty queue    ${emptyMs.toFixed(3)} ms (median of ${ROUNDS} rounds × ${SCRAPES} scrapes)`);
console.log(`scrape, ${JOBS} queued ${loadedMs.toFixed(3)} ms`);
console.log(`ratio                  ${(loadedMs / emptyMs).toFixed(2)}×`);
console.log(`notifier.stats()       ${statsUs.toFixed(2)} µs per call at ${JOBS} queued`);
console.log(`scrape size            ${Buffer.byteLength(text)} bytes`);

for (const side of [empty, loaded]) {
  await side.notifier.close({ timeoutMs: 100 });
  await side.client.close();
}
await emu.close();
// A job that was waiting for its slot leaves the limiter's poll timer behind for up to the window
// (a minute here) after close(): exit instead of waiting it out.
process.exit(0);
