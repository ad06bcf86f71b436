import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxInAnyWindow } from '../../../test/helpers/waiting.js';
import { MemoryLimiterStore, OlchatClient } from '../src/index.js';
import { type Behaviour, startStampingServer } from './helpers/stamping-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const behaviour = fc.record({
  // Latencies up to well past the window: a limiter that counts from the send would break here.
  latencyMs: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 400 })),
  outcome: fc.constantFrom<Behaviour['outcome']>('ok', 'ok', 'ok', 'ok', 429, 502, 503, 'drop'),
});

describe('the limiter under random arrivals, latencies and failures', () => {
  it('never lets more than N requests arrive at the server in any window of T', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          points: fc.integer({ min: 1, max: 5 }),
          durationMs: fc.integer({ min: 80, max: 250 }),
          // Gaps between the caller's sends, in ms.
          gaps: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 4, maxLength: 12 }),
          behaviours: fc.array(behaviour, { minLength: 16, maxLength: 16 }),
          clients: fc.integer({ min: 1, max: 3 }),
        }),
        async ({ points, durationMs, gaps, behaviours, clients: clientCount }) => {
          const server = await startStampingServer((i) => behaviours[i % behaviours.length] as Behaviour);
          // Clients on one token share one store, as every client in a process does by default.
          // A 2 ms margin only covers the store's whole-millisecond clock: the guarantee must come
          // from holding slots from the answer, not from a safety margin that hides latency.
          const limiterStore = new MemoryLimiterStore();
          const clients = Array.from(
            { length: clientCount },
            () =>
              new OlchatClient({
                token: 'property-token',
                baseUrl: server.baseUrl,
                limiterStore,
                limits: { sendText: { points, durationMs, marginMs: 2 } },
                retry: { retries: 2, minDelayMs: 0, maxDelayMs: 0 },
              }),
          );
          try {
            const sends: Promise<unknown>[] = [];
            for (const [i, gap] of gaps.entries()) {
              await sleep(gap);
              const client = clients[i % clients.length] as OlchatClient;
              sends.push(client.sendText({ phone: '+7 912 345 67 89', text: `message ${i}` }).catch(() => undefined));
            }
            await Promise.all(sends);
            expect(server.arrivals.length).toBeGreaterThanOrEqual(gaps.length);
            expect(maxInAnyWindow(server.arrivals, durationMs)).toBeLessThanOrEqual(points);
          } finally {
            await Promise.all(clients.map((c) => c.close()));
            await server.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 240_000);
});
