import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNotifier, OlchatClient } from '@olchat-kit/core';
import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/helpers/waiting.js';
import { redisLimiterStore, redisQueue, redisWebhookOutbox } from '../src/index.js';
import { RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;
let emu: Emulator;

beforeAll(async () => {
  redis = await RedisServer.start();
  emu = await startEmulator();
});
afterAll(async () => {
  await emu?.close();
  await redis?.destroy();
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1 that answers `status()` and keeps what it got. */
async function receiver(status: () => number) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(status()).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { url, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A shop process: a notifier with status webhooks on the Redis queue. */
function shop(name: string, url: string, secret: string) {
  const limiterStore = redisLimiterStore({ connection: redis.connection });
  const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore });
  const queue = redisQueue({ connection: redis.connection, name });
  const notifier = createNotifier({
    client,
    queue,
    webhooks: [{ url, secret, events: ['message.sent'] }],
    secret: 'olchat-kit-test-secret-0123456789',
  });
  return {
    notifier,
    async close() {
      await notifier.close({ timeoutMs: 2_000 });
      await client.close();
      await limiterStore.close();
    },
  };
}

describe('redisQueue: status webhooks', () => {
  it('a webhook not yet delivered waits in Redis beside the jobs; another process delivers it, same webhook-id', async () => {
    const name = `webhooks-${process.pid}`;
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    let answer = 503;
    const hooks = await receiver(() => answer);
    const first = shop(name, hooks.url, secret);
    const inspect = redisWebhookOutbox({ connection: redis.connection, name });
    try {
      const job = await first.notifier.send({ phone: '79123456789', text: 'Заказ отправлен' });
      await waitFor(() => hooks.received.length === 1, 10_000, 'the first attempt');
      // Refused (503): kept for a retry, in Redis under the queue's name, not in this process.
      await waitFor(async () => ((await inspect.nextDue([hooks.url])) ?? 0) > Date.now(), 5_000, 'the retry');
      await first.close();

      answer = 204;
      const second = shop(name, hooks.url, secret);
      try {
        await waitFor(() => hooks.received.length === 2, 20_000, 'the retry from the other process');
      } finally {
        await second.close();
      }
      const [refused, delivered] = hooks.received as [Received, Received];
      expect(delivered.headers['webhook-id']).toBe(refused.headers['webhook-id']);
      const verified = new Webhook(secret).verify(delivered.body, {
        'webhook-id': String(delivered.headers['webhook-id']),
        'webhook-timestamp': String(delivered.headers['webhook-timestamp']),
        'webhook-signature': String(delivered.headers['webhook-signature']),
      }) as { type: string; data: { id: string; status: string } };
      expect(verified).toMatchObject({ type: 'message.sent', data: { id: job.id, status: 'sent' } });
      expect(await inspect.nextDue([hooks.url])).toBeUndefined();
    } finally {
      await inspect.close();
      await hooks.close();
    }
  }, 40_000);
});

describe('closing a notifier with webhooks on the Redis queue', () => {
  it('closes the queue’s webhook outbox too, so no Redis connection keeps the process alive', async () => {
    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl });
    const queue = redisQueue({ connection: redis.connection, name: 'close-outbox' });
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const quiet = { debug() {}, info() {}, warn() {}, error() {} }; // the refused webhook is expected here
    const notifier = createNotifier({
      client,
      queue,
      logger: quiet,
      webhooks: [{ url: 'http://127.0.0.1:9/hooks', secret }],
      secret: 'olchat-kit-test-secret-0123456789',
    });
    const outbox = queue.webhookOutbox();
    expect(await outbox.size()).toBe(0);
    // Nothing listens on port 9: the message.sent webhook is refused and waits in the outbox in Redis.
    await notifier.send({ phone: '79123456789', text: 'Заказ отправлен' });
    await waitFor(async () => (await outbox.size()) === 1, 15_000, 'the undelivered webhook in the outbox');
    await notifier.close({ timeoutMs: 1_000 });
    await client.close();
    await expect(outbox.size()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
