import { connect, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';
import { call, fakeClock, PHONE, sendTextParams, start } from './helpers.js';

/** Opens a fresh TCP connection to the emulator: the error code, or 'connected'. */
function tryConnect(emu: Emulator): Promise<string> {
  const { hostname, port } = new URL(emu.url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('outages: suspend and resume', () => {
  it('suspend refuses connections; resume serves the same baseUrl with messages, windows and settings kept', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now, limits: { sendText: { points: 3, durationMs: 60_000 } } });
    const baseUrl = emu.baseUrl;
    const first = await call(emu, 'sendText', sendTextParams('before 1'));
    await call(emu, 'sendText', sendTextParams('before 2'));
    const id = String(first.body.message_id);
    emu.setDelivery(id, 'read');
    emu.setConnected(false);

    await emu.suspend();
    expect(await tryConnect(emu)).toBe('ECONNREFUSED');
    const refused = await fetch(`${baseUrl}/${emu.token}/checkStatus`, { headers: { connection: 'close' } }).catch(
      (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
    );
    expect(refused).toBe('ECONNREFUSED');

    await emu.resume();
    expect(emu.baseUrl).toBe(baseUrl);
    expect(await tryConnect(emu)).toBe('connected');
    expect(emu.messages.map((m) => m.text)).toEqual(['before 1', 'before 2']);
    expect(emu.requests).toHaveLength(2);
    const status = await call(emu, 'checkMessageStatus', { phone_number: PHONE, message_id: id });
    expect(status.body).toEqual({ result: true, status: 'read' });
    expect((await call(emu, 'checkStatus')).body).toEqual({ result: true, status: 'disconnected', connected: false });
    // The window kept its two arrivals: one more fits, the next is over the limit.
    expect((await call(emu, 'sendText', sendTextParams('after'))).status).toBe(200);
    expect((await call(emu, 'sendText', sendTextParams('over'))).status).toBe(429);
    expect(emu.violations).toHaveLength(1);
  });

  it('suspend destroys open sockets: a request in flight ends without an answer, its message kept', async () => {
    const emu = await start();
    emu.fail('timeout');
    const hanging = call(emu, 'sendText', sendTextParams('in flight'));
    hanging.catch(() => {});
    await emu.waitForMessages(1);
    const started = performance.now();
    await emu.suspend();
    expect(performance.now() - started).toBeLessThan(5000); // generous: a kept socket would hang forever
    await expect(hanging).rejects.toThrow();
    await emu.resume();
    expect(emu.messages.map((m) => m.text)).toEqual(['in flight']);
    expect((await call(emu, 'sendText', sendTextParams('next'))).status).toBe(200);
  });

  it('drops answers still waiting for their latency', async () => {
    const emu = await start({ latencyMs: 60_000 });
    const pending = call(emu, 'checkStatus');
    pending.catch(() => {});
    while (emu.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    await emu.suspend();
    await expect(pending).rejects.toThrow();
    expect(emu.requests[0]?.status).toBe(0);
  });

  it('suspend and resume are idempotent, run in call order, and close() works in any state', async () => {
    const emu = await startEmulator({ port: 0 });
    await emu.resume(); // not suspended: nothing to do
    expect(await tryConnect(emu)).toBe('connected');
    await Promise.all([emu.suspend(), emu.suspend()]);
    expect(await tryConnect(emu)).toBe('ECONNREFUSED');
    // Queued in order: the emulator ends up suspended, then listening.
    await Promise.all([emu.resume(), emu.suspend(), emu.resume()]);
    expect(await tryConnect(emu)).toBe('connected');
    await emu.suspend();
    await emu.close(); // closing a suspended emulator resolves
    await expect(emu.resume()).rejects.toThrow(/closed/);
    await emu.suspend(); // nothing to do once closed
    expect(await tryConnect(emu)).toBe('ECONNREFUSED');
  });

  it('resume rejects when another server took the port meanwhile, and can be retried', async () => {
    const emu = await start();
    await emu.suspend();
    const squatter = createServer();
    const { hostname, port } = new URL(emu.url);
    await new Promise<void>((resolve) => squatter.listen(Number(port), hostname, resolve));
    await expect(emu.resume()).rejects.toThrow(/EADDRINUSE/);
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
    await emu.resume();
    expect((await call(emu, 'checkStatus')).status).toBe(200);
  });
});

describe('endless faults', () => {
  it('fail(mode, Infinity) answers mode on every request until clearFaults()', async () => {
    const emu = await start({ limits: { checkStatus: { points: 100, durationMs: 1000 } } });
    emu.fail('503', Number.POSITIVE_INFINITY);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await call(emu, 'checkStatus')).status);
    expect(statuses).toEqual(new Array(12).fill(503));
    expect((await call(emu, 'sendText', sendTextParams('lost'))).status).toBe(503);
    expect(emu.messages).toHaveLength(0);
    emu.clearFaults();
    expect((await call(emu, 'checkStatus')).status).toBe(200);
    expect((await call(emu, 'sendText', sendTextParams('kept'))).status).toBe(200);
  });

  it('an endless fault survives suspend and resume; reset() clears it', async () => {
    const emu = await start();
    emu.fail('502', Number.POSITIVE_INFINITY);
    await emu.suspend();
    await emu.resume();
    expect((await call(emu, 'checkStatus')).status).toBe(502);
    emu.reset();
    expect((await call(emu, 'checkStatus')).status).toBe(200);
  });
});

describe('what a line probe sees', () => {
  it('checkStatus: a disconnected line answers 200 with connected false; an unknown token answers 401', async () => {
    const emu = await start();
    emu.setConnected(false);
    expect(await call(emu, 'checkStatus')).toMatchObject({
      status: 200,
      body: { result: true, status: 'disconnected', connected: false },
    });
    emu.setConnected(true);
    expect((await call(emu, 'checkStatus')).body).toEqual({ result: true, status: 'connected', connected: true });
    const rejected = await call(emu, 'checkStatus', {}, { token: 'revoked-token' });
    expect(rejected).toMatchObject({ status: 401, body: { result: false, error: 'Invalid webhook token' } });
  });
});
