// The memory queue under sustained intake past `maxQueued`: its heap must stay flat once full.
// Run: pnpm -r build && node --expose-gc bench/backpressure.mjs [--max 100000] [--intake 400000]
//
// The vendor limit is one request a minute, so nothing drains while we measure. Intake keeps going
// at full speed; past maxQueued every trigger is refused with QUEUE_FULL. The heap after a full GC
// is printed every 50 000 triggers: the rows after the queue is full are compared with the row at
// the moment it filled (the baseline, same run).
import { createNotifier, defineRule, MemoryLimiterStore, OlchatClient } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc bench/backpressure.mjs');
  process.exit(1);
}
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MAX = arg('max', 100_000);
const INTAKE = arg('intake', 4 * MAX);
const STEP = 50_000;
const MB = 1024 * 1024;

const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};

const emu = await startEmulator();
const client = new OlchatClient({
  token: emu.token,
  baseUrl: emu.baseUrl,
  // A fresh emulator: no earlier process used its window, so the bench starts with it empty.
  limiterStore: new MemoryLimiterStore({ assumeRecentUse: false }),
  limits: { sendText: { points: 1, durationMs: 60_000 } },
});
const rule = defineRule({
  id: 'order-received',
  to: 'phone',
  text: 'Здравствуйте, {{name}}! Мы получили вашу заявку №{{orderId}}',
  dedupeKey: (d) => d.orderId,
});
const notifier = createNotifier({
  client,
  rules: [rule],
  maxQueued: MAX,
  concurrency: 1,
  line: { checkIntervalMs: false },
});

const start = heap();
let accepted = 0;
let refused = 0;
let fullAt;
console.log(`bench/backpressure: maxQueued ${MAX}, intake ${INTAKE} triggers (node ${process.version})\n`);
console.log('triggers   accepted   refused   heap MB   ÷ heap when full');
for (let i = 0; i < INTAKE; i++) {
  try {
    await notifier.trigger('order-received', { name: `Покупатель ${i}`, phone: '79123456789', orderId: `A-${i}` });
    accepted++;
  } catch (error) {
    if (error.code !== 'QUEUE_FULL') throw error;
    refused++;
  }
  if ((i + 1) % STEP === 0) {
    const used = heap() - start;
    if (fullAt === undefined && refused > 0) fullAt = used;
    const ratio = fullAt === undefined ? '' : `${(used / fullAt).toFixed(3)}×`;
    console.log(
      `${String(i + 1).padStart(8)}  ${String(accepted).padStart(9)}  ${String(refused).padStart(8)}  ${(used / MB)
        .toFixed(1)
        .padStart(8)}   ${ratio}`,
    );
  }
}
await notifier.close({ timeoutMs: 10 });
await client.close();
await emu.close();
process.exit(0);
