import { startEmulator } from '@olchat-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isBrowserForm } from '../src/http/answers.js';
import { parseUrlencoded } from '../src/http/body.js';
import { clientIp, ipLimitKey } from '../src/http/client-ip.js';
import { parseTime } from '../src/http/messages.js';
import { matchRoute } from '../src/http/routes.js';
import {
  createHandler,
  createNotifier,
  createNotify,
  defineRule,
  type HandlerRequest,
  isPhone,
  MemoryLimiterStore,
  OlchatClient,
  UnknownRuleError,
  ValidationError,
} from '../src/index.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const emu = await startEmulator();
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limiterStore: new MemoryLimiterStore(),
    retry: { minDelayMs: 10, maxDelayMs: 50 },
  });
  const rule = defineRule({
    id: 'order',
    input: z.object({ name: z.string(), phone: z.string() }),
    to: 'phone',
    text: 'Hi {{name}}',
  });
  // Refuses any field it does not know: a secret left in the data would be an invalid_input.
  const strict = defineRule({
    id: 'strict',
    input: z.strictObject({ name: z.string(), phone: z.string() }),
    to: 'phone',
    text: 'Hello {{name}}',
  });
  const notifier = createNotifier({ client, rules: [rule, strict] });
  cleanups.push(
    () => emu.close(),
    () => client.close(),
    () => notifier.close({ timeoutMs: 500 }),
  );
  return { emu, notifier };
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): HandlerRequest {
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    ip: '127.0.0.1',
    body: (async function* () {
      yield JSON.stringify(body);
    })(),
  };
}

