import { describe, expect, it } from 'vitest';
import type { LatencyInfo } from '../src/index.js';
import { call, sendTextParams, start } from './helpers.js';

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

describe('latency', () => {
  // Lower bounds only: a loaded machine can only make things slower.
  it('delays answers by a fixed latency, counting arrival before the delay', async () => {
    const emu = await start({ latencyMs: 300 });
    const before = Date.now();
    const [res, elapsed] = await timed(() => call(emu, 'sendText', sendTextParams()));
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(280);
    // The arrival was stamped before the delay.
    expect(emu.requests[0]?.at).toBeGreaterThanOrEqual(before);
    expect((emu.requests[0]?.at ?? 0) - before).toBeLessThan(elapsed);
  });

  it('supports a [min, max] range', async () => {
    const emu = await start({ latencyMs: [200, 250] });
    const [res, elapsed] = await timed(() => call(emu, 'checkStatus'));
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(180);
  });

  it('supports a function of the request, also for errors', async () => {
    const seen: LatencyInfo[] = [];
    const emu = await start({
      latencyMs: (info) => {
        seen.push(info);
        return info.method === 'checkPhone' ? 250 : 0;
      },
    });
    const [fast] = await timed(() => call(emu, 'sendText', sendTextParams()));
    expect(fast.status).toBe(200);
    const [slow, elapsed] = await timed(() => call(emu, 'checkPhone', { phone_number: '79123456789' }));
    expect(slow.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(230);
    await call(emu, 'sendText', {}, { token: 'unknown' });
    expect(seen).toEqual([
      { method: 'sendText', httpMethod: 'GET', tokenIndex: 0, status: 200 },
      { method: 'checkPhone', httpMethod: 'GET', tokenIndex: 0, status: 200 },
      { method: 'sendText', httpMethod: 'GET', tokenIndex: -1, status: 401 },
    ]);
  });

  it('setLatency changes it later and removes it', async () => {
    const emu = await start();
    emu.setLatency(300);
    const [, slow] = await timed(() => call(emu, 'checkStatus'));
    expect(slow).toBeGreaterThanOrEqual(280);
    emu.setLatency(undefined);
    // No lower bound to check without latency; just make sure it still answers.
    expect((await call(emu, 'checkStatus')).status).toBe(200);
    expect(() => emu.setLatency(Number.NaN)).toThrow(RangeError);
  });
});
