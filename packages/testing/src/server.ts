import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { paramsFrom, readBodyParams } from './body.js';
import { MANUAL_STATUSES, resolveDelivery, type TrackedMessage, trackMessage } from './delivery.js';
import { FaultQueue } from './faults.js';
import { decodeSegment, type Headers, urlHost, writeHtml, writeJson } from './http-util.js';
import { INBOX_SCRIPT, type InboxSnapshot, renderInboxFragment, renderInboxPage } from './inbox-page.js';
import { type LatencyFn, toLatencyFn } from './latency.js';
import { isOlchatMethod, resolveLimits } from './methods.js';
import { type Params, type ValidatedParams, validateParams } from './params.js';
import { WindowRegistry } from './sliding-window.js';
import type {
  Emulator,
  EmulatorMessage,
  EmulatorMessageStatus,
  EmulatorOptions,
  EmulatorRequest,
  EmulatorViolation,
  FailMode,
  LatencyInfo,
  OlchatMethod,
} from './types.js';
import { FLAGGED_STATUS_BODY, WhatsappModel } from './whatsapp.js';

/** Path prefix of the vendor's v1 API: `{API_PREFIX}{token}/{method}`. */
export const API_PREFIX = '/rest/webhook/wa/';

const DEFAULT_MAX_RECORDS = 10_000;
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const MAX_PHONE_KEPT = 32;

const FAULT_ANSWERS: Record<'500' | '502' | '503', { status: number; error: string }> = {
  '500': { status: 500, error: 'Internal server error' },
  '502': { status: 502, error: 'Bad gateway' },
  '503': { status: 503, error: 'Service unavailable' },
};

interface Answer {
  status: number;
  body: unknown;
  headers?: Headers;
}

interface Waiter {
  check(): void;
  fail(error: Error): void;
}

