// What traces cost a trigger: `notifier.trigger` on the default MemoryQueue in three variants,
//   before: core as it was before telemetry existed (built from git into a temp dir, see below),
//   none:   core of this checkout, no `telemetry` option (the goal: ≤ 1.05× `before`),
//   otel:   core of this checkout with otelTelemetry() on an OpenTelemetry SDK (informational).
// `before` and `none` run in one child process, both loaded side by side, in alternating blocks of
// triggers, so the machine's drift falls on both alike; each round is a fresh child and the ratio
// is the median of the rounds'. `otel` needs the AsyncLocalStorage context manager, which slows
// every promise of a process, so it runs in children of its own, in the same rounds.
//
// Run: pnpm -r build && node bench/telemetry.mjs [--rounds 5] [--jobs 30000] [--baseline <git ref>]
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
/** Triggers per block in the `pair` runs. */
const BLOCK = 1_000;

if (argument('--child')) {
  await child(argument('--child'), argument('--before'), Number(argument('--jobs')));
} else {
  await parent();
}

async function parent() {
  const rounds = Number(argument('--rounds') ?? 5);
  const jobs = Number(argument('--jobs') ?? 30_000);
  const { ref, dir } = baselineCore(argument('--baseline'));
  const copy = currentCopy();
  console.log(`bench/telemetry: ${jobs} triggers per variant and round, ${rounds} rounds; before = core at ${ref}`);
  // The core loaded and warmed in first runs slower in a shared process (by up to a fifth here, with
  // the same code on both sides): each round runs both orders and takes the geometric mean.
  const both = async (other, round) => {
    const pair = ['--child', 'pair', '--before', other, '--jobs', String(jobs)];
    const a = await runChild([...pair, '--first', round % 2 === 0 ? 'before' : 'none']);
    const b = await runChild([...pair, '--first', round % 2 === 0 ? 'none' : 'before']);
    return { before: Math.sqrt(a.before * b.before), none: Math.sqrt(a.none * b.none) };
  };
  const pairs = [];
  const controls = [];
  const otels = [];
  for (let round = 0; round < rounds; round++) {
    pairs.push(await both(dir, round));
    // The control: this checkout's core against a copy of itself, the setup's own noise in this run.
    controls.push(await both(copy, round));
    otels.push(await runChild(['--child', 'otel', '--jobs', String(jobs)]));
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const show = (values) => values.map((v) => v.toFixed(2)).join(' ');
  const before = pairs.map((r) => r.before);
  const none = pairs.map((r) => r.none);
  const otel = otels.map((r) => r.otel);
  console.log(`before  CPU per trigger ${median(before).toFixed(2)} µs (rounds: ${show(before)})`);
  console.log(`none    CPU per trigger ${median(none).toFixed(2)} µs (rounds: ${show(none)})`);
  console.log(`otel    CPU per trigger ${median(otel).toFixed(2)} µs (rounds: ${show(otel)})`);
  const ratios = pairs.map((r) => r.none / r.before);
  const ratio = median(ratios);
  console.log(
    `ratio none/before = ${ratio.toFixed(3)}× (median of rounds: ${show(ratios)}; goal ≤ ${GOAL}×): ${ratio <= GOAL ? 'goal met' : 'OVER'}`,
  );
  const control = controls.map((r) => r.none / r.before);
  console.log(
    `control  none/none = ${median(control).toFixed(3)}× (the same core on both sides; median of rounds: ${show(control)})`,
  );
  const otelRatio = median(otel) / median(before);
  console.log(
    `ratio otel/before = ${otelRatio.toFixed(3)}× (informational: a span per trigger, its context kept with the job)`,
  );
  console.log(`load average ${loadavg()[0].toFixed(2)}`);
  process.exitCode = ratio <= GOAL ? 0 : 1;
}

/** A copy of this checkout's built core in the temp dir: the control's "other" core. */
function currentCopy() {
  const dir = join(tmpdir(), `olchat-kit-bench-core-current-${process.pid}`);
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

function runChild(args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
    });
    proc.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`bench/telemetry: a child exited ${code}\n${out}`));
    });
  });
}

/**
 * One round. `pair`: the baseline core and this checkout's, each with a notifier warmed in, then
 * `jobs` triggers each in alternating blocks, CPU time of this process per variant. `otel`: this
 * checkout's core with otelTelemetry, `jobs` triggers.
 */
async function child(mode, beforeDir, jobs) {
  const { z } = await import('zod');
  const { startEmulator } = await import('@olchat-kit/testing');
  const input = z.object({ name: z.string().min(1), phone: z.string(), orderId: z.string() });
  const text = 'Здравствуйте, {{name}}! Мы получили вашу заявку, номер вашего заказа №{{orderId}}';
  const dataFor = (i) => ({
    name: `Покупатель ${i}`,
    phone: `+7 912 ${String(i % 1000).padStart(3, '0')}-45-67`,
    orderId: `A-${i}`,
  });
  const emu = await startEmulator();
  const warmIn = Math.min(10_000, jobs);
  const closing = [];

  /** A notifier of `core` whose jobs all stay queued (one request a minute), warmed in. */
  async function warmNotifier(core, telemetry) {
    const { createNotifier, defineRule, MemoryLimiterStore, OlchatClient } = core;
    const client = new OlchatClient({
      token: emu.token,
      baseUrl: emu.baseUrl,
      limiterStore: new MemoryLimiterStore(),
      limits: { sendText: { points: 1, durationMs: 60_000 } },
    });
    const rule = defineRule({ id: 'order-received', input, to: 'phone', text });
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
    closing.push(async () => {
      await notifier.close({ timeoutMs: 10 });
      await client.close();
    });
    return notifier;
  }

  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  /** CPU ms of triggers `from`..`to` on `notifier`. */
  async function block(notifier, from, to) {
    const started = cpuMs();
    for (let i = from; i < to; i++) await notifier.trigger('order-received', dataFor(i));
    return cpuMs() - started;
  }

  const result = {};
  if (mode === 'pair') {
    const loadBefore = async () => warmNotifier(await import(pathToFileURL(join(beforeDir, 'dist/index.js')).href));
    const loadNone = async () => warmNotifier(await import('@olchat-kit/core'));
    let before;
    let none;
    if (argument('--first') === 'none') {
      none = await loadNone();
      before = await loadBefore();
    } else {
      before = await loadBefore();
      none = await loadNone();
    }
    let beforeMs = 0;
    let noneMs = 0;
    for (let from = 0, turn = 0; from < jobs; from += BLOCK, turn++) {
      const to = Math.min(jobs, from + BLOCK);
      // Which goes first alternates too: a GC set off by one block may fall into the next.
      if (turn % 2 === 0) {
        beforeMs += await block(before, from, to);
        noneMs += await block(none, from, to);
      } else {
        noneMs += await block(none, from, to);
        beforeMs += await block(before, from, to);
      }
    }
    result.before = (1000 * beforeMs) / jobs;
    result.none = (1000 * noneMs) / jobs;
  } else {
    // As an app with the Node SDK has it: the AsyncLocalStorage context manager and a batch processor
    // (its exporter drops the spans: the export is not what is measured).
    const { context } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const { otelTelemetry } = await import('@olchat-kit/opentelemetry');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const exporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
    closing.push(() => provider.shutdown());
    const notifier = await warmNotifier(await import('@olchat-kit/core'), otelTelemetry({ tracerProvider: provider }));
    result.otel = (1000 * (await block(notifier, 0, jobs))) / jobs;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const close of closing) await close();
  await emu.close();
  process.exit(0);
}
