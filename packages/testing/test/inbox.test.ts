import { describe, expect, it } from 'vitest';
import type { Emulator } from '../src/index.js';
import { escapeHtml } from '../src/index.js';
import { call, fakeClock, sendTextParams, start } from './helpers.js';

/** The status mark rendered after the message with this text: its class list, status and glyph. */
function markAfter(html: string, text: string): { className: string; status: string; mark: string } | undefined {
  const from = html.indexOf(text);
  if (from < 0) return undefined;
  const m = /<span class="(status [a-z]+)" data-status="([a-z]+)"[^>]*>([^<]*)<\/span>/.exec(html.slice(from));
  return m ? { className: m[1] as string, status: m[2] as string, mark: m[3] as string } : undefined;
}

async function sendId(emu: Emulator, text: string): Promise<string> {
  return String((await call(emu, 'sendText', sendTextParams(text))).body.message_id);
}

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
    // The page's own polling script (a file: the CSP allows no inline script) is the only script.
    expect(html.match(/<script/g)).toEqual(['<script']);
    expect(html).toContain('<script src="/inbox.js"></script>');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Привет');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('href="https://files.test/a.pdf?x=1&amp;y=&quot;2&quot;"');
    expect(html).toContain('+7 912 345-67-89');
    expect(html).toContain('+7 999 000-11-22');
    expect(html).toContain('0 ответов 429');
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
    expect(html).toContain('Сообщений пока нет.');
    expect(html).not.toContain('id="burst"');
  });

  it('serves /inbox.json', async () => {
    const emu = await start();
    await call(emu, 'sendText', sendTextParams('hello'));
    const res = await fetch(`${emu.url}/inbox.json`);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({
      messages: JSON.parse(JSON.stringify(emu.messages)),
      requests: 1,
      violations: 0,
    });
    const fragment = (await (await fetch(`${emu.url}/?fragment=1`)).json()) as { list: string };
    expect(fragment).toMatchObject({ count: 1, summary: expect.stringContaining('сообщений: 1') });
    expect(fragment.list).toContain('hello');
  });

  it('offers a "send 20" button only when the host gave an onBurst hook, and calls it', async () => {
    const bursts: number[] = [];
    const emu = await start({ onBurst: (count: number) => void bursts.push(count) });
    expect(await (await fetch(`${emu.url}/`)).text()).toContain('id="burst"');
    const res = await fetch(`${emu.url}/inbox/burst?count=20`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(bursts).toEqual([20]);
    expect((await fetch(`${emu.url}/inbox/burst?count=5000`, { method: 'POST' })).status).toBe(400);
    const plain = await start();
    expect((await fetch(`${plain.url}/inbox/burst`, { method: 'POST' })).status).toBe(404);
  });

  it('answers 405 to other verbs on the inbox', async () => {
    const emu = await start();
    expect((await fetch(`${emu.url}/`, { method: 'POST' })).status).toBe(405);
  });

  it('shows WhatsApp ticks: one grey sent, two grey delivered, two blue read, a red mark failed', async () => {
    const emu = await start();
    await sendId(emu, 'msg-sent');
    emu.setDelivery(await sendId(emu, 'msg-delivered'), 'delivered');
    emu.setDelivery(await sendId(emu, 'msg-read'), 'read');
    emu.setDelivery(await sendId(emu, 'msg-failed'), 'failed');
    const res = await fetch(`${emu.url}/`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(markAfter(html, 'msg-sent')).toEqual({ className: 'status sent', status: 'sent', mark: '✓' });
    expect(markAfter(html, 'msg-delivered')).toEqual({
      className: 'status delivered',
      status: 'delivered',
      mark: '✓✓',
    });
    expect(markAfter(html, 'msg-read')).toEqual({ className: 'status read', status: 'read', mark: '✓✓' });
    expect(markAfter(html, 'msg-failed')).toEqual({ className: 'status failed', status: 'failed', mark: '!' });
    // Grey by default, blue when read, a red badge when failed: the colours live in the page's stylesheet.
    expect(html).toMatch(/\.status \{[^}]*color: #8696a0/);
    expect(html).toMatch(/\.status\.read \{[^}]*color: #53bdeb/);
    expect(html).toMatch(/\.status\.failed \{[^}]*background: #ea0038/);
    expect(html.match(/<script/g)).toEqual(['<script']);
  });

  it('the polled fragment changes its version when a tick changes, and only then', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now, delivery: { deliveredAfterMs: 1000 } });
    const id = await sendId(emu, 'hello');
    const poll = async () =>
      (await (await fetch(`${emu.url}/?fragment=1`)).json()) as { count: number; version: string; list: string };
    const first = await poll();
    expect(first.list).toContain('data-status="sent"');
    expect((await poll()).version).toBe(first.version);
    const page = await (await fetch(`${emu.url}/`)).text();
    expect(page).toContain(`data-version="${first.version}"`);
    clock.advance(1000);
    const delivered = await poll();
    expect(delivered.count).toBe(first.count);
    expect(delivered.version).not.toBe(first.version);
    expect(delivered.list).toContain('data-status="delivered"');
    emu.setDelivery(id, 'read');
    const read = await poll();
    expect(read.version).not.toBe(delivered.version);
    expect(read.list).toContain('data-status="read"');
  });
});