function checkTokens(tokens: readonly string[]): readonly string[] {
  if (!Array.isArray(tokens) || tokens.length === 0) throw new TypeError('tokens must be a non-empty array');
  for (const token of tokens) {
    if (typeof token !== 'string' || token === '' || token.includes('/')) {
      throw new TypeError('every token must be a non-empty string without "/"');
    }
  }
  return Object.freeze([...tokens]);
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function tooManyRequests(retryAfterMs: number): Answer {
  return {
    status: 429,
    body: { result: false, error: 'Too many requests' },
    headers: { 'retry-after': Math.max(1, Math.ceil(retryAfterMs / 1000)) },
  };
}

/** Starts an OLChat REST API (v1) emulator on a local port. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const tokens = checkTokens(options.tokens ?? ['test-token']);
  const windows = new WindowRegistry<OlchatMethod>(resolveLimits(options.limits));
  const maxRecords = positiveInteger(options.maxRecords, DEFAULT_MAX_RECORDS, 'maxRecords');
  const maxBodyBytes = positiveInteger(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes');
  const clock = options.clock ?? (() => performance.now());
  const delivery = resolveDelivery(options.delivery);
  const host = options.host ?? '127.0.0.1';
  let latency: LatencyFn | undefined = toLatencyFn(options.latencyMs);
  let connected = options.connected ?? true;
  // Counted always; a line is flagged by itself only when the test asked for the guidance.
  const whatsapp = new WhatsappModel(options.whatsapp ?? {}, options.whatsapp !== undefined);

  const messages: EmulatorMessage[] = [];
  const tracked = new Map<string, TrackedMessage>();
  const requests: EmulatorRequest[] = [];
  const violations: EmulatorViolation[] = [];
  const faults = new FaultQueue();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<Waiter>();
  let closing: Promise<void> | undefined;

  function keep<T>(list: T[], item: T, onDrop?: (dropped: T) => void): void {
    list.push(item);
    if (list.length > maxRecords) {
      const dropped = list.splice(0, list.length - maxRecords);
      if (onDrop) for (const d of dropped) onDrop(d);
    }
  }

  function addMessage(fields: Omit<EmulatorMessage, 'status'>): EmulatorMessage {
    const entry = trackMessage(fields, delivery, clock);
    tracked.set(entry.message.id, entry);
    keep(messages, entry.message, (dropped) => tracked.delete(dropped.id));
    for (const waiter of [...waiters]) waiter.check();
    return entry.message;
  }

  /** A message is known to the line (token) that sent it, and only for the phone it went to. */
  function findMessage(tokenIndex: number, phone: string, id: string): EmulatorMessage | undefined {
    const message = tracked.get(id)?.message;
    return message && message.tokenIndex === tokenIndex && message.phone === phone ? message : undefined;
  }

  /** Runs a validated request: records a send, or answers a check. */
  function runMethod(tokenIndex: number, at: number, value: ValidatedParams): Answer {
    switch (value.method) {
      case 'sendText':
      case 'sendFile': {
        const fields: Omit<EmulatorMessage, 'status'> = {
          id: randomUUID(),
          method: value.method,
          tokenIndex,
          phone: value.phone,
          sendToImol: value.sendToImol,
          at,
        };
        if (value.method === 'sendText') fields.text = value.text;
        else {
          fields.url = value.url;
          if (value.caption !== undefined) fields.caption = value.caption;
        }
        const message = addMessage(fields);
        const said = value.method === 'sendText' ? value.text : `${value.caption ?? ''} ${value.url}`;
        whatsapp.record(tokenIndex, value.phone, said, at);
        return { status: 200, body: { result: true, message_id: message.id } };
      }
      case 'checkPhone':
        return { status: 200, body: { result: true, exists: !value.phone.endsWith('0000') } };
      case 'checkStatus':
        if (whatsapp.isFlagged(tokenIndex)) return { status: 200, body: { ...FLAGGED_STATUS_BODY, connected } };
        return {
          status: 200,
          body: { result: true, status: connected ? 'connected' : 'disconnected', connected },
        };
      case 'checkMessageStatus': {
        // The vendor documents no error answer; a 200 with result false is what the emulator has
        // always answered for a failure that is not the transport's, and what clients map to a vendor error.
        const message = findMessage(tokenIndex, value.phone, value.messageId);
        return {
          status: 200,
          body: message ? { result: true, status: message.status } : { result: false, error: 'Message not found' },
        };
      }
    }
  }

  /** Writes the answer (or drops the connection) after the configured latency. */
  function deliver(
    res: ServerResponse,
    answer: Answer | 'drop',
    info: Omit<LatencyInfo, 'status'>,
    entry?: EmulatorRequest,
  ) {
    const status = answer === 'drop' ? 0 : answer.status;
    const finish = () => {
      if (answer === 'drop') {
        res.destroy();
        return;
      }
      if (entry) entry.status = answer.status;
      writeJson(res, answer.status, answer.body, answer.headers);
    };
    let delay = 0;
    if (latency) {
      try {
        delay = latency({ ...info, status });
      } catch {
        delay = 0;
      }
    }
    if (delay <= 0) return finish();
    const timer = setTimeout(() => {
      timers.delete(timer);
      finish();
    }, delay);
    timers.add(timer);
  }

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: string,
    arrival: number,
    at: number,
  ) {
    const httpMethod = req.method ?? 'GET';
    const segments = path.slice(API_PREFIX.length).split('/');
    if (segments.length === 3 && segments[2] === '') segments.pop(); // a trailing slash
    const token = decodeSegment(segments[0] ?? '');
    const tokenIndex = token === undefined ? -1 : tokens.indexOf(token);
    const methodName = segments.length === 2 ? (decodeSegment(segments[1] ?? '') ?? '') : '';
    const info = { method: methodName, httpMethod, tokenIndex };
    if (tokenIndex < 0) {
      return deliver(res, { status: 401, body: { result: false, error: 'Invalid webhook token' } }, info);
    }
    if (!isOlchatMethod(methodName)) {
      return deliver(res, { status: 404, body: { result: false, error: 'Unknown method' } }, info);
    }
    const method = methodName;
    const entry: EmulatorRequest = { method, tokenIndex, at, status: 0, violation: false };
    keep(requests, entry);
    if (httpMethod !== 'GET' && httpMethod !== 'POST') {
      const body = { result: false, error: 'Method not allowed: use GET or POST' };
      return deliver(res, { status: 405, body, headers: { allow: 'GET, POST' } }, info, entry);
    }

    // Synchronously at arrival, in arrival order: the window, then one pending fault.
    const hit = windows.hit(tokenIndex, method, arrival);
    let fault: FailMode | undefined;
    if (hit.violation) {
      entry.violation = true;
      const { points, durationMs } = hit.limit;
      keep(violations, { method, tokenIndex, at, inWindow: hit.inWindow, points, durationMs });
    } else {
      fault = faults.take();
      if (fault) entry.fault = fault;
    }

    let params: Params = paramsFrom(new URLSearchParams(query));
    let bodyError: Answer | undefined;
    if (httpMethod === 'POST') {
      const body = await readBodyParams(req, params, maxBodyBytes);
      if (body.ok) params = body.params;
      else bodyError = { status: body.status, body: { result: false, error: body.error } };
    }
    const phone = params.phone_number;
    if (phone !== undefined) entry.phone = phone.slice(0, MAX_PHONE_KEPT);

    if (hit.violation) return deliver(res, tooManyRequests(hit.retryAfterMs), info, entry);
    if (fault === '429') return deliver(res, tooManyRequests(1000), info, entry);
    if (fault === '500' || fault === '502' || fault === '503') {
      const { status, error } = FAULT_ANSWERS[fault];
      return deliver(res, { status, body: { result: false, error } }, info, entry);
    }

    let answer: Answer;
    if (bodyError) answer = bodyError;
    else {
      const checked = validateParams(method, params);
      answer = checked.ok
        ? runMethod(tokenIndex, at, checked.value)
        : { status: 400, body: { result: false, error: checked.error } };
    }
    if (fault === 'timeout') return; // processed, never answered: the socket hangs until the client or close() ends it
    if (fault === 'drop') return deliver(res, 'drop', info, entry);
    deliver(res, answer, info, entry);
  }

  function handleInbox(req: IncomingMessage, res: ServerResponse, path: string, query: string) {
    if (path === '/inbox/burst') return handleBurst(req, res, query);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return writeJson(res, 405, { error: 'Method not allowed' }, { allow: 'GET, HEAD' });
    }
    if (path === '/inbox.json') return writeJson(res, 200, inboxSnapshot());
    if (path === '/inbox.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(INBOX_SCRIPT);
    }
    if (new URLSearchParams(query).has('fragment')) return writeJson(res, 200, renderInboxFragment(inboxSnapshot()));
    writeHtml(res, 200, renderInboxPage(inboxSnapshot(), { burst: options.onBurst !== undefined }));
  }

  function inboxSnapshot(): InboxSnapshot {
    return { messages, requests: requests.length, violations: violations.length };
  }

  function handleBurst(req: IncomingMessage, res: ServerResponse, query: string) {
    const onBurst = options.onBurst;
    if (!onBurst) return writeJson(res, 404, { error: 'Not found' });
    if (req.method !== 'POST') return writeJson(res, 405, { error: 'Method not allowed' }, { allow: 'POST' });
    req.resume();
    const count = Number(new URLSearchParams(query).get('count') ?? '20');
    if (!Number.isInteger(count) || count < 1 || count > 100) {
      return writeJson(res, 400, { error: 'count must be an integer from 1 to 100' });
    }
    Promise.resolve()
      .then(() => onBurst(count))
      .then(
        () => writeJson(res, 202, { queued: count }),
        (error: unknown) => writeJson(res, 500, { error: error instanceof Error ? error.message : 'burst failed' }),
      );
  }

  const server = createServer((req, res) => {
    // Stamp the arrival the moment the headers are in, before any body, latency or other work.
    const arrival = clock();
    const at = Date.now();
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? '' : target.slice(q + 1);
    const fail = () => {
      if (!res.headersSent) writeJson(res, 500, { result: false, error: 'Internal emulator error' });
      else res.destroy();
    };
    try {
      if (path.startsWith(API_PREFIX)) {
        handleApi(req, res, path, query, arrival, at).catch(() => {
          // The body could not be read (the client went away) or a bug: never crash the server.
          if (!req.complete || res.destroyed) res.destroy();
          else fail();
        });
      } else if (path === '/' || path === '/inbox.json' || path === '/inbox.js' || path === '/inbox/burst') {
        handleInbox(req, res, path, query);
      } else {
        writeJson(res, 404, { error: 'Not found' });
      }
    } catch {
      fail();
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  function listen(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Closes the listener and ends every connection; answers still waiting for their latency are dropped. */
  function stopListening(): Promise<void> {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    return new Promise<void>((resolve) => {
      // Called back with ERR_SERVER_NOT_RUNNING when already closed (close() while suspended): done either way.
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    });
  }

  await listen(options.port ?? 0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the emulator is not listening on TCP');
  const port = address.port;
  const url = `http://${urlHost(host, port)}`;
  const firstToken = tokens[0] as string;

  // suspend(), resume() and close() run one at a time, in call order: each waits for the one before.
  let suspended = false;
  let transitions: Promise<unknown> = Promise.resolve();
  function serialize(step: () => Promise<void>): Promise<void> {
    const next = transitions.catch(() => {}).then(step);
    transitions = next;
    return next;
  }

  return {
    url,
    baseUrl: `${url}${API_PREFIX.slice(0, -1)}`,
    token: firstToken,
    tokens,
    messages,
    requests,
    violations,
    fail(mode: FailMode, count = 1) {
      faults.add(mode, count);
    },
    clearFaults() {
      faults.clear();
    },
    setLatency(next) {
      latency = toLatencyFn(next);
    },
    setConnected(next: boolean) {
      connected = next;
    },
    get whatsapp() {
      return whatsapp.state(0, Date.now());
    },
    whatsappOf(tokenIndex: number) {
      return whatsapp.state(tokenIndex, Date.now());
    },
    setFlagged(flagged: boolean, tokenIndex = 0) {
      whatsapp.setFlagged(tokenIndex, flagged === true, Date.now());
    },
    setDelivery(messageId: string, status: 'delivered' | 'read' | 'failed') {
      if (!MANUAL_STATUSES.includes(status as EmulatorMessageStatus)) {
        throw new TypeError(`setDelivery(): status must be one of ${MANUAL_STATUSES.join(', ')}`);
      }
      const entry = typeof messageId === 'string' ? tracked.get(messageId) : undefined;
      if (!entry) throw new Error(`setDelivery(): no message with id ${JSON.stringify(messageId)} in messages`);
      entry.setStatus(status);
    },
    waitForMessages(count: number, timeoutMs = 10_000) {
      return new Promise<readonly EmulatorMessage[]>((resolve, reject) => {
        if (messages.length >= count) return resolve(messages);
        if (closing) return reject(new Error('waitForMessages: the emulator is closed'));
        const waiter: Waiter = {
          check() {
            if (messages.length < count) return;
            done();
            resolve(messages);
          },
          fail(error) {
            done();
            reject(error);
          },
        };
        const timer = setTimeout(
          () =>
            waiter.fail(new Error(`waitForMessages: ${messages.length} of ${count} messages after ${timeoutMs} ms`)),
          timeoutMs,
        );
        const done = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
      });
    },
    reset() {
      messages.length = 0;
      tracked.clear();
      requests.length = 0;
      violations.length = 0;
      faults.clear();
      windows.clear();
      whatsapp.reset();
    },
    suspend() {
      return serialize(async () => {
        if (suspended || closing) return;
        suspended = true;
        await stopListening();
      });
    },
    resume() {
      // Judged at the call: a resume() followed by close() still listens once, then close() ends it.
      if (closing) return Promise.reject(new Error('resume(): the emulator is closed'));
      return serialize(async () => {
        if (!suspended) return;
        await listen(port);
        suspended = false;
      });
    },
    close() {
      if (!closing) {
        for (const waiter of [...waiters]) waiter.fail(new Error('waitForMessages: the emulator was closed'));
        closing = serialize(stopListening);
      }
      return closing;
    },
  };
}
