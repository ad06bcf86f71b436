/**
 * Type-level tests: `tsc` (the `typecheck` step of `pnpm test`) fails if inference regresses.
 * An unused `@ts-expect-error` is itself an error, so each one proves a call is refused.
 * Nothing here runs.
 */
import { expectTypeOf } from 'vitest';
import { z } from 'zod';
import {
  type AnyRule,
  createNotifier,
  defineRule,
  type JobRecord,
  type Notifier,
  type OlchatClient,
  type TriggerResult,
} from '../src/index.js';

declare const client: OlchatClient;

const order = defineRule({
  id: 'order-received',
  input: z.object({ name: z.string(), phone: z.string(), orderId: z.string() }),
  to: 'phone',
  text: 'Заказ {{orderId}}',
});
const visit = defineRule({
  id: 'visit-reminder',
  input: z.object({ phone: z.string(), visitAt: z.coerce.date() }),
  to: 'phone',
  text: 'Приём {{visitAt|datetime}}',
  sendAt: (d) => d.visitAt.getTime() - 86_400_000,
  notAfter: (d) => d.visitAt,
});
const loose = defineRule({ id: 'loose', to: 'phone', text: 'Привет' });

expectTypeOf(order.id).toEqualTypeOf<'order-received'>();

export async function typedNotifier(): Promise<void> {
  const notifier = createNotifier({ client, rules: [order, visit, loose] });
  expectTypeOf(
    await notifier.trigger('order-received', { name: 'А', phone: '7912', orderId: '1' }),
  ).toEqualTypeOf<TriggerResult>();
  // The schema's input type: z.coerce.date() accepts what `new Date()` does.
  await notifier.trigger('visit-reminder', { phone: '7912', visitAt: '2026-12-01T10:00:00+03:00' });
  // A rule without a schema takes any object.
  await notifier.trigger('loose', { phone: '7912', anything: 1 });
  // @ts-expect-error an unknown rule id
  await notifier.trigger('no-such-rule', { name: 1 });
  // @ts-expect-error a field of the wrong type
  await notifier.trigger('order-received', { name: 1, phone: '7912', orderId: '1' });
  // @ts-expect-error a missing field
  await notifier.trigger('order-received', { phone: '7912', orderId: '1' });
  // @ts-expect-error a rule option of the wrong type
  await notifier.trigger('order-received', { name: 'А', phone: '7912', orderId: '1' }, { priority: 'urgent' });

  // A typed notifier goes wherever any notifier does (the HTTP handler, the adapters, metrics).
  const anyNotifier: Notifier = notifier;
  void anyNotifier;
}

export async function untypedRules(rules: AnyRule[]): Promise<void> {
  // Rules from a registry or a config file: any id, any data, checked at run time.
  const notifier = createNotifier({ client, rules });
  await notifier.trigger('whatever', { anything: true });
  await notifier.trigger(String(Math.random()), 42);
}

export async function recordsNarrowByStatus(notifier: Notifier): Promise<void> {
  notifier.on('failed', (job) => {
    expectTypeOf(job.error.code).toEqualTypeOf<string>();
  });
  notifier.on('expired', (job) => {
    expectTypeOf(job.error.message).toEqualTypeOf<string>();
  });
  notifier.on('line', (event) => {
    expectTypeOf(event.state).toEqualTypeOf<'up' | 'down' | 'unknown' | 'flagged'>();
  });
  // @ts-expect-error no such event
  notifier.on('delivered-ish', () => {});

  const record = await notifier.get('id');
  if (record?.status === 'failed') expectTypeOf(record.error).toEqualTypeOf<JobRecord['error'] & {}>();
  // @ts-expect-error a sent job may have no error
  if (record?.status === 'sent') record.error.code;
}
