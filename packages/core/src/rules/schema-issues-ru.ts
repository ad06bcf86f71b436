import { isCyrillic, RUSSIAN_FALLBACK } from '../util/russian-issues.js';
import type { StandardSchemaV1 } from './standard-schema.js';

/**
 * What a customer reads, in Russian, for an issue a rule's schema raised about a form field.
 *
 * A message already in Cyrillic is the app's own (`z.string().min(1, 'Укажите имя')`) and is kept
 * (zod's own Russian locale excepted: see below).
 * Otherwise a field left empty says so, whatever the validator called it; then zod's issue codes
 * (the common ones: type, length, size, format, choice) are put in the words of a form, not of a
 * type system; anything else gets a plain "check this field". Only the issue's own fields and the
 * submitted value are read, so this works whatever locale the app gave zod, and for any validator.
 */
export function russianSchemaIssue(issue: StandardSchemaV1.Issue, data: unknown): string {
  const details = issue as unknown as ZodIssueFields;
  if (isCyrillic(issue.message) && !isZodRussianStock(details.code, issue.message)) return issue.message;
  if (isBlank(valueAt(data, issue.path ?? []))) return 'Заполните это поле';
  switch (details.code) {
    case 'invalid_type':
      return EXPECTED[String(details.expected)] ?? RUSSIAN_FALLBACK;
    case 'too_small':
      return tooSmall(details);
    case 'too_big':
      return tooBig(details);
    case 'invalid_format':
      return FORMATS[String(details.format)] ?? 'Неверный формат';
    case 'invalid_value':
      return Array.isArray(details.values) && details.values.length > 1
        ? 'Выберите один из вариантов'
        : RUSSIAN_FALLBACK;
    case 'not_multiple_of':
      return `Нужно число, кратное ${String(details.divisor)}`;
    case 'unrecognized_keys':
      return 'Лишние поля в форме';
    default:
      return RUSSIAN_FALLBACK;
  }
}

// zod's own Russian (`z.config(z.locales.ru())`) speaks of types («ожидалось string, получено
// undefined»): its stock openings are put in a form's words like its English. A refine's message
// (code `custom`) is always the app's own.
const ZOD_RUSSIAN_STOCK =
  /^(?:(?:Неверный ввод|Неверный вариант|Слишком большое значение|Слишком маленькое значение|Неверная строка|Неверное число):|Неверные входные данные$)/;

function isZodRussianStock(code: unknown, message: string): boolean {
  if (code === undefined || code === 'custom') return false;
  return ZOD_RUSSIAN_STOCK.test(message) || (code === 'invalid_format' && message.startsWith('Неверный '));
}

/** The fields zod 4 puts on its issues beside Standard Schema's `message` and `path`. */
interface ZodIssueFields {
  code?: unknown;
  expected?: unknown;
  origin?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: unknown;
  format?: unknown;
  values?: unknown;
  divisor?: unknown;
}

const EXPECTED: Record<string, string> = {
  string: 'Введите текст',
  number: 'Введите число',
  int: 'Введите целое число',
  bigint: 'Введите целое число',
  boolean: 'Выберите «да» или «нет»',
  date: 'Введите дату',
};

const FORMATS: Record<string, string> = {
  email: 'Введите адрес электронной почты, например name@example.ru',
  url: 'Введите ссылку, например https://example.ru',
  date: 'Введите дату',
  datetime: 'Введите дату и время',
  time: 'Введите время',
  e164: 'Введите номер телефона в международном формате, например +79123456789',
};

function tooSmall(issue: ZodIssueFields): string {
  const min = Number(issue.minimum);
  if (!Number.isFinite(min)) return RUSSIAN_FALLBACK;
  switch (issue.origin) {
    case 'string':
      return min <= 1 ? 'Заполните это поле' : `Не короче ${min} ${characters(min)}`;
    case 'number':
    case 'int':
    case 'bigint':
      return issue.inclusive === false ? `Нужно число больше ${min}` : `Нужно число не меньше ${min}`;
    case 'array':
    case 'set':
      return min <= 1 ? 'Выберите хотя бы один вариант' : `Выберите не меньше ${min}`;
    case 'date':
      return 'Слишком ранняя дата';
    default:
      return RUSSIAN_FALLBACK;
  }
}

function tooBig(issue: ZodIssueFields): string {
  const max = Number(issue.maximum);
  if (!Number.isFinite(max)) return RUSSIAN_FALLBACK;
  switch (issue.origin) {
    case 'string':
      return `Не длиннее ${max} ${characters(max)}`;
    case 'number':
    case 'int':
    case 'bigint':
      return issue.inclusive === false ? `Нужно число меньше ${max}` : `Нужно число не больше ${max}`;
    case 'array':
    case 'set':
      return `Выберите не больше ${max}`;
    case 'date':
      return 'Слишком поздняя дата';
    default:
      return RUSSIAN_FALLBACK;
  }
}

/** «не короче 1 символа», «21 символа», but «2 символов», «11 символов». */
function characters(count: number): string {
  return count % 10 === 1 && count % 100 !== 11 ? 'символа' : 'символов';
}

/** The submitted value at an issue's path, through own fields only. */
function valueAt(data: unknown, path: ReadonlyArray<PropertyKey | StandardSchemaV1.PathSegment>): unknown {
  let current = data;
  for (const segment of path) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}
