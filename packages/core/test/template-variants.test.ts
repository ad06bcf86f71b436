import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineRule } from '../src/rules/rules.js';
import { compileTemplate } from '../src/rules/template.js';
import { thrownValidation } from './helpers/rejection.js';

const where = 'rule "promo" text';

/** A random source that answers the given numbers in turn. */
function dice(...rolls: number[]): () => number {
  let i = 0;
  return () => rolls[i++ % rolls.length] as number;
}

function render(source: string, data: unknown, random: () => number = Math.random, timeZone?: string): string {
  return compileTemplate(source, where).render(data, where, { random, ...(timeZone ? { timeZone } : {}) });
}

describe('variants: {a|b|c}', () => {
  it('renders one variant per group, picked by the random source', () => {
    const source = '{Здравствуйте|Добрый день|Привет}, {{name}}! {Ждём вас|Будем рады видеть}.';
    expect(render(source, { name: 'Анна' }, dice(0, 0))).toBe('Здравствуйте, Анна! Ждём вас.');
    expect(render(source, { name: 'Анна' }, dice(0.5, 0.99))).toBe('Добрый день, Анна! Будем рады видеть.');
    expect(render(source, { name: 'Анна' }, dice(0.9, 0.1))).toBe('Привет, Анна! Ждём вас.');
    expect(compileTemplate(source, where).variantGroups).toBe(2);
  });

  it('takes fields and dated fields inside a variant, and date filters around the groups', () => {
    const source =
      '{Здравствуйте, {{name}}|{{name}}, добрый день}! Приём {{visitAt|datetime}}. {Ждём в {{visitAt|time}}|Начало в {{visitAt|time}}}.';
    const data = { name: 'Анна', visitAt: '2026-11-29T07:00:00Z' };
    expect(render(source, data, dice(0, 0))).toBe('Здравствуйте, Анна! Приём 29 ноября в 10:00. Ждём в 10:00.');
    expect(render(source, data, dice(0.7, 0.7), 'Asia/Almaty')).toBe(
      'Анна, добрый день! Приём 29 ноября в 12:00. Начало в 12:00.',
    );
    expect(compileTemplate(source, where).fields).toEqual(['name', 'name', 'visitAt', 'visitAt', 'visitAt']);
  });

  it('requires the fields of every variant, chosen or not: whether a trigger is valid never depends on the dice', () => {
    const template = compileTemplate('{Привет, {{name}}|Здравствуйте, {{fullName}}}', where);
    for (const roll of [0, 0.99]) {
      const error = thrownValidation(() => template.render({ name: 'Анна' }, where, { random: () => roll }));
      expect(error.issues).toEqual([{ path: 'fullName', message: `Required by the ${where} template` }]);
    }
  });

  it('allows an empty variant, keeps single braces without a bar as text, and reads \\{ \\} \\| as literals', () => {
    expect(render('Спасибо{|!}', {}, dice(0))).toBe('Спасибо');
    expect(render('Спасибо{|!}', {}, dice(0.9))).toBe('Спасибо!');
    expect(render('Код {скидка} и {{code}}', { code: 'A1' })).toBe('Код {скидка} и A1');
    expect(render('\\{Привет|Пока\\}', {})).toBe('{Привет|Пока}');
    expect(render('{a\\|b|c}', {}, dice(0))).toBe('a|b');
    expect(render('{a\\}b|c}', {}, dice(0))).toBe('a}b');
    expect(render('C:\\Users\\Anna {{name}}', { name: 'x' })).toBe('C:\\Users\\Anna x');
    // An escaped brace before a placeholder writes the placeholder as text.
    expect(render('\\{{name}} = {{name}}', { name: 'x' })).toBe('{{name}} = x');
    // A brace that opens no group is text even with a group after it.
    expect(render('{a {b|c}', {}, dice(0))).toBe('{a b');
    expect(compileTemplate('Просто {текст}', where).variantGroups).toBe(0);
  });

  it('keeps {{field|date}} a placeholder, not a group', () => {
    const data = { at: new Date('2026-11-29T07:00:00Z') };
    expect(render('{{at|date}}', data)).toBe('29 ноября');
    expect(compileTemplate('{{at|date}}', where).variantGroups).toBe(0);
  });

  it.each([
    ['{Привет|{Здравствуйте|Добрый день}}', /cannot be nested/],
    ['{Привет|Здравствуйте', /never closed/],
    ['Текст {a|b} и {c|d', /never closed/],
    ['{|}', /every variant of this group is empty/],
    ['{Привет|{{name}', /cannot be nested/],
  ])('refuses a malformed group %j when the template is compiled', (source, why) => {
    const error = thrownValidation(() => compileTemplate(source, where));
    expect(error.message).toMatch(why);
    expect(error.issues[0]?.path).toBe(where);
  });

  it('a malformed group is VALIDATION at defineRule', () => {
    const error = thrownValidation(() => defineRule({ id: 'promo', to: 'phone', text: '{Привет|Пока' }));
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toMatch(/rule promo text.*never closed/);
  });

  it('a rule renders one variant per prepare, and the same rule with another roll another one', async () => {
    const rule = defineRule({ id: 'promo', to: 'phone', text: '{Привет|Здравствуйте}, {{name}}' });
    const first = await rule.prepare({ phone: '79123456789', name: 'Анна' }, { random: () => 0 });
    const second = await rule.prepare({ phone: '79123456789', name: 'Анна' }, { random: () => 0.6 });
    expect(first?.message).toMatchObject({ text: 'Привет, Анна' });
    expect(second?.message).toMatchObject({ text: 'Здравствуйте, Анна' });
  });
});

