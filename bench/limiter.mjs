// Burst of 40 sendText against the emulator's strict sliding window (5 per 3 s per method per token):
// olchat-kit's OlchatClient side by side with what a user would pick instead (fixed windows).
// Build first: npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/testing/tsconfig.build.json
// Run: node bench/limiter.mjs [--rounds N] [--latency MIN,MAX]  (default latency 20,250 ms)
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MemoryLimiterStore, OlchatClient } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import Bottleneck from 'bottleneck';
import PQueue from 'p-queue';

// rate-limiter-flexible is a dependency of @olchat-kit/core, not of the workspace root.
const requireFromCore = createRequire(new URL('../packages/core/package.json', import.meta.url));
const { RateLimiterMemory, RateLimiterQueue } = requireFromCore('rate-limiter-flexible');

const BURST = 40;
const POINTS = 5;
const WINDOW_MS = 3000;
const MIN_MS = (BURST / POINTS - 1) * WINDOW_MS; // 21 000: the last batch can start no earlier
const GOAL = 1.03;
const FLOOR = 1.1;
const PHONE = '79123456789';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '1' }, latency: { type: 'string', default: '20,250' } },
});
// Each reuse of a slot waits for the previous answer, so the ratio grows with the round trip.
const LATENCY_MS = values.latency.split(',').map(Number);
if (
  LATENCY_MS.length !== 2 ||
  !LATENCY_MS.every((n) => Number.isInteger(n) && n >= 0) ||
  LATENCY_MS[0] > LATENCY_MS[1]
) {
  console.error(`--latency must be MIN,MAX in ms, got ${JSON.stringify(values.latency)}`);
  process.exit(2);
}
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds must be a positive integer, got ${JSON.stringify(values.rounds)}`);
  process.exit(2);
}

/** A user's naïve integration: one GET, no retry; a 429 is a lost message. */
async function rawSend(emu, i) {
  const body = encodeURIComponent(`Bench message ${i + 1}`);
  const res = await fetch(`${emu.baseUrl}/${emu.token}/sendText?phone_number=${PHONE}&body=${body}&send_to_imol=N`);
  await res.arrayBuffer(); // free the connection
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
}

const range = Array.from({ length: BURST }, (_, i) => i);

const contenders = [
  {
    name: 'olchat-kit OlchatClient',
    async run(emu) {
      const client = new OlchatClient({
        token: emu.token,
        baseUrl: emu.baseUrl,
        // Each contender has its own fresh emulator: no earlier process used its window.
        limiterStore: new MemoryLimiterStore({ assumeRecentUse: false }),
      });
      try {
        return await Promise.allSettled(
          range.map((i) => client.sendText({ phone: PHONE, text: `Bench message ${i + 1}` })),
        );
      } finally {
        await client.close();
      }
    },
  },
  {
    name: 'p-queue intervalCap 5/3000',
    async run(emu) {
      const queue = new PQueue({ intervalCap: POINTS, interval: WINDOW_MS });
      const results = await Promise.allSettled(range.map((i) => queue.add(() => rawSend(emu, i))));
      await queue.onIdle();
      queue.clear();
      return results;
    },
  },
  {
    name: 'bottleneck reservoir 5/3000',
    async run(emu) {
      const limiter = new Bottleneck({
        reservoir: POINTS,
        reservoirRefreshAmount: POINTS,
        reservoirRefreshInterval: WINDOW_MS,
        maxConcurrent: null,
      });
      try {
        return await Promise.allSettled(range.map((i) => limiter.schedule(() => rawSend(emu, i))));
      } finally {
        await limiter.disconnect();
      }
    },
  },
  {
    name: 'rate-limiter-flexible Queue',
    async run(emu) {
      const queue = new RateLimiterQueue(new RateLimiterMemory({ points: POINTS, duration: WINDOW_MS / 1000 }));
      return Promise.allSettled(
        range.map(async (i) => {
          await queue.removeTokens(1);
          return rawSend(emu, i);
        }),
      );
    },
  },
];

/** The most arrivals within any half-open window [t, t + WINDOW_MS), the emulator's own rule. */
function maxInWindow(requests) {
  const at = requests.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  for (let lo = 0, hi = 0; hi < at.length; hi++) {
    while (at[hi] - at[lo] >= WINDOW_MS) lo++;
    most = Math.max(most, hi - lo + 1);
  }
  return most;
}

/** Each contender gets a fresh emulator (an empty window) and the same random latency. */
async function measure(contender) {
  const emu = await startEmulator({ latencyMs: LATENCY_MS });
  try {
    const started = performance.now();
    const results = await contender.run(emu);
    const elapsedMs = performance.now() - started;
    const sends = emu.requests.filter((r) => r.method === 'sendText');
    const arrivals = sends.map((r) => r.at);
    return {
      name: contender.name,
      delivered: sends.filter((r) => r.status === 200).length,
      rejected: emu.violations.length,
      requests: sends.length,
      failed: results.filter((r) => r.status === 'rejected').length,
      maxInWindow: maxInWindow(sends),
      spanMs: arrivals.length ? Math.max(...arrivals) - Math.min(...arrivals) : 0,
      elapsedMs,
      ratio: elapsedMs / MIN_MS,
    };
  } finally {
    await emu.close();
  }
}

function table(rows) {
  const columns = [
    ['contender', (r) => r.name, 'left'],
    ['delivered', (r) => `${r.delivered}/${BURST}`],
    ['429s', (r) => String(r.rejected)],
    ['lost', (r) => String(r.failed)],
    [`max/${WINDOW_MS / 1000}s`, (r) => String(r.maxInWindow)],
    ['arrival span', (r) => `${r.spanMs} ms`],
    ['elapsed', (r) => `${Math.round(r.elapsedMs)} ms`],
    [`÷ ${MIN_MS} ms`, (r) => `${r.ratio.toFixed(3)}×`],
  ];
  const cells = [columns.map(([title]) => title), ...rows.map((row) => columns.map(([, cell]) => cell(row)))];
  const widths = columns.map((_, c) => Math.max(...cells.map((line) => line[c].length)));
  const lines = cells.map((line) =>
    line.map((cell, c) => (columns[c][2] === 'left' ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines.join('\n');
}

function verdict(row) {
  const safe = row.rejected === 0 && row.maxInWindow <= POINTS;
  const at = `${row.ratio.toFixed(3)}× the minimum, ${row.rejected} over the limit (max ${row.maxInWindow} in ${WINDOW_MS / 1000} s)`;
  if (!safe) return { ok: false, text: `FAIL: olchat-kit broke the limit: ${at}` };
  if (row.ratio <= GOAL) return { ok: true, text: `PASS: olchat-kit meets the goal (≤ ${GOAL}×, 0 over): ${at}` };
  if (row.ratio <= FLOOR)
    return {
      ok: true,
      text: `OK: olchat-kit misses the goal (≤ ${GOAL}×) but is within the floor (≤ ${FLOOR}×): ${at}`,
    };
  return { ok: false, text: `FAIL: olchat-kit is slower than the floor (${FLOOR}×): ${at}` };
}

console.log(
  `Burst of ${BURST} sendText, limit ${POINTS} per ${WINDOW_MS} ms (strict sliding window), ` +
    `latency ${LATENCY_MS[0]}–${LATENCY_MS[1]} ms, theoretical minimum ${MIN_MS} ms`,
);
let allOk = true;
for (let round = 1; round <= rounds; round++) {
  const rows = [];
  for (const contender of contenders) rows.push(await measure(contender));
  const result = verdict(rows[0]);
  allOk &&= result.ok;
  console.log(`\nRound ${round}/${rounds}\n${table(rows)}\n${result.text}`);
}
if (!allOk) process.exitCode = 1;
