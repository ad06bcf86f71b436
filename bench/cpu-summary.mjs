// Sums a `node --cpu-prof` profile: self time per function, and the time spent inside (self +
// callees) of functions whose names match a filter. For reading where a trigger's time goes:
//
//   node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof bench/queue.mjs --only keyed
//   node bench/cpu-summary.mjs /tmp/prof/CPU.*.cpuprofile [--top 40] [--inside trigger,prepare,add]
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const top = Number(option('--top', 40));
const inside = option('--inside', '').split(',').filter(Boolean);

const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

// Each sample is one tick of the sampled node; the time to the next sample is its duration.
const selfUs = new Map();
const { samples, timeDeltas } = profile;
for (let i = 0; i < samples.length; i++) {
  const dt = timeDeltas[i + 1] ?? 0;
  selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
}
const label = ({ callFrame: f }) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(packages|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
let total = 0;
const self = new Map();
const within = new Map(inside.map((name) => [name, 0]));
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  total += us;
  const key = label(node);
  self.set(key, (self.get(key) ?? 0) + us);
  // Counted once per filter, however deep the recursion.
  const seen = new Set();
  for (let at = id; at !== undefined; at = parentOf.get(at)) {
    const name = byId.get(at).callFrame.functionName;
    for (const filter of inside) if (name === filter && !seen.has(filter)) seen.add(filter);
  }
  for (const filter of seen) within.set(filter, within.get(filter) + us);
}
const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n\nself time:`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(us)}  ${key}`);
if (inside.length > 0) {
  console.log('\ninside (self + callees):');
  for (const [name, us] of within) console.log(`${ms(us)}  ${name}`);
}
