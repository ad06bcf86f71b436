import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { ValidationError } from './errors.js';

// Only what people put into a phone field; libphonenumber would otherwise dig a number out of free text.
const PHONE_CHARACTERS = /^\+?[\d\s().\-\u00a0]{10,24}$/;

/**
 * Turns a Russian or Kazakh phone number as people type it into the vendor's form:
 * 11 digits starting with 7. Accepts `+7…`, `7…`, `8…` and 10-digit national numbers,
 * with spaces, brackets, dots and dashes. Throws a `ValidationError` for anything else.
 */
export function normalizePhone(input: unknown): string {
  const text = typeof input === 'number' && Number.isSafeInteger(input) ? String(input) : input;
  if (typeof text !== 'string') {
    throw invalid('Phone number must be a string', 'Expected a string');
  }
  const trimmed = text.trim();
  const parsed = PHONE_CHARACTERS.test(trimmed) ? parsePhoneNumberFromString(trimmed, 'RU') : undefined;
  const digits = parsed ? `${parsed.countryCallingCode}${parsed.nationalNumber}` : '';
  if (!parsed?.isValid() || parsed.countryCallingCode !== '7' || digits.length !== 11) {
    throw invalid(
      `Not a Russian or Kazakh phone number: ${JSON.stringify(trimmed.slice(0, 40))}`,
      'Expected a Russian or Kazakh number such as +7 912 345-67-89',
    );
  }
  return digits;
}

function invalid(message: string, issue: string): ValidationError {
  return new ValidationError(message, [{ path: 'phone', message: issue }]);
}
