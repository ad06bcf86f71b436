import type { OlchatClient } from '../client.js';
import { OlchatError } from '../errors.js';

export interface LineStatus {
  /** What OLChat said of the WhatsApp line; null when it could not be asked or its answer was unclear. */
  connected: boolean | null;
  checkedAt: string;
  /** The error code when the check failed (never its message: nothing of the request is shown). */
  error?: string;
}

const CHECK_TIMEOUT_MS = 5_000;

// One cache per client: however many handlers and however many health probes, OLChat is asked
// at most once per `ttlMs`, and concurrent probes share the one request in flight.
const caches = new WeakMap<OlchatClient, { ttlMs: number; at: number; pending: Promise<LineStatus> }>();

export function lineStatus(client: OlchatClient, ttlMs: number): Promise<LineStatus> {
  const now = Date.now();
  const cached = caches.get(client);
  if (cached && now - cached.at < Math.min(ttlMs, cached.ttlMs)) return cached.pending;
  const pending = check(client);
  caches.set(client, { ttlMs, at: now, pending });
  return pending;
}

async function check(client: OlchatClient): Promise<LineStatus> {
  try {
    const { connected } = await client.checkStatus({ signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    return { connected: connected ?? null, checkedAt: new Date().toISOString() };
  } catch (error) {
    const code = error instanceof OlchatError ? error.code : 'INTERNAL';
    return { connected: null, checkedAt: new Date().toISOString(), error: code };
  }
}
