import { describe, expect, it } from 'vitest';
import { startEmulator } from '../src/index.js';
import { call, fakeClock, sendTextParams, start } from './helpers.js';

describe('reset, waitForMessages and close', () => {
  it('reset clears messages, requests, violations, failures and windows', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now, limits: { sendText: { points: 1, durationMs: 1000 } } });
    const messages = emu.messages;
    await call(emu, 'sendText', sendTextParams());
    expect((await call(emu, 'sendText', sendTextParams())).status).toBe(429);
    emu.fail('500', 5);
    expect(emu.messages).toHaveLength(1);
    expect(emu.requests).toHaveLength(2);
    expect(emu.violations).toHaveLength(1);
    emu.reset();
    expect(emu.messages).toHaveLength(0);
    expect(emu.requests).toHaveLength(0);
    expect(emu.violations).toHaveLength(0);
    expect(emu.messages).toBe(messages); // the same live array
    // No pending failure and a fresh window: the next send passes at the same instant.
    const res = await call(emu, 'sendText', sendTextParams('after reset'));
    expect(res.status).toBe(200);
    const id = String(res.body.message_id);
    emu.reset();
    // Known message ids are forgotten too.
    const status = await call(emu, 'checkMessageStatus', { phone_number: '79123456789', message_id: id });
    expect(status.body).toEqual({ result: false, error: 'Message not found' });
  });

  it('waitForMessages resolves once enough messages arrived, and times out otherwise', async () => {
    const emu = await start();
    const waiting = emu.waitForMessages(2);
    await call(emu, 'sendText', sendTextParams('a'));
    await call(emu, 'sendText', sendTextParams('b'));
    expect((await waiting).map((m) => m.text)).toEqual(['a', 'b']);
    await expect(emu.waitForMessages(3, 50)).rejects.toThrow(/2 of 3/);
  });

  it('keeps at most maxRecords records', async () => {
    const emu = await start({ maxRecords: 2, limits: { sendText: { points: 100, durationMs: 1000 } } });
    for (const text of ['a', 'b', 'c']) await call(emu, 'sendText', sendTextParams(text));
    expect(emu.messages.map((m) => m.text)).toEqual(['b', 'c']);
    expect(emu.requests).toHaveLength(2);
  });

  it('close() resolves promptly with a hanging request and ends it', async () => {
    const emu = await startEmulator({ port: 0 });
    emu.fail('timeout');
    const hanging = call(emu, 'sendText', sendTextParams('hang'));
    hanging.catch(() => {});
    await emu.waitForMessages(1);
    const waiter = emu.waitForMessages(5).then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    const started = performance.now();
    await emu.close();
    // Generous bound: without destroying sockets close() would never resolve.
    expect(performance.now() - started).toBeLessThan(5000);
    await expect(hanging).rejects.toThrow();
    expect(await waiter).toMatch(/closed/);
    await expect(fetch(`${emu.url}/`)).rejects.toThrow();
    await emu.close(); // idempotent
  });

  it('close() cancels answers still waiting for their latency', async () => {
    const emu = await startEmulator({ port: 0, latencyMs: 60_000 });
    const pending = call(emu, 'checkStatus');
    pending.catch(() => {});
    const started = performance.now();
    // Wait until the request has arrived, then close.
    while (emu.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    await emu.close();
    expect(performance.now() - started).toBeLessThan(10_000);
    await expect(pending).rejects.toThrow();
  });
});
