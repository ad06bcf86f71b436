import { describe, expect, it } from 'vitest';
import { call, PHONE, start } from './helpers.js';

type Case = [name: string, method: string, params: Record<string, string>, status: number, mentions?: string];

const okText = { phone_number: PHONE, body: 'Hi', send_to_imol: 'N' };
const okFile = { phone_number: PHONE, body: 'https://example.com/a.pdf', send_to_imol: 'Y' };

const cases: Case[] = [
  ['sendText ok', 'sendText', okText, 200],
  ['sendText send_to_imol Y', 'sendText', { ...okText, send_to_imol: 'Y' }, 200],
  ['sendText no phone', 'sendText', { body: 'Hi', send_to_imol: 'N' }, 400, 'phone_number'],
  ['sendText phone with +', 'sendText', { ...okText, phone_number: '+79123456789' }, 400, 'phone_number'],
  ['sendText phone starting with 8', 'sendText', { ...okText, phone_number: '89123456789' }, 400, 'phone_number'],
  ['sendText 10 digits', 'sendText', { ...okText, phone_number: '7912345678' }, 400, 'phone_number'],
  ['sendText 12 digits', 'sendText', { ...okText, phone_number: '791234567890' }, 400, 'phone_number'],
  ['sendText no body', 'sendText', { phone_number: PHONE, send_to_imol: 'N' }, 400, 'body'],
  ['sendText empty body', 'sendText', { ...okText, body: '' }, 400, 'body'],
  ['sendText blank body', 'sendText', { ...okText, body: '   ' }, 400, 'body'],
  ['sendText no send_to_imol', 'sendText', { phone_number: PHONE, body: 'Hi' }, 400, 'send_to_imol'],
  ['sendText send_to_imol=yes', 'sendText', { ...okText, send_to_imol: 'yes' }, 400, 'send_to_imol'],
  ['sendText send_to_imol=y', 'sendText', { ...okText, send_to_imol: 'y' }, 400, 'send_to_imol'],
  ['sendFile ok', 'sendFile', okFile, 200],
  ['sendFile ok with caption, http', 'sendFile', { ...okFile, body: 'http://x.test/f.jpg', caption: 'c' }, 200],
  ['sendFile no body', 'sendFile', { phone_number: PHONE, send_to_imol: 'N' }, 400, 'body'],
  ['sendFile body not a URL', 'sendFile', { ...okFile, body: 'a.pdf' }, 400, 'body'],
  ['sendFile ftp URL', 'sendFile', { ...okFile, body: 'ftp://example.com/a.pdf' }, 400, 'body'],
  ['sendFile javascript URL', 'sendFile', { ...okFile, body: 'javascript:alert(1)' }, 400, 'body'],
  ['sendFile bad phone', 'sendFile', { ...okFile, phone_number: '123' }, 400, 'phone_number'],
  ['sendFile no send_to_imol', 'sendFile', { phone_number: PHONE, body: okFile.body }, 400, 'send_to_imol'],
  ['checkPhone ok', 'checkPhone', { phone_number: PHONE }, 200],
  ['checkPhone no phone', 'checkPhone', {}, 400, 'phone_number'],
  ['checkPhone bad phone', 'checkPhone', { phone_number: '7912' }, 400, 'phone_number'],
  ['checkStatus ok', 'checkStatus', {}, 200],
  ['checkStatus extra params ignored', 'checkStatus', { foo: 'bar' }, 200],
  ['checkMessageStatus ok shape', 'checkMessageStatus', { phone_number: PHONE, message_id: 'x' }, 200],
  ['checkMessageStatus no id', 'checkMessageStatus', { phone_number: PHONE }, 400, 'message_id'],
  ['checkMessageStatus no phone', 'checkMessageStatus', { message_id: 'x' }, 400, 'phone_number'],
];

