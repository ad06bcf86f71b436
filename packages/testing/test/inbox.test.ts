import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../src/index.js';
import { call, PHONE, sendTextParams, start } from './helpers.js';

describe('inbox page', () => {
  it('escapes HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('lists messages newest first, every value escaped', async () => {
    const emu = await start();
    await call(emu, 'sendText', sendTextParams('first message'));
    await call(emu, 'sendText', sendTextParams('<script>alert("x")</script> & Привет'));
    await call(emu, 'sendFile', {
      phone_number: '79990001122',
      body: 'https://files.test/a.pdf?x=1&y="2"',
      caption: '<img src=x onerror=alert(1)>',
      send_to_imol: 'Y',
    });
    const res = await fetch(`${emu.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Привет');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('href="https://files.test/a.pdf?x=1&amp;y=&quot;2&quot;"');
    expect(html).toContain(`+${PHONE}`);
    expect(html).toContain('+79990001122');
    const file = html.indexOf('files.test');
    const script = html.indexOf('&lt;script&gt;');
    const first = html.indexOf('first message');
    expect(file).toBeGreaterThan(-1);
    expect(file).toBeLessThan(script);
    expect(script).toBeLessThan(first);
  });

  it('shows an empty inbox', async () => {
    const emu = await start();
    const html = await (await fetch(`${emu.url}/`)).text();
    expect(html).toContain('No messages yet.');
  });

  it('serves /inbox.json', async () => {
    const emu = await start();
    await call(emu, 'sendText', sendTextParams('hello'));
    const res = await fetch(`${emu.url}/inbox.json`);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ messages: JSON.parse(JSON.stringify(emu.messages)) });
  });

  it('answers 405 to other verbs on the inbox', async () => {
    const emu = await start();
    expect((await fetch(`${emu.url}/`, { method: 'POST' })).status).toBe(405);
  });
});
