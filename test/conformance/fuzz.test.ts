import { describe, expect, it, vi } from 'vitest';
import { API_KEY, adapter, expectedMajor, nothingQueued, rawRequest, setup, TOKEN } from './harness.js';

const RUNS = 600;
const MAX_BODY = 4096;

/** mulberry32: a small seeded generator, so a failing case can be replayed. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}

const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'name',
  'phone',
  'orderId',
  'text',
  'file',
  'url',
  'website',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '',
  'ä',
  '0',
];
// Never a valid Russian or Kazakh number: at most 8 digits, or not digits at all.
const PHONES = [
  '',
  '12345',
  '+1 202 555',
  '7999',
  '8 (800)',
  'abc',
  '+7',
  '7'.repeat(30),
  '٧٩١٢٣٤٥٦٧٨٩',
  '+7 912 345 67 8x',
];
const TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=UTF-16',
  'application/vnd.api+json',
  'APPLICATION/JSON',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=iso-8859-1',
  'text/plain',
  'text/html',
  'multipart/form-data; boundary=--x',
  'application/octet-stream',
  'garbage',
  ';;;',
  '',
];

type Random = ReturnType<typeof generator>;

function randomString(r: Random, max = 12): string {
  const alphabet = 'abcXYZ019 %&=+[]{}"\\\'<>#\u0000\u00e4\u044f\ud83d\ude00\ud800';
  let out = '';
  for (let i = r.int(max); i > 0; i--) out += r.pick([...alphabet]);
  return out;
}

/** Percent-encoding as a browser does; a lone surrogate becomes the bytes a careless encoder would write. */
function percentEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

function randomValue(r: Random, depth: number): unknown {
  const kind = depth > 3 ? r.int(5) : r.int(8);
  switch (kind) {
    case 0:
      return randomString(r);
    case 1:
      return r.pick([0, -0, 1e308, -1, 3.14, 2 ** 53 + 1, r.int(1e6)]);
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return r.pick(PHONES);
    case 4:
      return randomString(r, 4);
    case 5:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = r.int(6); i > 0; i--)
        Object.defineProperty(out, r.pick(KEYS), {
          value: randomValue(r, depth + 1),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      return out;
    }
  }
}

function randomBody(r: Random): Uint8Array {
  switch (r.int(9)) {
    case 0: // random bytes, invalid UTF-8 included
      return Uint8Array.from({ length: r.int(300) }, () => r.int(256));
    case 1: // deep nesting
      return Buffer.from(`${'['.repeat(r.int(3000))}${r.next() < 0.5 ? ']'.repeat(r.int(3000)) : ''}`);
    case 2: // urlencoded pairs with stray escapes
      return Buffer.from(
        Array.from(
          { length: r.int(8) },
          () =>
            `${r.pick(KEYS)}${r.pick(['', '[a]', '[__proto__]'])}=${r.pick([percentEncode(randomString(r)), '%', '%zz', '%FF%FE', '%C3', r.pick(PHONES)])}`,
        ).join('&'),
      );
    case 3: // JSON with invalid UTF-8 inside a string
      return Buffer.concat([
        Buffer.from('{"name":"'),
        Uint8Array.from([0xc3, 0x28, 0xa0, 0xa1, 0xf0, 0x28]),
        Buffer.from('","phone":"1"}'),
      ]);
    case 4: // around the size limit
      return Buffer.from(JSON.stringify({ name: 'x'.repeat(MAX_BODY - 20 + r.int(60)), phone: '1' }));
    case 5: // truncated JSON
      return Buffer.from(JSON.stringify(randomValue(r, 0)).slice(0, r.int(40)));
    case 6: // a nearly valid form
      return Buffer.from(
        JSON.stringify({
          name: randomString(r),
          phone: r.pick(PHONES),
          orderId: randomValue(r, 3),
          website: r.pick(['', 'x']),
        }),
      );
    default:
      return Buffer.from(JSON.stringify(randomValue(r, 0)) ?? '');
  }
}

const TRIGGER_SECRET = 'fuzz-trigger-secret-0123456789';

/** A query for the GET trigger: the right secret, a wrong one or none, and pairs like a hostile form's. */
function randomQuery(r: Random): string {
  const secret = r.pick([
    `secret=${TRIGGER_SECRET}`,
    `secret=${TRIGGER_SECRET}x`,
    'secret=',
    '',
    `secret=${TRIGGER_SECRET}&secret=x`,
  ]);
  const pairs = Array.from(
    { length: r.int(6) },
    () =>
      `${r.pick(KEYS)}${r.pick(['', '[a]', '[__proto__]'])}=${r.pick([percentEncode(randomString(r)), '%', '%zz', '%FF%FE', r.pick(PHONES)])}`,
  );
  return [secret, ...pairs].filter((pair) => pair !== '').join('&');
}

