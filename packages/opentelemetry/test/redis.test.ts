import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNotifier, defineRule, OlchatClient } from '@olchat-kit/core';
import { redisLimiterStore, redisQueue } from '@olchat-kit/redis';
import { startEmulator } from '@olchat-kit/testing';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { skipReason } from '../../../scripts/system-deps.mjs';
import { RedisServer } from '../../redis/test/helpers/redis-server.js';
import { otelTelemetry } from '../src/index.js';
import { eventually, startTracing } from './helpers/tracing.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/trigger-process.mjs', import.meta.url));
const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const redisMissing = skipReason('redis-server');

interface Triggered {
  id: string;
  status: string;
  traceId: string;
  spanId: string;
}

/** Runs the trigger process to its end and returns what it printed. */
function runTriggerProcess(config: object): Promise<Triggered> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], {
      env: { ...process.env, OLCHAT_FIXTURE: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.includes('"triggered"'));
      if (code === 0 && line) resolve(JSON.parse(line) as Triggered);
      else reject(new Error(`trigger process exited ${code}: ${stderr.trim()}`));
    });
  });
}

describe.skipIf(redisMissing)('on Redis, across processes', () => {
  let redis: RedisServer;
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  let tracing: ReturnType<typeof startTracing>;

  beforeAll(async () => {
    for (const pkg of ['core', 'redis', 'opentelemetry']) {
      if (!existsSync(root(`packages/${pkg}/dist/index.js`))) {
        throw new Error(`packages/${pkg}/dist is missing: build first (pnpm -r build)`);
      }
    }
    redis = await RedisServer.start();
    emu = await startEmulator({ latencyMs: [0, 10] });
    tracing = startTracing();
  });
  afterAll(async () => {
    await tracing?.stop();
    await emu?.close();
    await redis?.destroy();
  });

  it("the send span in another process, later, links to the trigger span's context", async () => {
    const queueName = 'otel-link';
    // The web process triggers a reminder due in 1.5 s, and exits before it is due.
    const triggered = await runTriggerProcess({
      redisPort: redis.port,
      queueName,
      baseUrl: emu.baseUrl,
      token: emu.token,
      delayMs: 1_500,
    });
    expect(triggered.status).toBe('scheduled');
    expect(emu.messages).toHaveLength(0);

    // The worker process (this one) sends it.
    const connection = redis.connection;
    const limiterStore = redisLimiterStore({ connection });
    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore });
    const rule = defineRule({ id: 'visit-reminder', input: z.object({}), to: () => '', text: '' });
    const notifier = createNotifier({
      client,
      rules: [rule],
      queue: redisQueue({ connection, name: queueName }),
      secret: 'olchat-kit-test-secret-0123456789', // the trigger process's
      telemetry: otelTelemetry({ tracerProvider: tracing.provider }),
    });
    try {
      const send = await eventually(() => tracing.spans('olchat.send')[0], 'the send span');
      expect(emu.messages).toHaveLength(1);
      expect(send.kind).toBe(SpanKind.CLIENT);
      expect(send.attributes).toMatchObject({
        'olchat.job_id': triggered.id,
        'olchat.rule': 'visit-reminder',
        'olchat.outcome': 'sent',
      });
      expect(send.parentSpanContext).toBeUndefined();
      expect(send.links).toHaveLength(1);
      expect(send.links[0]?.context).toMatchObject({ traceId: triggered.traceId, spanId: triggered.spanId });
      // This process made no trigger span: the link came with the job, through Redis.
      expect(tracing.spans('olchat.trigger')).toEqual([]);
    } finally {
      await notifier.close({ timeoutMs: 5_000 });
      await client.close();
      await limiterStore.close();
    }
  });
});
