import { createNotifier, MemoryLimiterStore, type Notifier, OlchatClient } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSite } from '../app.js';
import { rules } from '../rules.js';

let emu: Awaited<ReturnType<typeof startEmulator>>;
let notifier: Notifier<(typeof rules)[number]>;
let client: OlchatClient;
let app: ReturnType<typeof createSite>;

beforeEach(async () => {
  emu = await startEmulator();
  client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
  notifier = createNotifier({ client, rules });
  app = createSite({ notifier });
});
afterEach(async () => {
  await notifier.close({ timeoutMs: 5000 });
  await client.close();
  await emu.close();
});

const order = { name: 'Айгерим', phone: '8 (701) 234-56-78', bouquet: 'peonies', comment: 'К 18:00' };

describe('express-site example', () => {
  it('serves its own pages', async () => {
    const home = await request(app).get('/').expect(200);
    expect(home.text).toContain('<form method="post" action="/order"');
    await request(app).get('/contacts').expect(200);
    await request(app).get('/callback').expect(200);
  });

  it('an order (urlencoded) lands on the thank-you page and the customer gets a WhatsApp confirmation', async () => {
    const res = await request(app).post('/order').type('form').send(order).expect(303);
    expect(res.headers.location).toMatch(/^\/thanks\?job=/);
    const [message] = await emu.waitForMessages(1);
    expect(message).toMatchObject({ phone: '77012345678', sendToImol: false });
    expect(message?.text).toMatch(/^Здравствуйте, Айгерим! Мы получили ваш заказ №\d{5}: Пионы «Нежность»\./);
    const jobId = decodeURIComponent(String(res.headers.location).split('job=')[1] ?? '');
    await expect.poll(async () => (await notifier.get(jobId))?.status).toBe('sent');
  });

  it('invalid input shows Russian field errors on the form and keeps what was typed', async () => {
    const res = await request(app)
      .post('/order')
      .type('form')
      .send({ name: '<b>Иван</b>', phone: '12345', bouquet: '' })
      .expect(400);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('Введите номер в формате +7 912 345-67-89');
    expect(res.text).toContain('Выберите букет');
    expect(res.text).toContain('value="&lt;b&gt;Иван&lt;/b&gt;"');
    expect(res.text).toContain('value="12345"');
    expect(res.text).not.toContain('<b>Иван</b>');
    await new Promise((r) => setTimeout(r, 100));
    expect(emu.requests).toHaveLength(0);
  });

  it('a filled honeypot looks like success to the bot and sends nothing', async () => {
    await request(app)
      .post('/order')
      .type('form')
      .send({ ...order, website: 'http://spam.example' })
      .expect(303);
    await new Promise((r) => setTimeout(r, 200));
    expect(emu.requests).toHaveLength(0);
  });

  it('the callback form posts to the site, which redirects the browser to /thanks', async () => {
    const page = await request(app).get('/callback').expect(200);
    expect(page.text).toContain('<form method="post" action="/callback"');
    const res = await request(app)
      .post('/callback')
      .type('form')
      .send({ name: 'Олег', phone: '+7 912 345 67 89' })
      .expect(303);
    expect(res.headers.location).toMatch(/^\/thanks\?job=/);
    const [message] = await emu.waitForMessages(1);
    expect(message?.text).toContain('Олег, спасибо за обращение!');
  });

  it('a bad phone on the callback form shows the Russian field error on the page, not JSON', async () => {
    const res = await request(app).post('/callback').type('form').send({ name: 'Олег', phone: '12-34' }).expect(400);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('<h1>Перезвоните мне</h1>');
    expect(res.text).toContain('Введите номер в формате +7 912 345-67-89');
    expect(res.text).toContain('value="Олег"');
    expect(res.text).toContain('value="12-34"');
    const empty = await request(app).post('/callback').type('form').send({ name: '', phone: '' }).expect(400);
    expect(empty.text).toContain('Укажите имя');
    expect(empty.text).toContain('Укажите телефон');
    await new Promise((r) => setTimeout(r, 100));
    expect(emu.requests).toHaveLength(0);
  });

  it("an oversized form gets the order page with a Russian message, not Express's error page", async () => {
    const res = await request(app)
      .post('/order')
      .type('form')
      .send({ ...order, comment: 'а'.repeat(2_000_000) })
      .expect(413);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('Заявка слишком длинная');
    expect(res.text).not.toContain('PayloadTooLargeError');
    expect(emu.requests).toHaveLength(0);
  });

  it('the thank-you page says the confirmation is on its way, not that it was sent', async () => {
    const res = await request(app).get('/thanks').expect(200);
    expect(res.text).toContain('Спасибо! Заявка принята');
    expect(res.text).toContain('в очереди на отправку');
    expect(res.text).not.toMatch(/отправили|отправлено/);
  });

  it("a stranger's phone cannot be spammed: the sixth order to one phone within an hour is refused in Russian", async () => {
    for (let i = 0; i < 5; i++) await request(app).post('/order').type('form').send(order).expect(303);
    const res = await request(app).post('/order').type('form').send(order).expect(429);
    expect(res.text).toContain('Слишком много заявок подряд');
    await emu.waitForMessages(5);
    await new Promise((r) => setTimeout(r, 200));
    expect(emu.messages).toHaveLength(5);
  });
});
