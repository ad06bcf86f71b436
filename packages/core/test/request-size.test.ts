import { startEmulator } from '@olchat-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_LINE_BYTES } from '../src/client/methods.js';
import { MemoryLimiterStore, OlchatClient, type OutgoingMessage, ValidationError } from '../src/index.js';
import { rejection } from './helpers/rejection.js';

const token = 'request-size-secret-token';
const phone = '79123456789';
const cyrillic = (n: number) => 'Здравствуйте, ваш заказ готов к выдаче. '.repeat(Math.ceil(n / 40)).slice(0, n);

let emu: Awaited<ReturnType<typeof startEmulator>>;
let client: OlchatClient;
beforeAll(async () => {
  emu = await startEmulator({ tokens: [token] });
  client = new OlchatClient({ token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
});
afterAll(async () => {
  await client.close();
  await emu.close();
});

function refusal(message: OutgoingMessage): ValidationError {
  try {
    client.assertSendable(message);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected assertSendable to throw');
}

describe('a message too long for the v1 URL', () => {
  it('a 2 700-character Cyrillic text is refused before anything is queued or sent, saying why', () => {
    const error = refusal({ phone, text: cyrillic(2700), sendToImol: false });
    expect(error.code).toBe('VALIDATION');
    expect(error.issues.map((i) => i.path)).toEqual(['text']);
    // The size, the bound, and roughly what fits.
    expect(Number(/would be (\d+) bytes/.exec(error.message)?.[1])).toBeGreaterThan(13_000);
    expect(error.message).toContain(`${MAX_REQUEST_LINE_BYTES}-byte`);
    expect(error.message).toMatch(/about 1\d{3} Cyrillic or \d{4} Latin characters/);
    expect(JSON.stringify([error.message, error.issues, error.stack])).not.toContain(token);
  });

  it('what fits is what the message says: that many Cyrillic or Latin characters pass, one more does not', () => {
    const hint = refusal({ phone, text: 'я'.repeat(3000), sendToImol: false }).message;
    const [, cyrillicFit, latinFit] = /about (\d+) Cyrillic or (\d+) Latin/.exec(hint) ?? [];
    const fits = (text: string) => {
      try {
        client.assertSendable({ phone, text, sendToImol: false });
        return true;
      } catch {
        return false;
      }
    };
    expect(fits('я'.repeat(Number(cyrillicFit)))).toBe(true);
    expect(fits('я'.repeat(Number(cyrillicFit) + 1))).toBe(false);
    expect(fits('a'.repeat(Number(latinFit)))).toBe(true);
    expect(fits('a'.repeat(Number(latinFit) + 1))).toBe(false);
  });

  it('sendText refuses it with VALIDATION before taking a slot: nothing reaches the server', async () => {
    const error = await rejection(client.sendText({ phone, text: cyrillic(2700) }));
    expect(error.code).toBe('VALIDATION');
    expect(emu.requests).toHaveLength(0);
  });

  it('the bound is not stricter than it must be: 1 200 Cyrillic characters pass and are delivered', async () => {
    const text = cyrillic(1200);
    expect(() => client.assertSendable({ phone, text, sendToImol: true })).not.toThrow();
    await client.sendText({ phone, text, sendToImol: true });
    expect(emu.messages.at(-1)?.text).toBe(text);
  });

  it('a file blames the field that makes it too long: file.caption or file.url', () => {
    const longCaption = refusal({
      phone,
      file: { url: `https://shop.example/${'a'.repeat(2000)}.pdf`, caption: 'я'.repeat(1000) },
      sendToImol: false,
    });
    expect(longCaption.issues.map((i) => i.path)).toEqual(['file.caption']);
    const longUrl = refusal({
      phone,
      file: { url: `https://shop.example/${'я'.repeat(2000)}`, caption: 'Счёт' },
      sendToImol: false,
    });
    expect(longUrl.issues.map((i) => i.path)).toEqual(['file.url']);
    expect(longUrl.message).toMatch(/about \d+ bytes of URL/);
  });

  it('sendFile refuses the same way, with its own parameter names', async () => {
    const error = await rejection(
      client.sendFile({ phone, url: `https://shop.example/${'a'.repeat(2000)}.pdf`, caption: 'я'.repeat(1000) }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual(['caption']);
  });

  it('assertSendable also checks the fields sendText/sendFile would refuse, with the message paths', () => {
    expect(refusal({ phone: '12345', text: 'x', sendToImol: false }).issues[0]?.path).toBe('phone');
    expect(refusal({ phone, text: '   ', sendToImol: false }).issues[0]?.path).toBe('text');
    expect(refusal({ phone, file: { url: 'ftp://x/y' }, sendToImol: false }).issues[0]?.path).toBe('file.url');
    expect(() => client.assertSendable({ phone, text: 'Короткий текст', sendToImol: false })).not.toThrow();
    expect(() =>
      client.assertSendable({ phone, file: { url: 'https://shop.example/a.pdf', caption: 'Счёт' }, sendToImol: false }),
    ).not.toThrow();
  });
});
