import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryLimiterStore, OlchatClient } from '../src/index.js';
import { maxInAnyWindow, startStampingServer } from './helpers/stamping-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the limiter under random arrivals and latencies', () => {
  it('never lets more than N requests arrive at the server in any window of T', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          points: fc.integer({ min: 1, max: 5 }),
          durationMs: fc.integer({ min: 80, max: 250 }),
          // Gaps between the caller's sends and the server's latency for each request, in ms.
          gaps: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 4, maxLength: 14 }),
          latencies: fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 14, maxLength: 14 }),
          twoClients: fc.boolean(),
        }),
        async ({ points, durationMs, gaps, latencies, twoClients }) => {
          const server = await startStampingServer((i) => latencies[i % latencies.length] ?? 0);
          // A 2 ms margin only covers the store's whole-millisecond clock: the guarantee must come
          // from holding slots from the answer, not from a safety margin that hides latency.
          const options = {
            token: 'property-token',
            baseUrl: server.baseUrl,
            limiterStore: new MemoryLimiterStore(),
            limits: { sendText: { points, durationMs, marginMs: 2 } },
          };
          const clients = twoClients
            ? [new OlchatClient(options), new OlchatClient(options)]
            : [new OlchatClient(options)];
          try {
            const sends: Promise<unknown>[] = [];
            for (const [i, gap] of gaps.entries()) {
              await sleep(gap);
              const client = clients[i % clients.length] as OlchatClient;
              sends.push(client.sendText({ phone: '+7 912 345 67 89', text: `message ${i}` }));
            }
            await Promise.all(sends);
            expect(server.arrivals).toHaveLength(gaps.length);
            expect(maxInAnyWindow(server.arrivals, durationMs)).toBeLessThanOrEqual(points);
          } finally {
            await Promise.all(clients.map((c) => c.close()));
            await server.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
