import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@olchat-kit/core';
import { createWebhookDispatcher, generateWebhookSecret, type WebhookDelivery } from '@olchat-kit/core/webhooks';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import { RedisWebhookOutbox } from '../src/webhook-outbox.js';
import { RedisServer } from './helpers/redis-server.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/webhook-process.mjs', import.meta.url));
const BUILT = ['../../core/dist/webhooks/index.js', '../dist/webhook-outbox.js'].map((path) =>
  fileURLToPath(new URL(path, import.meta.url)),
);

let redis: RedisServer;
let names = 0;

beforeAll(async () => {
  for (const file of BUILT) {
    if (!existsSync(file)) {
      throw new Error(
        `${file} is missing: build first (npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/redis/tsconfig.build.json)`,
      );
    }
  }
  redis = await RedisServer.start();
});

afterAll(async () => {
  await redis?.destroy();
});

function outbox(options: Partial<ConstructorParameters<typeof RedisWebhookOutbox>[0]> = {}): RedisWebhookOutbox {
  return new RedisWebhookOutbox({ connection: redis.connection, ...options });
}

function delivery(id: string, nextAt: number, endpoint = 'http://127.0.0.1:9/hooks?token=t0ps3cret'): WebhookDelivery {
  return { id, endpoint, type: 'message.sent', body: `{"id":"${id}"}`, attempt: 0, nextAt, createdAt: nextAt };
}

