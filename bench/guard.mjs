// The guard's costs. Contact memory: what 100 000 known phones take in a notifier's memory store,
// against a Set of their keys (the obvious store) measured in the same run.
//
//   npx --yes pnpm@10.34.9 -r build && node --expose-gc bench/guard.mjs [--contacts N]
//
// Memory is V8's heap plus ArrayBuffer memory (typed arrays keep their bytes outside the heap), after
// a full GC, as the difference from the same process before the contacts were added.
import { createHmac } from 'node:crypto';
import { createNotifier, OlchatClient } from '@olchat-kit/core';
import { MemoryPeopleStore, MemoryQueue } from '@olchat-kit/core/queue';

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc bench/guard.mjs');
  process.exit(1);
}
const arg = process.argv.indexOf('--contacts');
const CONTACTS = arg === -1 ? 100_000 : Number(process.argv[arg + 1]);
const SECRET = 'bench-guard-secret-0123456789abcdef';
const LIMIT_MB = 10;

/** A distinct mobile number for each i (+7 9xx …). */
const phoneOf = (i) => `79${String(100_000_000 + i).slice(-9)}`;
const keyOf = (phone) => createHmac('sha256', SECRET).update(phone).digest().subarray(0, 16).toString('base64url');

function used() {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** Bytes held by what `fill()` returns, kept alive until measured. */
async function measure(fill) {
  const before = used();
  const kept = await fill();
  const bytes = used() - before;
  return { bytes, kept };
}

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(2);

// Baseline: a Set of the 22-character keys.
const baseline = await measure(() => {
  const set = new Set();
  for (let i = 0; i < CONTACTS; i++) set.add(keyOf(phoneOf(i)));
  return set;
});

// The memory store as the notifier uses it.
const store = await measure(async () => {
  const people = new MemoryPeopleStore();
  const batch = [];
  for (let i = 0; i < CONTACTS; i++) {
    batch.push(keyOf(phoneOf(i)));
    if (batch.length === 1000) await people.markKnown(batch.splice(0), 0);
  }
  await people.markKnown(batch, 0);
  if (people.contacts !== CONTACTS) throw new Error(`expected ${CONTACTS} contacts, got ${people.contacts}`);
  return people;
});

// End to end: a notifier told of CONTACTS warm contacts through contacts.add, 1 000 at a time.
const client = new OlchatClient({ token: 'bench-token', baseUrl: 'http://127.0.0.1:9/rest' });
const notifier = createNotifier({ client, queue: new MemoryQueue(), secret: SECRET });
const viaNotifier = await measure(async () => {
  for (let at = 0; at < CONTACTS; at += 1000) {
    const phones = [];
    for (let i = at; i < Math.min(CONTACTS, at + 1000); i++) phones.push(phoneOf(i));
    await notifier.contacts.add(phones);
  }
  return undefined;
});
await notifier.close({ timeoutMs: 1000 });
await client.close();

const rows = [
  ['Set of 22-character keys (baseline)', baseline.bytes],
  ['MemoryPeopleStore', store.bytes],
  ['notifier.contacts.add()', viaNotifier.bytes],
];
console.log(`contact memory for ${CONTACTS.toLocaleString('en')} phones (heap + array buffers, after GC)`);
for (const [name, bytes] of rows) {
  console.log(
    `  ${name.padEnd(38)} ${mb(bytes).padStart(7)} MB  ${(bytes / CONTACTS).toFixed(1).padStart(6)} B/phone  ${(bytes / baseline.bytes).toFixed(2)}× baseline`,
  );
}
const worst = Math.max(store.bytes, viaNotifier.bytes);
const ok = worst <= (LIMIT_MB * 1024 * 1024 * CONTACTS) / 100_000;
console.log(`goal: ≤ ${LIMIT_MB} MB per 100 000 contacts — ${ok ? 'met' : 'NOT met'} (${mb(worst)} MB)`);
// Keep the measured objects alive until here.
if (baseline.kept.size + store.kept.contacts === 0) console.log('');
process.exitCode = ok ? 0 : 1;
