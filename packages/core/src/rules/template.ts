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
 *
 * Variants (the vendor's randomizer syntax): `{Здравствуйте|Добрый день}` — a `|` inside single
 * braces — renders one of its variants, picked at random on each render (the notifier renders once
 * per job, so a job keeps its text and a retry sends the same). A variant may hold `{{field}}`
 * placeholders, dated ones too (`{Ждём вас {{at|datetime}}|Приём {{at|datetime}}}`); every field of
 * every variant must be there, so whether a trigger is valid never depends on the dice. Groups do
 * not nest; a group left open or opened inside another, or one whose variants are all empty, is a
 * `ValidationError` when the template is compiled. An empty variant is allowed (`Спасибо{|!}`).
 * Single braces without a `|` are text as they always were (`{скидка}` stays `{скидка}`).
 * `\{`, `\}` and `\|` write a literal brace or bar anywhere (`\{{name}}` writes `{{name}}`); a
 * backslash before anything else is itself.
 */
export interface CompiledTemplate {
  readonly source: string;
  /** The field paths the template reads, formatted or not, in order. */
  readonly fields: readonly string[];
  /** Whether a placeholder formats a date: only then does `render` need a time zone. */
  readonly usesDates: boolean;
  /** How many variant groups (`{a|b}`) the template has: 0 renders the same text every time. */
  readonly variantGroups: number;
  render(data: unknown, where: string, context?: RenderContext): string;
}

export interface RenderContext {
  /** IANA zone the dates are shown in; default `Europe/Moscow`. An unknown zone is a `ValidationError`. */
  timeZone?: string;
  /** Picks the variants: a number in [0, 1) per group, as `Math.random` (the default) gives. */
  random?: () => number;
}

export type DateFormat = 'date' | 'time' | 'datetime';

const DATE_FORMATS: ReadonlySet<string> = new Set<DateFormat>(['date', 'time', 'datetime']);
const DEFAULT_TIME_ZONE = 'Europe/Moscow';

const SEGMENT = /^[\p{L}\p{N}_$-]+$/u;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether a dotted field path stays on the data's own fields (no empty or prototype segments). */
export function isSafeFieldPath(path: readonly string[]): boolean {
  return path.every((segment) => segment !== '' && !FORBIDDEN.has(segment));
}

/** A variant group: each variant is text and placeholders (indexes into the template's fields). */
type Variant = readonly (string | number)[];
/** The template as parsed: text, a placeholder (its index), or a group of variants. */
type Piece = string | number | { readonly variants: readonly Variant[] };

/** What a backslash may escape; before anything else it is itself. */
const ESCAPABLE = new Set(['{', '}', '|']);
const PLACEHOLDER_AT = /\{\{\s*([^{}]*?)\s*\}\}/y;

export function compileTemplate(source: string, where: string): CompiledTemplate {
  if (typeof source !== 'string')
    throw new ValidationError(`${where} must be a string template`, [{ path: where, message: 'Expected a string' }]);
  const paths: string[][] = [];
  const formats: (DateFormat | undefined)[] = [];

  /** Checks a `{{…}}` and gives it its index. */
  function placeholder(match: string, inner: string): number {
    const bar = inner.indexOf('|');
    const format = bar === -1 ? undefined : inner.slice(bar + 1).trim();
    const path = (bar === -1 ? inner : inner.slice(0, bar).trimEnd()).split('.');
    if (!path.every((segment) => SEGMENT.test(segment)) || format?.includes('|')) {
      throw new ValidationError(`${where}: ${JSON.stringify(match)} is not a field reference`, [
        { path: where, message: 'Bad placeholder' },
      ]);
    }
    const forbidden = path.find((segment) => FORBIDDEN.has(segment));
    if (forbidden) {
      throw new ValidationError(`${where}: ${JSON.stringify(match)} reaches into ${forbidden}`, [
        { path: where, message: 'Forbidden field name' },
      ]);
    }
    if (format !== undefined && !DATE_FORMATS.has(format)) {
      throw new ValidationError(
        `${where}: ${JSON.stringify(match)} asks for the unknown format ${JSON.stringify(format)}; the formats are date, time and datetime`,
        [{ path: where, message: `Unknown format ${JSON.stringify(format)}: use date, time or datetime` }],
      );
    }
    paths.push(path);
    formats.push(format as DateFormat | undefined);
    return paths.length - 1;
  }

  const pieces = parse(source, where, placeholder);
  const fields = paths.map((p) => p.join('.'));
  const usesDates = formats.some((format) => format !== undefined);
  const variantGroups = pieces.filter((piece) => typeof piece === 'object').length;
  if (variantGroups > 0) {
    return {
      source,
      fields,
      usesDates,
      variantGroups,
      render: (data, renderWhere, context) =>
        renderVariants(pieces, resolveAll(data, renderWhere, context), context?.random ?? Math.random),
    };
  }

  // No variants: text and placeholders alternate, as they always did.
  const literals: string[] = [''];
  for (const piece of pieces) {
    if (typeof piece === 'string') literals[literals.length - 1] += piece;
    else literals.push('');
  }
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

  function failure(data: unknown, missing: readonly string[], notDates: readonly string[], renderWhere: string) {
    if (notDates.length === 0) return missingError(data, missing, renderWhere);
    const issues: ValidationIssue[] = [
      ...(missing.length > 0 ? missingError(data, missing, renderWhere).issues : []),
      ...notDates.map((field) => withRussian({ path: field, message: NOT_A_DATE }, 'Введите дату')),
    ];
    return new ValidationError(
      `${renderWhere}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      issues,
    );
  }

  /** Every placeholder's text, variants chosen or not: a missing field fails every render alike. */
  function resolveAll(data: unknown, renderWhere: string, context: RenderContext | undefined): string[] {
    const dates = usesDates ? dateFormattersOf(context?.timeZone ?? DEFAULT_TIME_ZONE, renderWhere) : undefined;
    const values: string[] = [];
    const missing: string[] = [];
    const notDates: string[] = [];
    for (let i = 0; i < paths.length; i++) {
      const format = formats[i];
      if (format === undefined || dates === undefined) {
        const value = lookup(data, paths[i] as string[]);
        if (value === undefined) missing.push(fields[i] as string);
        values.push(value ?? '');
        continue;
      }
      const raw = ownValue(data, paths[i] as string[]);
      const date = raw === undefined ? undefined : readDate(raw);
      if (raw === undefined) missing.push(fields[i] as string);
      else if (date === undefined) notDates.push(fields[i] as string);
      values.push(date === undefined ? '' : formatDate(dates, date, format));
    }
    if (missing.length > 0 || notDates.length > 0) throw failure(data, missing, notDates, renderWhere);
    return values;
  }

  // Plain templates keep the loop they always had: it runs for every trigger, so nothing is added to it.
  function renderPlain(data: unknown, renderWhere: string): string {
    if (paths.length === 0) return literals[0] as string;
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
    const values = resolveAll(data, renderWhere, context);
    const parts: string[] = [];
    for (let i = 0; i < paths.length; i++) parts.push(literals[i] as string, values[i] as string);
    parts.push(literals[paths.length] as string);
    return parts.join('');
  }

  return {
    source,
    fields,
    usesDates,
    variantGroups,
    render: usesDates ? renderWithDates : renderPlain,
  };
}

/** One variant per group, each placeholder's text in its place, as one flat string. */
function renderVariants(pieces: readonly Piece[], values: readonly string[], random: () => number): string {
  const parts: string[] = [];
  const put = (piece: string | number) => parts.push(typeof piece === 'string' ? piece : (values[piece] as string));
  for (const piece of pieces) {
    if (typeof piece !== 'object') {
      put(piece);
      continue;
    }
    const { variants } = piece;
    // A random source that strays outside [0, 1) still picks a variant that exists.
    const index = Math.min(variants.length - 1, Math.max(0, Math.floor(random() * variants.length) || 0));
    for (const part of variants[index] as Variant) put(part);
  }
  return parts.join('');
}

/**
 * The template as text, placeholders and variant groups. A single `{` opens a group only when a
 * `|` follows before its `}`; otherwise it is text, as it always was.
 */
function parse(source: string, where: string, placeholder: (match: string, inner: string) => number): Piece[] {
  const pieces: Piece[] = [];
  let text = '';
  let i = 0;
  while (i < source.length) {
    const char = source[i] as string;
    const next = source[i + 1];
    if (char === '\\' && next !== undefined && ESCAPABLE.has(next)) {
      text += next;
      i += 2;
      continue;
    }
    if (char === '{') {
      const field = placeholderAt(source, i);
      if (field) {
        if (text !== '') pieces.push(text);
        text = '';
        pieces.push(placeholder(field.match, field.inner));
        i = field.end;
        continue;
      }
      const group = groupAt(source, i, where);
      if (group) {
        if (text !== '') pieces.push(text);
        text = '';
        pieces.push({
          variants: group.variants.map((variant) =>
            variant.map((part) => (typeof part === 'string' ? part : placeholder(part.match, part.inner))),
          ),
        });
        i = group.end;
        continue;
      }
    }
    text += char;
    i++;
  }
  if (text !== '' || pieces.length === 0) pieces.push(text);
  return pieces;
}

interface PlaceholderMatch {
  match: string;
  inner: string;
  end: number;
}

function placeholderAt(source: string, at: number): PlaceholderMatch | undefined {
  if (source[at + 1] !== '{') return undefined;
  PLACEHOLDER_AT.lastIndex = at;
  const found = PLACEHOLDER_AT.exec(source);
  return found ? { match: found[0], inner: found[1] ?? '', end: at + found[0].length } : undefined;
}

/** The variant group opening at `at`; undefined when the brace opens none (no `|` before its end). */
function groupAt(
  source: string,
  at: number,
  where: string,
): { variants: (string | PlaceholderMatch)[][]; end: number } | undefined {
  const variants: (string | PlaceholderMatch)[][] = [[]];
  let text = '';
  let barred = false;
  const flush = () => {
    if (text !== '') (variants[variants.length - 1] as (string | PlaceholderMatch)[]).push(text);
    text = '';
  };
  for (let i = at + 1; i < source.length; ) {
    const char = source[i] as string;
    const next = source[i + 1];
    if (char === '\\' && next !== undefined && ESCAPABLE.has(next)) {
      text += next;
      i += 2;
      continue;
    }
    if (char === '{') {
      const field = placeholderAt(source, i);
      if (field) {
        flush();
        (variants[variants.length - 1] as (string | PlaceholderMatch)[]).push(field);
        i = field.end;
        continue;
      }
      if (!barred) return undefined; // `{a {b|c}`: the first brace is text, the second opens the group
      throw malformed(where, source, at, 'variant groups cannot be nested (write \\{ for a literal brace)');
    }
    if (char === '}') {
      if (!barred) return undefined;
      flush();
      if (variants.every((variant) => variant.length === 0)) {
        throw malformed(where, source, at, 'every variant of this group is empty');
      }
      return { variants, end: i + 1 };
    }
    if (char === '|') {
      flush();
      barred = true;
      variants.push([]);
    } else {
      text += char;
    }
    i++;
  }
  if (!barred) return undefined;
  throw malformed(where, source, at, 'this variant group is never closed with }');
}

function malformed(where: string, source: string, at: number, why: string): ValidationError {
  const excerpt = JSON.stringify(source.slice(at, at + 40));
  return new ValidationError(`${where}: the variant group at ${excerpt}: ${why}`, [
    { path: where, message: `Bad variant group: ${why}` },
  ]);
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