const ROUTES = [
  { method: 'POST', path: '/olchat/forms/order' },
  { method: 'POST', path: '/olchat/forms/callback' },
  { method: 'GET', path: '/olchat/forms/order' },
  { method: 'GET', path: '/olchat/forms/callback' },
  { method: 'POST', path: '/olchat/forms/quiet' },
  { method: 'POST', path: '/olchat/forms/%E0%A4%A' },
  { method: 'POST', path: '/olchat/forms/__proto__' },
  { method: 'POST', path: '/olchat/forms/constructor' },
  { method: 'POST', path: '/olchat/messages' },
  { method: 'GET', path: '/olchat/messages/__proto__' },
  { method: 'PUT', path: '/olchat/forms/order' },
  { method: 'DELETE', path: '/olchat/messages' },
  { method: 'OPTIONS', path: '/olchat/forms/order' },
  { method: 'GET', path: '/olchat/health' },
  { method: 'HEAD', path: '/olchat/messages/x' },
  { method: 'POST', path: '/order' },
  { method: 'POST', path: '/callback' },
  { method: 'POST', path: '/order-from' },
] as const;

// The cancel and retry routes, fuzzed by a generator of their own so the main run's sequence (and
// the answers it is known to reach) stays as it was.
const JOB_ROUTES = [
  { method: 'DELETE', path: '/olchat/messages/x' },
  { method: 'DELETE', path: '/olchat/messages/__proto__' },
  { method: 'POST', path: '/olchat/messages/x/retry' },
  { method: 'POST', path: '/olchat/messages/constructor/retry' },
  { method: 'PATCH', path: '/olchat/messages/x/retry' },
] as const;
const JOB_ROUTE_RUNS = 150;

describe(`bounded fuzz on ${adapter} ${expectedMajor}`, () => {
  it(`${RUNS + JOB_ROUTE_RUNS} random bodies, types and headers: no 5xx, nothing sent, no token, every error { error, message }`, async () => {
    const { url, emu, notifier } = await setup({
      router: {
        apiKey: API_KEY,
        honeypot: 'website',
        cors: true,
        redirect: '/thanks',
        maxBodyBytes: MAX_BODY,
        queryTrigger: { secret: TRIGGER_SECRET },
      },
      notifyOptions: { honeypot: 'website', maxBodyBytes: MAX_BODY },
      inboundLimits: { perIp: false },
    });
    const statuses = new Map<number, number>();
    /** One random request to `route`, and every check an answer must pass. */
    async function probe(r: ReturnType<typeof generator>, route: { method: string; path: string }, run: number) {
      const body = randomBody(r);
      const headers: Record<string, string> = {};
      const type = r.pick(TYPES);
      if (type !== '') headers['content-type'] = type;
      if (r.next() < 0.3)
        headers.authorization = r.pick([`Bearer ${API_KEY}`, 'Bearer x', API_KEY, `bearer  ${API_KEY} `]);
      if (r.next() < 0.2)
        headers.accept = r.pick(['text/html', 'application/json', '*/*', 'text/html;q=0.1, application/json']);
      if (r.next() < 0.2) headers['x-forwarded-for'] = r.pick(['1.2.3.4', 'garbage, ::1', '', '999.1.1.1']);
      if (r.next() < 0.2) headers.origin = r.pick(['https://a.example', 'null', '']);
      const chunked = r.next() < 0.3;
      const isTrigger = route.method === 'GET' && route.path.startsWith('/olchat/forms/');
      const path = isTrigger ? `${route.path}?${randomQuery(r)}` : route.path;
      const answer = await rawRequest(url, { method: route.method, path, headers, body, chunked });
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const where = `run ${run}: ${route.method} ${path} ${type} → ${answer.status}`;
      expect(answer.status, where).toBeGreaterThanOrEqual(200);
      expect(answer.status, where).toBeLessThan(500);
      expect(answer.text, where).not.toContain(TOKEN);
      expect(answer.text, where).not.toContain(TRIGGER_SECRET);
      expect(JSON.stringify(answer.headers), where).not.toContain(TOKEN);
      if (answer.status >= 400 && route.method !== 'HEAD') {
        const error = (() => {
          try {
            return JSON.parse(answer.text);
          } catch {
            throw new Error(`${where}: not JSON: ${JSON.stringify(answer.text)} ${JSON.stringify(answer.headers)}`);
          }
        })();
        expect(typeof error.error, where).toBe('string');
        expect(typeof error.message, where).toBe('string');
        expect(answer.text, where).not.toMatch(/\n\s+at /);
      }
    }
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const r = generator(0x5eed0000 + expectedMajor);
    try {
      for (let run = 0; run < RUNS; run++) await probe(r, r.pick(ROUTES), run);
      const jobs = generator(0x10b50000 + expectedMajor);
      for (let run = 0; run < JOB_ROUTE_RUNS; run++) await probe(jobs, jobs.pick(JOB_ROUTES), RUNS + run);
      // Anything queued would have gone out by now; nothing may have.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(emu.messages).toEqual([]);
      expect(nothingQueued(notifier)).toBe(true);
      expect(logged).not.toHaveBeenCalled();
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
      // The generator reached the interesting answers, not just one kind.
      for (const status of [202, 400, 401, 404, 405, 413, 415])
        expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
    } finally {
      logged.mockRestore();
    }
  });
});
