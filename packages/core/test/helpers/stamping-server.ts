import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A server model for limiter tests: stamps every request on arrival (the vendor's clock),
 * then answers after the latency the test chose for that request.
 */
export interface StampingServer {
  baseUrl: string;
  arrivals: number[];
  latencyFor: (index: number) => number;
  close(): Promise<void>;
}

export async function startStampingServer(latencyFor: (index: number) => number = () => 0): Promise<StampingServer> {
  const state: StampingServer = { baseUrl: '', arrivals: [], latencyFor, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const index = state.arrivals.push(performance.now()) - 1;
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: true, message_id: `m${index}` }));
    }, state.latencyFor(index));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  state.baseUrl = `http://127.0.0.1:${port}/rest/webhook/wa`;
  state.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return state;
}

/** The most arrivals in any half-open window [t, t + windowMs). */
export function maxInAnyWindow(arrivals: number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}
