#!/usr/bin/env node
// Requests per second of `POST /forms/:ruleId` through each adapter ÷ a bare route of the same
// framework doing the same work, measured in the same run. Two groups per framework:
//
//   store    (10 connections) the adapter's own cost: the bare route parses + validates with zod;
//            the adapter's rule validates the same way, then when() says no and a queue that
//            stores nothing answers; `+queue` adds the default MemoryQueue (informational).
//   queued   (32 connections) with a real queue: both routes trigger the same notifier on the
//            default MemoryQueue, which queues every request as a real job. The bare route parses
//            the body as the framework usually does and calls notifier.trigger() itself (the rule's
//            zod schema validates there, as it does for the adapter). The client's vendor limit is
//            1 sendText a minute (to an emulator), so the jobs stay queued; maxQueued is set high
//            enough. Each measurement starts on a fresh notifier (an empty queue, a collected heap):
//            a queue left by the run before would slow whichever route comes next. For Koa, an
//            informational `bare/events` row reads the body with the stream's events (as raw-body
//            does under koa-bodyparser) rather than the async iterator of the bare route.
//
// Build first (`pnpm -r build`): this imports the built packages. The servers run in a child
// process, autocannon in this one, so the load generator does not share the servers' event loop.
// Per group: a warm-up of each server, then `BENCH_ROUNDS` rounds of runs in mirrored order
// (bare, adapter, …, adapter, bare), so drift over the run cancels out; the medians are compared.
//
//   node bench/http.mjs                            # 3 s per measurement
//   BENCH_SECONDS=5 BENCH_ROUNDS=3 node bench/http.mjs
//   BENCH_GROUPS=queued node bench/http.mjs        # only the queued rows
//   BENCH_PROFILE=.tmp/prof BENCH_GROUPS=queued node bench/http.mjs   # CPU profile of the servers
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WARMUP_SECONDS = 3; // the JIT needs a few seconds: a cold first run favoured whatever ran last
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const GROUPS = (process.env.BENCH_GROUPS ?? 'store,queued').split(',');
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'express,koa').split(',');
// For profiling one server at a time, e.g. BENCH_KINDS=adapter (no ratio is printed then).
const KINDS = process.env.BENCH_KINDS?.split(',');
const FLOOR = 0.8;
const GOAL = 0.95;
const BODY = JSON.stringify({ name: 'Анна', phone: '+7 912 345-67-89', orderId: '42' });
// Far more than one measurement of the queued group adds (≈ 20 000 req/s × its seconds): never QUEUE_FULL.
const MAX_QUEUED = 5_000_000;

if (process.argv[2] === 'serve') await serve();
else await measure();

