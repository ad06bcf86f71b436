import type { ValidationIssue } from '../errors.js';

/**
 * The Russian an end customer reads for a validation issue. The library's messages are English (for
 * the developer: logs, `trigger()`'s errors); an issue a customer can cause (a phone, an empty field)
 * also carries its Russian here, out of sight: not in the issue's JSON, not in a log. The HTTP
 * handler's form routes answer with it by default (`locale: 'ru'`).
 */
const russian = new WeakMap<ValidationIssue, string>();

/** `issue`, with `text` as what a Russian-speaking customer reads for it. */
export function withRussian(issue: ValidationIssue, text: string): ValidationIssue {
  russian.set(issue, text);
  return issue;
}

export function russianOf(issue: ValidationIssue): string | undefined {
  return russian.get(issue);
}

const CYRILLIC = /[\u0400-\u04ff]/;

/** Whether a message is already written in Russian (or Kazakh): the app's own words, kept as they are. */
export function isCyrillic(text: string): boolean {
  return CYRILLIC.test(text);
}

/** What an issue without words of its own says to a customer. */
export const RUSSIAN_FALLBACK = 'Проверьте это поле';
