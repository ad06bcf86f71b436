import { request as httpRequest } from 'node:http';
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
    it("reports OLChat's line and the queue, asking OLChat once per cache period", async () => {
      const { http, emu } = await setup();
      for (let i = 0; i < 3; i++) {
        const res = await http.get('/olchat/health');
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          status: 'ok',
          olchat: { connected: true },
          queue: { queued: 0, sending: 0, sent: 0, failed: 0 },
        });
        expect(res.text).not.toContain(TOKEN);
      }
      expect(emu.requests.filter((r) => r.method === 'checkStatus')).toHaveLength(1);
    });

    it('503 while OLChat reports the line down', async () => {
      const { http } = await setup({ emulator: { connected: false } });
      const res = await http.get('/olchat/health');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        error: 'olchat_down',
        message: expect.any(String),
        olchat: { connected: false },
      });
      expect(res.text).not.toContain(TOKEN);
    });

    it('200 with connected: null when OLChat cannot be asked; never the token or its URL', async () => {
      const { http, emu } = await setup({ router: { healthCacheMs: 0 } });
      emu.fail('500', 10);
      const res = await http.get('/olchat/health');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'unknown', olchat: { connected: null, error: 'HTTP' } });
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
