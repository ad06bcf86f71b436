import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/helpers/waiting.js';
import { call, sendTextParams, start } from './helpers.js';

describe('fault injection', () => {
  it.each([
    ['429', 429],
    ['500', 500],
    ['502', 502],
    ['503', 503],
  ] as const)('%s: answers %i, records no message, then recovers', async (mode, status) => {
    const emu = await start();
    emu.fail(mode);
    const failed = await call(emu, 'sendText', sendTextParams('lost'));
    expect(failed.status).toBe(status);
    expect(failed.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(failed.body.result).toBe(false);
    expect(typeof failed.body.error).toBe('string');
    if (mode === '429') expect(failed.headers.get('retry-after')).toBe('1');
    expect(emu.messages).toHaveLength(0);
    expect(emu.requests[0]).toMatchObject({ status, fault: mode, violation: false });
    expect(emu.violations).toHaveLength(0);

    const ok = await call(emu, 'sendText', sendTextParams('kept'));
    expect(ok.status).toBe(200);
    expect(emu.messages.map((m) => m.text)).toEqual(['kept']);
  });

  it('consumes one failure per request, in order, on any method', async () => {
    const emu = await start();
    emu.fail('503', 2);
    emu.fail('500');
    const statuses: number[] = [];
    statuses.push((await call(emu, 'checkStatus')).status);
    statuses.push((await call(emu, 'sendText', sendTextParams())).status);
    statuses.push((await call(emu, 'checkPhone', { phone_number: '79123456789' })).status);
    statuses.push((await call(emu, 'checkStatus')).status);
    expect(statuses).toEqual([503, 503, 500, 200]);
  });

  it('does not spend failures on unknown tokens or methods', async () => {
    const emu = await start();
    emu.fail('500');
    expect((await call(emu, 'sendText', sendTextParams(), { token: 'wrong' })).status).toBe(401);
    expect((await call(emu, 'nope')).status).toBe(404);
    expect((await call(emu, 'checkStatus')).status).toBe(500);
  });

  it('timeout: processes the send but never answers', async () => {
    const emu = await start();
    emu.fail('timeout');
    const controller = new AbortController();
    const pending = call(emu, 'sendText', sendTextParams('accepted'), { signal: controller.signal });
    pending.catch(() => {});
    await emu.waitForMessages(1);
    expect(emu.messages[0]?.text).toBe('accepted');
    expect(emu.requests[0]).toMatchObject({ status: 0, fault: 'timeout' });
    controller.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    // The emulator serves the next request normally.
    expect((await call(emu, 'sendText', sendTextParams('next'))).status).toBe(200);
  });

  it('drop: processes the send then destroys the connection', async () => {
    const emu = await start();
    emu.fail('drop');
    await expect(call(emu, 'sendText', sendTextParams('dropped'))).rejects.toThrow();
    await waitFor(() => emu.messages.length === 1, 10_000, 'the message');
    expect(emu.messages.map((m) => m.text)).toEqual(['dropped']);
    expect(emu.requests).toHaveLength(1);
    expect(emu.requests[0]).toMatchObject({ status: 0, fault: 'drop' });
    expect((await call(emu, 'sendText', sendTextParams('next'))).status).toBe(200);
  });

  it('timeout and drop still validate: an invalid send is not recorded', async () => {
    const emu = await start();
    emu.fail('drop');
    await expect(call(emu, 'sendText', { phone_number: 'bad' })).rejects.toThrow();
    expect(emu.messages).toHaveLength(0);
  });

  it('a violation answers 429 and keeps the pending failure for the next request', async () => {
    const emu = await start({ limits: { checkStatus: { points: 1, durationMs: 120_000 } } });
    expect((await call(emu, 'checkStatus')).status).toBe(200);
    emu.fail('500');
    const violation = await call(emu, 'checkStatus');
    expect(violation.status).toBe(429);
    expect(violation.body).toEqual({ result: false, error: 'Too many requests' });
    expect(emu.violations).toHaveLength(1);
    expect((await call(emu, 'sendText', sendTextParams())).status).toBe(500);
  });

  it('refuses unknown modes and bad counts', async () => {
    const emu = await start();
    expect(() => emu.fail('404' as never)).toThrow(TypeError);
    expect(() => emu.fail('500', -1)).toThrow(RangeError);
    expect(() => emu.fail('500', 1.5)).toThrow(RangeError);
    emu.fail('500', 0);
    expect((await call(emu, 'checkStatus')).status).toBe(200);
  });
});
