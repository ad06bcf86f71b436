import { PhoneNumber, parsePhoneNumberFromString } from 'libphonenumber-js';
import { ValidationError } from './errors.js';
import { withRussian } from './util/russian-issues.js';

// Only what people put into a phone field; libphonenumber would otherwise dig a number out of free text.
const PHONE_CHARACTERS = /^\+?[\d\s().\-\u00a0]{10,24}$/;

// The shapes nearly every form submits: +7, 7, 8 or nothing, then ten digits as 3-3-2-2, the
// first three maybe in brackets, spaces, dashes or dots between the groups.
const COMMON_SHAPE =
  /^(?:(?:\+7|7|8)[ \u00a0-]?)?(?:\((\d{3})\)|(\d{3}))[ \u00a0.-]?(\d{3})[ \u00a0.-]?(\d{2})[ \u00a0.-]?(\d{2})$/;

/**
 * Turns a Russian or Kazakh phone number as people type it into the vendor's form:
 * 11 digits starting with 7. Accepts `+7…`, `7…`, `8…` and 10-digit national numbers,
 * with spaces, brackets, dots and dashes. Throws a `ValidationError` for anything else.
 */
export function normalizePhone(input: unknown): string {
  const text = typeof input === 'number' && Number.isSafeInteger(input) ? String(input) : input;
  if (typeof text !== 'string') {
    throw invalid('Phone number must be a string', 'Expected a string', 'Укажите номер телефона');
  }
  const digits = phoneDigits(text.trim());
  if (digits === undefined) {
    throw invalid(
      `Not a Russian or Kazakh phone number: ${JSON.stringify(text.trim().slice(0, 40))}`,
      'Expected a Russian or Kazakh number such as +7 912 345-67-89',
      PHONE_HINT_RU,
    );
  }
  return digits;
}

/**
 * Whether `normalizePhone` takes `value`: a ready check for a form's schema, for example
 * `z.string().refine(isPhone, 'Введите номер в формате +7 912 345-67-89')`. Never throws.
 */
export function isPhone(value: unknown): boolean {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  return typeof text === 'string' && phoneDigits(text.trim()) !== undefined;
}

const PHONE_HINT_RU = 'Введите номер в формате +7 912 345-67-89 (Россия или Казахстан)';

/** The vendor's 11 digits for a trimmed phone, or undefined when it is no Russian or Kazakh number. */
function phoneDigits(trimmed: string): string | undefined {
  const common = commonShape(trimmed);
  if (common !== undefined) return common;
  const parsed = PHONE_CHARACTERS.test(trimmed) ? parsePhoneNumberFromString(trimmed, 'RU') : undefined;
  const digits = parsed ? `${parsed.countryCallingCode}${parsed.nationalNumber}` : '';
  if (!parsed?.isValid() || parsed.countryCallingCode !== '7' || digits.length !== 11) return undefined;
  return digits;
}

/**
 * A number in a common shape, checked by libphonenumber's own validator without its general
 * parser, which took three quarters of a trigger's phone time (0.8 µs instead of 3.3). Undefined
 * for anything else, an invalid number included: the full parse then decides, as it always did.
 */
function commonShape(text: string): string | undefined {
  const match = COMMON_SHAPE.exec(text);
  if (!match) return undefined;
  const national = `${match[1] ?? match[2]}${match[3]}${match[4]}${match[5]}`;
  // A national number that starts with 8 could also be read with 8 as the trunk prefix: the
  // parser's rules decide those.
  if (national.startsWith('8')) return undefined;
  return new PhoneNumber(`+7${national}`).isValid() ? `7${national}` : undefined;
}

function invalid(message: string, issue: string, russian: string): ValidationError {
  return new ValidationError(message, [withRussian({ path: 'phone', message: issue }, russian)]);
}

/** Kazakhstan's numbers (+7 7xx) live in `Asia/Almaty`, the rest of +7 in `Europe/Moscow`. */
export function defaultTimeZone(phone: string): string {
  return phone.startsWith('77') ? 'Asia/Almaty' : 'Europe/Moscow';
}

/**
 * A phone as an operator may see it: the country code, the operator code and the last two digits
 * (`79123456789` → `+7 912 ***-**-89`). Enough to tell jobs apart, not enough to call anyone.
 */
export function maskPhone(phone: string | undefined): string {
  if (phone === undefined || phone === '') return '—';
  const digits = phone.replace(/\D/g, '');
  if (digits.length === 11) return `+${digits[0]} ${digits.slice(1, 4)} ***-**-${digits.slice(-2)}`;
  if (digits.length <= 4) return '*'.repeat(digits.length);
  return `+${digits.slice(0, 2)}${'*'.repeat(digits.length - 4)}${digits.slice(-2)}`;
}
