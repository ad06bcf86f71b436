import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator } from '@olchat-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { maxInAnyWindow } from '../../../test/helpers/waiting.js';
import {
  HttpError,
  isCertainlyNotAccepted,
  MemoryLimiterStore,
  OlchatClient,
  type OlchatClientOptions,
  RateLimitError,
} from '../src/index.js';
import type { LimiterStore } from '../src/limiter/index.js';
import { rejection } from './helpers/rejection.js';

const phone = '79123456789';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Limits = OlchatClientOptions['limits'];

async function setup(limits: Limits, limiterStore: LimiterStore = new MemoryLimiterStore()) {
  const emu = await startEmulator({ limits: limits as never });
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limits,
    limiterStore,
    retry: { minDelayMs: 10, maxDelayMs: 50 },
  });
  cleanups.push(
    () => emu.close(),
    () => client.close(),
  );
  return { emu, client };
}

describe('a 429 from the vendor', () => {
  it('holds every caller of the method for its Retry-After, not only the one that got it', async () => {
    // A short window, so without the pause the next requests would go ~250 ms after the 429.
    const { emu, client } = await setup({ sendText: { points: 2, durationMs: 200 } });
    emu.fail('429'); // answered with Retry-After: 1
    await Promise.all(Array.from({ length: 6 }, (_, i) => client.sendText({ phone, text: `m${i}` })));
    expect(emu.messages).toHaveLength(6);
    const [refused, burstMate, ...after] = emu.requests;
    expect(refused?.fault).toBe('429');
    expect(burstMate).toBeDefined(); // written together with the refused one, before its answer
    expect(after.length).toBeGreaterThanOrEqual(4);
    for (const request of after) expect(request.at - (refused?.at ?? 0)).toBeGreaterThanOrEqual(990);
    expect(emu.violations).toEqual([]);
  });

  it('without Retry-After holds the method for its window + margin', async () => {
    const arrivals: number[] = [];
    const server = createServer((req, res) => {
      req.resume();
      const first = arrivals.push(performance.now()) === 1;
      res.writeHead(first ? 429 : 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(first ? { result: false, error: 'Too many requests' } : { result: true, message_id: 'm' }),
      );
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const client = new OlchatClient({
      token: 'no-retry-after',
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/wa`,
      limits: { sendText: { points: 5, durationMs: 300, marginMs: 50 } },
      limiterStore: new MemoryLimiterStore(),
      retry: { retries: 0 },
    });
    cleanups.push(() => client.close());
    const refused = await rejection(client.sendText({ phone, text: 'refused' }));
    expect(refused.code).toBe('RATE_LIMITED');
    // Four slots are free, yet nobody goes before the window (300 + 50 ms) has passed.
    await Promise.all([1, 2, 3].map((i) => client.sendText({ phone, text: `after ${i}` })));
    for (const at of arrivals.slice(1)) expect(at - (arrivals[0] as number)).toBeGreaterThanOrEqual(345);
  });

  it('is a RateLimitError, which is an HttpError with code RATE_LIMITED, status 429, retryAfterMs and body', async () => {
    const { emu, client } = await setup(undefined);
    emu.fail('429');
    const error = await rejection(client.sendText({ phone, text: 'x' }, { retries: 0 }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ name: 'RateLimitError', code: 'RATE_LIMITED', status: 429, retryAfterMs: 1000 });
    expect((error as RateLimitError).body).toContain('Too many requests');
    expect(isCertainlyNotAccepted(error)).toBe(true);
    expect(error.toJSON()).toEqual({
      name: 'RateLimitError',
      code: 'RATE_LIMITED',
      message: error.message,
      status: 429,
    });
  });
});

describe('a beforeAttempt hook slower than the lease', () => {
  it('never lets N + 1 requests into a window: the slot is confirmed after the hook or taken again', async () => {
    // Leases of 300 ms (as a store would give when the hook outlasts the real 25 s lease).
    const inner = new MemoryLimiterStore();
    const shortLeases: LimiterStore = {
      maxPollMs: inner.maxPollMs,
      tryAcquire: (key, slots) => inner.tryAcquire(key, slots, 300),
      release: (lease, holdMs) => inner.release(lease, holdMs),
      renew: (lease) => inner.renew(lease, 300),
      onFree: (key, listener) => inner.onFree(key, listener),
    };
    const limits = { sendText: { points: 1, durationMs: 1000 } };
    const { emu, client } = await setup(limits, shortLeases);
    const attempts: number[] = [];
    await Promise.all(
      [0, 1, 2].map((i) =>
        client.sendText(
          { phone, text: `slow hook ${i}` },
          {
            beforeAttempt: async ({ attempt }) => {
              attempts.push(attempt);
              await sleep(800);
            },
          },
        ),
      ),
    );
    expect(emu.violations).toEqual([]);
    expect(
      maxInAnyWindow(
        emu.requests.map((r) => r.at),
        1000,
      ),
    ).toBe(1);
    expect(emu.messages).toHaveLength(3);
    expect(attempts).toEqual([1, 1, 1]); // the hook ran once per attempt, not again for the new slot
  }, 20_000);
});

describe('a store that cannot renew (Redis restarting between the hook and the request)', () => {
  it('does not fail a send whose lease certainly still runs by the clock', async () => {
    const inner = new MemoryLimiterStore();
    const cannotRenew: LimiterStore = {
      maxPollMs: inner.maxPollMs,
      tryAcquire: (key, slots, leaseMs) => inner.tryAcquire(key, slots, leaseMs),
      release: (lease, holdMs) => inner.release(lease, holdMs),
      renew: async () => {
        throw new Error('Connection is closed.');
      },
      onFree: (key, listener) => inner.onFree(key, listener),
    };
    const { emu, client } = await setup(undefined, cannotRenew);
    await client.sendText(
      { phone, text: 'sent anyway' },
      {
        beforeAttempt: async () => {
          await sleep(20);
        },
      },
    );
    expect(emu.messages.map((m) => m.text)).toEqual(['sent anyway']);
  });
});

describe('CallOptions', () => {
  it('priority: a high call overtakes a line of low ones waiting for the slot', async () => {
    const { emu, client } = await setup({ sendText: { points: 1, durationMs: 100 } });
    const first = client.sendText({ phone, text: 'first' });
    const lows = [1, 2, 3].map((i) => client.sendText({ phone, text: `low ${i}` }, { priority: 'low' }));
    const high = client.sendText({ phone, text: 'high' }, { priority: 'high' });
    await Promise.all([first, ...lows, high]);
    expect(emu.messages.map((m) => m.text)).toEqual(['first', 'high', 'low 1', 'low 2', 'low 3']);
  });

  it("retries: overrides the client's retry.retries for this call", async () => {
    const { emu, client } = await setup(undefined);
    emu.fail('503', 3);
    const once = await rejection(client.sendText({ phone, text: 'x' }, { retries: 0 }));
    expect(once).toMatchObject({ code: 'HTTP', status: 503 });
    expect(emu.requests).toHaveLength(1);
    const twice = await rejection(client.sendText({ phone, text: 'y' }, { retries: 1 }));
    expect(twice).toMatchObject({ code: 'HTTP', status: 503 });
    expect(emu.requests).toHaveLength(3);
    await client.sendText({ phone, text: 'z' }); // the client's own 5 retries still apply
    expect(emu.messages.map((m) => m.text)).toEqual(['z']);
  });

  it('a bad retries or priority is a VALIDATION error and sends nothing', async () => {
    const { emu, client } = await setup(undefined);
    for (const options of [{ retries: -1 }, { retries: 1.5 }, { priority: 'urgent' }]) {
      const error = await rejection(client.sendText({ phone, text: 'x' }, options as never));
      expect(error.code).toBe('VALIDATION');
    }
    expect(emu.requests).toHaveLength(0);
  });
});
