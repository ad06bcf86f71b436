import { once } from 'node:events';
import { createServer, request as httpRequest, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createNotifier,
  defineRule,
  type HandlerOptions,
  type LimitsOption,
  MemoryLimiterStore,
  type AnyNotifier as Notifier,
  type NotifierOptions,
  type NotifyHandlerOptions,
  OlchatClient,
} from '@olchat-kit/core';
import type { NotifierInternalOptions } from '@olchat-kit/core/queue';
import { type EmulatorOptions, startEmulator } from '@olchat-kit/testing';
import request from 'supertest';
import { afterEach } from 'vitest';
import { z } from 'zod';

export const adapter = process.env.OLCHAT_ADAPTER as 'express' | 'koa';
export const expectedMajor = Number(process.env.OLCHAT_FRAMEWORK_MAJOR);
if (adapter !== 'express' && adapter !== 'koa')
  throw new Error('run the conformance suite through its vitest projects');

export interface AppSetup {
  notifier: Notifier;
  router?: HandlerOptions;
  notifyOptions?: NotifyHandlerOptions;
}

/** A `from` with a bug in it: the handler must answer 500 `internal` and show nothing of it. */
export function failingFrom(): never {
  throw new Error('boom: a bug in the app');
}

/** The version of the framework the suite (and, through the alias, the adapter) runs on. */
export async function frameworkVersion(): Promise<string> {
  const pkg = await import(`${adapter}/package.json`, { with: { type: 'json' } });
  return pkg.default.version;
}

export const TOKEN = 'conformance-secret-token-5d1f';
export const API_KEY = 'api-key-for-tests-0123456789';
export const PHONE = '+7 (912) 345-67-89';

const order = defineRule({
  id: 'order',
  input: z.object({ name: z.string().min(1), phone: z.string(), orderId: z.string() }),
  to: 'phone',
  text: 'Здравствуйте, {{name}}! Мы получили заказ №{{orderId}}',
});
// No schema: the body reaches the templates as it came, prototype-pollution keys and all.
const callback = defineRule({ id: 'callback', to: 'phone', text: 'Перезвоним вам, {{name}}' });
/** A clinic's reminder: a day before the visit, never later than an hour before it. */
const reminder = defineRule({
  id: 'reminder',
  input: z.object({ name: z.string().min(1), phone: z.string(), visitAt: z.coerce.date() }),
  to: 'phone',
  text: '{{name}}, напоминаем о приёме {{visitAt|datetime}}',
  sendAt: (visit) => visit.visitAt.getTime() - 24 * 3600_000,
  notAfter: (visit) => visit.visitAt.getTime() - 3600_000,
});
const quiet = defineRule({
  id: 'quiet',
  input: z.object({ phone: z.string() }),
  to: 'phone',
  text: 'never',
  when: () => false,
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export interface Setup {
  router?: HandlerOptions;
  notifyOptions?: NotifyHandlerOptions;
  emulator?: EmulatorOptions;
  /** Off unless a test is about them: most tests send more than a public form's limits allow. */
  inboundLimits?: HandlerOptions['inboundLimits'];
  /** Options of the notifier beyond its client and rules (`maxQueued`, the line breaker…). */
  notifier?: Omit<NotifierOptions, 'client' | 'rules'> & NotifierInternalOptions;
  /** The client's limits, over the loose defaults (e.g. a slow `sendText` so jobs stay queued). */
  clientLimits?: LimitsOption;
}

/** The emulator, a real client and notifier on it, and the app on 127.0.0.1. */
export async function setup(options: Setup = {}) {
  const loose = { points: 1000, durationMs: 1000 };
  const emu = await startEmulator({
    tokens: [TOKEN],
    limits: { sendText: loose, sendFile: loose },
    ...options.emulator,
  });
  const client = new OlchatClient({
    token: TOKEN,
    baseUrl: emu.baseUrl,
    // A test that slows the client to one message a minute needs its first message to go at once:
    // its emulator is new, so no earlier process used the window.
    limiterStore: new MemoryLimiterStore({ assumeRecentUse: options.clientLimits === undefined }),
    retry: { minDelayMs: 10, maxDelayMs: 50 },
    limits: { sendText: loose, sendFile: loose, ...options.clientLimits },
  });
  const notifier = createNotifier({ ...options.notifier, client, rules: [order, callback, reminder, quiet] });
  const inboundLimits = options.inboundLimits ?? false;
  const { buildApp } = adapter === 'express' ? await import('./apps/express.js') : await import('./apps/koa.js');
  const listener: RequestListener = buildApp({
    notifier,
    router: { inboundLimits, ...options.router },
    notifyOptions: { inboundLimits, ...options.notifyOptions },
  });
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(
    () => emu.close(),
    () => client.close(),
    () => notifier.close({ timeoutMs: 1000 }),
    () => new Promise((resolve) => server.close(resolve)),
    async () => server.closeAllConnections(),
  );
  return { emu, client, notifier, url, http: request(url) };
}

/** Nothing reached the queue: no job in any state. */
export function nothingQueued(notifier: Notifier): boolean {
  const stats = notifier.stats();
  return stats.queued + stats.sending + stats.sent + stats.failed === 0;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A request with exactly these bytes and headers (supertest would re-encode a Buffer body). */
export function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: Uint8Array; chunked?: boolean },
): Promise<RawAnswer> {
  // Framing stated outright: Node would send a GET's body unframed, which the server reads as a second request.
  const framing: Record<string, string> = options.body
    ? options.chunked
      ? { 'transfer-encoding': 'chunked' }
      : { 'content-length': String(options.body.length) }
    : {};
  const headers = { ...options.headers, ...framing };
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(options.path, url), { method: options.method ?? 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.chunked && options.body) {
      req.write(options.body);
      req.end();
    } else req.end(options.body);
  });
}
