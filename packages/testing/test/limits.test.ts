import { describe, expect, it } from 'vitest';
import { sleep } from '../../../test/helpers/waiting.js';
import { DEFAULT_LIMITS } from '../src/index.js';
import { SlidingWindow } from '../src/sliding-window.js';
import { call, fakeClock, PHONE, sendTextParams, start } from './helpers.js';

describe('SlidingWindow', () => {
  it('is strict: N in any interval of length T, every arrival counted', () => {
    const w = new SlidingWindow({ points: 2, durationMs: 100 });
    expect(w.hit(0).violation).toBe(false);
    expect(w.hit(50).violation).toBe(false);
    const third = w.hit(99);
    expect(third).toMatchObject({ violation: true, inWindow: 2 });
    expect(third.retryAfterMs).toBe(50 + 100 - 99); // the stamp at 50 must leave first (the one at 0 is pushed out)
    // The rejected arrival at 99 counts too.
    expect(w.hit(150).violation).toBe(false); // in the window: 99 (50 has just left)
    expect(w.hit(151).violation).toBe(true); // in the window: 99 and 150
    expect(w.hit(250).violation).toBe(false); // in the window: 151 (150 has just left)
  });

  it('admits exactly at now - t === durationMs', () => {
    const w = new SlidingWindow({ points: 1, durationMs: 1000 });
    w.hit(0);
    expect(w.hit(999).violation).toBe(true);
    expect(w.hit(1998).violation).toBe(true);
    expect(w.hit(2998).violation).toBe(false);
  });
});

describe('sliding-window limits over HTTP', () => {
  it('has the vendor defaults', () => {
    expect(DEFAULT_LIMITS.sendText).toEqual({ points: 5, durationMs: 3000 });
    expect(DEFAULT_LIMITS.checkPhone).toEqual({ points: 3, durationMs: 1000 });
  });

  it('sendText: 5 at once pass, the 6th is a 429 violation, after 3 s it admits again', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now });
    for (let i = 0; i < 5; i++) expect((await call(emu, 'sendText', sendTextParams(`m${i}`))).status).toBe(200);
    const sixth = await call(emu, 'sendText', sendTextParams('m5'));
    expect(sixth.status).toBe(429);
    expect(sixth.body).toEqual({ result: false, error: 'Too many requests' });
    expect(sixth.headers.get('retry-after')).toBe('3');
    expect(sixth.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(emu.messages).toHaveLength(5);
    expect(emu.violations).toEqual([
      { method: 'sendText', tokenIndex: 0, at: expect.any(Number), inWindow: 5, points: 5, durationMs: 3000 },
    ]);
    expect(emu.requests.map((r) => [r.status, r.violation])).toEqual([
      ...Array.from({ length: 5 }, () => [200, false]),
      [429, true],
    ]);
    clock.advance(2999);
    expect((await call(emu, 'sendText', sendTextParams())).status).toBe(429);
    clock.advance(1);
    expect((await call(emu, 'sendText', sendTextParams())).status).toBe(200);
    expect(emu.violations).toHaveLength(2);
  });

  it('is a sliding window, not a fixed one: no 2N across a window edge', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now });
    clock.set(2900);
    for (let i = 0; i < 5; i++) expect((await call(emu, 'sendText', sendTextParams())).status).toBe(200);
    clock.set(3100); // a fixed 3 s window would have started afresh at 3000
    expect((await call(emu, 'sendText', sendTextParams())).status).toBe(429);
    clock.set(5899);
    expect((await call(emu, 'sendText', sendTextParams())).status).toBe(429);
    clock.set(5900);
    const res = await call(emu, 'sendText', sendTextParams());
    // The arrivals at 2900 have left; the 429s at 3100 and 5899 still count: 2 in the window.
    expect(res.status).toBe(200);
  });

  it('counts 400s and injected faults in the window', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now, limits: { sendText: { points: 2, durationMs: 1000 } } });
    expect((await call(emu, 'sendText', { phone_number: 'bad' })).status).toBe(400);
    emu.fail('500');
    expect((await call(emu, 'sendText', sendTextParams())).status).toBe(500);
    expect((await call(emu, 'sendText', sendTextParams())).status).toBe(429);
    expect(emu.messages).toHaveLength(0);
  });

  it('checkPhone: 3 per 1 s', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now });
    for (let i = 0; i < 3; i++) expect((await call(emu, 'checkPhone', { phone_number: PHONE })).status).toBe(200);
    const fourth = await call(emu, 'checkPhone', { phone_number: PHONE });
    expect(fourth.status).toBe(429);
    expect(fourth.headers.get('retry-after')).toBe('1');
    expect(emu.violations).toMatchObject([{ method: 'checkPhone', inWindow: 3, points: 3, durationMs: 1000 }]);
    clock.advance(1000);
    expect((await call(emu, 'checkPhone', { phone_number: PHONE })).status).toBe(200);
  });

  it('keeps one window per token and per method', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now, tokens: ['t1', 't2'] });
    for (let i = 0; i < 5; i++) expect((await call(emu, 'sendText', sendTextParams())).status).toBe(200);
    expect((await call(emu, 'sendText', sendTextParams())).status).toBe(429);
    // Same token, other methods: their own windows.
    for (let i = 0; i < 5; i++) {
      expect((await call(emu, 'sendFile', { ...sendTextParams(), body: 'https://x.test/f.png' })).status).toBe(200);
      expect((await call(emu, 'checkStatus')).status).toBe(200);
    }
    for (let i = 0; i < 3; i++) expect((await call(emu, 'checkPhone', { phone_number: PHONE })).status).toBe(200);
    // Other token, same method: its own window.
    for (let i = 0; i < 5; i++) {
      expect((await call(emu, 'sendText', sendTextParams(), { token: 't2' })).status).toBe(200);
    }
    expect((await call(emu, 'sendText', sendTextParams(), { token: 't2' })).status).toBe(429);
    expect(emu.violations.map((v) => [v.tokenIndex, v.method])).toEqual([
      [0, 'sendText'],
      [1, 'sendText'],
    ]);
  });

  it('admits again once the window has passed, on the real clock', async () => {
    // Robust on a loaded machine: whatever the timing, the answers must agree with the arrivals,
    // and after waiting well past the window a request is always admitted.
    const emu = await start({ limits: { sendText: { points: 2, durationMs: 300 } } });
    const results = await Promise.all([0, 1, 2].map((i) => call(emu, 'sendText', sendTextParams(`m${i}`))));
    const statuses = results.map((r) => r.status).sort();
    const rejected = statuses.filter((s) => s === 429).length;
    expect(statuses.filter((s) => s === 200).length + rejected).toBe(3);
    expect(emu.violations).toHaveLength(rejected);
    expect(emu.messages).toHaveLength(3 - rejected);
    await sleep(700);
    expect((await call(emu, 'sendText', sendTextParams('later'))).status).toBe(200);
  });

  it('a long window rejects on the real clock regardless of machine speed', async () => {
    const emu = await start({ limits: { sendText: { points: 2, durationMs: 120_000 } } });
    expect((await call(emu, 'sendText', sendTextParams())).status).toBe(200);
    expect((await call(emu, 'sendText', sendTextParams())).status).toBe(200);
    const third = await call(emu, 'sendText', sendTextParams());
    expect(third.status).toBe(429);
    const retryAfter = Number(third.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(120);
    expect(emu.violations).toHaveLength(1);
  });
});
