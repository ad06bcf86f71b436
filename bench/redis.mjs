// Several processes on one OLChat token, sharing the limit and the queue through one Redis:
// 3 processes × 15 sends against one emulator (strict sliding window, 5 per 3 s per method).
// Prints the time until all 45 are answered ÷ the theoretical minimum, and the violations.
// Needs redis-server on PATH (Debian: apt-get install redis-server) and the built packages:
//   npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/testing/tsconfig.build.json \
//     && npx tsc -p packages/redis/tsconfig.build.json
// Run: node bench/redis.mjs [--rounds N]
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startEmulator } from '@olchat-kit/testing';
import { startRedis } from './redis-server.mjs';

const PROCESSES = 3;
const PER_PROCESS = 15;
const TOTAL = PROCESSES * PER_PROCESS;
const POINTS = 5;
const WINDOW_MS = 3000;
const LATENCY_MS = [20, 250];
const MIN_MS = (TOTAL / POINTS - 1) * WINDOW_MS; // 24 000: the 9th batch of five can start no earlier
const BOUND = (ms) => ms <= MIN_MS * 1.25 + 3000; // the bar for the multi-process test

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '1' } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds must be a positive integer, got ${JSON.stringify(values.rounds)}`);
  process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A shop process (bench/redis-process.mjs) and a way to wait for its next line. */
function startProcess(config) {
  const child = spawn(process.execPath, [new URL('./redis-process.mjs', import.meta.url).pathname], {
    env: { ...process.env, OLCHAT_BENCH: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    async until(line, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!lines.includes(line)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`process ${config.label}: no "${line}"`);
        await Promise.race([new Promise((resolve) => waiters.push(resolve)), sleep(100)]);
      }
    },
    send: (line) => child.stdin.write(`${line}\n`),
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.write('close\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function maxInWindow(arrivals) {
  const at = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  for (let lo = 0, hi = 0; hi < at.length; hi++) {
    while (at[hi] - at[lo] >= WINDOW_MS) lo++;
    most = Math.max(most, hi - lo + 1);
  }
  return most;
}

async function round(redis, n) {
  const emu = await startEmulator({ latencyMs: LATENCY_MS });
  const queueName = `bench-${n}-${Date.now()}`;
  const shops = Array.from({ length: PROCESSES }, (_, p) =>
    startProcess({
      redisPort: redis.port,
      baseUrl: emu.baseUrl,
      token: emu.token,
      queueName,
      label: `p${p + 1}`,
      count: PER_PROCESS,
    }),
  );
  try {
    await Promise.all(shops.map((s) => s.until('ready')));
    const started = performance.now();
    for (const shop of shops) shop.send('go');
    // Done when all 45 requests are answered (a job is sent once its answer is in).
    const deadline = Date.now() + 120_000;
    while (emu.requests.filter((r) => r.status === 200).length < TOTAL) {
      if (Date.now() > deadline) throw new Error('not all sends were answered within 120 s');
      await sleep(5);
    }
    const elapsedMs = performance.now() - started;
    await Promise.all(shops.map((s) => s.until('queued')));
    const texts = emu.messages.map((m) => m.text);
    return {
      elapsedMs,
      delivered: new Set(texts).size,
      duplicates: texts.length - new Set(texts).size,
      violations: emu.violations.length,
      rejected: emu.requests.filter((r) => r.status === 429).length,
      maxInWindow: maxInWindow(emu.requests.map((r) => r.at)),
    };
  } finally {
    await Promise.all(shops.map((s) => s.close()));
    await emu.close();
  }
}

console.log(
  `${PROCESSES} processes × ${PER_PROCESS} sendText on one token, one Redis (redisLimiterStore + redisQueue), ` +
    `limit ${POINTS} per ${WINDOW_MS} ms (strict sliding window), latency ${LATENCY_MS[0]}–${LATENCY_MS[1]} ms, ` +
    `theoretical minimum ${MIN_MS} ms`,
);
const redis = await startRedis();
let ok = true;
try {
  for (let n = 1; n <= rounds; n++) {
    const r = await round(redis, n);
    const ratio = r.elapsedMs / MIN_MS;
    const pass = r.violations === 0 && r.rejected === 0 && r.delivered === TOTAL && BOUND(r.elapsedMs);
    ok &&= pass;
    console.log(
      `Round ${n}/${rounds}: ${Math.round(r.elapsedMs)} ms = ${ratio.toFixed(3)}× the minimum; ` +
        `delivered ${r.delivered}/${TOTAL}, duplicates ${r.duplicates}, violations ${r.violations}, ` +
        `429s ${r.rejected}, max ${r.maxInWindow} in any ${WINDOW_MS / 1000} s → ${pass ? 'PASS' : 'FAIL'} ` +
        `(bar: 0 violations, ≤ 1.25× + 3 s)`,
    );
  }
} finally {
  await redis.stop();
}
if (!ok) process.exitCode = 1;
