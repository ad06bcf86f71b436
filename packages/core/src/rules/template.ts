import { ValidationError, type ValidationIssue } from '../errors.js';
import { type DateValue, MAX_EPOCH_MS, parseIsoDate } from '../util/iso-date.js';
import { ownCopy } from '../util/own-string.js';
import { withRussian } from '../util/russian-issues.js';

/**
 * `{{field}}` and `{{nested.field}}` templates, plus three fixed date formats:
 * `{{visitAt|date}}` → «29 ноября», `{{visitAt|time}}` → «10:00» and `{{visitAt|datetime}}` →
 * «29 ноября в 10:00», written by `Intl` in `ru-RU` and the time zone given at render time
 * (default `Europe/Moscow`). Whitespace around `|` is allowed; any other format name is refused
 * when the template is compiled. There is no other syntax: no code, no filters of one's own.
 *
 * Plain text only: a template is split once into literal parts and field paths, values are
 * looked up on own properties only, and a value is inserted as it is — never read as a template
 * again.
 *
 * A formatted field may hold a `Date`, epoch milliseconds (a finite number) or an ISO 8601 string
 * (RFC 3339 profile): a date-time with `Z` or an offset is an instant, shown in the render zone;
 * a date (`2026-11-29`) or a date-time without an offset (`2026-11-29T10:00`) is a wall time of
 * the recipient and reads as written in every zone. Anything else — missing, an invalid date,
 * `'tomorrow'`, `'12/01/2026'`, a boolean, an object — is a `ValidationError` at render whose
 * issue path is the field.
 *
 * A plain `{{field}}` holding a `Date` stays what it always was, a `ValidationError` (now one that
 * names the three formats): it would otherwise need a zone that `usesDates` says is not needed,
 * and `String(date)` would leak the server's zone and English month names into a message.
 */
export interface CompiledTemplate {
  readonly source: string;
  /** The field paths the template reads, formatted or not, in order. */
  readonly fields: readonly string[];
  /** Whether a placeholder formats a date: only then does `render` need a time zone. */
  readonly usesDates: boolean;
  render(data: unknown, where: string, context?: RenderContext): string;
}

export interface RenderContext {
  /** IANA zone the dates are shown in; default `Europe/Moscow`. An unknown zone is a `ValidationError`. */
  timeZone?: string;
}

export type DateFormat = 'date' | 'time' | 'datetime';

const DATE_FORMATS: ReadonlySet<string> = new Set<DateFormat>(['date', 'time', 'datetime']);
const DEFAULT_TIME_ZONE = 'Europe/Moscow';

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const SEGMENT = /^[\p{L}\p{N}_$-]+$/u;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether a dotted field path stays on the data's own fields (no empty or prototype segments). */
export function isSafeFieldPath(path: readonly string[]): boolean {
  return path.every((segment) => segment !== '' && !FORBIDDEN.has(segment));
}

