import { type Dispatcher, Pool } from 'undici';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Why a request produced no answer. `written` tells whether the vendor may have seen it:
 * true from the moment the request was handed to a connected socket, so a failure after
 * that point is never mistaken for a safe one.
 */
export class TransportFailure extends Error {
  constructor(
    readonly written: boolean,
    readonly timedOut: boolean,
    readonly original: unknown,
  ) {
    super(original instanceof Error ? original.message : String(original));
    this.name = 'TransportFailure';
  }
}

const MAX_BODY_BYTES = 256 * 1024;

/** One keep-alive connection pool to one origin; each request tracked up to the moment it is written. */
export class HttpTransport {
  readonly #pool: Pool;

  constructor(origin: string, connectTimeoutMs: number) {
    this.#pool = new Pool(origin, {
      connections: 8,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      connectTimeout: connectTimeoutMs,
    });
  }

  get(path: string, timeoutMs: number): Promise<RawAnswer> {
    return new Promise<RawAnswer>((resolve, reject) => {
      let written = false;
      let timedOut = false;
      let settled = false;
      let abortRequest: ((reason: Error) => void) | undefined;
      let status = 0;
      let headers: Record<string, string> = {};
      const chunks: Buffer[] = [];
      let size = 0;

      const finish = (error: unknown, answer?: RawAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (answer) resolve(answer);
        else reject(new TransportFailure(written, timedOut, error));
      };
      const timer = setTimeout(() => {
        timedOut = true;
        const error = new Error(`No answer within ${timeoutMs} ms`);
        // Before the request reaches a socket there is nothing to abort yet: fail now,
        // and abort it the moment undici hands it a socket (see onConnect).
        if (abortRequest) abortRequest(error);
        else finish(error);
      }, timeoutMs);

      const handler: Dispatcher.DispatchHandler = {
        onConnect(abort) {
          if (timedOut || settled) {
            abort(new Error('request abandoned before it was written'));
            return;
          }
          written = true;
          abortRequest = abort;
        },
        onHeaders(statusCode, rawHeaders) {
          status = statusCode;
          headers = headerRecord(rawHeaders);
          return true;
        },
        onData(chunk) {
          if (size < MAX_BODY_BYTES) chunks.push(chunk.subarray(0, MAX_BODY_BYTES - size));
          size += chunk.length;
          return true;
        },
        onComplete() {
          finish(undefined, { status, headers, body: Buffer.concat(chunks).toString('utf8') });
        },
        onError(error) {
          finish(error);
        },
      };
      this.#pool.dispatch(
        {
          path,
          method: 'GET',
          headers: { accept: 'application/json, text/plain;q=0.9, */*;q=0.5', 'user-agent': 'olchat-kit' },
          // A GET here sends a message: undici must never retry or pipeline it on its own.
          idempotent: false,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        handler,
      );
    });
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

function headerRecord(raw: Buffer[] | string[] | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    out[String(raw[i]).toLowerCase()] = String(raw[i + 1]);
  }
  return out;
}
