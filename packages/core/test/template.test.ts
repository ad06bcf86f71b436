import { describe, expect, it } from 'vitest';
import { defineRule } from '../src/rules/rules.js';
import { compileTemplate } from '../src/rules/template.js';
import { thrownValidation } from './helpers/rejection.js';

const where = 'rule "visit" text';

function render(source: string, data: unknown, timeZone?: string): string {
  return compileTemplate(source, where).render(data, where, timeZone === undefined ? undefined : { timeZone });
}

describe('date formats', () => {
  const all = '{{visitAt|date}} / {{visitAt|time}} / {{visitAt|datetime}}';

  it('writes «29 ноября», «10:00» and «29 ноября в 10:00» in Moscow', () => {
    const visitAt = new Date('2026-11-29T07:00:00Z');
    expect(render(all, { visitAt }, 'Europe/Moscow')).toBe('29 ноября / 10:00 / 29 ноября в 10:00');
  });

  it('shows the same instant in the recipient’s zone: Almaty is ahead of Moscow, here by a date', () => {
    // Asia/Almaty is UTC+5 since March 2024 (the runtime's tz data), Moscow UTC+3.
    const visitAt = new Date('2026-11-29T20:30:00Z');
    expect(render(all, { visitAt }, 'Europe/Moscow')).toBe('29 ноября / 23:30 / 29 ноября в 23:30');
    expect(render(all, { visitAt }, 'Asia/Almaty')).toBe('30 ноября / 01:30 / 30 ноября в 01:30');
  });

  it('defaults to Moscow when no zone is given', () => {
    const visitAt = new Date('2026-11-29T07:00:00Z');
    expect(render('приём {{visitAt|datetime}}', { visitAt })).toBe('приём 29 ноября в 10:00');
    expect(compileTemplate('{{visitAt|time}}', where).render({ visitAt }, where, {})).toBe('10:00');
  });

  it('turns the day at local midnight, the year too', () => {
    const lastMinute = Date.parse('2026-11-29T23:59:59.999+03:00');
    const midnight = Date.parse('2026-11-30T00:00:00+03:00');
    expect(render(all, { visitAt: lastMinute })).toBe('29 ноября / 23:59 / 29 ноября в 23:59');
    expect(render(all, { visitAt: midnight })).toBe('30 ноября / 00:00 / 30 ноября в 00:00');
    expect(render('{{visitAt|datetime}}', { visitAt: Date.parse('2027-01-01T00:00:00+03:00') })).toBe(
      '1 января в 00:00',
    );
  });

  it('allows whitespace around the bar and nested fields', () => {
    const data = { visit: { at: new Date('2026-11-29T07:00:00Z') }, name: 'Анна' };
    expect(render('{{ name }}, приём {{ visit.at | date }} в {{visit.at |time}}', data)).toBe(
      'Анна, приём 29 ноября в 10:00',
    );
  });

  it.each([
    ['a Date', new Date('2026-11-29T07:00:00Z')],
    ['epoch milliseconds', Date.parse('2026-11-29T07:00:00Z')],
    ['an ISO string in UTC', '2026-11-29T07:00:00Z'],
    ['an ISO string with lowercase z and milliseconds', '2026-11-29t07:00:00.000z'],
    ['an ISO string with an offset', '2026-11-29T12:00:00+05:00'],
    ['an ISO string with a compact offset', '2026-11-29T10:00+0300'],
    ['an ISO string with an hour offset', '2026-11-29T04:00:00-03'],
    ['an ISO string with microseconds', '2026-11-29T07:00:00.000123Z'],
  ])('accepts %s', (_kind, visitAt) => {
    expect(render('{{visitAt|datetime}}', { visitAt })).toBe('29 ноября в 10:00');
  });

  it('reads a date or a date-time without an offset as the recipient’s wall time: as written, in every zone', () => {
    for (const zone of ['Europe/Moscow', 'Asia/Almaty', 'America/New_York']) {
      expect(render('{{visitAt|date}}', { visitAt: '2026-11-29' }, zone)).toBe('29 ноября');
      expect(render('{{visitAt|datetime}}', { visitAt: '2026-11-29T10:00' }, zone)).toBe('29 ноября в 10:00');
      expect(render('{{visitAt|time}}', { visitAt: '2026-11-29 10:05:30' }, zone)).toBe('10:05');
    }
  });

  const notDates: [string, unknown][] = [
    ['null', null],
    ['a boolean', true],
    ['an object', { at: '2026-11-29' }],
    ['an array', ['2026-11-29']],
    ['an empty string', ''],
    ['an invalid Date', new Date(Number.NaN)],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a number beyond a Date', 1e20],
    ['a bigint', 1_780_000_000_000n],
    ['"tomorrow"', 'tomorrow'],
    ['"12/01/2026", which Date.parse takes', '12/01/2026'],
    ['Date#toString text, which Date.parse takes', 'Sun Nov 29 2026 10:00:00 GMT+0300'],
    ['a day the month lacks', '2026-02-30'],
    ['month 13', '2026-13-01'],
    ['hour 24', '2026-11-29T24:00'],
    ['a bad offset', '2026-11-29T10:00+25:00'],
    ['a date with an offset but no time', '2026-11-29+03:00'],
    ['padding', ' 2026-11-29'],
    ['a two-digit year', '26-11-29'],
  ];

  it.each(notDates)('refuses %s at render with the field as the issue path', (_kind, visitAt) => {
    const error = thrownValidation(() => render('Приём {{visit.at|date}}', { visit: { at: visitAt } }));
    expect(error.issues).toEqual([{ path: 'visit.at', message: expect.stringContaining('Expected a date') }]);
  });

  it('these refusals are not Date.parse’s: it would have taken some of them', () => {
    expect(Number.isNaN(Date.parse('12/01/2026'))).toBe(false);
    expect(Number.isNaN(Date.parse('Sun Nov 29 2026 10:00:00 GMT+0300'))).toBe(false);
  });

  it('refuses a missing date field, and reports it beside other problems', () => {
    expect(thrownValidation(() => render('{{visitAt|date}}', {})).issues).toEqual([
      { path: 'visitAt', message: `Required by the ${where} template` },
    ]);
    const error = thrownValidation(() => render('{{name}}: {{visitAt|date}}, {{movedAt|time}}', { movedAt: 'soon' }));
    expect(error.issues.map((issue) => issue.path)).toEqual(['name', 'visitAt', 'movedAt']);
  });

  it('reads dates from own properties only', () => {
    const inherited = Object.create({ visitAt: new Date() }) as object;
    expect(thrownValidation(() => render('{{visitAt|date}}', inherited)).issues[0]?.path).toBe('visitAt');
  });

  it('refuses an unknown zone at render', () => {
    const error = thrownValidation(() => render('{{visitAt|date}}', { visitAt: new Date() }, 'Mars/Olympus'));
    expect(error.issues).toEqual([{ path: 'timeZone', message: expect.stringContaining('Mars/Olympus') }]);
  });

  it('says whether a template needs a zone', () => {
    expect(compileTemplate('Hi {{name}}', where).usesDates).toBe(false);
    expect(compileTemplate('no fields', where).usesDates).toBe(false);
    const dated = compileTemplate('{{name}}: {{ visitAt | time }}', where);
    expect(dated.usesDates).toBe(true);
    expect(dated.fields).toEqual(['name', 'visitAt']);
  });
});