/** The child: the servers on 127.0.0.1, their ports sent to the parent. */
async function serve() {
  const { z } = await import('zod');
  const { createNotifier, defineRule, OlchatClient } = await import('@olchat-kit/core');
  const { startEmulator } = await import('@olchat-kit/testing');
  const schema = z.object({ name: z.string().min(1), phone: z.string(), orderId: z.string() });
  const servers = {};
  // A line marked down (nothing listens at the store group's URL; the emulator shares the servers' busy event
  // loop) changes nothing here: the jobs are skipped or stay queued either way. Not worth a log line.
  const quiet = { debug() {}, info() {}, warn() {}, error: (obj, msg) => console.error(msg, obj) };

  // ── store: validated exactly like the bare route, then when() says no: the job is recorded as
  // skipped and nothing is sent, so the client's (unreachable) URL is never called.
  const skipped = defineRule({
    id: 'order',
    input: schema,
    to: 'phone',
    text: 'Здравствуйте, {{name}}! Заказ №{{orderId}}',
    when: () => false,
  });
  const unreachable = new OlchatClient({ token: 'bench-token', baseUrl: 'http://127.0.0.1:9/rest/webhook/wa' });
  // The queue is a pluggable store (memory, Redis): its cost is its own, not the adapter's. This one
  // answers add() like a queue and keeps nothing; the "+queue" rows use the default queue.
  const storeless = {
    add: async (job) => {
      const now = Date.now();
      const status = job.skipped ? 'skipped' : 'queued';
      return { record: { id: randomUUID(), status, attempts: 0, createdAt: now, updatedAt: now }, created: true };
    },
    get: async () => undefined,
    start() {},
    stats: () => ({ queued: 0, sending: 0, sent: 0, failed: 0 }),
    close: async () => {},
  };
  const storeNotifier = createNotifier({ client: unreachable, rules: [skipped], queue: storeless, logger: quiet });
  const storeMemory = createNotifier({ client: unreachable, rules: [skipped], logger: quiet });
  const accepted = (data) => ({ id: randomUUID(), status: 'queued', orderId: data.orderId });

  // ── queued: a rule that sends, a vendor that takes one message a minute: every job stays queued.
  const emulator = await startEmulator();
  const slow = new OlchatClient({
    token: emulator.token,
    baseUrl: emulator.baseUrl,
    limits: { sendText: { points: 1, durationMs: 60_000 } },
  });
  const sends = defineRule({
    id: 'order',
    input: schema,
    to: 'phone',
    text: 'Здравствуйте, {{name}}! Заказ №{{orderId}}',
  });
  const options = { inboundLimits: false };

  const express = (await import('express5')).default;
  const { olchatRouter: expressRouter } = await import('@olchat-kit/express');
  {
    const bare = express();
    bare.post('/olchat/forms/:ruleId', express.json({ limit: '64kb' }), (req, res) => {
      const result = schema.safeParse(req.body);
      if (!result.success) res.status(400).json({ error: 'invalid_input', issues: result.error.issues });
      else res.status(202).json(accepted(result.data));
    });
    const adapter = express();
    adapter.use('/olchat', expressRouter(storeNotifier, options));
    const queue = express();
    queue.use('/olchat', expressRouter(storeMemory, options));
    servers['express store bare'] = bare;
    servers['express store adapter'] = adapter;
    servers['express store +queue'] = queue;
  }
  const Koa = (await import('koa3')).default;
  const Router = (await import('@koa/router')).default;
  const { olchatRouter: koaRouter } = await import('@olchat-kit/koa');
  /** The body as the bare Koa routes have always read it here: an async iterator over the request, then JSON.parse. */
  const readJson = async (ctx) => {
    const chunks = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      size += chunk.length;
      if (size > 65536) ctx.throw(413);
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      ctx.throw(400);
    }
  };
  /** The same with the stream's events, as raw-body does under koa-bodyparser: a little cheaper. */
  const readJsonByEvents = (ctx) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      ctx.req.on('data', (chunk) => {
        size += chunk.length;
        if (size > 65536) reject(ctx.throw(413));
        chunks.push(chunk);
      });
      ctx.req.on('error', reject);
      ctx.req.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(ctx.throw(400));
        }
      });
    });
  {
    const bare = new Koa();
    const routes = new Router({ prefix: '/olchat' });
    routes.post('/forms/:ruleId', async (ctx) => {
      const result = schema.safeParse(await readJson(ctx));
      ctx.status = result.success ? 202 : 400;
      ctx.body = result.success ? accepted(result.data) : { error: 'invalid_input', issues: result.error.issues };
    });
    bare.use(routes.routes());
    const adapter = new Koa();
    adapter.use(koaRouter(storeNotifier, { prefix: '/olchat', ...options }).routes());
    const queue = new Koa();
    queue.use(koaRouter(storeMemory, { prefix: '/olchat', ...options }).routes());
    servers['koa store bare'] = bare.callback();
    servers['koa store adapter'] = adapter.callback();
    servers['koa store +queue'] = queue.callback();
  }
  /**
   * The queued group's four apps on a fresh notifier: each measurement starts from an empty queue
   * (and a collected heap), so the queue a run leaves behind does not slow the next one.
   */
  const queuedApps = () => {
    const notifier = createNotifier({ client: slow, rules: [sends], maxQueued: MAX_QUEUED, logger: quiet });
    const expressBare = express();
    expressBare.post('/olchat/forms/:ruleId', express.json({ limit: '64kb' }), (req, res, next) => {
      notifier.trigger(req.params.ruleId, req.body).then(
        (job) => res.status(202).json(job),
        (error) => (error.code === 'VALIDATION' ? res.status(400).json({ error: 'invalid_input' }) : next(error)),
      );
    });
    const expressAdapter = express();
    expressAdapter.use('/olchat', expressRouter(notifier, options));
    /** A bare Koa app: @koa/router, the body read by `read`, notifier.trigger(), a 202 JSON answer. */
    const koaBare = (read) => {
      const app = new Koa();
      const routes = new Router({ prefix: '/olchat' });
      routes.post('/forms/:ruleId', async (ctx) => {
        try {
          ctx.body = await notifier.trigger(ctx.params.ruleId, await read(ctx));
          ctx.status = 202;
        } catch (error) {
          if (error.code !== 'VALIDATION') throw error;
          ctx.status = 400;
          ctx.body = { error: 'invalid_input' };
        }
      });
      return app.use(routes.routes()).callback();
    };
    const koaAdapter = new Koa();
    koaAdapter.use(koaRouter(notifier, { prefix: '/olchat', ...options }).routes());
    return {
      notifier,
      listeners: {
        'express queued bare': expressBare,
        'express queued adapter': expressAdapter,
        'koa queued bare': koaBare(readJson),
        'koa queued adapter': koaAdapter.callback(),
        'koa queued bare/events': koaBare(readJsonByEvents),
      },
    };
  };
  let queued = queuedApps();
  for (const name of Object.keys(queued.listeners)) servers[name] = (req, res) => queued.listeners[name](req, res);
  const freshQueue = async () => {
    const old = queued.notifier;
    queued = queuedApps();
    await old.close({ timeoutMs: 0 });
    globalThis.gc?.();
  };

  const ports = {};
  for (const [name, listener] of Object.entries(servers)) {
    const server = createServer(listener).listen(0, '127.0.0.1');
    await once(server, 'listening');
    ports[name] = server.address().port;
  }
  // Stopped by a message rather than a signal, so `--cpu-prof` gets to write its profile.
  process.on('message', async (message) => {
    if (message === 'stop') process.exit(0);
    if (message === 'fresh') {
      await freshQueue();
      process.send({ fresh: true });
    }
    // The servers' CPU time so far (µs): per request, steadier than req/s on a shared machine.
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ cpu: user + system });
    }
  });
  process.send({ ports });
}

