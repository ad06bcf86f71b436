import type { Server } from 'node:http';
import { createNotifier, MemoryLimiterStore, type Notifier, OlchatClient } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createShop } from '../app.js';
import { rules } from '../rules.js';

let emu: Awaited<ReturnType<typeof startEmulator>>;
let notifier: Notifier<(typeof rules)[number]>;
let client: OlchatClient;
let server: Server;
const secret = 'webhook-secret-1c';
const apiKey = 'shop-api-key-0123456789';

beforeEach(async () => {
  emu = await startEmulator();
  client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
  notifier = createNotifier({ client, rules });
  server = createShop({ notifier, apiKey, webhookSecret: secret }).listen(0, '127.0.0.1');
});
afterEach(async () => {
  server.close();
  await notifier.close({ timeoutMs: 5000 });
  await client.close();
  await emu.close();
});

const customer = { name: 'Сергей', phone: '+7 (912) 345-67-89' };

describe('koa-shop example', () => {
  it('order created → paid → shipped → invoice: four WhatsApp messages, in Russian', async () => {
    const hook = (path: string, body: object) =>
      request(server).post(path).set('x-webhook-secret', secret).send(body).expect(202);
    const created = await hook('/webhooks/order-created', { number: 'А-1024', customer, total: 4590, source: '1C' });
    expect(created.body).toMatchObject({ id: expect.any(String), status: 'queued' });
    await hook('/webhooks/order-paid', { number: 'А-1024', customer });
    await hook('/webhooks/order-shipped', {
      number: 'А-1024',
      customer,
      carrier: 'СДЭК',
      trackingNumber: '1234567890',
    });
    await hook('/webhooks/invoice-issued', {
      number: 'А-1024',
      customer,
      invoiceUrl: 'https://shop.example/invoices/A-1024.pdf',
    });
    const messages = await emu.waitForMessages(4);
    // Sent concurrently, so compare without order.
    expect(messages.map((m) => m.text ?? m.caption).sort()).toEqual(
      [
        // Intl writes no-break spaces in amounts.
        'Сергей, ваш заказ №А-1024 на сумму 4\u00a0590\u00a0₽ оформлен. Сообщим, когда он будет оплачен и отправлен.',
        'Оплата заказа №А-1024 получена. Спасибо, Сергей!',
        'Заказ №А-1024 передан в доставку (СДЭК). Трек-номер: 1234567890.',
        'Счёт на оплату заказа №А-1024',
      ].sort(),
    );
    expect(messages.find((m) => m.method === 'sendFile')).toMatchObject({
      method: 'sendFile',
      url: 'https://shop.example/invoices/A-1024.pdf',
    });
    expect(new Set(messages.map((m) => m.phone))).toEqual(new Set(['79123456789']));
  });

  it('a campaign from the CRM goes out varied and paced, marked marketing; a customer who answered STOP gets no more', async () => {
    const hook = (body: object) =>
      request(server).post('/webhooks/spring-sale').set('x-webhook-secret', secret).send(body).expect(202);
    const first = await hook({ name: 'Сергей', phone: '+7 912 345-67-89' });
    await hook({ name: 'Анна', phone: '+7 912 345-67-80' });
    // Two campaign messages are at least 2 s apart (the guard's pacing of the low lane).
    const messages = await emu.waitForMessages(2, 20_000);
    const variant =
      /^(Здравствуйте|Добрый день), (Сергей|Анна)! (Весенняя распродажа|Весенние скидки) в нашем магазине/;
    for (const message of messages) expect(message.text).toMatch(variant);
    expect((messages[1]?.at as number) - (messages[0]?.at as number)).toBeGreaterThanOrEqual(1_900);
    expect(await notifier.get(first.body.id)).toMatchObject({ category: 'marketing', priority: 'low' });
    // The customer answers STOP in WhatsApp; the shop forwards it.
    expect(await notifier.contacts.replied('+7 912 345-67-89', { text: 'Стоп' })).toMatchObject({ stopWord: true });
    const again = await request(server)
      .post('/webhooks/spring-sale')
      .set('x-webhook-secret', secret)
      .send({ name: 'Сергей', phone: '89123456789' });
    // Another spelling of the phone (so no dedupe hit): skipped, the phone opted out of marketing.
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ status: 'skipped' });
    expect(await notifier.get(again.body.id)).toMatchObject({ reason: 'suppressed' });
    expect(emu.messages).toHaveLength(2);
  });

  it('a webhook 1C sends twice gets the same job and one message', async () => {
    const body = { number: 'А-2000', customer };
    const first = await request(server)
      .post('/webhooks/order-paid')
      .set('x-webhook-secret', secret)
      .send(body)
      .expect(202);
    const again = await request(server)
      .post('/webhooks/order-paid')
      .set('x-webhook-secret', secret)
      .send(body)
      .expect(202);
    expect(again.body.id).toBe(first.body.id);
    await emu.waitForMessages(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(emu.messages).toHaveLength(1);
  });

  it('webhooks without the secret are refused; bad payloads get 400 with the field', async () => {
    await request(server).post('/webhooks/order-paid').send({ number: '1', customer }).expect(401);
    const bad = await request(server)
      .post('/webhooks/order-created')
      .set('x-webhook-secret', secret)
      .send({ number: '1', customer: { name: 'A', phone: '123' }, total: -5 })
      .expect(400);
    expect(bad.body.error).toBe('invalid_input');
    expect(bad.body.issues.map((i: { path: string }) => i.path)).toContain('total');
    await new Promise((r) => setTimeout(r, 100));
    expect(emu.requests).toHaveLength(0);
  });

  it('a manager sends an ad-hoc message through POST /olchat/messages with the API key, and 1C polls its status', async () => {
    await request(server).post('/olchat/messages').send({ phone: '79123456789', text: 'x' }).expect(401);
    const res = await request(server)
      .post('/olchat/messages')
      .set('authorization', `Bearer ${apiKey}`)
      .send({ phone: '8 912 345 67 89', text: 'Ваш заказ можно забрать сегодня после 15:00' })
      .expect(202);
    await emu.waitForMessages(1);
    const status = await request(server)
      .get(`/olchat/messages/${res.body.id}`)
      .set('authorization', `Bearer ${apiKey}`)
      .expect(200);
    expect(status.body).toMatchObject({ id: res.body.id, status: 'sent' });
  });
});
