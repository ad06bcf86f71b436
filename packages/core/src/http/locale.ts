import { ValidationError, type ValidationIssue } from '../errors.js';
import { isCyrillic, RUSSIAN_FALLBACK, russianOf } from '../util/russian-issues.js';
import { InboundError } from './errors.js';

/** The language of what the form routes and `notify()` say about invalid input. */
export type FormLocale = 'ru' | 'en';

export const FORM_LOCALES: readonly FormLocale[] = ['ru', 'en'];

/**
 * A form's `invalid_input` answer in the customer's language. `'en'` leaves it as the rule said it
 * (the validator's and the library's own messages); `'ru'` gives each issue its Russian: the app's own
 * Russian message, else the one the library or the schema issue carries, else a plain "check this field".
 */
export function inLocale(error: InboundError, locale: FormLocale): InboundError {
  if (locale === 'en' || error.code !== 'invalid_input') return error;
  // The issues with their Russian are the ValidationError's; the InboundError's are plain copies.
  const source: readonly ValidationIssue[] =
    error.cause instanceof ValidationError ? error.cause.issues : (error.issues ?? []);
  const issues = source.map(({ path, message }, i) => ({
    path,
    message: russianOf(source[i] as ValidationIssue) ?? (isCyrillic(message) ? message : RUSSIAN_FALLBACK),
  }));
  const listed = issues.map(({ path, message }) => (path === '' ? message : `${path}: ${message}`)).join('; ');
  return new InboundError('invalid_input', `Проверьте данные формы. ${listed}`, {
    issues,
    headers: error.headers,
    cause: error.cause,
  });
}
