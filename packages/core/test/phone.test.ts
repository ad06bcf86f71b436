import fc from 'fast-check';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineRule, isPhone, normalizePhone, OlchatError, ValidationError } from '../src/index.js';

/** What normalizePhone answers by libphonenumber's full parse alone (all it did before its fast path). */
function byFullParse(input: string): string | undefined {
  const trimmed = input.trim();
  if (!/^\+?[\d\s().\-\u00a0]{10,24}$/.test(trimmed)) return undefined;
  const parsed = parsePhoneNumberFromString(trimmed, 'RU');
  const digits = parsed ? `${parsed.countryCallingCode}${parsed.nationalNumber}` : '';
  return parsed?.isValid() && parsed.countryCallingCode === '7' && digits.length === 11 ? digits : undefined;
}

function normalizedOrUndefined(input: string): string | undefined {
  try {
    return normalizePhone(input);
  } catch (error) {
    if (error instanceof ValidationError) return undefined;
    throw error;
  }
}

// Codes in use (Russian mobile and city, Kazakh mobile and city, toll-free and premium) and any
// three digits, so that valid and invalid numbers both come up often.
const AREA_CODES = [
  '912',
  '903',
  '916',
  '926',
  '999',
  '958',
  '495',
  '499',
  '812',
  '343',
  '701',
  '705',
  '707',
  '747',
  '771',
  '777',
  '727',
  '717',
  '800',
  '804',
  '900',
  '300',
  '600',
  '100',
  '000',
];

describe('normalizePhone', () => {
  it.each([
    ['+7 (912) 345-67-89', '79123456789'],
    ['+79123456789', '79123456789'],
    ['79123456789', '79123456789'],
    ['7 912 345 67 89', '79123456789'],
    ['8 912 345 67 89', '79123456789'],
    ['8(912)345-67-89', '79123456789'],
    ['89123456789', '79123456789'],
    ['9123456789', '79123456789'],
    ['912 345-67-89', '79123456789'],
    ['  +7 912 345.67.89  ', '79123456789'],
    ['+7 (495) 123-45-67', '74951234567'],
    ['8 800 555-35-35', '78005553535'],
    // Kazakhstan shares +7: mobile 70x/77x, Almaty landline 727
    ['+7 701 234 5678', '77012345678'],
    ['8 (727) 123-45-67', '77271234567'],
    ['87771234567', '77771234567'],
    [79123456789, '79123456789'],
  ])('%s → %s', (input, expected) => {
    expect(normalizePhone(input)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['+1 202 555 0143', 'USA'],
    ['+380 50 123 4567', 'Ukraine'],
    ['+8 912 345 67 89', 'wrong country code'],
    ['912345678', 'too short'],
    ['+7 912 345 67 8', 'too short with code'],
    ['+7 912 345 67 890', 'too long'],
    ['89123456789123', 'far too long'],
    ['+7 000 000 00 00', 'no such range'],
    ['call me: 89123456789', 'free text'],
    ['8912345678a', 'letters'],
    ['+7 912 345 67 89 доб. 12', 'extension'],
  ])('rejects %j (%s) with a ValidationError', (input) => {
    expect(() => normalizePhone(input)).toThrow(ValidationError);
  });

  it('answers what libphonenumber’s full parse answers, for numbers typed in every common shape', () => {
    const digits = (count: number) =>
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: count, maxLength: count }).map((d) => d.join(''));
    const separator = fc.constantFrom('', ' ', '-', '.', '\u00a0', '  ', ' - ');
    const typed = fc
      .record({
        padding: fc.constantFrom('', ' ', '\t'),
        prefix: fc.constantFrom('', '+7', '7', '8', '+7 ', '7 ', '8 ', '8-', '+7-', '+7\u00a0', '+8', '+ 7 '),
        area: fc.oneof(fc.constantFrom(...AREA_CODES), digits(3)),
        brackets: fc.boolean(),
        rest: digits(7),
        separators: fc.array(separator, { minLength: 3, maxLength: 3 }),
      })
      .map(({ padding, prefix, area, brackets, rest, separators: [a, b, c] }) => {
        const code = brackets ? `(${area})` : area;
        return `${padding}${prefix}${code}${a}${rest.slice(0, 3)}${b}${rest.slice(3, 5)}${c}${rest.slice(5)}${padding}`;
      });
    fc.assert(
      fc.property(typed, (input) => {
        expect(normalizedOrUndefined(input)).toBe(byFullParse(input));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([null, undefined, {}, [], 7.5, true])('rejects %j that is not a string', (input) => {
    try {
      normalizePhone(input);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(OlchatError);
      expect((error as OlchatError).code).toBe('VALIDATION');
    }
  });
});

describe('isPhone, the check for a form schema', () => {
  it.each(['+7 (912) 345-67-89', '8 912 345 67 89', '9123456789', '+7 701 234 5678', 79123456789])(
    'takes %j',
    (input) => {
      expect(isPhone(input)).toBe(true);
    },
  );

  it.each(['', '   ', '+1 202 555 0143', '912345678', 'call me: 89123456789', null, undefined, {}, 7.5])(
    'refuses %j without throwing',
    (input) => {
      expect(isPhone(input)).toBe(false);
    },
  );

  it('says yes exactly when normalizePhone gives a number', () => {
    const typed = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.stringMatching(/^[+]?[78]?[ (]?[0-9]{3}[) -]?[0-9]{3}[ .-]?[0-9]{2}[ .-]?[0-9]{2}$/),
    );
    fc.assert(
      fc.property(typed, (input) => {
        expect(isPhone(input)).toBe(normalizedOrUndefined(input) !== undefined);
      }),
      { numRuns: 5_000 },
    );
  });

  it("works in a zod schema: the form's own message for a bad phone, and the rule then sends to it", async () => {
    const rule = defineRule({
      id: 'callback',
      input: z.object({ phone: z.string().refine(isPhone, 'Введите номер в формате +7 912 345-67-89') }),
      to: 'phone',
      text: 'Перезвоним',
    });
    const refused = await rule.prepare({ phone: '+1 202 555 0143' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).issues).toEqual([
      { path: 'phone', message: 'Введите номер в формате +7 912 345-67-89' },
    ]);
    expect((await rule.prepare({ phone: '8 (912) 345-67-89' }))?.message.phone).toBe('79123456789');
  });
});