describe('variants: properties', () => {
  // Variant text: no braces, bars or backslashes (those are syntax); may be empty.
  const plain = fc.string({ maxLength: 12 }).map((text) => text.replace(/[{}|\\]/g, ''));
  const group = fc.array(plain, { minLength: 2, maxLength: 5 }).filter((variants) => variants.some((v) => v !== ''));

  it('every variant of a group appears over many renders, and nothing else does', () => {
    fc.assert(
      fc.property(group, plain, plain, fc.integer(), (variants, before, after, seed) => {
        const template = compileTemplate(`${before}{${variants.join('|')}}${after}`, where);
        let state = seed >>> 0;
        // A small deterministic generator: the property does not depend on Math.random's luck.
        const random = () => {
          state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
          return state / 2 ** 32;
        };
        const seen = new Set<string>();
        for (let i = 0; i < 400; i++) seen.add(template.render({}, where, { random }));
        expect(seen).toEqual(new Set(variants.map((variant) => `${before}${variant}${after}`)));
      }),
      { numRuns: 150 },
    );
  });

  it('picks variant ⌊r·n⌋ for a roll r, and stays in range for any roll a source may give', () => {
    fc.assert(
      fc.property(group, fc.double({ noNaN: false }), (variants, roll) => {
        const text = compileTemplate(`{${variants.join('|')}}`, where).render({}, where, { random: () => roll });
        expect(variants).toContain(text);
        if (roll >= 0 && roll < 1) expect(text).toBe(variants[Math.floor(roll * variants.length)]);
      }),
      { numRuns: 300 },
    );
  });

  it('escaped braces and bars are text: any string with them escaped renders as itself', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const escaped = text.replace(/[{}|]/g, (char) => `\\${char}`);
        // A backslash before a brace or bar is the escape itself: such text is not round-trippable.
        fc.pre(!/\\[{}|]/.test(text));
        expect(compileTemplate(escaped, where).render({}, where)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('a template without groups renders the same whatever the dice', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.double({ min: 0, max: 0.999 }), (text, roll) => {
        const source = text.replace(/[{}|\\]/g, '');
        const template = compileTemplate(`${source}{{name}}`, where);
        expect(template.render({ name: 'Анна' }, where, { random: () => roll })).toBe(`${source}Анна`);
      }),
    );
  });
});
