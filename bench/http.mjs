#!/usr/bin/env node
// Requests per second of `POST /forms/:ruleId` through each adapter ÷ a bare route of the same
// framework doing the same JSON parse + zod validation, measured in the same run.
//
// Build first (`pnpm -r build`): this imports the built packages. The servers run in a child
// process, autocannon in this one, so the load generator does not share the servers' event loop.
// Per framework: a warm-up of each server, then each measured twice in mirrored order
// (bare, adapter, +queue, +queue, adapter, bare), so drift over the run cancels out.
//
//   node bench/http.mjs            # 3 s per measurement
//   BENCH_SECONDS=5 BENCH_ROUNDS=3 node bench/http.mjs
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WARMUP_SECONDS = 3; // the JIT needs a few seconds: a cold first run favoured whatever ran last
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = 10;
const FLOOR = 0.8;
const GOAL = 0.95;
const BODY = JSON.stringify({ name: 'Анна', phone: '+7 912 345-67-89', orderId: '42' });

if (process.argv[2] === 'serve') await serve();
else await measure();

/** The child: four servers on 127.0.0.1, their ports sent to the parent. */
async function serve() {
  const { z } = await import('zod');
  const { createNotifier, defineRule, OlchatClient } = await import('@olchat-kit/core');
  const schema = z.object({ name: z.string().min(1), phone: z.string(), orderId: z.string() });
  // Validated exactly like the bare route, then when() says no: the job is recorded as skipped and
  // nothing is sent, so the client's (unreachable) URL is never called.
  const rule = defineRule({
    id: 'order',
    input: schema,
    to: 'phone',
    text: 'Здравствуйте, {{name}}! Заказ №{{orderId}}',
    when: () => false,
  });
  const client = new OlchatClient({ token: 'bench-token', baseUrl: 'http://127.0.0.1:9/rest/webhook/wa' });
  // The queue is a pluggable store (memory, Redis): its cost is its own, not the adapter's. This one
  // answers add() like a queue and keeps nothing; the "+ MemoryQueue" rows use the default queue.
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
  const notifier = createNotifier({ client, rules: [rule], queue: storeless });
  const withMemoryQueue = createNotifier({ client, rules: [rule] });
  const options = { inboundLimits: false };
  const accepted = (data) => ({ id: randomUUID(), status: 'queued', orderId: data.orderId });

  const express = (await import('express5')).default;
  const { olchatRouter: expressRouter } = await import('@olchat-kit/express');
  const expressBare = express();
  expressBare.post('/olchat/forms/:ruleId', express.json({ limit: '64kb' }), (req, res) => {
    const result = schema.safeParse(req.body);
    if (!result.success) res.status(400).json({ error: 'invalid_input', issues: result.error.issues });
    else res.status(202).json(accepted(result.data));
  });
  const expressAdapter = express();
  expressAdapter.use('/olchat', expressRouter(notifier, options));
  const expressQueue = express();
  expressQueue.use('/olchat', expressRouter(withMemoryQueue, options));

  const Koa = (await import('koa3')).default;
  const Router = (await import('@koa/router')).default;
  const { olchatRouter: koaRouter } = await import('@olchat-kit/koa');
  const koaBare = new Koa();
  const bareRoutes = new Router({ prefix: '/olchat' });
  bareRoutes.post('/forms/:ruleId', async (ctx) => {
    const chunks = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      size += chunk.length;
      if (size > 65536) ctx.throw(413);
      chunks.push(chunk);
    }
    let data;
    try {
      data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      ctx.throw(400);
    }
    const result = schema.safeParse(data);
    ctx.status = result.success ? 202 : 400;
    ctx.body = result.success ? accepted(result.data) : { error: 'invalid_input', issues: result.error.issues };
  });
  koaBare.use(bareRoutes.routes());
  const koaAdapter = new Koa();
  koaAdapter.use(koaRouter(notifier, { prefix: '/olchat', ...options }).routes());
  const koaQueue = new Koa();
  koaQueue.use(koaRouter(withMemoryQueue, { prefix: '/olchat', ...options }).routes());

  const ports = {};
  for (const [name, listener] of Object.entries({
    'express bare': expressBare,
    'express adapter': expressAdapter,
    'express +queue': expressQueue,
    'koa bare': koaBare.callback(),
    'koa adapter': koaAdapter.callback(),
    'koa +queue': koaQueue.callback(),
  })) {
    const server = createServer(listener).listen(0, '127.0.0.1');
    await once(server, 'listening');
    ports[name] = server.address().port;
  }
  process.send({ ports });
}

/** The parent: autocannon against each server, ratios printed. */
async function measure() {
  const autocannon = (await import('autocannon')).default;
  const child = fork(fileURLToPath(import.meta.url), ['serve'], { stdio: 'inherit' });
  const [{ ports }] = await once(child, 'message');
  const run = async (name, seconds) => {
    const result = await autocannon({
      url: `http://127.0.0.1:${ports[name]}/olchat/forms/order`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: BODY,
      connections: CONNECTIONS,
      duration: seconds,
    });
    const bad = result.non2xx + result.errors + result.timeouts;
    if (bad > 0) throw new Error(`${name}: ${bad} requests did not get a 2xx answer`);
    return result;
  };

  console.log(
    `bench/http: POST /olchat/forms/order, a ${Buffer.byteLength(BODY)}-byte JSON body, ${CONNECTIONS} connections, autocannon on 127.0.0.1.\n` +
      '  bare     the framework alone: its usual JSON body parsing, zod safeParse, a 202 JSON answer\n' +
      '  adapter  olchatRouter (inbound limits off): body reading, the same zod schema in a rule whose when()\n' +
      '           says no, the 202 answer; the notifier on a queue that stores nothing, so nothing is sent\n' +
      '  +queue   the same on the default MemoryQueue, which records each (skipped) job: informational\n' +
      `Per framework: ${WARMUP_SECONDS} s warm-up each, then ${ROUNDS} × ${SECONDS} s runs in the order bare, adapter, +queue, +queue, adapter, bare.\n`,
  );
  let failed = false;
  try {
    for (const framework of ['express', 'koa']) {
      const names = ['bare', 'adapter', '+queue'].map((kind) => `${framework} ${kind}`);
      for (const name of names) await run(name, WARMUP_SECONDS);
      const rps = Object.fromEntries(names.map((name) => [name, []]));
      const p99 = Object.fromEntries(names.map((name) => [name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of [...names, ...[...names].reverse()]) {
          const result = await run(name, SECONDS);
          rps[name].push(result.requests.average);
          p99[name].push(result.latency.p99);
        }
      }
      const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
      for (const name of names) {
        console.log(
          `${name.padEnd(16)} ${mean(rps[name]).toFixed(0).padStart(6)} req/s  p99 ${mean(p99[name]).toFixed(1).padStart(5)} ms  (runs: ${rps[name].map((r) => r.toFixed(0)).join(', ')})`,
        );
      }
      const [bare, adapter, queued] = names.map((name) => mean(rps[name]));
      const ratio = adapter / bare;
      const verdict = ratio >= GOAL ? 'goal met' : ratio >= FLOOR ? 'floor met' : 'BELOW FLOOR';
      console.log(`${framework} ratio adapter/bare = ${ratio.toFixed(3)} (floor ${FLOOR}, goal ${GOAL}): ${verdict}`);
      console.log(`${framework} ratio +queue/bare  = ${(queued / bare).toFixed(3)} (informational)\n`);
      if (ratio < FLOOR) failed = true;
    }
  } finally {
    child.kill();
  }
  process.exitCode = failed ? 1 : 0;
}
