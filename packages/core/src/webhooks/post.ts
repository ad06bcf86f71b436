import { Pool } from 'undici';
import type { ResolvedEndpoint } from './endpoints.js';
import { parseRetryAfter } from './schedule.js';
import { signWebhook } from './signature.js';

/** What one attempt came to. `reason` is safe to log: a status or an error's code, never a URL. */
export type AttemptResult =
  | { ok: true; status: number }
  | { ok: false; code: AttemptFailure; status?: number; reason: string; retryAfterMs?: number };

/** Why an attempt failed, in the error codes' words (a trace's `olchat.error_code`). */
export type AttemptFailure = 'HTTP' | 'TIMEOUT' | 'NETWORK' | 'CLOSED';

/** Only the status matters; an endless or huge answer is not read further than this. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * One keep-alive pool per endpoint, as many connections as attempts allowed at once: an endpoint
 * that hangs holds only its own sockets.
 */
export class EndpointPoster {
  readonly #endpoint: ResolvedEndpoint;
  readonly #pool: Pool;
  readonly #timeoutMs: number;

  constructor(endpoint: ResolvedEndpoint, connections: number, timeoutMs: number) {
    this.#endpoint = endpoint;
    this.#timeoutMs = timeoutMs;
    this.#pool = new Pool(endpoint.origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      connectTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  /**
   * POSTs `body` once, signed for this attempt. Any 2xx is success; anything else is a failure,
   * a 3xx included: a redirect is never followed (undici's pool does not, by design), since a
   * receiver that moved should be reconfigured, not chased with signed data.
   */
  async post(id: string, body: string, signal: AbortSignal): Promise<AttemptResult> {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'olchat-kit',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(this.#endpoint.key, id, timestamp, body),
    };
    if (this.#endpoint.authorization) headers.authorization = this.#endpoint.authorization;
    // A timer of our own rather than AbortSignal.any/timeout (Node 20.3+): one abort for both
    // the attempt's time limit and the dispatcher closing.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const abandon = () => controller.abort();
    signal.addEventListener('abort', abandon, { once: true });
    try {
      const answer = await this.#pool.request({
        path: this.#endpoint.path,
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
        // undici must not repeat a POST on its own: each attempt is ours to count and sign.
        idempotent: false,
      });
      await answer.body.dump({ limit: MAX_ANSWER_BYTES }).catch(() => undefined);
      const status = answer.statusCode;
      if (status >= 200 && status < 300) return { ok: true, status };
      const retryAfter = answer.headers['retry-after'];
      const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now());
      return {
        ok: false,
        code: 'HTTP',
        status,
        reason: status >= 300 && status < 400 ? `redirect ${status} (not followed)` : `HTTP ${status}`,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    } catch (error) {
      if (timedOut) return { ok: false, code: 'TIMEOUT', reason: `no answer within ${this.#timeoutMs} ms` };
      if (signal.aborted) return { ok: false, code: 'CLOSED', reason: 'abandoned: the dispatcher closed' };
      return { ok: false, code: 'NETWORK', reason: describeFailure(error) };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', abandon);
    }
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

/** An error's code and message, without the URL undici sometimes puts in it. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return 'request failed';
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: { code?: unknown } }).cause?.code;
  const name = typeof cause === 'string' ? cause : typeof code === 'string' ? code : error.name;
  return `connection failed (${name})`;
}
