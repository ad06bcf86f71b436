import { defineRule } from '@olchat-kit/core';
import { z } from 'zod';

// The order as 1C or the CRM posts it (JSON). Unknown fields are ignored.
const customer = z.object({ name: z.string().trim().min(1), phone: z.string() });
const order = z.object({ number: z.string().min(1), customer });
const rub = new Intl.NumberFormat('ru-RU', { style: 'currency', currency: 'RUB', maximumFractionDigits: 0 });

export const orderCreated = defineRule({
  id: 'order-created',
  input: order.extend({ total: z.number().positive() }).transform((o) => ({ ...o, totalText: rub.format(o.total) })),
  to: 'customer.phone',
  text: '{{customer.name}}, ваш заказ №{{number}} на сумму {{totalText}} оформлен. Сообщим, когда он будет оплачен и отправлен.',
  // 1C resends a webhook it got no answer to: one message per order and event.
  dedupeKey: (o) => `created:${o.number}`,
});

export const orderPaid = defineRule({
  id: 'order-paid',
  input: order,
  to: 'customer.phone',
  text: 'Оплата заказа №{{number}} получена. Спасибо, {{customer.name}}!',
  dedupeKey: (o) => `paid:${o.number}`,
});

export const orderShipped = defineRule({
  id: 'order-shipped',
  input: order.extend({ carrier: z.string().min(1), trackingNumber: z.string().min(1) }),
  to: 'customer.phone',
  text: 'Заказ №{{number}} передан в доставку ({{carrier}}). Трек-номер: {{trackingNumber}}.',
  dedupeKey: (o) => `shipped:${o.number}`,
});

export const invoiceIssued = defineRule({
  id: 'invoice-issued',
  input: order.extend({ invoiceUrl: z.url({ protocol: /^https?$/ }) }),
  to: 'customer.phone',
  file: { url: '{{invoiceUrl}}', caption: 'Счёт на оплату заказа №{{number}}' },
  dedupeKey: (o) => `invoice:${o.number}`,
});

/**
 * A campaign the CRM pushes to a customer list: `low` priority, so order messages never wait
 * behind it, and `marketing`, so the guard keeps it within the new-recipient budget, paces it
 * (2–6 s between two of them), caps it per customer and skips those who answered STOP. The
 * variants `{…|…}` make the texts differ, as the vendor asks.
 */
export const springSale = defineRule({
  id: 'spring-sale',
  input: customer,
  to: 'phone',
  text: '{Здравствуйте|Добрый день}, {{name}}! {Весенняя распродажа|Весенние скидки} в нашем магазине до 31 марта. Ответьте СТОП, чтобы не получать такие сообщения.',
  priority: 'low',
  category: 'marketing',
  dedupeKey: (c) => `spring-sale:${c.phone}`,
});

export const rules = [orderCreated, orderPaid, orderShipped, invoiceIssued, springSale];

/** Webhook path → rule id. */
export const WEBHOOKS = {
  '/webhooks/order-created': 'order-created',
  '/webhooks/order-paid': 'order-paid',
  '/webhooks/order-shipped': 'order-shipped',
  '/webhooks/invoice-issued': 'invoice-issued',
  '/webhooks/spring-sale': 'spring-sale',
};