describe('createHandler', () => {
  it('answers only its own routes, below the prefix, whatever the case or a trailing slash', async () => {
    const { notifier } = await setup();
    const handler = createHandler(notifier, { prefix: '/olchat/', inboundLimits: false });
    expect(handler.routes).toEqual([
      '/forms/:ruleId',
      '/messages',
      '/messages/cancel',
      '/messages/:id',
      '/messages/:id/retry',
      '/lanes',
      '/lanes/pause',
      '/lanes/resume',
      '/lanes/:lane/pause',
      '/lanes/:lane/resume',
      '/suppressions/:phone',
      '/people/:phone',
      '/replies',
      '/health',
    ]);
    expect(await handler.handle(post('/forms/order', {}))).toBeUndefined();
    expect(await handler.handle(post('/olchatx/forms/order', {}))).toBeUndefined();
    expect(await handler.handle(post('/olchat/forms/order/extra', {}))).toBeUndefined();
    expect(await handler.handle(post('/olchat', {}))).toBeUndefined();
    const answer = await handler.handle(post('/OLCHAT/Forms/order/?x=1', { name: 'A', phone: '+79123456789' }));
    expect(answer?.status).toBe(202);
    expect(JSON.parse(answer?.body ?? '')).toMatchObject({ status: 'queued' });
  });

  it('takes a body the app already parsed as it is', async () => {
    const { notifier, emu } = await setup();
    const handler = createHandler(notifier, { inboundLimits: false });
    const answer = await handler.handle({
      method: 'POST',
      path: '/forms/order',
      headers: { 'content-type': 'text/plain' }, // the app's parser decided; the type no longer matters
      body: { parsed: { name: 'B', phone: '89123456789' } },
    });
    expect(answer?.status).toBe(202);
    expect((await emu.waitForMessages(1))[0]?.text).toBe('Hi B');
  });

  it('refuses bad options at setup with a ValidationError naming the option', () => {
    const notifier = { trigger() {}, hasRule: () => true } as never;
    const cases: [string, object][] = [
      ['maxBodyBytes', { maxBodyBytes: 0 }],
      ['apiKey', { apiKey: '' }],
      ['redirect', { redirect: '/x\r\nSet-Cookie: a=b' }],
      ['honeypot', { honeypot: 42 }],
      ['cors', { cors: { origin: 5 } }],
      ['trustProxy', { trustProxy: -1 }],
      ['inboundLimits.perIp.points', { inboundLimits: { perIp: { points: 0, durationMs: 1000 } } }],
      ['inboundLimits.perPhone.durationMs', { inboundLimits: { perPhone: { points: 1, durationMs: 1.5 } } }],
      ['prefix', { prefix: 'olchat' }],
      ['queryTrigger', { queryTrigger: 'a-secret-of-enough-length' }],
      ['queryTrigger.secret', { queryTrigger: { secret: 'fifteen-chars-x' } }],
      ['queryTrigger.secret', { queryTrigger: { secret: 1234567890123456 } }],
      ['locale', { locale: 'de' }],
    ];
    for (const [path, options] of cases) {
      const error = (() => {
        try {
          createHandler(notifier, options);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error, path).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.path).toBe(path);
    }
    expect(() => createHandler({} as never)).toThrow(ValidationError);
  });

  it('createNotify fails at setup for an unknown rule', async () => {
    const { notifier } = await setup();
    expect(() => createNotify(notifier, 'ordr')).toThrow(UnknownRuleError);
  });

  it('handlers on one notifier share the inbound limits; another notifier has its own', async () => {
    const { notifier } = await setup();
    const other = await setup();
    const limits = { perIp: { points: 2, durationMs: 60_000 }, perPhone: false as const };
    const router = createHandler(notifier, { inboundLimits: limits });
    const run = createNotify(notifier, 'order', { inboundLimits: limits });
    const accepted = { name: 'A', phone: '+79123456789' };
    expect((await router.handle(post('/forms/order', accepted)))?.status).toBe(202);
    expect((await run(post('/', accepted))).ok).toBe(true);
    const third = await router.handle(post('/forms/order', accepted));
    expect(third?.status).toBe(429);
    expect(Number(third?.headers['retry-after'])).toBeGreaterThan(0);
    const elsewhere = createHandler(other.notifier, { inboundLimits: limits });
    expect((await elsewhere.handle(post('/forms/order', accepted)))?.status).toBe(202);
  });

  it('stops reading at the limit without draining the stream', async () => {
    const { notifier } = await setup();
    const handler = createHandler(notifier, { inboundLimits: false, maxBodyBytes: 10 });
    let pulled = 0;
    const answer = await handler.handle({
      method: 'POST',
      path: '/forms/order',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: (async function* () {
        for (;;) {
          pulled++;
          yield new Uint8Array(4);
        }
      })(),
    });
    expect(answer?.status).toBe(413);
    expect(answer?.headers.connection).toBe('close');
    expect(pulled).toBe(3);
  });
});

describe('GET trigger (queryTrigger)', () => {
  const secret = 'unit-trigger-secret-0123';
  const get = (path: string, query?: string): HandlerRequest => ({
    method: 'GET',
    path,
    ...(query === undefined ? {} : { query }),
    headers: {},
    ip: '127.0.0.1',
  });

  it('takes the query from `query`, or from the path when an adapter leaves it there, without the secret', async () => {
    const { notifier, emu } = await setup();
    const handler = createHandler(notifier, { inboundLimits: false, queryTrigger: { secret } });
    const fromField = await handler.handle(get('/forms/strict', `secret=${secret}&name=A&phone=%2B79123456789`));
    expect(fromField?.status).toBe(202);
    const fromPath = await handler.handle(get(`/forms/strict?name=B&secret=${secret}&phone=89123456789`));
    expect(fromPath?.status).toBe(202);
    expect((await emu.waitForMessages(2)).map((m) => m.text).sort()).toEqual(['Hello A', 'Hello B']);
  });

  it('a secret compared whole: missing, empty, a prefix, with a suffix, repeated or badly encoded is 401', async () => {
    const { notifier } = await setup();
    const handler = createHandler(notifier, { inboundLimits: false, queryTrigger: { secret } });
    for (const query of [
      'name=A&phone=89123456789',
      'secret&name=A&phone=89123456789',
      'secret=&name=A&phone=89123456789',
      `secret=${secret.slice(0, -1)}&name=A&phone=89123456789`,
      `secret=${secret}0&name=A&phone=89123456789`,
      `secret=${secret}&secret=${secret}&name=A&phone=89123456789`,
      `secret=${secret}%&name=A&phone=89123456789`,
      `Secret=${secret}&name=A&phone=89123456789`,
    ]) {
      const answer = await handler.handle(get('/forms/order', query));
      expect(answer?.status, query).toBe(401);
      expect(JSON.parse(answer?.body ?? '').error).toBe('unauthorized');
    }
    // Percent-encoded, the secret still counts: a caller may encode every parameter.
    const encoded = [...secret].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    expect((await handler.handle(get('/forms/order', `secret=${encoded}&name=A&phone=89123456789`)))?.status).toBe(202);
    expect(notifier.stats().queued + notifier.stats().sending + notifier.stats().sent).toBe(1);
  });

  it('without the secret, nothing else about the request is looked at', async () => {
    const { notifier } = await setup();
    const handler = createHandler(notifier, { inboundLimits: false, queryTrigger: { secret } });
    for (const query of ['__proto__=x', 'name=%FF', `name=${'x'.repeat(70_000)}`]) {
      const status = (await handler.handle(get('/forms/order', query)))?.status;
      // Only the size is checked before the secret: it bounds the work of finding the secret.
      expect(status, query.slice(0, 20)).toBe(query.length > 65_536 ? 413 : 401);
    }
  });
});

describe('client address', () => {
  it('is the socket unless trustProxy says otherwise', () => {
    expect(clientIp('::ffff:10.0.0.1', '1.2.3.4', false)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', '1.2.3.4, 5.6.7.8', true)).toBe('1.2.3.4');
    expect(clientIp('10.0.0.1', '1.2.3.4, 5.6.7.8', 1)).toBe('5.6.7.8');
    expect(clientIp('10.0.0.1', '1.2.3.4, 5.6.7.8', 2)).toBe('1.2.3.4');
    expect(clientIp('10.0.0.1', '1.2.3.4, 5.6.7.8', 9)).toBe('1.2.3.4');
    expect(clientIp('10.0.0.1', '1.2.3.4, 5.6.7.8', (a) => a.startsWith('10.'))).toBe('5.6.7.8');
    // Past a hop that is not an address nothing more is believed.
    expect(clientIp('10.0.0.1', '1.2.3.4, garbage, 5.6.7.8', true)).toBe('5.6.7.8');
    expect(clientIp(undefined, '', false)).toBe('');
  });

  it('limits IPv6 by its /64', () => {
    expect(ipLimitKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(ipLimitKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(ipLimitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipLimitKey('::1')).toBe('0:0:0:0::/64');
    expect(ipLimitKey('192.0.2.1')).toBe('192.0.2.1');
    expect(ipLimitKey('')).toBe('unknown');
  });
});

describe('bodies and answers', () => {
  it('parses urlencoded into a prototype-free object; repeated names become arrays', () => {
    const parsed = parseUrlencoded('a=1&a=2&b=%D0%AF+z&c&&d=');
    expect(Object.getPrototypeOf(parsed)).toBe(null);
    expect(Object.entries(parsed)).toEqual([
      ['a', ['1', '2']],
      ['b', 'Я z'],
      ['c', ''],
      ['d', ''],
    ]);
  });

  it('tells a browser form by its type or an Accept preferring HTML', () => {
    expect(isBrowserForm({ 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' })).toBe(true);
    expect(isBrowserForm({ accept: 'text/html,application/xhtml+xml,*/*;q=0.8' })).toBe(true);
    expect(isBrowserForm({ accept: '*/*' })).toBe(false);
    expect(isBrowserForm({ accept: 'application/json, text/html;q=0.9' })).toBe(false);
    expect(isBrowserForm({ accept: 'text/html;q=0' })).toBe(false);
    expect(isBrowserForm({})).toBe(false);
  });
});

describe('/messages options and routes', () => {
  it('reads ISO 8601 times with a zone, as the instant they name; anything else is undefined', () => {
    const instant = Date.UTC(2030, 10, 28, 7, 0, 0);
    for (const text of [
      '2030-11-28T10:00:00+03:00',
      '2030-11-28T07:00:00Z',
      '2030-11-28t07:00:00z',
      '2030-11-28 07:00:00Z',
      '2030-11-28T07:00Z',
      '2030-11-28T12:00:00.000000+05:00',
    ])
      expect(parseTime(text), text).toBe(instant);
    expect(parseTime('2028-02-29T00:00:00Z')).toBe(Date.UTC(2028, 1, 29));
    for (const text of [
      '2030-11-28T10:00:00', // no zone: the server's zone is nobody's business
      '2030-11-28',
      '2030-02-29T00:00:00Z', // not a leap year: refused, not rolled into March
      '2030-04-31T00:00:00Z',
      '2030-13-01T00:00:00Z',
      '2030-11-28T24:00:00Z',
      '2030-11-28T10:60:00Z',
      '2030-11-28T10:00:00+0300',
      '2030-11-28T10:00:00+24:00',
      ' 2030-11-28T07:00:00Z',
      'Thu, 28 Nov 2030 07:00:00 GMT',
    ])
      expect(parseTime(text), text).toBeUndefined();
    for (const value of [instant, new Date(instant), null, undefined, {}]) expect(parseTime(value)).toBeUndefined();
  });

  it('matches the retry route, and nothing deeper', () => {
    expect(matchRoute('/messages/a%20b/retry', '')).toEqual({ name: 'retry', id: 'a b' });
    expect(matchRoute('/olchat/Messages/x/RETRY/', '/olchat')).toEqual({ name: 'retry', id: 'x' });
    expect(matchRoute('/messages/x', '')).toEqual({ name: 'message', id: 'x' });
    expect(matchRoute('/messages/x/other', '')).toBeUndefined();
    expect(matchRoute('/messages/x/retry/again', '')).toBeUndefined();
    expect(matchRoute('/forms/order/retry', '')).toBeUndefined();
    expect(matchRoute('/health/retry', '')).toBeUndefined();
  });
});

describe("form errors in the customer's language", () => {
  async function formSetup(options: { locale?: 'ru' | 'en' } = {}) {
    const emu = await startEmulator();
    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
    const order = defineRule({
      id: 'order',
      input: z.object({
        name: z.string().trim().min(2),
        phone: z.string(),
        email: z.email(),
        site: z.url().optional(),
        guests: z.number().int().min(1).max(12),
        bouquet: z.enum(['roses', 'tulips']),
        comment: z.string().max(21).optional(),
        agree: z.boolean(),
        // The app's own words, in Russian: kept as they are.
        city: z.string({ error: 'Укажите город' }),
        // The app's own words, in English: the customer gets Russian all the same.
        code: z.string().refine((v) => v.startsWith('A'), 'Must start with A'),
      }),
      to: 'phone',
      text: 'Hi {{name}}',
    });
    // No schema: the template and the recipient say what is missing.
    const callback = defineRule({ id: 'callback', to: 'phone', text: 'Перезвоним, {{name}}' });
    const notifier = createNotifier({ client, rules: [order, callback] });
    cleanups.push(
      () => emu.close(),
      () => client.close(),
      () => notifier.close({ timeoutMs: 500 }),
    );
    const handler = createHandler(notifier, { inboundLimits: false, apiKey: 'k'.repeat(20), ...options });
    const answer = async (request: HandlerRequest) => {
      const response = await handler.handle(request);
      return { status: response?.status, body: JSON.parse(response?.body ?? '{}') };
    };
    return { handler, answer, notifier };
  }

  const bad = {
    name: ' ',
    phone: '+7 912 345-67-89',
    email: 'anna@',
    site: 'not a link',
    guests: 40,
    bouquet: 'lilies',
    comment: 'x'.repeat(30),
    agree: 'yes',
    code: 'B1',
  };

  it('answers Russian issues by default, in the words of a form', async () => {
    const { answer } = await formSetup();
    const { status, body } = await answer(post('/forms/order', bad));
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_input');
    expect(Object.fromEntries(body.issues.map((i: { path: string; message: string }) => [i.path, i.message]))).toEqual({
      name: 'Заполните это поле',
      email: 'Введите адрес электронной почты, например name@example.ru',
      site: 'Введите ссылку, например https://example.ru',
      guests: 'Нужно число не больше 12',
      bouquet: 'Выберите один из вариантов',
      comment: 'Не длиннее 21 символа',
      agree: 'Выберите «да» или «нет»',
      city: 'Укажите город',
      code: 'Проверьте это поле',
    });
    expect(body.message).toMatch(/^Проверьте данные формы\. /);
    expect(body.message).toContain('city: Укажите город');
  });

  it('says what the rule itself needs in Russian: the phone, a template field, the recipient', async () => {
    const { answer } = await formSetup();
    const phone = await answer(post('/forms/callback', { name: 'Анна', phone: '+1 202 555 0143' }));
    expect(phone.body.issues).toEqual([
      { path: 'phone', message: 'Введите номер в формате +7 912 345-67-89 (Россия или Казахстан)' },
    ]);
    const noPhone = await answer(post('/forms/callback', { name: 'Анна' }));
    expect(noPhone.body.issues).toEqual([{ path: 'phone', message: 'Укажите номер телефона' }]);
    const noName = await answer(post('/forms/callback', { phone: '+7 912 345-67-89', name: '  ' }));
    expect(noName.body.issues).toEqual([{ path: 'name', message: 'Заполните это поле' }]);
    const notAForm = await answer(post('/forms/callback', ['a']));
    expect(notAForm.body.issues).toEqual([{ path: '', message: 'Заполните форму' }]);
  });

  it("keeps the schema's and the library's English with locale: 'en'", async () => {
    const { answer } = await formSetup({ locale: 'en' });
    const { body } = await answer(post('/forms/order', bad));
    const messages = Object.fromEntries(body.issues.map((i: { path: string; message: string }) => [i.path, i.message]));
    expect(messages.guests).toMatch(/^Too big/);
    expect(messages.code).toBe('Must start with A');
    expect(messages.city).toBe('Укажите город');
    expect(body.message).toContain('invalid input');
    const phone = await answer(post('/forms/callback', { name: 'Анна', phone: '+1 202 555 0143' }));
    expect(phone.body.issues).toEqual([
      { path: 'phone', message: 'Expected a Russian or Kazakh number such as +7 912 345-67-89' },
    ]);
  });

  it('answers Russian through notify() too, and leaves the messages API (for programs) in English', async () => {
    const { notifier } = await formSetup();
    const run = createNotify(notifier, 'callback');
    const outcome = await run(post('/order', { name: 'Анна', phone: '12345' }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.issues).toEqual([
      { path: 'phone', message: 'Введите номер в формате +7 912 345-67-89 (Россия или Казахстан)' },
    ]);
    expect(JSON.parse(outcome.response.body ?? '{}').issues).toEqual(outcome.error.issues);
    const english = await createNotify(notifier, 'callback', { locale: 'en' })(post('/order', { phone: '12345' }));
    expect(english.ok || english.error.issues?.[0]?.message).toMatch(/^Expected a Russian or Kazakh number/);

    const handler = createHandler(notifier, { inboundLimits: false, apiKey: 'k'.repeat(20) });
    const api = await handler.handle(
      post('/messages', { phone: '12345', text: 'x' }, { authorization: `Bearer ${'k'.repeat(20)}` }),
    );
    expect(JSON.parse(api?.body ?? '{}').issues).toEqual([
      { path: 'phone', message: 'Expected a Russian or Kazakh number such as +7 912 345-67-89' },
    ]);
  });

  it('reads Russian for the common zod issues whatever locale the app gave zod', async () => {
    const { answer } = await formSetup();
    const messagesWith = async (locale: () => { localeError: z.core.$ZodErrorMap }) => {
      z.config(locale());
      try {
        const { body } = await answer(post('/forms/order', { ...bad, name: 'А', city: undefined }));
        return Object.fromEntries(body.issues.map((i: { path: string; message: string }) => [i.path, i.message]));
      } finally {
        z.config(z.locales.en());
      }
    };
    for (const locale of [z.locales.en, z.locales.ru, z.locales.de]) {
      const messages = await messagesWith(locale);
      // zod's own Russian says «ожидалось, что string будет иметь >=2 символов»: the form says it plainly.
      expect(messages.name).toBe('Не короче 2 символов');
      expect(messages.guests).toBe('Нужно число не больше 12');
      expect(messages.email).toBe('Введите адрес электронной почты, например name@example.ru');
      expect(messages.agree).toBe('Выберите «да» или «нет»');
      // The app's own words stay, whatever zod's locale.
      expect(messages.city).toBe('Укажите город');
    }
  });

  it("isPhone in a schema with the app's own Russian message", async () => {
    const emu = await startEmulator();
    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
    const rule = defineRule({
      id: 'call',
      input: z.object({ phone: z.string().refine(isPhone, 'Номер в формате +7 912 345-67-89, пожалуйста') }),
      to: 'phone',
      text: 'Перезвоним',
    });
    const notifier = createNotifier({ client, rules: [rule] });
    cleanups.push(
      () => emu.close(),
      () => client.close(),
      () => notifier.close({ timeoutMs: 500 }),
    );
    const handler = createHandler(notifier, { inboundLimits: false });
    const refused = await handler.handle(post('/forms/call', { phone: '+44 20 7946 0958' }));
    expect(JSON.parse(refused?.body ?? '{}').issues).toEqual([
      { path: 'phone', message: 'Номер в формате +7 912 345-67-89, пожалуйста' },
    ]);
    expect((await handler.handle(post('/forms/call', { phone: '8 912 345 67 89' })))?.status).toBe(202);
  });
});
