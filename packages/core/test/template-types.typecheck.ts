/**
 * Type-level tests of templates checked against the rule's input type: `tsc` (the `typecheck` step of
 * `pnpm test`) fails if a typo compiles again or a good template stops compiling. An unused
 * `@ts-expect-error` is itself an error, so each one proves a template is refused. Nothing here runs.
 */
import { expectTypeOf } from 'vitest';
import { z } from 'zod';
import { defineRule, type StandardSchemaV1 } from '../src/index.js';

const visit = z.object({
  name: z.string(),
  phone: z.string(),
  visitAt: z.coerce.date(),
  order: z.object({ number: z.string().optional(), total: z.number() }),
  doctor: z.object({ name: z.string() }).optional(),
  slot: z.string().datetime(),
  items: z.array(z.object({ title: z.string() })),
  pair: z.tuple([z.string(), z.number()]),
  extra: z.record(z.string(), z.string()),
  paid: z.boolean(),
});

// Fields, nested paths (optional objects too), spaces inside the braces, the three date formats on a
// Date and on an ISO string, numbers and booleans, array items, a record's keys.
export const good = defineRule({
  id: 'visit-booked',
  input: visit,
  to: 'phone',
  text:
    '{{name}}, {{ order.number }} на {{order.total}} ₽ ({{paid}}), врач {{doctor.name}}: ' +
    '{{visitAt|date}} в {{ visitAt | time }}, {{visitAt|datetime}}, {{slot|datetime}}, ' +
    '{{items.0.title}}, {{pair.1}}, {{extra.anything}}',
  sendAt: (v) => v.visitAt.getTime() - 86_400_000,
});
// The rule keeps its literal id (notify() and trigger() are typed by it).
expectTypeOf(good.id).toEqualTypeOf<'visit-booked'>();

// Variant groups (single braces with a pipe), an escaped brace and lone braces are plain text.
defineRule({
  id: 'variants',
  input: visit,
  to: 'phone',
  text: '{Здравствуйте|Добрый день}, {{name}}! {Ждём вас, {{name}}|До встречи} \\{не поле} {a|b} {{{name}}} }{',
});

defineRule({
  id: 'typo',
  input: visit,
  to: 'phone',
  // @ts-expect-error no field nmae
  text: 'Здравствуйте, {{nmae}}!',
});
defineRule({
  id: 'nested-typo',
  input: visit,
  to: 'phone',
  // @ts-expect-error order has number and total, not id
  text: 'Заказ {{order.id}}',
});
defineRule({
  id: 'deep-typo',
  input: z.object({ phone: z.string(), order: z.object({ id: z.string() }) }),
  to: 'phone',
  // @ts-expect-error order has no number
  text: 'Заказ {{order.number}}',
});
defineRule({
  id: 'unknown-format',
  input: visit,
  to: 'phone',
  // @ts-expect-error only date, time and datetime
  text: '{{visitAt|money}}',
});
defineRule({
  id: 'date-unformatted',
  input: visit,
  to: 'phone',
  // @ts-expect-error a Date needs a format: it would render in the server's zone and English
  text: 'Приём {{visitAt}}',
});
defineRule({
  id: 'object-whole',
  input: visit,
  to: 'phone',
  // @ts-expect-error an object is not a text
  text: 'Заказ {{order}}',
});
defineRule({
  id: 'not-a-date',
  input: visit,
  to: 'phone',
  // @ts-expect-error a boolean is no date
  text: '{{paid|date}}',
});
defineRule({
  id: 'tuple-end',
  input: visit,
  to: 'phone',
  // @ts-expect-error the tuple has two items
  text: '{{pair.2}}',
});
defineRule({
  id: 'escaped-still-checked',
  input: visit,
  to: 'phone',
  // @ts-expect-error the placeholder after an escaped brace is a placeholder all the same
  text: '\\{{{nmae}}',
});

// A file's url and caption are templates too.
defineRule({
  id: 'invoice',
  input: visit,
  to: 'phone',
  file: { url: 'https://clinic.example/visits/{{order.number}}.pdf', caption: 'Счёт {{order.total}} ₽' },
});
defineRule({
  id: 'invoice-url-typo',
  input: visit,
  to: 'phone',
  // @ts-expect-error no field numbr
  file: { url: 'https://clinic.example/visits/{{order.numbr}}.pdf' },
});
defineRule({
  id: 'invoice-caption-typo',
  input: visit,
  to: 'phone',
  file: {
    url: 'https://clinic.example/visits/{{order.number}}.pdf',
    // @ts-expect-error no field totl
    caption: 'Счёт {{order.totl}} ₽',
  },
});

// A schema's output, not its input: fields a transform adds are there.
defineRule({
  id: 'transformed',
  input: z.object({ phone: z.string(), code: z.enum(['r', 't']) }).transform((o) => ({ ...o, title: 'Розы' })),
  to: 'phone',
  text: '{{title}} ({{code}})',
});
// A union: a field of any member may be named (the rule's `when` may pick the member).
defineRule({
  id: 'union',
  input: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('order'), phone: z.string(), orderId: z.string() }),
    z.object({ kind: z.literal('visit'), phone: z.string(), visitAt: z.coerce.date() }),
  ]),
  to: 'phone',
  text: '{{kind}} {{orderId}} {{visitAt|date}}',
  when: (d) => d.kind === 'order',
});

// What the compiler cannot know passes, and is checked when the rule is defined at run time.
declare const fromConfig: string;
defineRule({ id: 'configured', input: visit, to: 'phone', text: fromConfig });
// biome-ignore lint/suspicious/noExplicitAny: a schema without a static type
declare const untypedSchema: any;
defineRule({ id: 'untyped', input: untypedSchema, to: 'phone', text: '{{whatever.deep}} {{x|date}}' });
declare const opaqueSchema: StandardSchemaV1;
defineRule({ id: 'opaque', input: opaqueSchema, to: 'phone', text: '{{anything}}' });
// No schema: any field, but the formats are still the three.
defineRule({ id: 'loose', to: 'phone', text: '{{anything.deep}} {{when|date}}' });
// @ts-expect-error only date, time and datetime
defineRule({ id: 'loose-format', to: 'phone', text: '{{when|upper}}' });