export function compileTemplate(source: string, where: string): CompiledTemplate {
  if (typeof source !== 'string')
    throw new ValidationError(`${where} must be a string template`, [{ path: where, message: 'Expected a string' }]);
  const literals: string[] = [];
  const paths: string[][] = [];
  const formats: (DateFormat | undefined)[] = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    const inner = match[1] ?? '';
    const bar = inner.indexOf('|');
    const format = bar === -1 ? undefined : inner.slice(bar + 1).trim();
    const path = (bar === -1 ? inner : inner.slice(0, bar).trimEnd()).split('.');
    if (!path.every((segment) => SEGMENT.test(segment)) || format?.includes('|')) {
      throw new ValidationError(`${where}: ${JSON.stringify(match[0])} is not a field reference`, [
        { path: where, message: 'Bad placeholder' },
      ]);
    }
    const forbidden = path.find((segment) => FORBIDDEN.has(segment));
    if (forbidden) {
      throw new ValidationError(`${where}: ${JSON.stringify(match[0])} reaches into ${forbidden}`, [
        { path: where, message: 'Forbidden field name' },
      ]);
    }
    if (format !== undefined && !DATE_FORMATS.has(format)) {
      throw new ValidationError(
        `${where}: ${JSON.stringify(match[0])} asks for the unknown format ${JSON.stringify(format)}; the formats are date, time and datetime`,
        [{ path: where, message: `Unknown format ${JSON.stringify(format)}: use date, time or datetime` }],
      );
    }
    literals.push(source.slice(last, match.index));
    paths.push(path);
    formats.push(format as DateFormat | undefined);
    last = (match.index ?? 0) + match[0].length;
  }
  literals.push(source.slice(last));
  const fields = paths.map((p) => p.join('.'));
  const usesDates = formats.some((format) => format !== undefined);
  // `{{field}}` and nothing else: joining would give back the app's own string, maybe a slice of
  // something much larger that the queued job would then keep alive.
  const bare = paths.length === 1 && literals[0] === '' && literals[1] === '';

  function missingError(data: unknown, missing: readonly string[], renderWhere: string): ValidationError {
    return new ValidationError(
      `${renderWhere}: no value for ${missing.map((f) => `{{${f}}}`).join(', ')}`,
      missing.map((field) =>
        // A Date in a plain placeholder is the likely slip once a schema coerces dates: say what to write.
        // That one is the developer's to fix; an empty field is the customer's, so it is said in Russian too.
        ownValue(data, field.split('.')) instanceof Date
          ? { path: field, message: `A date: write {{${field}|date}}, {{${field}|time}} or {{${field}|datetime}}` }
          : withRussian({ path: field, message: `Required by the ${renderWhere} template` }, 'Заполните это поле'),
      ),
    );
  }

  // Plain templates keep the loop they always had: it runs for every trigger, so nothing is added to it.
  function renderPlain(data: unknown, renderWhere: string): string {
    if (paths.length === 0) return source;
    const parts: string[] = [];
    const missing: string[] = [];
    for (let i = 0; i < paths.length; i++) {
      parts.push(literals[i] as string);
      const value = lookup(data, paths[i] as string[]);
      if (value === undefined) missing.push(fields[i] as string);
      else parts.push(value);
    }
    if (missing.length > 0) throw missingError(data, missing, renderWhere);
    parts.push(literals[paths.length] as string);
    // join() builds a flat string: a queued job then keeps one compact copy, not a rope of parts.
    const text = parts.join('');
    return bare ? ownCopy(text) : text;
  }

  function renderWithDates(data: unknown, renderWhere: string, context?: RenderContext): string {
    const dates = dateFormattersOf(context?.timeZone ?? DEFAULT_TIME_ZONE, renderWhere);
    const parts: string[] = [];
    const missing: string[] = [];
    const notDates: string[] = [];
    for (let i = 0; i < paths.length; i++) {
      parts.push(literals[i] as string);
      const format = formats[i];
      if (format === undefined) {
        const value = lookup(data, paths[i] as string[]);
        if (value === undefined) missing.push(fields[i] as string);
        else parts.push(value);
        continue;
      }
      const raw = ownValue(data, paths[i] as string[]);
      const date = raw === undefined ? undefined : readDate(raw);
      if (raw === undefined) missing.push(fields[i] as string);
      else if (date === undefined) notDates.push(fields[i] as string);
      else parts.push(formatDate(dates, date, format));
    }
    if (notDates.length > 0) {
      const issues: ValidationIssue[] = [
        ...(missing.length > 0 ? missingError(data, missing, renderWhere).issues : []),
        ...notDates.map((field) => withRussian({ path: field, message: NOT_A_DATE }, 'Введите дату')),
      ];
      throw new ValidationError(
        `${renderWhere}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
        issues,
      );
    }
    if (missing.length > 0) throw missingError(data, missing, renderWhere);
    parts.push(literals[paths.length] as string);
    return parts.join('');
  }

  return {
    source,
    fields,
    usesDates,
    render: usesDates ? renderWithDates : renderPlain,
  };
}

/** A field's text, or undefined when it is missing, empty or not a plain value. */
export function lookup(data: unknown, path: readonly string[]): string | undefined {
  let current: unknown = data;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  if (typeof current === 'string') return current.trim() === '' ? undefined : current;
  if (typeof current === 'number' && Number.isFinite(current)) return String(current);
  if (typeof current === 'bigint' || typeof current === 'boolean') return String(current);
  return undefined;
}

/** A field's own value as it is, or undefined when the path leaves the data's own fields. */
function ownValue(data: unknown, path: readonly string[]): unknown {
  let current: unknown = data;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

const NOT_A_DATE = 'Expected a date: a Date, an ISO 8601 string or epoch milliseconds';

function readDate(value: unknown): DateValue | undefined {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : { ms, floating: false };
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) && Math.abs(value) <= MAX_EPOCH_MS ? { ms: value, floating: false } : undefined;
  }
  if (typeof value === 'string') return parseIsoDate(value);
  return undefined;
}

interface DateFormatters {
  date: Intl.DateTimeFormat;
  time: Intl.DateTimeFormat;
}

// Building an Intl.DateTimeFormat costs far more than using one, so each zone's pair is built
// once. Zone names may come from a user's function, so the map is capped rather than trusted.
const formattersByZone = new Map<string, DateFormatters>();
const MAX_CACHED_ZONES = 1_000;

function dateFormattersOf(timeZone: string, where: string): DateFormatters {
  let formatters = formattersByZone.get(timeZone);
  if (formatters === undefined) {
    try {
      formatters = {
        date: new Intl.DateTimeFormat('ru-RU', { timeZone, day: 'numeric', month: 'long' }),
        time: new Intl.DateTimeFormat('ru-RU', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
      };
    } catch {
      const zone = typeof timeZone === 'string' ? JSON.stringify(timeZone.slice(0, 60)) : typeof timeZone;
      throw new ValidationError(`${where}: ${zone} is not an IANA time zone`, [
        { path: 'timeZone', message: `Unknown time zone ${zone}` },
      ]);
    }
    if (formattersByZone.size >= MAX_CACHED_ZONES) formattersByZone.clear();
    formattersByZone.set(timeZone, formatters);
  }
  return formatters;
}

// Wall times are stored as if they were UTC, so UTC shows them as written.
const floatingFormatters = dateFormattersOf('UTC', 'template');

function formatDate(zoned: DateFormatters, value: DateValue, format: DateFormat): string {
  const formatters = value.floating ? floatingFormatters : zoned;
  switch (format) {
    case 'date':
      return formatters.date.format(value.ms);
    case 'time':
      return formatters.time.format(value.ms);
    case 'datetime':
      // Joined here rather than left to ICU, whose glue between date and time differs by version.
      return `${formatters.date.format(value.ms)} в ${formatters.time.format(value.ms)}`;
  }
}
