// What the guard costs a trigger: 100 000 triggers into the default MemoryQueue with the default guard
// (short links looked for in every rendered text, lanes asked at every pickup) against `guard: false`,
// in the same run, rounds interleaved; plus a template with variants against the same text without.
// CPU time per trigger, the median over the rounds, as ratios to the baseline (`guard: false`).
//
// Run: pnpm -r build && node bench/guard-trigger.mjs [--jobs 100000] [--rounds 3]
import { createNotifier, defineRule, MemoryLimiterStore, OlchatClient } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import { z } from 'zod';

const argument = (name) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const JOBS = Number(argument('--jobs') ?? 100_000);
const ROUNDS = Number(argument('--rounds') ?? 3);
const WARM_IN = Math.min(10_000, JOBS);
const GOAL = 1.2; // the bound for the whole guard

const input = z.object({ name: z.string().min(1), phone: z.string(), orderId: z.string() });
const plain = defineRule({
  id: 'plain',
  input,
  to: 'phone',
  text: 'Здравствуйте, {{name}}! Заказ №{{orderId}} принят, подробности: https://shop.example/orders',
});
const varied = defineRule({
  id: 'varied',
  input,
  to: 'phone',
  text: '{Здравствуйте|Добрый день}, {{name}}! Заказ №{{orderId}} {принят|получен}, подробности: https://shop.example/orders',
});
const dataFor = (i) => ({
  name: `Покупатель ${i}`,
  phone: `+7 912 ${String(i % 1000).padStart(3, '0')}-45-67`,
  orderId: `A-${i}`,
});

// One request a minute: every job stays queued while we measure.
const emu = await startEmulator();
const client = new OlchatClient({
  token: emu.token,
  baseUrl: emu.baseUrl,
  limiterStore: new MemoryLimiterStore(),
  limits: { sendText: { points: 1, durationMs: 60_000 } },
});

const SCENARIOS = {
  'guard: false': { guard: false, rule: 'plain' },
  'default guard': { guard: undefined, rule: 'plain' },
  'default guard, variants': { guard: undefined, rule: 'varied' },
};

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function measure({ guard, rule }) {
  const options = { client, rules: [plain, varied], concurrency: 1, maxQueued: JOBS + WARM_IN + 1 };
  const notifier = createNotifier(guard === undefined ? options : { ...options, guard });
  for (let i = 0; i < WARM_IN; i++) await notifier.trigger(rule, dataFor(JOBS + i));
  const started = cpuMs();
  for (let i = 0; i < JOBS; i++) await notifier.trigger(rule, dataFor(i));
  const us = (1000 * (cpuMs() - started)) / JOBS;
  await notifier.close({ timeoutMs: 10 });
  return us;
}

const runs = Object.fromEntries(Object.keys(SCENARIOS).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, scenario] of Object.entries(SCENARIOS)) runs[name].push(await measure(scenario));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const base = median(runs['guard: false']);
console.log(`${JOBS} triggers, ${ROUNDS} rounds, CPU µs per trigger (median) and ratio to guard: false`);
for (const [name, list] of Object.entries(runs)) {
  const us = median(list);
  console.log(`  ${name.padEnd(26)} ${us.toFixed(2).padStart(7)} µs   ×${(us / base).toFixed(3)}`);
}
const ratio = median(runs['default guard']) / base;
console.log(`default guard ÷ guard: false = ${ratio.toFixed(3)} (goal ≤ ${GOAL}) ${ratio <= GOAL ? 'ok' : 'OVER'}`);

await client.close();
await emu.close();