describe('vendor param validation', () => {
  it.each(cases)('%s', async (_name, method, params, status, mentions) => {
    // Generous limits: this test is about params only.
    const emu = await start({ limits: { [method]: { points: 100, durationMs: 1000 } } });
    const res = await call(emu, method, params);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    if (status === 400) {
      expect(res.body.result).toBe(false);
      expect(String(res.body.error)).toContain(mentions);
    }
    const sends = method === 'sendText' || method === 'sendFile';
    expect(emu.messages).toHaveLength(sends && status === 200 ? 1 : 0);
    // Every request to a known method with a known token is recorded, invalid ones too.
    expect(emu.requests).toHaveLength(1);
    expect(emu.requests[0]?.status).toBe(status);
  });

  it('reports every bad param at once', async () => {
    const emu = await start();
    const res = await call(emu, 'sendText', { phone_number: '1', send_to_imol: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/phone_number.*body.*send_to_imol/);
  });

  it('records text, url, caption and sendToImol', async () => {
    const emu = await start();
    const text = await call(emu, 'sendText', { phone_number: PHONE, body: 'Привет, мир!\nLine 2', send_to_imol: 'Y' });
    const file = await call(emu, 'sendFile', { ...okFile, send_to_imol: 'N', caption: 'Счёт' });
    const bare = await call(emu, 'sendFile', okFile);
    expect(text.body).toEqual({ result: true, message_id: expect.any(String) });
    expect(file.body.message_id).not.toBe(text.body.message_id);
    expect(emu.messages).toMatchObject([
      { id: text.body.message_id, method: 'sendText', phone: PHONE, text: 'Привет, мир!\nLine 2', sendToImol: true },
      { id: file.body.message_id, method: 'sendFile', url: okFile.body, caption: 'Счёт', sendToImol: false },
      { id: bare.body.message_id, method: 'sendFile', url: okFile.body, sendToImol: true },
    ]);
    expect(emu.messages[2]).not.toHaveProperty('caption');
    expect(emu.messages[0]).not.toHaveProperty('url');
    expect(emu.messages[0]?.tokenIndex).toBe(0);
    const at = emu.messages[0]?.at ?? 0;
    expect(Math.abs(at - Date.now())).toBeLessThan(60_000);
  });

  it('answers checkPhone, checkStatus and checkMessageStatus', async () => {
    const emu = await start();
    expect((await call(emu, 'checkPhone', { phone_number: PHONE })).body).toEqual({ result: true, exists: true });
    expect((await call(emu, 'checkPhone', { phone_number: '79120000000' })).body).toEqual({
      result: true,
      exists: false,
    });
    expect((await call(emu, 'checkStatus')).body).toEqual({ result: true, status: 'connected', connected: true });
    emu.setConnected(false);
    expect((await call(emu, 'checkStatus')).body).toEqual({ result: true, status: 'disconnected', connected: false });
    const sent = await call(emu, 'sendText', okText);
    const id = String(sent.body.message_id);
    const known = await call(emu, 'checkMessageStatus', { phone_number: PHONE, message_id: id });
    expect(known).toMatchObject({ status: 200, body: { result: true, status: 'sent' } });
    const unknown = await call(emu, 'checkMessageStatus', { phone_number: PHONE, message_id: 'nope' });
    expect(unknown).toMatchObject({ status: 200, body: { result: false, error: 'Message not found' } });
  });

  it('starts disconnected with connected: false', async () => {
    const emu = await start({ connected: false });
    expect((await call(emu, 'checkStatus')).body).toMatchObject({ status: 'disconnected', connected: false });
  });
});

describe('POST bodies', () => {
  it('accepts urlencoded params merged over the query', async () => {
    const emu = await start();
    const res = await call(
      emu,
      'sendText',
      { phone_number: '79000000000', body: 'from query' },
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ phone_number: PHONE, send_to_imol: 'N' }).toString(),
      },
    );
    expect(res.status).toBe(200);
    expect(emu.messages[0]).toMatchObject({ phone: PHONE, text: 'from query', sendToImol: false });
  });

  it('accepts a JSON body', async () => {
    const emu = await start();
    const res = await call(
      emu,
      'sendText',
      {},
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"phone_number":"${PHONE}","body":"json","send_to_imol":"Y","__proto__":"x","constructor":"y"}`,
      },
    );
    expect(res.status).toBe(200);
    expect(emu.messages[0]).toMatchObject({ text: 'json', sendToImol: true });
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('answers 400 for malformed or non-object JSON and nested values', async () => {
    const emu = await start({ limits: { sendText: { points: 100, durationMs: 1000 } } });
    for (const body of ['{"phone_number":', '[1,2]', '"str"', JSON.stringify({ phone_number: { $gt: '' } })]) {
      const res = await call(
        emu,
        'sendText',
        {},
        { method: 'POST', headers: { 'content-type': 'application/json' }, body },
      );
      expect(res.status, body).toBe(400);
      expect(res.body.result).toBe(false);
    }
    expect(emu.messages).toHaveLength(0);
  });

  it('answers 415 for an unsupported content type', async () => {
    const emu = await start();
    const res = await call(
      emu,
      'sendText',
      {},
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' },
    );
    expect(res.status).toBe(415);
  });

  it('answers 413 beyond the body limit', async () => {
    const emu = await start({ maxBodyBytes: 1024 });
    const res = await call(
      emu,
      'sendText',
      {},
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `phone_number=${PHONE}&send_to_imol=N&body=${'a'.repeat(2048)}`,
      },
    );
    expect(res.status).toBe(413);
    expect(emu.messages).toHaveLength(0);
  });

  it('answers 413 beyond the default 1 MiB limit', async () => {
    const emu = await start();
    const res = await call(
      emu,
      'sendText',
      {},
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ phone_number: PHONE, send_to_imol: 'N', body: 'a'.repeat(1024 * 1024 + 10) }),
      },
    );
    expect(res.status).toBe(413);
  });

  it('answers 405 for other verbs', async () => {
    const emu = await start();
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const res = await call(emu, 'sendText', {}, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, POST');
    }
    expect(emu.messages).toHaveLength(0);
  });
});
