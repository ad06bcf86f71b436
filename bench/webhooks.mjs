// Webhook delivery latency: from publish() to the request's arrival at a local receiver
// (127.0.0.1, answering 204 at once), for 1 000 events, median and p99. Two loads, each with the
// in-memory outbox and, when redis-server is on PATH, the Redis outbox:
//   steady: one event every 5 ms (200/s, about the rate of a busy notifier's status events),
//   burst:  all 1 000 published back to back (they queue behind the endpoint's 4 connections).
// Every delivery is verified with the standardwebhooks package before it counts.
// Needs the built packages:
//   npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/redis/tsconfig.build.json
// Run: node bench/webhooks.mjs [--events N]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
// The webhook modules from their dist files: they need no export from the package index.
import { createWebhookDispatcher, generateWebhookSecret } from '../packages/core/dist/webhooks/index.js';
import { redisWebhookOutbox } from '../packages/redis/dist/webhook-outbox.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000' } } });
const EVENTS = Number(values.events);
if (!Number.isInteger(EVENTS) || EVENTS < 1 || EVENTS > 100_000) {
  console.error(`--events must be an integer from 1 to 100 000, got ${JSON.stringify(values.events)}`);
  process.exit(2);
}
const STEADY_GAP_MS = 5;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const silent = {
  debug() {},
  info() {},
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

/** A receiver that stamps each arrival by webhook-id and checks its signature. */
async function startReceiver(secret) {
  const arrivals = new Map();
  let invalid = 0;
  const verifier = new Webhook(secret);
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      try {
        verifier.verify(Buffer.concat(chunks).toString('utf8'), req.headers);
        if (!arrivals.has(req.headers['webhook-id'])) arrivals.set(req.headers['webhook-id'], at);
      } catch {
        invalid++;
      }
      res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    arrivals,
    get invalid() {
      return invalid;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function run(label, load, makeOutbox) {
  const secret = generateWebhookSecret();
  const receiver = await startReceiver(secret);
  const outbox = makeOutbox?.();
  const dispatcher = createWebhookDispatcher({
    endpoints: [{ url: receiver.url, secret }],
    logger: silent,
    ...(outbox ? { outbox } : {}),
  });
  const published = new Map();
  const began = performance.now();
  try {
    for (let i = 0; i < EVENTS; i++) {
      const started = performance.now();
      const id = await dispatcher.publish('message.sent', {
        id: `job-${i}`,
        status: 'sent',
        phone: '79123456789',
        messageId: `wamid.${i}`,
        meta: { orderId: i },
      });
      published.set(id, started);
      if (load === 'steady') await sleep(STEADY_GAP_MS);
    }
    const deadline = Date.now() + 60_000;
    while (receiver.arrivals.size < EVENTS) {
      if (Date.now() > deadline) throw new Error(`${label}: only ${receiver.arrivals.size}/${EVENTS} arrived in 60 s`);
      await sleep(5);
    }
    const latencies = [...published].map(([id, at]) => receiver.arrivals.get(id) - at).sort((a, b) => a - b);
    const fmt = (ms) => `${ms.toFixed(2)} ms`;
    const spanMs = Math.max(...receiver.arrivals.values()) - began;
    console.log(
      `${label.padEnd(16)} ${load.padEnd(6)} ${EVENTS} events: median ${fmt(percentile(latencies, 50))}, ` +
        `p99 ${fmt(percentile(latencies, 99))}, max ${fmt(latencies.at(-1))}; all in ${Math.round(spanMs)} ms ` +
        `(${Math.round((EVENTS / spanMs) * 1000)}/s); bad signatures ${receiver.invalid}`,
    );
    return receiver.invalid === 0;
  } finally {
    await dispatcher.close({ timeoutMs: 5_000 });
    await outbox?.close();
    await receiver.close();
  }
}

const canConnect = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.destroy() || true));
    socket.once('error', () => resolve(false));
  });

/** A throwaway redis-server on a free local port, no persistence; undefined when none is installed. */
async function startRedis() {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  const dir = await mkdtemp(join(tmpdir(), 'olchat-bench-webhooks-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], {
    stdio: 'ignore',
  });
  const failed = new Promise((resolve) => child.once('error', () => resolve(true)));
  for (let i = 0; !(await canConnect(port)); i++) {
    if (i > 100 || child.exitCode !== null || (await Promise.race([failed, sleep(50).then(() => false)]))) {
      await rm(dir, { recursive: true, force: true });
      return undefined;
    }
  }
  return {
    port,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

console.log(`Webhook delivery latency, publish() → arrival at a local receiver (Node ${process.version})`);
let ok = true;
for (const load of ['steady', 'burst']) ok = (await run('memory outbox', load)) && ok;
const redis = await startRedis();
if (redis) {
  try {
    let n = 0;
    const makeOutbox = () =>
      redisWebhookOutbox({ connection: { host: '127.0.0.1', port: redis.port }, name: `bench-${++n}` });
    for (const load of ['steady', 'burst']) ok = (await run('redis outbox', load, makeOutbox)) && ok;
  } finally {
    await redis.stop();
  }
} else {
  console.log('redis-server not found: the Redis outbox was not measured');
}
if (!ok) process.exitCode = 1;