function recordingLogger() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A real receiver on 127.0.0.1 (on `port` if given): answers 204, or holds requests while `hold` is set. */
async function startReceiver(port = 0) {
  const requests: Received[] = [];
  const state = { hold: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      if (!state.hold) res.writeHead(204).end();
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/hooks?key=k`,
    port: address.port,
    requests,
    state,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

interface ChildMessage {
  event: string;
  id?: string;
  level?: string;
  msg?: string;
}

/** One fixture process and the JSON lines it prints. */
class WebhookProcess {
  readonly child: ChildProcess;
  readonly messages: ChildMessage[] = [];
  #stderr = '';

  constructor(config: Record<string, unknown>) {
    this.child = spawn(process.execPath, [FIXTURE], {
      env: { ...process.env, OLCHAT_FIXTURE: JSON.stringify({ redisPort: redis.port, ...config }) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        this.messages.push(JSON.parse(line) as ChildMessage);
      } catch {
        // a stray line
      }
    });
    this.child.stderr?.on('data', (chunk) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
  }

  async next(check: (m: ChildMessage) => boolean, what: string, timeoutMs = 20_000): Promise<ChildMessage> {
    let found: ChildMessage | undefined;
    await waitFor(
      () => {
        found = this.messages.find(check);
        if (!found && this.child.exitCode !== null) throw new Error(`process exited before ${what}: ${this.#stderr}`);
        return found !== undefined;
      },
      timeoutMs,
      what,
    );
    return found as ChildMessage;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.stdin?.write('close\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

describe('RedisWebhookOutbox', () => {
  it('never hands one delivery to two processes at once', async () => {
    const name = `claims-${++names}`;
    const a = outbox({ name });
    const b = outbox({ name });
    try {
      const now = Date.now();
      await a.add(Array.from({ length: 60 }, (_, i) => delivery(`d${i}`, now - 1_000 + i)));
      const taken: string[][] = [[], []];
      // Both claim as fast as they can, at the same time, until nothing is left.
      await Promise.all(
        [a, b].map(async (side, i) => {
          for (let round = 0; round < 100; round++) {
            const claimed = await side.claim(delivery('x', 0).endpoint, 7, Date.now(), 60_000);
            if (claimed.length === 0) return;
            taken[i]?.push(...claimed.map((d) => d.id));
          }
        }),
      );
      const [fromA, fromB] = taken as [string[], string[]];
      expect(fromA.length + fromB.length).toBe(60);
      expect(new Set([...fromA, ...fromB]).size).toBe(60);
      expect(fromA.length).toBeGreaterThan(0);
      expect(fromB.length).toBeGreaterThan(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('gives a claim whose process went quiet to another after the lease; the late one can no longer reschedule it', async () => {
    const name = `lease-${++names}`;
    const dead = outbox({ name });
    const alive = outbox({ name });
    try {
      const endpoint = delivery('x', 0).endpoint;
      await dead.add([delivery('m1', Date.now())]);
      const [first] = await dead.claim(endpoint, 4, Date.now(), 300);
      expect(first).toMatchObject({ id: 'm1', attempt: 1, body: '{"id":"m1"}' });
      expect(await alive.claim(endpoint, 4, Date.now(), 300)).toEqual([]);
      expect(await alive.nextDue([endpoint])).toBeGreaterThan(Date.now()); // the lease's end
      await sleep(400);
      const [second] = await alive.claim(endpoint, 4, Date.now(), 60_000);
      expect(second).toMatchObject({ id: 'm1', attempt: 2, body: '{"id":"m1"}' });
      expect(await dead.retry(first as never, Date.now())).toBe(false);
      expect(await alive.retry(second as never, Date.now() + 5_000)).toBe(true);
      expect(await alive.claim(endpoint, 4, Date.now(), 60_000)).toEqual([]);
      const [third] = await alive.claim(endpoint, 4, Date.now() + 5_000, 60_000);
      expect(third?.attempt).toBe(3);
      await alive.complete(third as never);
      expect(await alive.size()).toBe(0);
    } finally {
      await dead.close();
      await alive.close();
    }
  });

  it('is bounded per endpoint (oldest dropped, logged by origin) and keeps no URL or token in Redis', async () => {
    const name = `bound-${++names}`;
    const { logger, lines } = recordingLogger();
    const box = outbox({ name, maxPending: 5, logger });
    const client = new Redis(redis.connection);
    try {
      const now = Date.now();
      for (let i = 0; i < 8; i++) await box.add([delivery(`d${i}`, now + i)]);
      expect(await box.size()).toBe(5);
      const claimed = await box.claim(delivery('x', 0).endpoint, 10, now + 100, 60_000);
      expect(claimed.map((d) => d.id)).toEqual(['d3', 'd4', 'd5', 'd6', 'd7']);
      expect(lines.filter((l) => l.level === 'warn')).toHaveLength(3);
      expect(lines[0]?.obj).toMatchObject({ endpoint: 'http://127.0.0.1:9', dropped: 1 });
      const keys = await client.keys(`olchat:${name}:*`);
      expect(keys.length).toBeGreaterThan(0);
      const stored = JSON.stringify([
        keys,
        ...(await Promise.all(keys.filter((k) => k.includes(':d:')).map((k) => client.hgetall(k)))),
      ]);
      expect(stored).not.toContain('t0ps3cret');
      expect(stored).not.toContain('127.0.0.1');
    } finally {
      await box.close();
      client.disconnect();
    }
  });

  it('rejects with RedisUnavailableError (code NETWORK) when Redis cannot store a webhook', async () => {
    const box = new RedisWebhookOutbox({
      connection: { host: '127.0.0.1', port: await freePort() },
      commandTimeoutMs: 500,
    });
    try {
      await expect(box.add([delivery('d', Date.now())])).rejects.toMatchObject({ code: 'NETWORK' });
    } finally {
      await box.close();
    }
  });

  it('works as a dispatcher outbox: signed deliveries, removed from Redis once answered', async () => {
    const receiver = await startReceiver();
    const box = outbox({ name: `dispatch-${++names}`, pollMs: 100 });
    const secret = generateWebhookSecret();
    const hooks = createWebhookDispatcher({
      endpoints: [{ url: receiver.url, secret }],
      outbox: box,
      logger: recordingLogger().logger,
    });
    try {
      const ids = [];
      for (let i = 0; i < 10; i++) ids.push(await hooks.publish('line.up', { state: 'up' }));
      await waitFor(() => receiver.requests.length === 10, 10_000, 'ten deliveries');
      await waitFor(async () => (await box.size()) === 0, 10_000, 'the outbox to empty');
      expect(receiver.requests.map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort());
      for (const request of receiver.requests) {
        expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toMatchObject({
          type: 'line.up',
        });
      }
    } finally {
      await hooks.close();
      await box.close();
      await receiver.close();
    }
  });
});

describe('a webhook in the Redis outbox across a SIGKILL', () => {
  const secret = generateWebhookSecret();

  it('whose receiver is down survives the kill of its publisher and is delivered by another process, same webhook-id', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hooks?key=k`;
    const config = {
      name: `sigkill-${++names}`,
      endpoints: [{ url, secret }],
      schedule: [0, 300, 300, 300, 300, 300, 300, 300, 300, 60_000],
    };
    const publisher = new WebhookProcess({ ...config, publish: true });
    let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
    let deliverer: WebhookProcess | undefined;
    try {
      const { id } = await publisher.next((m) => m.event === 'published', 'the publish');
      // It tried, the receiver was down: the webhook waits for its next attempt.
      await publisher.next((m) => m.event === 'log' && m.level === 'warn', 'a failed attempt');
      await publisher.kill();
      const box = outbox({ name: config.name });
      expect(await box.nextDue([new URL(url).href])).toBeDefined();
      await box.close();

      receiver = await startReceiver(port);
      deliverer = new WebhookProcess(config);
      await waitFor(() => receiver?.requests.length === 1, 20_000, 'the delivery by the second process');
      const request = receiver.requests[0] as Received;
      expect(request.headers['webhook-id']).toBe(id);
      expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toMatchObject({
        type: 'message.sent',
        data: { id: 'job-1', meta: { orderId: 7 } },
      });
      await sleep(700); // answered once: not sent again
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await publisher.kill();
      await deliverer?.stop();
      await receiver?.close();
    }
  });

  it('claimed by a process killed mid-attempt is attempted again by another once its lease ends', async () => {
    const receiver = await startReceiver();
    receiver.state.hold = true; // the first attempt gets no answer before the kill
    const config = { name: `mid-attempt-${++names}`, endpoints: [{ url: receiver.url, secret }], timeoutMs: 1_000 };
    const publisher = new WebhookProcess({ ...config, publish: true });
    let deliverer: WebhookProcess | undefined;
    try {
      const { id } = await publisher.next((m) => m.event === 'published', 'the publish');
      await waitFor(() => receiver.requests.length === 1, 20_000, 'the first attempt');
      await publisher.kill();
      const killedAt = Date.now();
      receiver.state.hold = false;

      deliverer = new WebhookProcess(config);
      await waitFor(() => receiver.requests.length === 2, 30_000, 'the attempt by the second process');
      const retried = receiver.requests[1] as Received;
      expect(retried.headers['webhook-id']).toBe(id);
      expect(retried.body).toBe(receiver.requests[0]?.body);
      expect(new Webhook(secret).verify(retried.body, retried.headers as Record<string, string>)).toMatchObject({
        type: 'message.sent',
      });
      // Not before the dead process's lease (its 1 s timeout + 5 s) ran out.
      expect(retried.at - killedAt).toBeGreaterThan(3_000);
    } finally {
      await publisher.kill();
      await deliverer?.stop();
      await receiver.close();
    }
  });
});
