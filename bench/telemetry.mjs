// What traces cost a trigger: `notifier.trigger` on the default MemoryQueue in four variants,
//   before: core as it was before telemetry existed (built from git into a temp dir, see below),
//   none:   core of this checkout, no `telemetry` option (the goal: ≤ 1.05× `before`),
//   twin:   a second copy of `none`: the control, whose ratio to `none` is the setup's own noise,
//   otel:   core of this checkout with otelTelemetry() on an OpenTelemetry SDK (informational).
// Each measurement is a fresh child process running one variant: two cores in one process share the
// JIT's feedback on zod and the rest, and the one loaded first ran up to a fifth slower, so a
// shared process would measure load order, not code. Rounds run every variant once, in an order
// rotated each round; each figure is the median of its rounds.
//
// Run: pnpm -r build && node bench/telemetry.mjs [--rounds 8] [--jobs 30000] [--baseline <git ref>]
//   --baseline: the commit whose core is `before`. Default: the parent of the commit that added
//   packages/core/src/telemetry/telemetry.ts. Its core is built once into the temp dir and kept.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const argument = (name) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const root = fileURLToPath(new URL('..', import.meta.url));
const GOAL = 1.05;

if (argument('--child')) {
  await child(argument('--child'), argument('--core'), Number(argument('--jobs')));
} else {
  await parent();
}

async function parent() {
  const rounds = Number(argument('--rounds') ?? 8);
  const jobs = Number(argument('--jobs') ?? 30_000);
  const { ref, dir } = baselineCore(argument('--baseline'));
  // Every core is loaded from a copy in the temp dir, so none of them differs by where it lies.
  const cores = { before: dir, none: currentCopy('none'), twin: currentCopy('twin'), otel: currentCopy('otel') };
  const names = Object.keys(cores);
  const runs = Object.fromEntries(names.map((name) => [name, []]));
  console.log(`bench/telemetry: ${jobs} triggers per run, ${rounds} rounds; before = core at ${ref}`);
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) runs[name].push((await runChild(name, cores[name], jobs)).cpuUs);
  }
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  };
  const cpu = Object.fromEntries(names.map((name) => [name, median(runs[name])]));
  for (const name of names) {
    const all = runs[name].map((us) => us.toFixed(2)).join(' ');
    console.log(`${name.padEnd(6)} CPU per trigger ${cpu[name].toFixed(2)} µs (runs: ${all})`);
  }
  const ratio = cpu.none / cpu.before;
  // Other work on the machine only ever adds CPU time (shared caches, a slower clock): the fastest run
  // of each variant is the steadier figure on a busy machine, printed beside the medians.
  const fastest = Object.fromEntries(names.map((name) => [name, Math.min(...runs[name])]));
  console.log(`ratio none/before = ${ratio.toFixed(3)}× (goal ≤ ${GOAL}×): ${ratio <= GOAL ? 'goal met' : 'OVER'}`);
  console.log(
    `control none/twin = ${(cpu.none / cpu.twin).toFixed(3)}× (the same code twice: this run's noise on the medians)`,
  );
  console.log(
    `fastest runs: none/before = ${(fastest.none / fastest.before).toFixed(3)}×, none/twin = ${(fastest.none / fastest.twin).toFixed(3)}×`,
  );
  console.log(
    `ratio otel/before = ${(cpu.otel / cpu.before).toFixed(3)}× (informational: a span per trigger, its context kept with the job)`,
  );
  console.log(`load average ${loadavg()[0].toFixed(2)}`);
  process.exitCode = ratio <= GOAL ? 0 : 1;
}

