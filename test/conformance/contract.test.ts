import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { ValidationError } from '@olchat-kit/core';
import { describe, expect, it, vi } from 'vitest';
import {
  API_KEY,
  adapter,
  expectedMajor,
  frameworkVersion,
  nothingQueued,
  PHONE,
  rawRequest,
  setup,
  TOKEN,
} from './harness.js';

const valid = { name: 'Анна', phone: PHONE, orderId: '42' };
/** Waits, patiently (the machine may be loaded), until the job has `status`. */
async function statusBecomes(notifier: Awaited<ReturnType<typeof setup>>['notifier'], id: string, status: string) {
  await vi.waitFor(async () => expect((await notifier.get(id))?.status).toBe(status), {
    timeout: 10_000,
    interval: 20,
  });
}
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe(`HTTP contract on ${adapter} ${expectedMajor}`, () => {
  it('runs on the framework major this project is for', async () => {
    expect(Number((await frameworkVersion()).split('.')[0])).toBe(expectedMajor);
  });

  describe('POST /forms/:ruleId', () => {
    it('queues a JSON form: 202 { id, status } and the customer gets the rendered message', async () => {
      const { emu, http, notifier } = await setup();
      const res = await http.post('/olchat/forms/order').send(valid);
      expect(res.status).toBe(202);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ id: expect.any(String), status: 'queued' });
      const [message] = await emu.waitForMessages(1);
      expect(message).toMatchObject({ phone: '79123456789', text: 'Здравствуйте, Анна! Мы получили заказ №42' });
      expect((await notifier.get(res.body.id))?.ruleId).toBe('order');
    });

    it('queues an urlencoded form and answers JSON when no redirect is set', async () => {
      const { emu, http } = await setup();
      const res = await http.post('/olchat/forms/order').type('form').send(form(valid));
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('queued');
      expect((await emu.waitForMessages(1))[0]?.text).toContain('№42');
    });

    it('sends a browser form 303 to `redirect`: urlencoded, or JSON from a client preferring HTML', async () => {
      const { emu, http } = await setup({ router: { redirect: '/thanks' } });
      const browser = await http.post('/olchat/forms/order').type('form').send(form(valid)).redirects(0);
      expect(browser.status).toBe(303);
      expect(browser.headers.location).toBe('/thanks');
      const html = await http
        .post('/olchat/forms/order')
        .set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8')
        .send({ ...valid, orderId: '43' })
        .redirects(0);
      expect(html.status).toBe(303);
      const api = await http
        .post('/olchat/forms/order')
        .set('Accept', 'application/json')
        .send({ ...valid, orderId: '44' });
      expect(api.status).toBe(202);
      expect(await emu.waitForMessages(3)).toHaveLength(3);
    });

    it('works the same behind the app’s own body parser', async () => {
      const { emu, http } = await setup({ router: { redirect: '/thanks' } });
      const json = await http.post('/parsed/forms/order').send(valid);
      expect(json.status).toBe(202);
      expect(json.body.status).toBe('queued');
      const browser = await http
        .post('/parsed/forms/order')
        .type('form')
        .send(form({ ...valid, orderId: '43' }))
        .redirects(0);
      expect(browser.status).toBe(303);
      const invalid = await http.post('/parsed/forms/order').send({ ...valid, name: '' });
      expect(invalid.status).toBe(400);
      expect(invalid.body.issues).toEqual([{ path: 'name', message: expect.any(String) }]);
      expect(await emu.waitForMessages(2)).toHaveLength(2);
    });

    it('answers a rule whose when() says no with 202 skipped, sending nothing', async () => {
      const { http, emu } = await setup();
      const res = await http.post('/olchat/forms/quiet').send({ phone: PHONE });
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('skipped');
      expect(emu.messages).toEqual([]);
    });

    it('invalid input: 400 invalid_input with { path, message } issues, nothing queued', async () => {
      const { http, notifier } = await setup();
      const res = await http.post('/olchat/forms/order').send({ name: '', phone: PHONE });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_input', message: expect.any(String) });
      expect(res.body.issues).toEqual(
        expect.arrayContaining([
          { path: 'name', message: expect.any(String) },
          { path: 'orderId', message: expect.any(String) },
        ]),
      );
      const phone = await http.post('/olchat/forms/order').send({ ...valid, phone: '+1 202 555 0100' });
      expect(phone.status).toBe(400);
      expect(phone.body.issues).toEqual([{ path: 'phone', message: expect.any(String) }]);
      expect(nothingQueued(notifier)).toBe(true);
    });

    it('invalid input speaks Russian to the customer by default, English with locale: en', async () => {
      const { http } = await setup();
      const bad = { name: '', phone: '+1 202 555 0100' };
      const russian = await http.post('/olchat/forms/order').send(bad);
      expect(russian.status).toBe(400);
      expect(russian.body.issues).toEqual([
        { path: 'name', message: 'Заполните это поле' },
        { path: 'orderId', message: 'Заполните это поле' },
      ]);
      expect(russian.body.message).toMatch(/^Проверьте данные формы/);
      const phone = await http
        .post('/olchat/forms/order')
        .type('form')
        .send(form({ ...valid, phone: '12345' }));
      expect(phone.body.issues).toEqual([
        { path: 'phone', message: 'Введите номер в формате +7 912 345-67-89 (Россия или Казахстан)' },
      ]);

      const { http: english } = await setup({ router: { locale: 'en' } });
      const zod = await english.post('/olchat/forms/order').send(bad);
      expect(zod.body.issues).toEqual([
        { path: 'name', message: expect.stringMatching(/^Too small/) },
        { path: 'orderId', message: 'Invalid input: expected string, received undefined' },
      ]);
      const own = await english.post('/olchat/forms/order').send({ ...valid, phone: '12345' });
      expect(own.body.issues).toEqual([
        { path: 'phone', message: 'Expected a Russian or Kazakh number such as +7 912 345-67-89' },
      ]);
    });

    it('unknown rule: 404 unknown_rule', async () => {
      const { http } = await setup();
      const res = await http.post('/olchat/forms/nope').send(valid);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: 'unknown_rule', message: expect.any(String) });
    });

    it('another method on a route: 405 with Allow', async () => {
      const { http } = await setup();
      const res = await http.get('/olchat/forms/order');
      expect(res.status).toBe(405);
      expect(res.body.error).toBe('method_not_allowed');
      expect(res.headers.allow).toBe('POST, OPTIONS');
    });
  });

  describe('GET /forms/:ruleId with queryTrigger (Bitrix24, 1C)', () => {
    const SECRET = 'b24-trigger-secret-7f3a9c';
    const query = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

    it('the query is the form: 202 { id, status } in JSON, never a redirect, and the message goes out', async () => {
      const { http, emu, notifier } = await setup({
        router: { queryTrigger: { secret: SECRET }, redirect: '/thanks' },
      });
      // Bitrix24 puts field values into the URL as they are: a phone's "+" arrives unencoded.
      const name = encodeURIComponent('Анна');
      const res = await http
        .get(`/olchat/forms/order?secret=${SECRET}&name=${name}&phone=+79123456789&orderId=42`)
        .set('Accept', 'text/html,*/*;q=0.8')
        .redirects(0);
      expect(res.status).toBe(202);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ id: expect.any(String), status: 'queued' });
      const parsed = await http.get(`/parsed/forms/order?${query({ ...valid, orderId: '43', secret: SECRET })}`);
      expect(parsed.status).toBe(202);
      const messages = await emu.waitForMessages(2);
      expect(messages.map((m) => m.text).sort()).toEqual([
        'Здравствуйте, Анна! Мы получили заказ №42',
        'Здравствуйте, Анна! Мы получили заказ №43',
      ]);
      expect(messages[0]?.phone).toBe('79123456789');
      const record = await notifier.get(res.body.id);
      expect(record?.ruleId).toBe('order');
      expect(JSON.stringify(record)).not.toContain(SECRET);
    });

    it('a missing, wrong or repeated secret: 401 unauthorized, nothing queued, and it counts for the per-IP limit', async () => {
      const { http, notifier } = await setup({
        router: { queryTrigger: { secret: SECRET } },
        inboundLimits: { perIp: { points: 5, durationMs: 60_000 }, perPhone: false },
      });
      const fields = query(valid);
      for (const secret of [
        '',
        'secret=',
        `secret=${SECRET}x`,
        `secret=${SECRET.slice(1)}`,
        `secret=${SECRET}&secret=${SECRET}`,
      ]) {
        const res = await http.get(`/olchat/forms/order?${fields}&${secret}`);
        expect(res.status, secret).toBe(401);
        expect(res.body).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
        expect(res.text).not.toContain(SECRET);
      }
      expect(nothingQueued(notifier)).toBe(true);
      const after = await http.get(`/olchat/forms/order?${fields}&secret=${SECRET}`);
      expect(after.status).toBe(429);
      expect(nothingQueued(notifier)).toBe(true);
    });

    it('the POST route’s checks: invalid input, prototype keys, size, unknown rule, inbound limits', async () => {
      const { http, emu, notifier } = await setup({
        router: { queryTrigger: { secret: SECRET }, maxBodyBytes: 512 },
        inboundLimits: { perIp: { points: 5, durationMs: 60_000 }, perPhone: false },
      });
      const get = (fields: string) => http.get(`/olchat/forms/order?secret=${SECRET}&${fields}`);
      const typo = await get(query({ ...valid, phone: '12345' }));
      expect(typo.status).toBe(400);
      expect(typo.body).toMatchObject({
        error: 'invalid_input',
        issues: [{ path: 'phone', message: expect.any(String) }],
      });
      expect(typo.text).not.toContain(SECRET);
      for (const poison of ['__proto__=x', 'constructor[prototype][polluted]=yes', '%5F%5Fproto%5F%5F=x'])
        expect((await get(`${query(valid)}&${poison}`)).body.error, poison).toBe('malformed_body');
      expect((await get(query({ ...valid, name: 'x'.repeat(600) }))).status).toBe(413);
      expect((await http.get(`/olchat/forms/nope?secret=${SECRET}&${query(valid)}`)).status).toBe(404);
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(nothingQueued(notifier)).toBe(true);
      // Four counted (three malformed, one oversized; the typo gave its point back): one more goes through.
      expect((await get(query(valid))).status).toBe(202);
      expect((await get(query({ ...valid, orderId: '43' }))).status).toBe(429);
      expect(await emu.waitForMessages(1)).toHaveLength(1);
    });

    it('a filled honeypot looks like success and sends nothing', async () => {
      const { http, emu, notifier } = await setup({
        router: { queryTrigger: { secret: SECRET }, honeypot: 'website' },
      });
      const bot = await http.get(`/olchat/forms/order?secret=${SECRET}&${query({ ...valid, website: 'x' })}`);
      expect(bot.status).toBe(202);
      expect(bot.body).toEqual({ id: expect.any(String), status: 'queued' });
      expect(nothingQueued(notifier)).toBe(true);
      const person = await http.get(`/olchat/forms/order?secret=${SECRET}&${query({ ...valid, website: '' })}`);
      expect(person.status).toBe(202);
      expect(await emu.waitForMessages(1)).toHaveLength(1);
    });

    it('only GET and POST: HEAD and PUT get 405 with Allow; without the option GET stays 405', async () => {
      const on = await setup({ router: { queryTrigger: { secret: SECRET } } });
      for (const method of ['head', 'put'] as const) {
        const res = await on.http[method](`/olchat/forms/order?secret=${SECRET}&${query(valid)}`);
        expect(res.status, method).toBe(405);
        expect(res.headers.allow).toBe('GET, POST, OPTIONS');
      }
      const off = await setup();
      const res = await off.http.get(`/olchat/forms/order?secret=${SECRET}&${query(valid)}`);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('POST, OPTIONS');
      expect(nothingQueued(on.notifier) && nothingQueued(off.notifier)).toBe(true);
    });

    it('a short secret is refused at setup', async () => {
      await expect(setup({ router: { queryTrigger: { secret: 'short' } } })).rejects.toThrow(ValidationError);
    });
  });

  describe('setup', () => {
    it.runIf(adapter === 'express')(
      'Express: a prefix option is refused at setup, saying to mount the router with app.use',
      async () => {
        const { notifier } = await setup();
        const { olchatRouter } = await import('@olchat-kit/express');
        // @ts-expect-error the Express options have no prefix: the path is where the app mounts the router
        const mount = () => olchatRouter(notifier, { prefix: '/olchat' });
        expect(mount).toThrow(ValidationError);
        expect(mount).toThrow("app.use('/olchat', olchatRouter(");
      },
    );
  });

  describe('bodies', () => {
    it('413 payload_too_large, by declared length and while streaming', async () => {
      const { http, notifier } = await setup({ router: { maxBodyBytes: 1024 } });
      const big = { ...valid, name: 'x'.repeat(2000) };
      const declared = await http.post('/olchat/forms/order').send(big);
      expect(declared.status).toBe(413);
      expect(declared.body).toMatchObject({ error: 'payload_too_large', message: expect.any(String) });
      const atLimit = await http.post('/olchat/forms/order').send({ ...valid, name: 'x'.repeat(900) });
      expect(atLimit.status).toBe(202);
      expect(notifier.stats().queued + notifier.stats().sending + notifier.stats().sent).toBe(1);
    });

    it('413 as soon as a chunked body passes the limit, without waiting for the rest', async () => {
      const { url } = await setup({ router: { maxBodyBytes: 1024 } });
      const { port } = new URL(url);
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/olchat/forms/order',
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
              body += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        // Two kilobytes, then nothing: the answer must come while the request is still open.
        req.write(`{"name":"${'x'.repeat(2048)}`);
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body).error).toBe('payload_too_large');
    });

    it('a client gone in the middle of its body: nothing queued, the request settles, the server goes on', async () => {
      const logged: unknown[] = [];
      const logger = { error: (obj: object) => logged.push(obj) };
      const { url, http, notifier } = await setup({ router: { logger } });
      const { port } = new URL(url);
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        'POST /olchat/forms/order HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":"Ан',
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
      // The half-read body ends the handler's read with an error (reported, as any unexpected one), not a wait forever.
      await vi.waitFor(() => expect(logged).toHaveLength(1), { timeout: 5000 });
      expect(nothingQueued(notifier)).toBe(true);
      expect((await http.post('/olchat/forms/order').send(valid)).status).toBe(202);
    });

    it.each([
      ['text/plain', 'name=x'],
      ['multipart/form-data; boundary=x', '--x--'],
      ['application/json; charset=latin1', '{}'],
      ['application/xml', '<a/>'],
    ])('415 unsupported_media_type for %s', async (type, body) => {
      const { http } = await setup();
      const res = await http.post('/olchat/forms/order').set('Content-Type', type).send(body);
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ error: 'unsupported_media_type', message: expect.any(String) });
    });

    it('415 for a compressed body', async () => {
      const { http } = await setup();
      const res = await http
        .post('/olchat/forms/order')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip')
        .send('{}');
      expect(res.status).toBe(415);
    });

    it('400 malformed_body for bad JSON, invalid UTF-8 and bad percent-encoding', async () => {
      const { http, notifier, url } = await setup();
      const json = await http.post('/olchat/forms/order').set('Content-Type', 'application/json').send('{"name":');
      expect(json.status).toBe(400);
      expect(json.body).toMatchObject({ error: 'malformed_body', message: expect.any(String) });
      const bytes = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
      const utf8 = await rawRequest(url, {
        path: '/olchat/forms/order',
        headers: { 'content-type': 'application/json' },
        body: bytes,
      });
      expect(utf8.status).toBe(400);
      expect(JSON.parse(utf8.text).error).toBe('malformed_body');
      const percent = await http.post('/olchat/forms/order').type('form').send('name=%FF%FE&phone=1');
      expect(percent.status).toBe(400);
      expect(percent.body.error).toBe('malformed_body');
      expect(nothingQueued(notifier)).toBe(true);
    });

    it('prototype keys: 400 malformed_body in JSON (escaped too) and urlencoded bodies, on every route', async () => {
      const { http, notifier } = await setup();
      const fields = `"name":"Ann","phone":"${PHONE}","orderId":"7"`;
      const json = [
        `{"__proto__":{"polluted":"yes"},${fields}}`,
        `{"constructor":{"prototype":{"polluted":"yes"}},${fields}}`,
        `{"\\u005f_proto__":{"polluted":"yes"},${fields}}`,
        `{"__pr\\u006Fto__":{"polluted":"yes"},${fields}}`,
        `{"\\u0063onstructor":{"prot\\u006ftype":{"polluted":"yes"}},${fields}}`,
        `{"items":[{"deep":{"__proto__":{"polluted":"yes"}}}],${fields}}`,
      ];
      const form = `name=Ann&phone=${encodeURIComponent(PHONE)}&orderId=7`;
      const urlencoded = [
        `__proto__=x&${form}`,
        `constructor=x&${form}`,
        `prototype=x&${form}`,
        `%5F%5Fproto%5F%5F=x&${form}`,
        `__proto__[polluted]=yes&${form}`,
        `a[constructor][prototype][polluted]=yes&${form}`,
      ];
      const cases = [
        ...json.map((body) => ['application/json', body] as const),
        ...urlencoded.map((body) => ['application/x-www-form-urlencoded', body] as const),
      ];
      // Read by the handler itself, and (JSON) left by the app's own body parser: refused either way.
      const ownReader = ['/olchat/forms/order', '/olchat/forms/callback', '/order', '/callback'];
      const appParser = ['/parsed/forms/order', '/parsed/forms/callback', '/order-parsed'];
      const requests = [
        ...ownReader.flatMap((path) => cases.map(([type, body]) => ({ path, type, body }))),
        ...appParser.flatMap((path) => json.map((body) => ({ path, type: 'application/json', body }))),
      ];
      for (const { path, type, body } of requests) {
        const res = await http.post(path).set('Content-Type', type).send(body);
        expect(res.status, `${path} ${body}`).toBe(400);
        expect(res.body, `${path} ${body}`).toMatchObject({ error: 'malformed_body', message: expect.any(String) });
      }
      expect(nothingQueued(notifier)).toBe(true);
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('the words themselves are fine: in values, and a constructor key without prototype', async () => {
      const { http, emu } = await setup();
      const json = `{"name":"__proto__ constructor prototype","constructor":"x","phone":"${PHONE}","orderId":"7"}`;
      for (const path of ['/olchat/forms/order', '/order', '/parsed/forms/order']) {
        const res = await http.post(path).set('Content-Type', 'application/json').send(json);
        expect(res.status, path).toBeLessThan(300);
      }
      const form = `name=${encodeURIComponent('__proto__')}&phone=${encodeURIComponent(PHONE)}&orderId=8`;
      expect((await http.post('/olchat/forms/order').type('form').send(form)).status).toBe(202);
      expect((await emu.waitForMessages(4)).map((m) => m.text)).toContain(
        'Здравствуйте, __proto__! Мы получили заказ №8',
      );
    });

    it('400 malformed_body for a body nested deeper than 32 levels, however it was read; 32 levels pass', async () => {
      const { http, emu, notifier } = await setup();
      const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
      const withExtra = (levels: number) =>
        `{"name":"Ann","phone":"${PHONE}","orderId":"1","extra":${nested(levels - 1)}}`;
      const deep = [nested(32_000), withExtra(33), `{"a":${'{"a":'.repeat(40)}1${'}'.repeat(41)}`];
      const paths = ['/olchat/forms/order', '/order', '/parsed/forms/order', '/order-parsed'];
      for (const path of paths) {
        for (const body of deep) {
          const res = await http.post(path).set('Content-Type', 'application/json').send(body);
          expect(res.status, `${path} ${body.length}`).toBe(400);
          expect(res.body.error, path).toBe('malformed_body');
        }
      }
      expect(nothingQueued(notifier)).toBe(true);
      // Brackets inside strings are text, not nesting.
      const quoted = `{"name":"${'[{'.repeat(40)}\\"${'['.repeat(40)}","phone":"${PHONE}","orderId":"2"}`;
      for (const body of [withExtra(32), quoted]) {
        const res = await http.post('/olchat/forms/order').set('Content-Type', 'application/json').send(body);
        expect(res.status).toBe(202);
      }
      expect(await emu.waitForMessages(2)).toHaveLength(2);
    });

    it('a honeypot field nested 12 000 deep: 400 malformed_body, not a 500', async () => {
      const { http, notifier } = await setup({
        router: { honeypot: 'website' },
        notifyOptions: { honeypot: 'website' },
      });
      const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
      try {
        const levels = 12_000;
        const body = `{"name":"Ann","phone":"${PHONE}","orderId":"1","website":${'['.repeat(levels)}${']'.repeat(levels)}}`;
        for (const path of ['/olchat/forms/order', '/order', '/parsed/forms/order']) {
          const res = await http.post(path).set('Content-Type', 'application/json').send(body);
          expect(res.status, path).toBe(400);
          expect(res.body.error, path).toBe('malformed_body');
        }
        expect(spy).not.toHaveBeenCalled();
      } finally {
        spy.mockRestore();
      }
      expect(nothingQueued(notifier)).toBe(true);
    });
  });

  describe('POST /messages and GET /messages/:id', () => {
    it('without apiKey the routes are off: 404 disabled', async () => {
      const { http } = await setup();
      const post = await http.post('/olchat/messages').send({ phone: PHONE, text: 'hi' });
      expect(post.status).toBe(404);
      expect(post.body).toMatchObject({ error: 'disabled', message: expect.any(String) });
      const get = await http.get('/olchat/messages/whatever').set('Authorization', `Bearer ${API_KEY}`);
      expect(get.status).toBe(404);
      expect(get.body.error).toBe('disabled');
    });

    it('a missing or wrong key: 401 unauthorized, nothing queued', async () => {
      const { http, notifier } = await setup({ router: { apiKey: API_KEY } });
      for (const auth of [
        undefined,
        `Bearer ${API_KEY}x`,
        `Basic ${API_KEY}`,
        'Bearer',
        `Bearer ${API_KEY.slice(1)}`,
      ]) {
        const req = http.post('/olchat/messages');
        if (auth) req.set('Authorization', auth);
        const res = await req.send({ phone: PHONE, text: 'hi' });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
      }
      const get = await http.get('/olchat/messages/x').set('Authorization', 'Bearer nope');
      expect(get.status).toBe(401);
      expect(nothingQueued(notifier)).toBe(true);
    });

    it('sends ad-hoc text and file messages, reports their status, honours Idempotency-Key', async () => {
      const { http, emu } = await setup({ router: { apiKey: API_KEY } });
      const auth = `Bearer ${API_KEY}`;
      const text = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: PHONE, text: 'Оплата получена' });
      expect(text.status).toBe(202);
      expect(text.body).toEqual({ id: expect.any(String), status: 'queued' });
      const file = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: PHONE, file: { url: 'https://shop.example/invoice.pdf', caption: 'Счёт' } });
      expect(file.status).toBe(202);
      await emu.waitForMessages(2);
      await vi.waitFor(async () => {
        const status = await http.get(`/olchat/messages/${text.body.id}`).set('Authorization', auth);
        expect(status.status).toBe(200);
        expect(status.body).toMatchObject({ id: text.body.id, status: 'sent', attempts: 1 });
      });
      const again = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .set('Idempotency-Key', 'crm-1')
        .send({ phone: PHONE, text: 'once' });
      const twice = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .set('Idempotency-Key', 'crm-1')
        .send({ phone: PHONE, text: 'once' });
      expect(twice.body.id).toBe(again.body.id);
      expect((await emu.waitForMessages(3)).filter((m) => m.text === 'once')).toHaveLength(1);
      const missing = await http.get('/olchat/messages/no-such-id').set('Authorization', auth);
      expect(missing.status).toBe(404);
      expect(missing.body.error).toBe('not_found');
      const bad = await http.post('/olchat/messages').set('Authorization', auth).send({ phone: PHONE });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('invalid_input');
    });

    it('is not inbound-limited', async () => {
      const { http } = await setup({ router: { apiKey: API_KEY }, inboundLimits: {} });
      for (let i = 0; i < 12; i++) {
        const res = await http
          .post('/olchat/messages')
          .set('Authorization', `Bearer ${API_KEY}`)
          .send({ phone: `+7 912 345 67 ${String(10 + i)}`, text: `n${i}` });
        expect(res.status).toBe(202);
      }
    });
  });

  describe('/messages: scheduling, deadlines, lanes, replace keys and meta', () => {
    const auth = `Bearer ${API_KEY}`;
    /** `ms` written as a Moscow wall-clock time with its offset, as a CRM in Moscow would send it. */
    const moscow = (ms: number) => new Date(ms + 3 * 3600_000).toISOString().replace('Z', '+03:00');

    it('POST takes sendAt, notAfter, priority, replaceKey and meta; GET answers the full record', async () => {
      const { http, emu } = await setup({ router: { apiKey: API_KEY } });
      const sendAt = Date.now() + 3_600_000;
      const notAfter = sendAt + 1_800_000;
      const meta = { visitId: 'v-17', source: '1C' };
      const res = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({
          phone: PHONE,
          text: 'Напоминаем о приёме',
          sendAt: moscow(sendAt),
          notAfter: new Date(notAfter).toISOString(),
          priority: 'high',
          replaceKey: 'visit:v-17',
          meta,
        });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ id: expect.any(String), status: 'scheduled' });
      const record = await http.get(`/olchat/messages/${res.body.id}`).set('Authorization', auth);
      expect(record.status).toBe(200);
      expect(record.body).toMatchObject({
        id: res.body.id,
        status: 'scheduled',
        phone: '79123456789',
        priority: 'high',
        sendAt,
        notAfter,
        replaceKey: 'visit:v-17',
        meta,
        attempts: 0,
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
      });
      // The visit moved: the same replaceKey cancels the pending reminder and schedules the new one.
      const moved = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: PHONE, text: 'Приём перенесён', sendAt: moscow(sendAt + 86_400_000), replaceKey: 'visit:v-17' });
      expect(moved.status).toBe(202);
      expect(moved.body.id).not.toBe(res.body.id);
      const old = await http.get(`/olchat/messages/${res.body.id}`).set('Authorization', auth);
      expect(old.body.status).toBe('cancelled');
      // Nothing is sent before its time; a message without sendAt goes now, in its lane.
      const now = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: PHONE, text: 'Заказ готов', priority: 'low' });
      expect(now.body.status).toBe('queued');
      expect((await emu.waitForMessages(1)).map((m) => m.text)).toEqual(['Заказ готов']);
    });

    it('a notAfter already past, or a sendAt at or after notAfter: 202 and the message ends expired, its key freed', async () => {
      const { http, emu } = await setup({ router: { apiKey: API_KEY } });
      const post = (body: object) =>
        http
          .post('/olchat/messages')
          .set('Authorization', auth)
          .set('Idempotency-Key', 'crm-77')
          .send({ phone: PHONE, text: 'Напоминаем о приёме', ...body });
      const past = await post({ notAfter: '2020-01-01T00:00:00Z' });
      expect(past.status).toBe(202);
      expect(past.body).toEqual({ id: expect.any(String), status: 'expired' });
      const record = await http.get(`/olchat/messages/${past.body.id}`).set('Authorization', auth);
      expect(record.body).toMatchObject({ status: 'expired', notAfter: Date.parse('2020-01-01T00:00:00Z') });
      expect(record.body.error.code).toBe('EXPIRED');
      // Never sent, so its idempotency key is free: the same key makes a new message.
      const hour = Date.now() + 3_600_000;
      const inverted = await post({ sendAt: moscow(hour + 60_000), notAfter: moscow(hour) });
      expect(inverted.status).toBe(202);
      expect(inverted.body).toEqual({ id: expect.any(String), status: 'expired' });
      expect(inverted.body.id).not.toBe(past.body.id);
      expect(emu.messages).toHaveLength(0);
    });

    it.each([
      ['sendAt', 'a time without a zone', '2030-11-28T10:00:00'],
      ['sendAt', 'a date alone', '2030-11-28'],
      ['sendAt', 'a Russian-style date', '28.11.2030 10:00'],
      ['sendAt', 'epoch ms', 1_924_000_000_000],
      ['sendAt', '30 February', '2030-02-30T10:00:00Z'],
      ['sendAt', 'hour 24', '2030-11-28T24:00:00+03:00'],
      ['notAfter', 'an empty string', ''],
      ['notAfter', 'null', null],
      ['notAfter', 'an object', { date: '2030-11-28T10:00:00Z' }],
      ['priority', 'an unknown lane', 'urgent'],
      ['replaceKey', 'an empty key', ''],
      ['meta', 'an array', ['a']],
      ['meta', 'over 4 KiB of JSON', { note: 'x'.repeat(5000) }],
    ])('400 invalid_input naming %s for %s, nothing queued', async (field, _case, value) => {
      const { http, notifier } = await setup({ router: { apiKey: API_KEY } });
      const res = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: PHONE, text: 'hi', [field]: value });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_input', message: expect.any(String) });
      expect(res.body.issues).toEqual([{ path: field, message: expect.any(String) }]);
      expect(nothingQueued(notifier)).toBe(true);
      expect(notifier.stats().scheduled).toBe(0);
    });

    it('a form never chooses its schedule, deadline, lane, replace key or meta: the rule decides', async () => {
      const SECRET = 'form-options-secret-0123';
      const { http, emu, notifier } = await setup({ router: { queryTrigger: { secret: SECRET } } });
      const later = new Date(Date.now() + 3_600_000).toISOString();
      // The callback rule has no schema: these fields reach its data, and must go no further.
      const fields = { sendAt: later, notAfter: later, priority: 'low', replaceKey: 'r-1', meta: 'x' };
      const answers = [
        await http.post('/olchat/forms/callback').send({ name: 'Анна', phone: PHONE, ...fields, meta: { a: 1 } }),
        await http
          .post('/olchat/forms/callback')
          .type('form')
          .send(form({ name: 'Анна', phone: PHONE, ...fields })),
        await http.get(`/olchat/forms/callback?${form({ secret: SECRET, name: 'Анна', phone: PHONE, ...fields })}`),
      ];
      const viaNotify = await http.post('/callback').send({ name: 'Анна', phone: PHONE, ...fields });
      const jobs = [...answers.map((res) => res.body), viaNotify.body.job];
      for (const job of jobs) {
        expect(job).toEqual({ id: expect.any(String), status: 'queued' });
        const record = await notifier.get(job.id);
        expect(record).toMatchObject({ priority: 'normal' });
        expect(record?.sendAt).toBeUndefined();
        expect(record?.notAfter).toBeUndefined();
        expect(record?.replaceKey).toBeUndefined();
        expect(record?.meta).toBeUndefined();
      }
      expect(await emu.waitForMessages(4)).toHaveLength(4);
    });

    it('a reused Idempotency-Key of a cancelled or expired message makes a new one; of a sent one, not', async () => {
      const { http, emu } = await setup({
        router: { apiKey: API_KEY },
        notifier: { backoff: { minMs: 20, maxMs: 100 }, line: { probeMinMs: 50, probeMaxMs: 200 } },
      });
      const post = (key: string, body: object) =>
        http.post('/olchat/messages').set('Authorization', auth).set('Idempotency-Key', key).send(body);
      const get = (id: string) => http.get(`/olchat/messages/${id}`).set('Authorization', auth);

      const scheduled = await post('crm-7', { phone: PHONE, text: 'first', sendAt: moscow(Date.now() + 3_600_000) });
      expect((await post('crm-7', { phone: PHONE, text: 'first' })).body).toEqual(scheduled.body);
      expect((await http.delete(`/olchat/messages/${scheduled.body.id}`).set('Authorization', auth)).status).toBe(200);
      const afterCancel = await post('crm-7', { phone: PHONE, text: 'second' });
      expect(afterCancel.status).toBe(202);
      expect(afterCancel.body).toEqual({ id: expect.any(String), status: 'queued' });
      expect(afterCancel.body.id).not.toBe(scheduled.body.id);
      await emu.waitForMessages(1);

      // OLChat answers 503 until the deadline passes: the message expires, never sent, and frees its key.
      emu.fail('503', Number.POSITIVE_INFINITY);
      const doomed = await post('crm-8', { phone: PHONE, text: 'third', notAfter: moscow(Date.now() + 2_000) });
      expect(doomed.status).toBe(202);
      await vi.waitFor(async () => expect((await get(doomed.body.id)).body.status).toBe('expired'), {
        timeout: 15_000,
        interval: 100,
      });
      emu.clearFaults();
      const afterExpiry = await post('crm-8', { phone: PHONE, text: 'third' });
      expect(afterExpiry.body.id).not.toBe(doomed.body.id);
      expect(afterExpiry.body.status).toBe('queued');
      await vi.waitFor(async () => expect((await get(afterExpiry.body.id)).body.status).toBe('sent'), {
        timeout: 15_000,
        interval: 100,
      });
      // Sent keeps its key: the replay answers the sent job and nothing more goes out.
      const replay = await post('crm-8', { phone: PHONE, text: 'third' });
      expect(replay.body).toEqual({ id: afterExpiry.body.id, status: 'sent' });
      expect(emu.messages.map((m) => m.text)).toEqual(['second', 'third']);
    });
  });

  describe('DELETE /messages/:id and POST /messages/:id/retry', () => {
    const auth = `Bearer ${API_KEY}`;

    it('DELETE cancels a scheduled or queued message: 200 { id, status: cancelled }; 404 unknown; 409 once sent', async () => {
      const { http, emu, notifier } = await setup({
        router: { apiKey: API_KEY },
        // One send a minute: after the first, messages stay queued.
        clientLimits: { sendText: { points: 1, durationMs: 60_000 } },
      });
      const send = (body: object) => http.post('/olchat/messages').set('Authorization', auth).send(body);
      const cancel = (id: string) => http.delete(`/olchat/messages/${id}`).set('Authorization', auth);
      const sent = await send({ phone: PHONE, text: 'goes out' });
      await emu.waitForMessages(1);
      await statusBecomes(notifier, sent.body.id, 'sent');
      const queued = await send({ phone: PHONE, text: 'waits for its slot' });
      const scheduled = await send({
        phone: PHONE,
        text: 'tomorrow',
        sendAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
      expect([queued.body.status, scheduled.body.status]).toEqual(['queued', 'scheduled']);

      for (const id of [queued.body.id, scheduled.body.id]) {
        const res = await cancel(id);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ id, status: 'cancelled' });
        expect((await http.get(`/olchat/messages/${id}`).set('Authorization', auth)).body.status).toBe('cancelled');
        const twice = await cancel(id);
        expect(twice.status).toBe(409);
        expect(twice.body).toEqual({ error: 'conflict', message: expect.stringContaining('cancelled') });
      }
      const late = await cancel(sent.body.id);
      expect(late.status).toBe(409);
      expect(late.body).toEqual({ error: 'conflict', message: expect.stringContaining('sent') });
      const unknown = await cancel('no-such-id');
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toBe('not_found');
      expect((await http.delete(`/olchat/messages/${queued.body.id}`)).status).toBe(401);
      expect(emu.messages).toHaveLength(1);
    });

    it('DELETE while the message is being sent: 409, and the send completes', async () => {
      const { http, emu, notifier } = await setup({ router: { apiKey: API_KEY } });
      emu.setLatency(2_000); // a wide window to cancel in, however loaded the machine
      const res = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: PHONE, text: 'in flight' });
      await vi.waitFor(async () => expect((await notifier.get(res.body.id))?.status).toBe('sending'), {
        timeout: 5_000,
        interval: 5,
      });
      const cancel = await http.delete(`/olchat/messages/${res.body.id}`).set('Authorization', auth);
      expect(cancel.status).toBe(409);
      expect(cancel.body).toEqual({ error: 'conflict', message: expect.stringContaining('sending') });
      await vi.waitFor(async () => expect((await notifier.get(res.body.id))?.status).toBe('sent'), {
        timeout: 10_000,
        interval: 50,
      });
      expect(emu.messages.map((m) => m.text)).toEqual(['in flight']);
    });

    it('retry puts a failed message back in line: 202 { id, status }, then sent; 404 unknown; 409 when not failed', async () => {
      const { http, emu, notifier } = await setup({ router: { apiKey: API_KEY } });
      const retry = (id: string, body?: object) => {
        const req = http.post(`/olchat/messages/${id}/retry`).set('Authorization', auth);
        return body === undefined ? req : req.send(body);
      };
      emu.fail('500', 1);
      const res = await http.post('/olchat/messages').set('Authorization', auth).send({ phone: PHONE, text: 'again' });
      await statusBecomes(notifier, res.body.id, 'failed');
      expect((await retry(res.body.id, { ambiguous: 'yes' })).body).toMatchObject({
        error: 'invalid_input',
        issues: [{ path: 'ambiguous', message: expect.any(String) }],
      });
      const again = await retry(res.body.id);
      expect(again.status).toBe(202);
      expect(again.body).toEqual({ id: res.body.id, status: 'queued' });
      await statusBecomes(notifier, res.body.id, 'sent');
      expect(emu.messages.map((m) => m.text)).toEqual(['again']);
      const sent = await retry(res.body.id);
      expect(sent.status).toBe(409);
      expect(sent.body).toEqual({ error: 'conflict', message: expect.stringContaining('sent') });
      const unknown = await retry('no-such-id');
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toBe('not_found');
      expect((await http.post(`/olchat/messages/${res.body.id}/retry`)).status).toBe(401);
    });

    it('retry of an AMBIGUOUS message: 409 unless { ambiguous: true }, which sends it again', async () => {
      const { http, emu, notifier } = await setup({ router: { apiKey: API_KEY } });
      emu.fail('drop', 1);
      const res = await http.post('/olchat/messages').set('Authorization', auth).send({ phone: PHONE, text: 'maybe' });
      await statusBecomes(notifier, res.body.id, 'failed');
      expect((await notifier.get(res.body.id))?.error?.code).toBe('AMBIGUOUS');
      // Behind the app's own body parser too: no body, then a JSON one.
      for (const prefix of ['/olchat', '/parsed']) {
        const refused = await http.post(`${prefix}/messages/${res.body.id}/retry`).set('Authorization', auth);
        expect(refused.status).toBe(409);
        expect(refused.body).toEqual({ error: 'conflict', message: expect.stringContaining('ambiguous') });
      }
      const forced = await http
        .post(`/parsed/messages/${res.body.id}/retry`)
        .set('Authorization', auth)
        .send({ ambiguous: true });
      expect(forced.status).toBe(202);
      await statusBecomes(notifier, res.body.id, 'sent');
    });

    it('methods: 405 with Allow on each route; a CORS preflight allows DELETE and the retry POST', async () => {
      const { http } = await setup({ router: { apiKey: API_KEY, cors: { origin: 'https://crm.example' } } });
      const put = await http.put('/olchat/messages/x').set('Authorization', auth);
      expect(put.status).toBe(405);
      expect(put.headers.allow).toBe('GET, HEAD, DELETE, OPTIONS');
      const getRetry = await http.get('/olchat/messages/x/retry').set('Authorization', auth);
      expect(getRetry.status).toBe(405);
      expect(getRetry.headers.allow).toBe('POST, OPTIONS');
      expect((await http.delete('/olchat/messages').set('Authorization', auth)).headers.allow).toBe('POST, OPTIONS');
      expect((await http.post('/olchat/messages/x/other').set('Authorization', auth)).body.error).toBe('app_not_found');
      for (const [path, method] of [
        ['/olchat/messages/x', 'DELETE'],
        ['/olchat/messages/x/retry', 'POST'],
      ] as const) {
        const preflight = await http
          .options(path)
          .set('Origin', 'https://crm.example')
          .set('Access-Control-Request-Method', method);
        expect(preflight.status).toBe(204);
        expect(preflight.headers['access-control-allow-origin']).toBe('https://crm.example');
        expect(preflight.headers['access-control-allow-methods']).toContain(method);
        expect(preflight.headers['access-control-allow-headers']).toContain('Authorization');
      }
    });
  });

  describe('operators: /lanes and POST /messages/cancel', () => {
    const auth = `Bearer ${API_KEY}`;

    it('pausing a lane holds its messages (high still goes); resuming sends them; GET /lanes says which', async () => {
      const { http, emu } = await setup({ router: { apiKey: API_KEY } });
      const send = (text: string, priority: string) =>
        http.post('/olchat/messages').set('Authorization', auth).send({ phone: PHONE, text, priority });
      const paused = await http.post('/olchat/lanes/low/pause').set('Authorization', auth);
      expect(paused.status).toBe(200);
      expect(paused.body.lanes).toEqual({
        high: { open: true, paused: false },
        normal: { open: true, paused: false },
        low: { open: false, paused: true },
      });
      expect(paused.body.line).toMatchObject({ state: expect.any(String) });
      expect((await send('campaign', 'low')).body.status).toBe('queued');
      expect((await send('order', 'high')).body.status).toBe('queued');
      await emu.waitForMessages(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(emu.messages.map((m) => m.text)).toEqual(['order']);
      const lanes = await http.get('/olchat/lanes').set('Authorization', auth);
      expect(lanes.status).toBe(200);
      expect(lanes.body.lanes.low.paused).toBe(true);

      const resumed = await http.post('/olchat/lanes/LOW/resume').set('Authorization', auth);
      expect(resumed.status).toBe(200);
      expect(resumed.body.lanes.low).toEqual({ open: true, paused: false });
      expect((await emu.waitForMessages(2)).map((m) => m.text)).toEqual(['order', 'campaign']);

      expect((await http.post('/olchat/lanes/pause').set('Authorization', auth)).body.lanes.high.paused).toBe(true);
      const all = await http.post('/olchat/lanes/resume').set('Authorization', auth);
      expect(Object.values(all.body.lanes).every((lane) => (lane as { open: boolean }).open)).toBe(true);
    });

    it('POST /messages/cancel cancels the pending messages a filter matches: 200 { cancelled }', async () => {
      const { http, notifier } = await setup({ router: { apiKey: API_KEY } });
      await notifier.pause();
      const send = (text: string, priority: string) =>
        http.post('/olchat/messages').set('Authorization', auth).send({ phone: PHONE, text, priority });
      for (let i = 0; i < 3; i++) await send(`campaign ${i}`, 'low');
      const keep = await send('reminder', 'normal');
      const cancel = (body?: object) => {
        const req = http.post('/olchat/messages/cancel').set('Authorization', auth);
        return body === undefined ? req : req.send(body);
      };
      const res = await cancel({ priority: 'low', status: 'queued' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ cancelled: 3 });
      expect((await cancel({ priority: 'low' })).body).toEqual({ cancelled: 0 });
      expect((await notifier.get(keep.body.id))?.status).toBe('queued');
      expect((await cancel()).body).toEqual({ cancelled: 1 });
    });

    it('refuses what it does not know: 400 for a bad filter, 404 for an unknown lane, 401 without the key, 405 for GET', async () => {
      const { http } = await setup({ router: { apiKey: API_KEY } });
      const bad = await http.post('/olchat/messages/cancel').set('Authorization', auth).send({ priority: 'urgent' });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: 'invalid_input', issues: [{ path: 'priority' }] });
      const unknown = await http.post('/olchat/lanes/urgent/pause').set('Authorization', auth);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toBe('not_found');
      expect((await http.post('/olchat/lanes/low/pause')).status).toBe(401);
      expect((await http.post('/olchat/messages/cancel').send({})).status).toBe(401);
      const get = await http.get('/olchat/messages/cancel').set('Authorization', auth);
      expect(get.status).toBe(405);
      expect(get.headers.allow).toBe('POST, OPTIONS');
    });
  });

  describe('people: /suppressions/:phone and /replies', () => {
    const auth = `Bearer ${API_KEY}`;
    const REPLY_SECRET = 'b24-reply-secret-4e8d21';

    it('apiKey routes: 404 disabled without one, 401 with a wrong one', async () => {
      const off = await setup();
      for (const req of [
        off.http.get('/olchat/suppressions/79123456789'),
        off.http.put('/olchat/suppressions/79123456789').send({}),
        off.http.post('/olchat/replies').send({ phone: PHONE }),
      ]) {
        const res = await req.set('Authorization', auth);
        expect(res.status).toBe(404);
        expect(res.body.error).toBe('disabled');
      }
      const on = await setup({ router: { apiKey: API_KEY } });
      const wrong = await on.http.put('/olchat/suppressions/79123456789').set('Authorization', 'Bearer nope').send({});
      expect(wrong.status).toBe(401);
      expect((await on.http.post('/olchat/replies').send({ phone: PHONE, text: 'stop' })).status).toBe(401);
      expect(await on.notifier.suppressed(PHONE)).toBeUndefined();
    });

    it('PUT, GET and DELETE a suppression by a phone in any spelling; its jobs are skipped', async () => {
      const { http, emu, notifier } = await setup({ router: { apiKey: API_KEY } });
      const put = await http
        .put(`/olchat/suppressions/${encodeURIComponent(PHONE)}`)
        .set('Authorization', auth)
        .send({ scope: 'all', reason: 'asked at the counter' });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({ scope: 'all', reason: 'asked at the counter', at: expect.any(Number) });
      const got = await http.get('/olchat/suppressions/89123456789').set('Authorization', auth);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(put.body);
      expect((await http.head('/olchat/suppressions/+79123456789').set('Authorization', auth)).status).toBe(200);
      // Everything to the phone is skipped now: an API message, and a form.
      const message = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: PHONE, text: 'Чек' });
      expect(message.body).toEqual({ id: expect.any(String), status: 'skipped' });
      const form = await http.post('/olchat/forms/order').send(valid);
      expect(form.status).toBe(202);
      expect(form.body.status).toBe('skipped');
      expect(await notifier.get(form.body.id)).toMatchObject({ reason: 'suppressed' });

      const removed = await http.delete('/olchat/suppressions/7%20912%20345%2067%2089').set('Authorization', auth);
      expect(removed.status).toBe(204);
      const gone = await http.get('/olchat/suppressions/79123456789').set('Authorization', auth);
      expect(gone.status).toBe(404);
      expect(gone.body.error).toBe('not_found');
      expect((await http.delete('/olchat/suppressions/79123456789').set('Authorization', auth)).status).toBe(204);
      const after = await http.post('/olchat/forms/order').send({ ...valid, orderId: '43' });
      expect(after.body.status).toBe('queued');
      expect(await emu.waitForMessages(1)).toHaveLength(1);
    });

    it("PUT without a body suppresses marketing only; an urlencoded one and the app's parser work too", async () => {
      const { http, notifier } = await setup({ router: { apiKey: API_KEY } });
      const bare = await http.put('/olchat/suppressions/79123456781').set('Authorization', auth);
      expect(bare.status).toBe(200);
      expect(bare.body).toEqual({ scope: 'marketing', at: expect.any(Number) });
      const marketing = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: '79123456781', text: 'Акция', category: 'marketing' });
      expect(marketing.body.status).toBe('skipped');
      const lowLane = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: '79123456781', text: 'Акция', priority: 'low' });
      expect(lowLane.body.status).toBe('skipped');
      const receipt = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: '79123456781', text: 'Чек' });
      expect(receipt.body.status).toBe('queued');
      const form = await http
        .put('/olchat/suppressions/79123456782')
        .set('Authorization', auth)
        .type('form')
        .send('scope=all&reason=1C');
      expect(form.body).toMatchObject({ scope: 'all', reason: '1C' });
      const parsed = await http
        .put('/parsed/suppressions/79123456783')
        .set('Authorization', auth)
        .send({ scope: 'all' });
      expect(parsed.body.scope).toBe('all');
      expect(await notifier.suppressed('79123456783')).toMatchObject({ scope: 'all' });
    });

    it('a bad phone, scope, reason or body: 400 invalid_input with issues', async () => {
      const { http } = await setup({ router: { apiKey: API_KEY } });
      const put = (phone: string, body: unknown) =>
        http
          .put(`/olchat/suppressions/${phone}`)
          .set('Authorization', auth)
          .send(body as object);
      const cases = [
        [await put('12345', {}), 'phone'],
        [await put('79123456789', { scope: 'everything' }), 'scope'],
        [await put('79123456789', { reason: 'x'.repeat(201) }), 'reason'],
        [await put('79123456789', ['all']), ''],
        [await http.get('/olchat/suppressions/%E0%A4%A').set('Authorization', auth), 'phone'],
        [await http.post('/olchat/replies').set('Authorization', auth).send({ text: 'stop' }), 'phone'],
        [await http.post('/olchat/replies').set('Authorization', auth).send({ phone: PHONE, text: 1 }), 'text'],
      ] as const;
      for (const [res, path] of cases) {
        expect(res.status, path).toBe(400);
        expect(res.body, path).toMatchObject({ error: 'invalid_input', issues: [{ path }] });
      }
    });

    it('POST /replies counts a reply and a STOP suppresses marketing: campaigns skipped, receipts still sent', async () => {
      const { http, emu } = await setup({ router: { apiKey: API_KEY } });
      const reply = await http
        .post('/olchat/replies')
        .set('Authorization', auth)
        .send({ phone: PHONE, text: 'Спасибо!' });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ counted: true, stopWord: false });
      expect((await http.get('/olchat/suppressions/79123456789').set('Authorization', auth)).status).toBe(404);
      const stop = await http
        .post('/olchat/replies')
        .set('Authorization', auth)
        .type('form')
        .send(`phone=${encodeURIComponent('8 912 345-67-89')}&text=${encodeURIComponent('СТОП!')}`);
      expect(stop.body).toEqual({ counted: false, stopWord: true });
      const suppression = await http.get('/olchat/suppressions/79123456789').set('Authorization', auth);
      expect(suppression.body).toMatchObject({ scope: 'marketing', reason: 'stop_word' });
      const campaign = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: PHONE, text: 'Распродажа', priority: 'low' });
      expect(campaign.body.status).toBe('skipped');
      expect((await http.post('/olchat/forms/order').send(valid)).body.status).toBe('queued');
      expect((await emu.waitForMessages(1))[0]?.text).toContain('№42');
    });

    it('GET /replies with queryTrigger: the secret instead of apiKey, for a Bitrix24 robot; 405 without it', async () => {
      const { http, notifier } = await setup({ router: { queryTrigger: { secret: REPLY_SECRET } } });
      // Bitrix24 puts values into the URL as they are: the phone's "+" arrives unencoded.
      const text = encodeURIComponent('Не пишите');
      const res = await http.get(`/olchat/replies?secret=${REPLY_SECRET}&phone=+79123456789&text=${text}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ counted: true, stopWord: true });
      expect(await notifier.suppressed(PHONE)).toMatchObject({ scope: 'marketing', reason: 'stop_word' });
      const parsed = await http.get(`/parsed/replies?secret=${REPLY_SECRET}&phone=79123456780`);
      expect(parsed.body).toEqual({ counted: true, stopWord: false });
      for (const secret of ['', `secret=${REPLY_SECRET}x`, `secret=${REPLY_SECRET}&secret=${REPLY_SECRET}`]) {
        const wrong = await http.get(`/olchat/replies?phone=79123456781&text=stop&${secret}`);
        expect(wrong.status, secret).toBe(401);
        expect(wrong.text).not.toContain(REPLY_SECRET);
      }
      expect(await notifier.suppressed('79123456781')).toBeUndefined();
      const off = await setup({ router: { apiKey: API_KEY } });
      const refused = await off.http.get(`/olchat/replies?secret=${REPLY_SECRET}&phone=79123456789&text=stop`);
      expect(refused.status).toBe(405);
      expect(refused.headers.allow).toBe('POST, OPTIONS');
    });

    it('methods: 405 with Allow', async () => {
      const { http } = await setup({ router: { apiKey: API_KEY } });
      const patch = await http.patch('/olchat/suppressions/79123456789').set('Authorization', auth).send({});
      expect(patch.status).toBe(405);
      expect(patch.headers.allow).toBe('GET, HEAD, PUT, DELETE, OPTIONS');
      const put = await http.put('/olchat/replies').set('Authorization', auth).send({});
      expect(put.status).toBe(405);
      expect(put.headers.allow).toBe('POST, OPTIONS');
      expect((await http.get('/olchat/suppressions').set('Authorization', auth)).body.error).toBe('app_not_found');
    });
  });

  describe('people: DELETE /people/:phone', () => {
    const auth = `Bearer ${API_KEY}`;

    it('404 disabled without apiKey, 401 with a wrong one: nothing is erased', async () => {
      const off = await setup();
      const res = await off.http.delete('/olchat/people/79123456789').set('Authorization', auth);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('disabled');
      const on = await setup({ router: { apiKey: API_KEY } });
      const sent = await on.http.post('/olchat/forms/order').send(valid);
      const wrong = await on.http.delete('/olchat/people/79123456789').set('Authorization', 'Bearer nope');
      expect(wrong.status).toBe(401);
      expect(await on.notifier.get(sent.body.id)).toBeDefined();
    });

    it('erases a phone in any spelling: 200 with the counts and the time; its messages are gone, its suppression kept unless asked', async () => {
      const { http, emu, notifier } = await setup({ router: { apiKey: API_KEY } });
      const sent = await http.post('/olchat/forms/order').send(valid);
      await statusBecomes(notifier, sent.body.id, 'sent');
      const later = await http
        .post('/olchat/messages')
        .set('Authorization', auth)
        .send({ phone: PHONE, text: 'Напоминание', sendAt: new Date(Date.now() + 60_000).toISOString() });
      const other = await http.post('/olchat/forms/order').send({ ...valid, phone: '79001112233' });
      await http.put('/olchat/suppressions/79123456789').set('Authorization', auth).send({});
      const before = Date.now();
      const res = await http
        .delete(`/olchat/people/${encodeURIComponent('8 (912) 345-67-89')}`)
        .set('Authorization', auth);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ jobs: 2, contacts: 1, webhooks: 0, suppressions: 0, at: expect.any(Number) });
      expect(res.body.at).toBeGreaterThanOrEqual(before);
      for (const id of [sent.body.id, later.body.id]) {
        expect((await http.get(`/olchat/messages/${id}`).set('Authorization', auth)).status).toBe(404);
      }
      expect((await http.get(`/olchat/messages/${other.body.id}`).set('Authorization', auth)).status).toBe(200);
      expect((await http.get('/olchat/suppressions/79123456789').set('Authorization', auth)).status).toBe(200);
      const all = await http.delete('/olchat/people/+79123456789?suppression=true').set('Authorization', auth);
      expect(all.body).toMatchObject({ jobs: 0, contacts: 0, suppressions: 1 });
      expect((await http.get('/olchat/suppressions/79123456789').set('Authorization', auth)).status).toBe(404);
      expect(emu.messages.filter((m) => m.phone === '79123456789')).toHaveLength(1);
    });

    it('a bad phone or flag: 400 invalid_input; other methods 405 with Allow', async () => {
      const { http } = await setup({ router: { apiKey: API_KEY } });
      const cases = [
        [await http.delete('/olchat/people/12345').set('Authorization', auth), 'phone'],
        [await http.delete('/olchat/people/%E0%A4%A').set('Authorization', auth), 'phone'],
        [await http.delete('/olchat/people/79123456789?suppression=yes').set('Authorization', auth), 'suppression'],
      ] as const;
      for (const [res, path] of cases) {
        expect(res.status, path).toBe(400);
        expect(res.body, path).toMatchObject({ error: 'invalid_input', issues: [{ path }] });
      }
      const get = await http.get('/olchat/people/79123456789').set('Authorization', auth);
      expect(get.status).toBe(405);
      expect(get.headers.allow).toBe('DELETE, OPTIONS');
    });
  });

  describe('backpressure (maxQueued)', () => {
    it('a full queue: 503 queue_full with Retry-After on every route that queues; nothing queued, no limit spent', async () => {
      const SECRET = 'backpressure-secret-0123';
      const { http, emu, notifier } = await setup({
        router: { apiKey: API_KEY, queryTrigger: { secret: SECRET } },
        notifier: { maxQueued: 3 },
        clientLimits: { sendText: { points: 1, durationMs: 60_000 } },
        // Four submissions per IP and four messages per phone: refusals that spent them would run into 429.
        inboundLimits: { perIp: { points: 4, durationMs: 60_000 }, perPhone: { points: 4, durationMs: 3_600_000 } },
      });
      const auth = `Bearer ${API_KEY}`;
      const first = await http.post('/olchat/forms/order').send(valid);
      expect(first.status).toBe(202);
      await emu.waitForMessages(1);
      await statusBecomes(notifier, first.body.id, 'sent');
      // Three more wait for the next slot, a minute away: the queue is full.
      expect((await http.post('/olchat/forms/order').send({ ...valid, orderId: '2' })).status).toBe(202);
      expect((await http.post('/order').send({ ...valid, orderId: '3' })).status).toBe(200);
      expect(
        (await http.post('/olchat/messages').set('Authorization', auth).send({ phone: PHONE, text: 'x' })).status,
      ).toBe(202);
      const pending = () => notifier.stats().scheduled + notifier.stats().queued + notifier.stats().sending;
      expect(pending()).toBe(3);

      const refused = [
        () => http.post('/olchat/forms/order').send({ ...valid, orderId: '4' }),
        () => http.post('/order').send({ ...valid, orderId: '5' }),
        () => http.get(`/olchat/forms/order?${form({ ...valid, orderId: '6', secret: SECRET })}`),
        () => http.post('/olchat/forms/order').send({ ...valid, orderId: '7' }),
        () => http.post('/olchat/messages').set('Authorization', auth).send({ phone: PHONE, text: 'y' }),
        () =>
          http
            .post('/olchat/messages')
            .set('Authorization', auth)
            .send({ phone: PHONE, text: 'z', sendAt: new Date(Date.now() + 3_600_000).toISOString() }),
      ];
      for (const request of refused) {
        const res = await request();
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ error: 'queue_full', message: expect.any(String) });
        expect(res.body.reached).toBeUndefined();
        expect(res.headers['retry-after']).toBe('60');
      }
      expect(pending()).toBe(3);
      expect(emu.messages).toHaveLength(1);
    });
  });

  describe('inbound limits (on by default)', () => {
    it('per IP: only accepted submissions count; typos give their point back, the 11th counted one gets 429', async () => {
      const { http, emu, notifier } = await setup({ inboundLimits: {}, router: { maxBodyBytes: 1024 } });
      // A customer who mistypes the phone again and again is not locked out, on the router or on notify().
      for (let i = 0; i < 15; i++) {
        const res = await http
          .post(i % 2 === 0 ? '/olchat/forms/order' : '/order')
          .send({ ...valid, phone: `+7 912 345 67 8${i}x` });
        expect(res.status, `typo ${i}`).toBe(400);
        expect(res.body.error).toBe('invalid_input');
      }
      // What counts: accepted forms, and requests that are no form at all (malformed, oversized, wrong type).
      const counted = [
        ...[0, 1, 2, 3].map(
          (i) => () => http.post('/olchat/forms/order').send({ ...valid, phone: `+7 912 345 60 0${i}` }),
        ),
        () => http.post('/order').send({ ...valid, phone: '+7 912 345 60 10' }),
        () => http.post('/olchat/forms/order').set('Content-Type', 'application/json').send('{"name":'),
        () => http.post('/order').set('Content-Type', 'application/json').send('{"__proto__":{}}'),
        () => http.post('/olchat/forms/order').send({ ...valid, name: 'x'.repeat(2000) }),
        () => http.post('/olchat/forms/order').set('Content-Type', 'text/plain').send('hi'),
        () => http.post('/order').set('Content-Type', 'application/xml').send('<a/>'),
      ];
      const statuses = [];
      for (const send of counted) statuses.push((await send()).status);
      expect(statuses).toEqual([202, 202, 202, 202, 200, 400, 400, 413, 415, 415]);
      const res = await http.post('/olchat/forms/order').set('X-Forwarded-For', '198.51.100.7').send(valid);
      expect(res.status).toBe(429);
      expect(res.body).toMatchObject({ error: 'too_many_requests', message: expect.any(String) });
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // The same limit covers notify() on the app's own routes, and a typo now is refused by it too.
      expect((await http.post('/order').send(valid)).status).toBe(429);
      expect((await http.post('/order').send({ ...valid, phone: '1' })).status).toBe(429);
      await emu.waitForMessages(5);
      expect(notifier.stats().sent).toBe(5);
    });

    it('with trustProxy the proxy-appended address counts, not what the client wrote before it', async () => {
      const { http } = await setup({
        inboundLimits: { perIp: { points: 2, durationMs: 60_000 } },
        router: { trustProxy: 1 },
      });
      // Malformed bodies: they count (a typo would give its point back).
      const from = (forwarded: string) =>
        http
          .post('/olchat/forms/order')
          .set('X-Forwarded-For', forwarded)
          .set('Content-Type', 'application/json')
          .send('{');
      expect((await from('1.1.1.1, 198.51.100.1')).status).toBe(400);
      expect((await from('2.2.2.2, 198.51.100.1')).status).toBe(400);
      expect((await from('3.3.3.3, 198.51.100.1')).status).toBe(429);
      expect((await from('198.51.100.2')).status).toBe(400);
    });

    it('per phone: the 6th message to one number in an hour gets 429, however the number is written', async () => {
      const { http, emu, notifier } = await setup({ inboundLimits: { perIp: false } });
      const spellings = ['+7 912 345-67-89', '89123456789', '9123456789', '7 (912) 345 67 89', '+79123456789'];
      for (const [i, phone] of spellings.entries()) {
        const path = i % 2 === 0 ? '/olchat/forms/order' : '/order';
        expect((await http.post(path).send({ ...valid, phone, orderId: String(i) })).status).toBeLessThan(300);
      }
      const sixth = await http.post('/olchat/forms/order').send({ ...valid, orderId: '6' });
      expect(sixth.status).toBe(429);
      expect(sixth.body.error).toBe('too_many_requests');
      expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(60);
      expect((await http.post('/order').send({ ...valid, orderId: '7' })).status).toBe(429);
      expect((await http.post('/olchat/forms/order').send({ ...valid, phone: '+7 701 234 56 78' })).status).toBe(202);
      await emu.waitForMessages(6);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(emu.messages.filter((m) => m.phone === '79123456789')).toHaveLength(5);
      expect(notifier.stats().sent).toBe(6);
    });
  });

  describe('honeypot', () => {
    it('a filled honeypot looks like success and sends nothing; an empty one is ignored', async () => {
      const { http, emu, notifier } = await setup({
        router: { honeypot: 'website', redirect: '/thanks' },
        notifyOptions: { honeypot: 'website' },
      });
      const bot = await http.post('/olchat/forms/order').send({ ...valid, website: 'http://spam.example' });
      expect(bot.status).toBe(202);
      expect(bot.body).toEqual({ id: expect.any(String), status: 'queued' });
      const botForm = await http
        .post('/olchat/forms/order')
        .type('form')
        .send(form({ ...valid, website: 'x' }))
        .redirects(0);
      expect(botForm.status).toBe(303);
      const botNotify = await http.post('/order').send({ ...valid, website: 'x' });
      expect(botNotify.status).toBe(200);
      expect(botNotify.body.job).toEqual({ id: expect.any(String), status: 'queued' });
      expect(nothingQueued(notifier)).toBe(true);
      const person = await http
        .post('/olchat/forms/order')
        .type('form')
        .send(form({ ...valid, website: '' }))
        .redirects(0);
      expect(person.status).toBe(303);
      await emu.waitForMessages(1);
      expect(emu.messages).toHaveLength(1);
    });
  });

  describe('CORS', () => {
    it('answers preflights and marks answers for an allowed origin only', async () => {
      const { http } = await setup({ router: { cors: { origin: 'https://shop.example' } } });
      const preflight = await http
        .options('/olchat/forms/order')
        .set('Origin', 'https://shop.example')
        .set('Access-Control-Request-Method', 'POST');
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://shop.example');
      expect(preflight.headers['access-control-allow-methods']).toContain('POST');
      const other = await http.post('/olchat/forms/order').set('Origin', 'https://evil.example').send({});
      expect(other.status).toBe(400);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      const allowed = await http.post('/olchat/forms/order').set('Origin', 'https://shop.example').send({});
      expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
    });

    it('is off by default and allows any origin with cors: true', async () => {
      const off = await setup();
      const none = await off.http.post('/olchat/forms/order').set('Origin', 'https://a.example').send({});
      expect(none.headers['access-control-allow-origin']).toBeUndefined();
      const on = await setup({ router: { cors: true } });
      const any = await on.http.post('/olchat/forms/order').set('Origin', 'https://a.example').send({});
      expect(any.headers['access-control-allow-origin']).toBe('*');
    });
  });

  describe('GET /health', () => {
    // The line breaker probes every 50–200 ms here, so a line comes back within a test's patience.
    const quickProbes = { line: { probeMinMs: 50, probeMaxMs: 200 } };
    const health = (http: Awaited<ReturnType<typeof setup>>['http']) => http.get('/olchat/health');
    /** Polls /health until it answers `status` (the line breaker notices a recovery by itself). */
    async function healthBecomes(http: Awaited<ReturnType<typeof setup>>['http'], status: number) {
      await vi.waitFor(async () => expect((await health(http)).status).toBe(status), {
        timeout: 10_000,
        interval: 50,
      });
    }

    it('reports the line and the queue, asking OLChat once per cache period', async () => {
      const { http, emu } = await setup();
      for (let i = 0; i < 3; i++) {
        const res = await health(http);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({
          status: 'ok',
          line: { state: 'up', since: expect.any(Number), checkedAt: expect.any(Number) },
          queue: expect.objectContaining({ scheduled: 0, queued: 0, sending: 0, sent: 0, failed: 0, etaMs: 0 }),
        });
        expect(res.text).not.toContain(TOKEN);
      }
      expect(emu.requests.filter((r) => r.method === 'checkStatus')).toHaveLength(1);
    });

    it('answers from the last known state and refreshes it in the background', async () => {
      const { http, emu } = await setup({ router: { healthCacheMs: 0 } });
      expect((await health(http)).status).toBe(200);
      emu.setConnected(false);
      emu.setLatency(6_000);
      // The check this probe starts takes OLChat six seconds: the probe does not wait for it (it
      // answers the stale state, and well within the check's time even on a loaded machine).
      const started = performance.now();
      const stale = await health(http);
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(stale.status).toBe(200);
      expect(stale.body.status).toBe('ok');
      await healthBecomes(http, 503);
      expect((await health(http)).body.reason).toBe('line_down');
    });

    it('503 line_down while OLChat reports the WhatsApp line disconnected; 200 once it is back', async () => {
      const { http, emu } = await setup({ notifier: quickProbes });
      emu.setConnected(false);
      const res = await health(http);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        error: 'olchat_unavailable',
        message: expect.stringContaining('disconnected'),
        status: 'down',
        reason: 'line_down',
        line: { state: 'down', reason: 'line_down', since: expect.any(Number), checkedAt: expect.any(Number) },
        queue: expect.objectContaining({ queued: 0 }),
      });
      expect(res.text).not.toContain(TOKEN);
      emu.setConnected(true);
      await healthBecomes(http, 200);
      expect((await health(http)).body).toMatchObject({ status: 'ok', line: { state: 'up' } });
    });

    it('503 line_flagged while OLChat suspects the number of spam; 200 once an operator resumes', async () => {
      const { http, emu, notifier } = await setup({ router: { apiKey: API_KEY } });
      emu.setFlagged(true);
      await notifier.refreshLine();
      const res = await health(http);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        error: 'line_flagged',
        message: expect.stringContaining('spam'),
        status: 'flagged',
        reason: 'line_flagged',
        line: expect.objectContaining({ state: 'flagged', until: expect.any(Number) }),
        queue: expect.objectContaining({ queued: 0 }),
      });
      emu.setFlagged(false);
      const resumed = await http.post('/olchat/lanes/resume').set('Authorization', `Bearer ${API_KEY}`);
      expect(resumed.body.line.state).toBe('up');
      expect((await health(http)).status).toBe(200);
    });

    it('503 vendor_unreachable while OLChat refuses connections, answered in milliseconds; 200 after', async () => {
      const { http, emu } = await setup({ notifier: quickProbes });
      await emu.suspend();
      const first = await health(http);
      expect(first.status).toBe(503);
      expect(first.body).toMatchObject({ error: 'olchat_unavailable', status: 'down', reason: 'vendor_unreachable' });
      expect(first.text).not.toContain(TOKEN);
      // During the outage every answer comes from the last known state: never a wait for the vendor.
      let slowest = 0;
      for (let i = 0; i < 10; i++) {
        const started = performance.now();
        const res = await health(http);
        slowest = Math.max(slowest, performance.now() - started);
        expect(res.status).toBe(503);
        expect(res.body.reason).toBe('vendor_unreachable');
      }
      // Generous for a loaded machine; a probe that waited for OLChat's checks and their retries would
      // still be slower than the cached answer by far.
      expect(slowest).toBeLessThan(2_000);
      await emu.resume();
      await healthBecomes(http, 200);
    });

    it('503 vendor_unreachable while OLChat answers 503; 200 once it answers again', async () => {
      const { http, emu } = await setup({ notifier: quickProbes });
      emu.fail('503', Number.POSITIVE_INFINITY);
      // The first check may outlast the first probe's short wait (OLChat's 503 says when to come back).
      await healthBecomes(http, 503);
      const res = await health(http);
      expect(res.body).toMatchObject({ status: 'down', reason: 'vendor_unreachable', line: { state: 'down' } });
      emu.clearFaults();
      await healthBecomes(http, 200);
    });

    it('503 token_rejected when OLChat does not know the token (401), never showing it', async () => {
      const { http } = await setup({ emulator: { tokens: ['a-token-the-client-does-not-have'] } });
      for (let i = 0; i < 2; i++) {
        const res = await health(http);
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({
          error: 'olchat_unavailable',
          message: expect.stringContaining('token'),
          status: 'down',
          reason: 'token_rejected',
          line: { reason: 'token_rejected' },
        });
        expect(res.text).not.toContain(TOKEN);
        expect(res.text).not.toContain('/rest/webhook');
      }
    });

    it('never blocks on a vendor that does not answer: the first probe waits at most a second, the rest not at all', async () => {
      const { http, emu } = await setup({ router: { healthCacheMs: 0 } });
      emu.fail('timeout', Number.POSITIVE_INFINITY);
      // The hanging check would take the client's 10 s timeout: the first probe gives up after 1 s
      // (the bound is generous for a loaded machine).
      const started = performance.now();
      const first = await health(http);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ status: 'unknown', line: { state: 'unknown' } });
      // The rest do not wait at all: ten probes that each waited that second would take ten seconds.
      const again = performance.now();
      for (let i = 0; i < 10; i++) expect((await health(http)).body.status).toBe('unknown');
      expect(performance.now() - again).toBeLessThan(5_000);
      // One check in flight however many probes came: the vendor is not asked again meanwhile.
      expect(emu.requests.filter((r) => r.method === 'checkStatus')).toHaveLength(1);
      await emu.close(); // ends the hanging request rather than waiting for the client's timeout
    });

    it('200 unknown when OLChat answers something that says nothing of the line (500)', async () => {
      const { http, emu } = await setup({ router: { healthCacheMs: 0 } });
      emu.fail('500', 10);
      const res = await health(http);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'unknown', line: { state: 'unknown' } });
      expect(res.text).not.toContain(TOKEN);
      expect(res.text).not.toContain('/rest/webhook');
    });
  });

  describe('closing', () => {
    it('a closed notifier: 503 closed on forms, notify() and health', async () => {
      const { http, notifier } = await setup();
      await notifier.close({ timeoutMs: 100 });
      const res = await http.post('/olchat/forms/order').send(valid);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: 'closed', message: expect.any(String) });
      expect((await http.post('/order').send(valid)).status).toBe(503);
      expect((await http.get('/olchat/health')).status).toBe(503);
    });
  });

  describe('notify() on the app’s own route', () => {
    it.each(['/order', '/order-parsed'])(
      '%s: JSON and urlencoded, job on the request, body left parsed, next() called',
      async (path) => {
        const { http, emu } = await setup();
        const json = await http.post(path).send(valid);
        expect(json.status).toBe(200);
        expect(json.body).toEqual({ reached: true, job: { id: expect.any(String), status: 'queued' }, body: valid });
        const urlencoded = await http
          .post(path)
          .type('form')
          .send(form({ ...valid, orderId: '43' }));
        expect(urlencoded.status).toBe(200);
        expect(urlencoded.body.body).toEqual({ ...valid, orderId: '43' });
        expect(await emu.waitForMessages(2)).toHaveLength(2);
      },
    );

    it('invalid input: the contract’s 400 and the app’s handler is not reached', async () => {
      const { http, notifier } = await setup();
      for (const path of ['/order', '/order-parsed']) {
        const res = await http.post(path).send({ name: 'x' });
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('invalid_input');
        expect(res.body.reached).toBeUndefined();
      }
      expect((await http.post('/order').set('Content-Type', 'application/json').send('{')).body.error).toBe(
        'malformed_body',
      );
      expect(nothingQueued(notifier)).toBe(true);
    });

    it('invalid input in Russian by default, to the answer and to onInvalid; English with locale: en', async () => {
      const { http } = await setup();
      const russian = await http.post('/order').send({ name: 'Анна', orderId: '1', phone: '12345' });
      expect(russian.body.issues).toEqual([
        { path: 'phone', message: 'Введите номер в формате +7 912 345-67-89 (Россия или Казахстан)' },
      ]);
      const custom = await http.post('/order-custom').send({ name: 'Анна', phone: PHONE });
      expect(custom.body.issues).toEqual([{ path: 'orderId', message: 'Заполните это поле' }]);

      const { http: english } = await setup({ notifyOptions: { locale: 'en' } });
      const en = await english.post('/order-custom').send({ name: 'Анна', phone: PHONE });
      expect(en.body.issues).toEqual([
        { path: 'orderId', message: 'Invalid input: expected string, received undefined' },
      ]);
    });

    it('`from` picks the data; `onInvalid` answers instead of the default', async () => {
      const { http, emu } = await setup();
      const from = await http.post('/order-from').send(valid);
      expect(from.status).toBe(200);
      expect((await emu.waitForMessages(1))[0]?.text).toBe('Здравствуйте, Web: Анна! Мы получили заказ №42');
      const custom = await http.post('/order-custom').send({ name: 'x' });
      expect(custom.status).toBe(422);
      expect(custom.body.custom).toBe('invalid_input');
      expect(custom.body.issues.length).toBeGreaterThan(0);
    });

    it('a rule’s deadline already past (a visit booked 30 min ahead, reminder “not later than 1 h before”) is no error: the booking goes on, the reminder ends expired', async () => {
      const { http, emu, notifier } = await setup({ router: { apiKey: API_KEY } });
      const expired: string[] = [];
      notifier.on('expired', (record) => expired.push(record.id));
      const soon = { name: 'Анна', phone: PHONE, visitAt: new Date(Date.now() + 30 * 60_000).toISOString() };
      const booked = await http.post('/reminder').send(soon);
      expect(booked.status).toBe(200);
      expect(booked.body).toMatchObject({ reached: true, job: { id: expect.any(String), status: 'expired' } });
      const record = await http.get(`/olchat/messages/${booked.body.job.id}`).set('Authorization', `Bearer ${API_KEY}`);
      expect(record.body).toMatchObject({
        status: 'expired',
        attempts: 0,
        error: { code: 'EXPIRED', message: expect.any(String) },
      });
      // The same through the form route: 202 with the job's real status.
      const viaForm = await http.post('/olchat/forms/reminder').send(soon);
      expect(viaForm.status).toBe(202);
      expect(viaForm.body).toEqual({ id: expect.any(String), status: 'expired' });
      expect(expired).toEqual([booked.body.job.id, viaForm.body.id]);
      // A visit 3 h ahead: the reminder's time has passed but its deadline has not, so it goes now.
      const later = await http
        .post('/reminder')
        .send({ ...soon, visitAt: new Date(Date.now() + 3 * 3600_000).toISOString() });
      expect(later.body.job.status).toBe('queued');
      expect(await emu.waitForMessages(1)).toHaveLength(1);
      expect(emu.messages).toHaveLength(1);
    });

    it('an unexpected error: 500 internal without detail, reported to the logger', async () => {
      const { http } = await setup();
      const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
      try {
        const res = await http.post('/order-broken').send(valid);
        expect(res.status).toBe(500);
        expect(res.body).toEqual({ error: 'internal', message: 'Internal error' });
        expect(spy).toHaveBeenCalledTimes(1);
      } finally {
        spy.mockRestore();
      }
    });
  });
});
