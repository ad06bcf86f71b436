import { defineRule, isPhone } from '@olchat-kit/core';
import { z } from 'zod';

const phone = z
  .string({ error: 'Укажите телефон' })
  .trim()
  .min(1, 'Укажите телефон')
  .refine(isPhone, 'Введите номер в формате +7 912 345-67-89 (Россия или Казахстан)');

export const orderForm = z.object({
  name: z.string({ error: 'Укажите имя' }).trim().min(1, 'Укажите имя').max(80, 'Не длиннее 80 символов'),
  phone,
  bouquet: z.enum(['roses', 'tulips', 'peonies'], { error: 'Выберите букет' }),
  comment: z.string().trim().max(500, 'Не длиннее 500 символов').optional(),
  orderId: z.string(),
});

export const BOUQUETS = { roses: 'Розы «Классика»', tulips: 'Тюльпаны «Весна»', peonies: 'Пионы «Нежность»' };

/** The customer placed an order on the site: confirm it on WhatsApp. */
export const orderReceived = defineRule({
  id: 'order-received',
  input: orderForm.transform((order) => ({ ...order, bouquetName: BOUQUETS[order.bouquet] })),
  to: 'phone',
  text: 'Здравствуйте, {{name}}! Мы получили ваш заказ №{{orderId}}: {{bouquetName}}. Флорист позвонит вам в течение 15 минут. — Цветочная лавка «Ромашка»',
  dedupeKey: (order) => order.orderId,
});

/** "Call me back": the router's own form endpoint handles this one. */
export const callbackRequested = defineRule({
  id: 'callback',
  input: z.object({ name: z.string().trim().min(1, 'Укажите имя'), phone }),
  to: 'phone',
  text: '{{name}}, спасибо за обращение! Мы перезвоним вам в рабочее время (9:00–21:00). — Цветочная лавка «Ромашка»',
});

export const rules = [orderReceived, callbackRequested];
