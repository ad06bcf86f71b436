// What delivery checks cost on the vendor's checkMessageStatus limit while sends run at full rate.
// Run: pnpm -r build && node bench/delivery.mjs [--messages 60]
//
// Sends N messages as fast as the vendor's limit allows (5 per 3 s) with deliveryChecks on, and
// counts, from the emulator's own log, the checkMessageStatus requests per sent message and the share
// of that method's limit they used over the same period. Baseline in the same run: the send limit's
// own use (sends per window ÷ 5), which is ~1.0 at full rate.
import { createNotifier, MemoryLimiterStore, OlchatClient } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = arg('messages', 60);
const WINDOW_MS = 3000;
const POINTS = 5;

async function run(afterMs) {
  const emu = await startEmulator({ delivery: { deliveredAfterMs: 1000, readAfterMs: 20_000 } });
  // A fresh emulator: no earlier process used its window, so the bench starts with it empty.
  const limiterStore = new MemoryLimiterStore({ assumeRecentUse: false });
  const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore });
  const notifier = createNotifier({
    client,
    deliveryChecks: { afterMs, maxLagMs: 10 * 60_000 },
    line: { checkIntervalMs: false },
  });
  let delivered = 0;
  notifier.on('delivered', () => delivered++).on('read', () => delivered++);
  const started = Date.now();
  for (let i = 0; i < MESSAGES; i++) await notifier.send({ phone: '79123456789', text: `Заказ ${i} отправлен` });
  await emu.waitForMessages(MESSAGES, 10 * 60_000);
  const sendsDone = Date.now();
  // Let the last offsets come due and the line of checks drain.
  await new Promise((r) => setTimeout(r, Math.max(...afterMs) + 15_000));
  const sends = emu.requests.filter((r) => r.method === 'sendText');
  const checks = emu.requests.filter((r) => r.method === 'checkMessageStatus');
  const spanMs = Math.max(1, (checks.at(-1)?.at ?? sendsDone) - started);
  // The most a sliding limit of 5 per 3 s lets through in a span S: 5 × (S / 3 s + 1).
  const capacity = (ms) => POINTS * (ms / WINDOW_MS + 1);
  const sendShare = sends.length / capacity(sendsDone - started);
  const checkShare = checks.length / capacity(spanMs);
  await notifier.close({ timeoutMs: 1000 });
  await client.close();
  const violations = emu.violations.length;
  await emu.close();
  return { afterMs, sends: sends.length, checks: checks.length, delivered, sendShare, checkShare, violations };
}

console.log(`bench/delivery: ${MESSAGES} messages at the vendor's send limit, node ${process.version}\n`);
console.log('afterMs            sends  checks  checks/msg  send-limit use  check-limit use  status news  over limit');
for (const afterMs of [[5_000], [5_000, 30_000], [2_000, 4_000, 8_000]]) {
  const r = await run(afterMs);
  console.log(
    `${JSON.stringify(r.afterMs).padEnd(18)} ${String(r.sends).padStart(5)}  ${String(r.checks).padStart(6)}  ${(
      r.checks / r.sends
    )
      .toFixed(2)
      .padStart(10)}  ${r.sendShare.toFixed(2).padStart(13)}×  ${r.checkShare.toFixed(2).padStart(14)}×  ${String(
      r.delivered,
    ).padStart(11)}  ${String(r.violations).padStart(10)}`,
  );
}
console.log(
  '\nchecks/msg: checkMessageStatus requests per sent message (coalesced and dropped checks lower it);\n' +
    'limit use: requests ÷ the most a sliding 5-per-3 s limit lets through over the run (1.00× = all of it).',
);
