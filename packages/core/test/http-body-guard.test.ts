import { describe, expect, it, vi } from 'vitest';
import { readBody } from '../src/http/body.js';
import { checkFormKey, checkJsonDepth, checkJsonKeys, checkParsed, MAX_BODY_DEPTH } from '../src/http/body-guard.js';
import { InboundError } from '../src/http/errors.js';
import { inboundCheck } from '../src/http/inbound-limits.js';

function refusal(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof InboundError) return error.code;
    throw error;
  }
  return undefined;
}

const nested = (levels: number, inner = '') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;

describe('nesting depth', () => {
  it(`refuses JSON text deeper than ${MAX_BODY_DEPTH} levels without parsing it; ${MAX_BODY_DEPTH} pass`, () => {
    expect(refusal(() => checkJsonDepth(nested(MAX_BODY_DEPTH)))).toBeUndefined();
    expect(refusal(() => checkJsonDepth(`{"a":${nested(MAX_BODY_DEPTH - 1)}}`))).toBeUndefined();
    expect(refusal(() => checkJsonDepth(nested(MAX_BODY_DEPTH + 1)))).toBe('malformed_body');
    expect(refusal(() => checkJsonDepth(`{"a":${nested(MAX_BODY_DEPTH)}}`))).toBe('malformed_body');
    // Opened and never closed is just as deep.
    expect(refusal(() => checkJsonDepth('['.repeat(1_000_000)))).toBe('malformed_body');
  });

  it('counts no bracket inside a string, escaped quotes and backslashes included', () => {
    const brackets = '[{'.repeat(100);
    expect(refusal(() => checkJsonDepth(`{"a":"${brackets}"}`))).toBeUndefined();
    expect(refusal(() => checkJsonDepth(`{"a":"\\"${brackets}\\""}`))).toBeUndefined();
    expect(refusal(() => checkJsonDepth(`{"a\\\\":"${brackets}"}`))).toBeUndefined();
    // After a string that ends in an escaped backslash, brackets count again.
    expect(refusal(() => checkJsonDepth(`["\\\\",${nested(MAX_BODY_DEPTH)}]`))).toBe('malformed_body');
  });

  it('walks an already parsed body with its own stack: 100 000 levels are refused, not a stack overflow', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = i % 2 === 0 ? [deep] : { a: deep };
    expect(refusal(() => checkParsed(deep))).toBe('malformed_body');
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.self = cyclic;
    expect(refusal(() => checkParsed(cyclic))).toBe('malformed_body');
    expect(refusal(() => checkParsed({ a: [{ b: 'c' }], d: new Date(), e: Buffer.from('x') }))).toBeUndefined();
  });
});

describe('prototype keys', () => {
  it.each([
    '{"__proto__":{"x":1}}',
    '{"a":[{"b":{"__proto__":1}}]}',
    '{"\\u005f\\u005fproto\\u005f\\u005f":1}',
    '{"__pr\\u006Fto__":1}',
    '{"constructor":{"prototype":{"x":1}}}',
    '{"\\u0063onstructor":{"prot\\u006ftype":1}}',
  ])('refuses JSON %s, escaped or not, at any depth', (text) => {
    expect(refusal(() => checkJsonKeys(JSON.parse(text), text))).toBe('malformed_body');
  });

  it.each(['{"constructor":"x","prototype":{"a":1}}', '{"name":"__proto__ constructor"}', '{"name":"\\u00e9"}'])(
    'lets %s through',
    (text) => {
      expect(refusal(() => checkJsonKeys(JSON.parse(text), text))).toBeUndefined();
    },
  );

  it('walks an ordinary body only when its text could spell such a key', () => {
    const walked = vi.spyOn(Object, 'values');
    try {
      const text = JSON.stringify({ name: 'Анна', phone: '+79123456789', items: [{ sku: 'a', qty: 1 }] });
      checkJsonKeys(JSON.parse(text), text);
      expect(walked).not.toHaveBeenCalled();
      const hinted = '{"name":"constructor"}';
      checkJsonKeys(JSON.parse(hinted), hinted);
      expect(walked).toHaveBeenCalled();
    } finally {
      walked.mockRestore();
    }
  });

  it.each([
    '__proto__',
    'constructor',
    'prototype',
    'a[__proto__][b]',
    'constructor[prototype][x]',
    'a.constructor.prototype',
  ])('refuses the form key %s', (key) => {
    expect(refusal(() => checkFormKey(key))).toBe('malformed_body');
  });

  it.each(['name', 'prototyped', 'my_constructor_id', 'proto'])('lets the form key %s through', (key) => {
    expect(refusal(() => checkFormKey(key))).toBeUndefined();
  });

  it('readBody applies both checks to what it parses and to what the app parsed', async () => {
    const request = (body: string) => ({
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      body: (async function* () {
        yield body;
      })(),
    });
    const refused = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: InboundError) => error.code,
      );
    expect(await refused(readBody(request('{"\\u005f_proto__":{}}'), 1024))).toBe('malformed_body');
    expect(await refused(readBody(request(nested(33)), 1024))).toBe('malformed_body');
    const parsed = JSON.parse('{"__proto__":{"polluted":1}}');
    expect(await refused(readBody({ method: 'POST', path: '/', headers: {}, body: { parsed } }, 1024))).toBe(
      'malformed_body',
    );
    expect(await readBody(request('{"a":[1]}'), 1024)).toEqual({ a: [1] });
  });
});

describe('inbound limit points given back', () => {
  it('a point given back can be taken again, in the same window only', async () => {
    vi.useFakeTimers();
    try {
      const check = inboundCheck({}, 'ip', { points: 1, durationMs: 1000 });
      await check.take('k');
      await check.giveBack('k');
      await check.take('k');
      await expect(check.take('k')).rejects.toMatchObject({ code: 'too_many_requests' });
      // The window ends between taking and giving back: nothing is owed, the next window is not in credit.
      vi.advanceTimersByTime(1001);
      await check.giveBack('k');
      await check.take('k');
      await expect(check.take('k')).rejects.toMatchObject({ code: 'too_many_requests' });
    } finally {
      vi.useRealTimers();
    }
  });
});