/** The middle value: a run slowed by another process on a shared machine moves it less than the mean. */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The parent: autocannon against each server, ratios printed. */
async function measure() {
  const autocannon = (await import('autocannon')).default;
  const profile = process.env.BENCH_PROFILE;
  const execArgv = ['--expose-gc', ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])];
  const child = fork(fileURLToPath(import.meta.url), ['serve'], { stdio: 'inherit', execArgv });
  const [{ ports }] = await once(child, 'message');
  const cpu = async () => {
    child.send('cpu');
    for (;;) {
      const [message] = await once(child, 'message');
      if (message.cpu !== undefined) return message.cpu;
    }
  };
  const fresh = async () => {
    child.send('fresh');
    for (;;) {
      const [message] = await once(child, 'message');
      if (message.fresh) return;
    }
  };
  const run = async (name, connections, seconds) => {
    if (name.includes(' queued ')) await fresh();
    const before = await cpu();
    const result = await autocannon({
      url: `http://127.0.0.1:${ports[name]}/olchat/forms/order`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: BODY,
      connections,
      duration: seconds,
    });
    const bad = result.non2xx + result.errors + result.timeouts;
    if (bad > 0) throw new Error(`${name}: ${bad} requests did not get a 2xx answer`);
    result.cpuPerRequest = ((await cpu()) - before) / result.requests.total;
    return result;
  };

  console.log(
    `bench/http: POST /olchat/forms/order, a ${Buffer.byteLength(BODY)}-byte JSON body, autocannon on 127.0.0.1.\n` +
      "  store (10 connections): the adapter's own cost\n" +
      '    bare     the framework alone: its usual JSON body parsing, zod safeParse, a 202 JSON answer\n' +
      '    adapter  olchatRouter (inbound limits off): body reading, the same zod schema in a rule whose when()\n' +
      '             says no, the 202 answer; the notifier on a queue that stores nothing, so nothing is sent\n' +
      '    +queue   the same on the default MemoryQueue, which records each (skipped) job: informational\n' +
      '  queued (32 connections): with a real queue\n' +
      "    bare     the framework's usual JSON body parsing, then notifier.trigger() (its rule validates with\n" +
      '             the same zod schema) on the default MemoryQueue: every request queues a real job, 202 JSON\n' +
      '    adapter  olchatRouter (inbound limits off) on the same notifier\n' +
      "    bare/events  (Koa) the bare route reading the body with the stream's events, as raw-body does under\n" +
      '             koa-bodyparser, instead of an async iterator: informational\n' +
      `Per group: ${WARMUP_SECONDS} s warm-up each, then ${ROUNDS} × 2 runs of ${SECONDS} s each in mirrored order\n` +
      "(bare, adapter, …, adapter, bare); the medians of the runs are shown. Server CPU is the servers' process time\n" +
      'per request: steadier than req/s when other processes share the machine.\n',
  );
  let failed = false;
  try {
    for (const framework of FRAMEWORKS) {
      for (const group of GROUPS) {
        const connections = group === 'queued' ? 32 : 10;
        const extra = group === 'store' ? '+queue' : framework === 'koa' ? 'bare/events' : undefined;
        const kinds = ['bare', 'adapter', ...(extra ? [extra] : [])].filter(
          (kind) => KINDS === undefined || KINDS.includes(kind),
        );
        const names = kinds.map((kind) => `${framework} ${group} ${kind}`);
        const served = Object.fromEntries(names.map((name) => [name, 0]));
        const counted = async (name, seconds) => {
          const result = await run(name, connections, seconds);
          served[name] += result.requests.total;
          return result;
        };
        for (const name of names) await counted(name, WARMUP_SECONDS);
        const rps = Object.fromEntries(names.map((name) => [name, []]));
        const p99 = Object.fromEntries(names.map((name) => [name, []]));
        const cpuUs = Object.fromEntries(names.map((name) => [name, []]));
        for (let round = 0; round < ROUNDS; round++) {
          for (const name of [...names, ...[...names].reverse()]) {
            const result = await counted(name, SECONDS);
            rps[name].push(result.requests.average);
            p99[name].push(result.latency.p99);
            cpuUs[name].push(result.cpuPerRequest);
          }
        }
        for (const name of names) {
          console.log(
            `${name.padEnd(24)} ${median(rps[name]).toFixed(0).padStart(6)} req/s  p99 ${median(p99[name]).toFixed(1).padStart(5)} ms  server CPU ${median(cpuUs[name]).toFixed(0).padStart(4)} µs/req  (runs: ${rps[name].map((r) => r.toFixed(0)).join(', ')})`,
          );
        }
        if (KINDS !== undefined) {
          console.log(`requests served, warm-up included: ${JSON.stringify(served)}\n`);
          continue;
        }
        const [bare, adapter, third] = names.map((name) => median(rps[name]));
        const ratio = adapter / bare;
        const verdict = ratio >= GOAL ? 'goal met' : ratio >= FLOOR ? 'floor met' : 'BELOW FLOOR';
        const label = `${framework} ${group}`;
        console.log(
          `${label} ratio adapter/bare = ${ratio.toFixed(3)} at ${connections} connections (floor ${FLOOR}, goal ${GOAL}): ${verdict}`,
        );
        if (extra === '+queue')
          console.log(`${label} ratio +queue/bare  = ${(third / bare).toFixed(3)} (informational)`);
        if (extra === 'bare/events')
          console.log(`${label} ratio adapter/(bare/events) = ${(adapter / third).toFixed(3)} (informational)`);
        const [bareCpu, adapterCpu] = names.map((name) => median(cpuUs[name]));
        console.log(
          `${label} server CPU per request bare/adapter = ${(bareCpu / adapterCpu).toFixed(3)} (informational: steadier than req/s when the machine is shared)`,
        );
        console.log('');
        if (ratio < FLOOR) failed = true;
      }
    }
  } finally {
    child.send('stop');
    await once(child, 'exit');
  }
  process.exitCode = failed ? 1 : 0;
}
