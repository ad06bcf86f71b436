import { describe, expect, it } from 'vitest';
import { call, PHONE, sendTextParams, start } from './helpers.js';

describe('tokens, methods and paths', () => {
  it('answers 401 to an unknown token without echoing it or recording anything', async () => {
    const emu = await start({ tokens: ['good-token'] });
    const secret = 'S3cr3t-Unknown-Token';
    const res = await call(emu, 'sendText', sendTextParams(), { token: secret });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ result: false, error: 'Invalid webhook token' });
    expect(res.text).not.toContain(secret);
    expect(emu.messages).toHaveLength(0);
    expect(emu.requests).toHaveLength(0);
  });

  it('accepts every configured token and never stores or echoes one', async () => {
    const tokens = ['token-aaaa-1111', 'token-bbbb-2222'];
    const emu = await start({ tokens });
    expect(emu.token).toBe(tokens[0]);
    expect(emu.tokens).toEqual(tokens);
    const a = await call(emu, 'sendText', sendTextParams('a'), { token: tokens[0] });
    const b = await call(emu, 'sendText', sendTextParams('b'), { token: tokens[1] });
    const bad = await call(emu, 'sendText', { phone_number: 'x' }, { token: tokens[1] });
    const unknown = await call(emu, 'nope', {}, { token: tokens[1] });
    expect([a.status, b.status, bad.status, unknown.status]).toEqual([200, 200, 400, 404]);
    for (const res of [a, b, bad, unknown]) {
      for (const token of tokens) expect(res.text).not.toContain(token);
    }
    expect(emu.messages.map((m) => m.tokenIndex)).toEqual([0, 1]);
    expect(emu.requests.map((r) => r.tokenIndex)).toEqual([0, 1, 1]);
    const stored = JSON.stringify([emu.messages, emu.requests, emu.violations]);
    for (const token of tokens) expect(stored).not.toContain(token);
  });

  it('answers 404 to an unknown method with a known token', async () => {
    const emu = await start();
    for (const method of ['sendMessage', 'sendtext', 'sendText/extra', '__proto__', 'constructor']) {
      const res = await call(emu, method, { phone_number: PHONE });
      expect(res.status, method).toBe(404);
      expect(res.body).toEqual({ result: false, error: 'Unknown method' });
    }
    expect(emu.requests).toHaveLength(0);
  });

  it('accepts a trailing slash and a percent-encoded token', async () => {
    const emu = await start({ tokens: ['tok en+ü'] });
    const qs = new URLSearchParams(sendTextParams()).toString();
    const res = await fetch(`${emu.baseUrl}/${encodeURIComponent('tok en+ü')}/sendText/?${qs}`);
    expect(res.status).toBe(200);
    const malformed = await fetch(`${emu.baseUrl}/%E0%A4%A/sendText`);
    expect(malformed.status).toBe(401);
  });

  it('answers 404 JSON to unknown paths', async () => {
    const emu = await start();
    for (const path of ['/nope', '/rest/webhook', '/favicon.ico', '//evil.example/x']) {
      const res = await fetch(`${emu.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await res.json()).toEqual({ error: 'Not found' });
    }
  });

  it('exposes baseUrl and url', async () => {
    const emu = await start();
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.baseUrl).toBe(`${emu.url}/rest/webhook/wa`);
  });

  it('refuses bad options', async () => {
    await expect(start({ tokens: [] })).rejects.toThrow(/tokens/);
    await expect(start({ tokens: ['a/b'] })).rejects.toThrow(/token/);
    await expect(start({ limits: { sendText: { points: 0, durationMs: 1000 } } })).rejects.toThrow(/points/);
    await expect(start({ limits: { checkPhone: { points: 1, durationMs: -1 } } })).rejects.toThrow(/durationMs/);
    await expect(start({ latencyMs: -5 })).rejects.toThrow(/latencyMs/);
    await expect(start({ latencyMs: [10, 5] })).rejects.toThrow(/latencyMs/);
  });
});