/** A copy of this checkout's built core in the temp dir, removed when the bench ends. */
function currentCopy(name) {
  const dir = join(tmpdir(), `olchat-kit-bench-core-${name}-${process.pid}`);
  const core = join(dir, 'packages/core');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(core, { recursive: true });
  cpSync(join(root, 'packages/core/dist'), join(core, 'dist'), { recursive: true });
  cpSync(join(root, 'packages/core/package.json'), join(core, 'package.json'));
  symlinkSync(join(root, 'packages/core/node_modules'), join(core, 'node_modules'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return core;
}

/**
 * core as it was at the baseline commit, built into the temp dir: `git archive` of packages/core and
 * the root tsconfig.json, this checkout's node_modules linked in, this checkout's tsc.
 */
function baselineCore(given) {
  const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  let ref = given;
  if (!ref) {
    const added = git('log', '--diff-filter=A', '--format=%H', '--', 'packages/core/src/telemetry/telemetry.ts')
      .split('\n')
      .filter(Boolean)
      .at(-1);
    if (!added) throw new Error('bench/telemetry: telemetry.ts is not committed yet; pass --baseline <ref>');
    ref = `${added}^`;
  }
  const sha = git('rev-parse', `${ref}^{commit}`);
  const dir = join(tmpdir(), `olchat-kit-bench-core-${sha.slice(0, 12)}`);
  const core = join(dir, 'packages/core');
  if (!existsSync(join(core, 'dist/index.js'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} packages/core tsconfig.json | tar -x -C "${dir}"`], { cwd: root });
    if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    if (!existsSync(join(core, 'node_modules'))) {
      symlinkSync(join(root, 'packages/core/node_modules'), join(core, 'node_modules'));
    }
    execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(core, 'tsconfig.build.json')], { stdio: 'inherit' });
  }
  return { ref: `${ref} (${sha.slice(0, 12)})`, dir: core };
}

function runChild(variant, core, jobs) {
  return new Promise((resolve, reject) => {
    const args = [fileURLToPath(import.meta.url), '--child', variant, '--core', core, '--jobs', String(jobs)];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
    });
    proc.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`bench/telemetry: the ${variant} run exited ${code}\n${out}`));
    });
  });
}

/** One run: a notifier of the core in `coreDir` warmed in with 10 000 triggers, then `jobs` triggers timed. */
async function child(variant, coreDir, jobs) {
  const core = await import(pathToFileURL(join(coreDir, 'dist/index.js')).href);
  const { startEmulator } = await import('@olchat-kit/testing');
  const { z } = await import('zod');
  const { createNotifier, defineRule, MemoryLimiterStore, OlchatClient } = core;
  let telemetry;
  let provider;
  if (variant === 'otel') {
    // As an app with the Node SDK has it: the AsyncLocalStorage context manager and a batch processor
    // (its exporter drops the spans: the export is not what is measured).
    const { context } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const { otelTelemetry } = await import('@olchat-kit/opentelemetry');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const exporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
    provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
    telemetry = otelTelemetry({ tracerProvider: provider });
  }
  const input = z.object({ name: z.string().min(1), phone: z.string(), orderId: z.string() });
  const text = 'Здравствуйте, {{name}}! Мы получили вашу заявку, номер вашего заказа №{{orderId}}';
  const rule = defineRule({ id: 'order-received', input, to: 'phone', text });
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
  const warmIn = Math.min(10_000, jobs);
  const notifier = createNotifier({
    client,
    rules: [rule],
    concurrency: 1,
    maxQueued: jobs + warmIn + 1,
    ...(telemetry ? { telemetry } : {}),
  });
  const warm = [];
  for (let i = 0; i < warmIn; i++) warm.push((await notifier.trigger('order-received', dataFor(jobs + i))).id);
  for (const id of warm) await notifier.cancel(id);
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const started = cpuMs();
  for (let i = 0; i < jobs; i++) await notifier.trigger('order-received', dataFor(i));
  const cpuUs = (1000 * (cpuMs() - started)) / jobs;
  process.stdout.write(`${JSON.stringify({ variant, cpuUs })}\n`);
  await notifier.close({ timeoutMs: 10 });
  await client.close();
  await provider?.shutdown();
  await emu.close();
  process.exit(0);
}
