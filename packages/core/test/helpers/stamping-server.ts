import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the model server treats one request. */
export interface Behaviour {
  latencyMs: number;
  /** 'ok' answers 200; a status answers that status; 'drop' closes the socket without an answer. */
  outcome?: 'ok' | 429 | 502 | 503 | 'drop';
}

/**
 * A server model for limiter tests: stamps every request on arrival (the vendor's clock),
 * then answers after the latency and with the outcome the test chose for that request.
 */
export interface StampingServer {
  baseUrl: string;
  arrivals: number[];
  close(): Promise<void>;
}

export async function startStampingServer(
  behaviourFor: (index: number) => Behaviour = () => ({ latencyMs: 0 }),
): Promise<StampingServer> {
  const state: StampingServer = { baseUrl: '', arrivals: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    const index = state.arrivals.push(performance.now()) - 1;
    const { latencyMs, outcome = 'ok' } = behaviourFor(index);
    req.resume();
    setTimeout(() => {
      if (outcome === 'drop') {
        req.socket.destroy();
        return;
      }
      const status = outcome === 'ok' ? 200 : outcome;
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '0' } : {}) });
      res.end(
        JSON.stringify(status === 200 ? { result: true, message_id: `m${index}` } : { result: false, error: 'busy' }),
      );
    }, latencyMs);
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