describe('format names at compile time', () => {
  it.each([
    ['{{visitAt|upper}}', 'Unknown format "upper"'],
    ['{{visitAt|Date}}', 'Unknown format "Date"'],
    ['{{visitAt|}}', 'Unknown format ""'],
    ['{{visitAt|date|time}}', 'Bad placeholder'],
    ['{{|date}}', 'Bad placeholder'],
    ['{{visit at|date}}', 'Bad placeholder'],
    ['{{visitAt|date()}}', 'Unknown format "date()"'],
    ['{{__proto__|date}}', 'Forbidden field name'],
    ['{{visit.constructor|time}}', 'Forbidden field name'],
  ])('%s is refused', (source, message) => {
    const error = thrownValidation(() => compileTemplate(source, where));
    expect(error.issues).toEqual([{ path: where, message: expect.stringContaining(message) }]);
  });

  it('defineRule refuses an unknown format before any trigger', () => {
    // Refused when the rule compiles, too (see types.typecheck.ts); the run-time check is for plain JS.
    // @ts-expect-error an unknown format
    const error = thrownValidation(() => defineRule({ id: 'shout', to: 'phone', text: 'Привет, {{name|upper}}' }));
    expect(error.message).toContain('upper');
  });
});

describe('plain templates, unchanged', () => {
  it('fills nested fields, numbers and booleans', () => {
    const data = { order: { id: 'A-1', total: 1500, paid: true, customer: { name: 'Анна' } } };
    expect(render('{{order.customer.name}}: {{ order.id }} на {{order.total}} ₽, оплачен: {{order.paid}}', data)).toBe(
      'Анна: A-1 на 1500 ₽, оплачен: true',
    );
    expect(render('Без полей', {})).toBe('Без полей');
  });

  it('reports every missing or empty field with its path', () => {
    const error = thrownValidation(() => render('{{a}} {{b.c}} {{d}}', { a: 'x', b: {}, d: '  ' }));
    expect(error.issues).toEqual([
      { path: 'b.c', message: `Required by the ${where} template` },
      { path: 'd', message: `Required by the ${where} template` },
    ]);
    expect(error.message).toBe(`${where}: no value for {{b.c}}, {{d}}`);
  });

  it('never expands a value again and refuses prototype paths', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text must come out literally
    const hostile = '{{phone}} ${process.env}';
    expect(render('Вы написали: {{comment}}', { comment: hostile, phone: '79123456789' })).toBe(
      `Вы написали: ${hostile}`,
    );
    for (const source of ['{{__proto__.polluted}}', '{{a.constructor}}', '{{prototype}}', '{{a b}}']) {
      thrownValidation(() => compileTemplate(source, where));
    }
    expect(thrownValidation(() => render('x {{toString}}', {})).issues[0]?.path).toBe('toString');
  });

  it('keeps a Date in a plain placeholder an error, one that names the formats', () => {
    const visitAt = new Date('2026-11-29T07:00:00Z');
    const error = thrownValidation(() => render('Приём {{visitAt}}', { visitAt }));
    expect(error.issues).toEqual([
      { path: 'visitAt', message: 'A date: write {{visitAt|date}}, {{visitAt|time}} or {{visitAt|datetime}}' },
    ]);
  });

  it('needs no zone: an unknown one is not even looked at', () => {
    expect(render('Hi {{name}}', { name: 'Анна' }, 'Mars/Olympus')).toBe('Hi Анна');
  });
});
