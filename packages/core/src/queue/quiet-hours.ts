import { ValidationError, type ValidationIssue } from '../errors.js';
import { defaultTimeZone } from '../phone.js';

/**
 * Quiet hours: a daily window (`'21:00'`–`'09:00'`, or `'13:00'`–`'14:00'` within a day) in the
 * recipient's time zone during which jobs of the lanes that keep it wait. The start minute is
 * quiet, the end minute is not. Wall times come from the runtime's tz data through `Intl`, never
 * from hard-coded offsets: zones change (Kazakhstan moved `Asia/Almaty` from UTC+6 to UTC+5 in
 * 2024) and some have DST.
 */
export interface QuietHoursOptions {
  /** `'HH:MM'`, 00:00–23:59: the first quiet minute. */
  start: string;
  /** `'HH:MM'`, 00:00–23:59, not equal to `start`: the first minute allowed again. */
  end: string;
  /** An IANA zone for every recipient, or one per phone; default: {@link defaultTimeZone}. */
  timeZone?: string | ((phone: string) => string);
}

export interface QuietHours {
  /** The recipient's IANA zone. Throws `ValidationError` when a zone function answers an invalid one. */
  zoneOf(phone: string): string;
  /** `at` itself when it is outside quiet hours in the recipient's zone, else the instant they end. */
  nextAllowed(at: number, phone: string): number;
}

/** The zone for a recipient: the option's string, the function's answer, or the default. */
export function resolveTimeZone(option: string | ((phone: string) => string) | undefined, phone: string): string {
  const zone = typeof option === 'function' ? option(phone) : (option ?? defaultTimeZone(phone));
  if (!isTimeZone(zone)) {
    throw new ValidationError(`quietHours.timeZone: ${quote(zone)} is not an IANA time zone`, [
      { path: 'quietHours.timeZone', message: `Unknown time zone ${quote(zone)}` },
    ]);
  }
  return zone;
}

export function createQuietHours(options: QuietHoursOptions): QuietHours {
  const issues: ValidationIssue[] = [];
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('quietHours must be an object such as { start: "21:00", end: "09:00" }', [
      { path: 'quietHours', message: 'Expected an object' },
    ]);
  }
  const start = parseClock(options.start, 'quietHours.start', issues);
  const end = parseClock(options.end, 'quietHours.end', issues);
  if (start !== undefined && start === end) {
    issues.push({ path: 'quietHours.end', message: 'Must differ from start' });
  }
  const { timeZone } = options;
  if (typeof timeZone === 'string') {
    if (!isTimeZone(timeZone))
      issues.push({ path: 'quietHours.timeZone', message: `Unknown time zone ${quote(timeZone)}` });
  } else if (timeZone !== undefined && typeof timeZone !== 'function') {
    issues.push({ path: 'quietHours.timeZone', message: 'Expected an IANA zone name or a function of the phone' });
  }
  if (issues.length > 0 || start === undefined || end === undefined) {
    throw new ValidationError(
      `Invalid quietHours: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      issues,
    );
  }

  const overMidnight = start > end;
  const isQuiet = (minute: number): boolean =>
    overMidnight ? minute >= start || minute < end : minute >= start && minute < end;

  function zoneOf(phone: string): string {
    return resolveTimeZone(timeZone, phone);
  }

  return {
    zoneOf,
    nextAllowed(at: number, phone: string): number {
      if (!(Math.abs(at) <= MAX_EPOCH_MS)) {
        throw new ValidationError('quietHours: the time to check must be epoch milliseconds', [
          { path: 'at', message: 'Expected epoch milliseconds within the range of a Date' },
        ]);
      }
      const zone = zoneOf(phone);
      let instant = at;
      // Usually one step: the end of this window. More only when a DST jump or a skipped day
      // carries that end into the next window; the bound keeps contradictory tz data from looping.
      for (let step = 0; step < 8; step++) {
        const wall = wallTime(instant, zone);
        const minute = wall.hour * 60 + wall.minute;
        if (!isQuiet(minute)) return instant;
        // Over midnight and already past the start: quiet hours end on the next calendar day.
        const dayShift = overMidnight && minute >= start ? 1 : 0;
        const endWall = { ...wall, day: wall.day + dayShift, hour: Math.floor(end / 60), minute: end % 60, second: 0 };
        const next = firstShowing(endWall, zone, instant, asUtc(wall) - wholeSecond(instant));
        instant = next > instant ? next : instant + 60_000;
      }
      return instant;
    },
  };
}

// A Date holds ±8.64e15 ms; the search for an end looks up to three days ahead, so stay clear of the edge.
const MAX_EPOCH_MS = 8.64e15 - 3 * 86_400_000;

function parseClock(value: unknown, path: string, issues: ValidationIssue[]): number | undefined {
  const match = typeof value === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value) : null;
  if (!match) {
    issues.push({ path, message: `Expected 'HH:MM' from 00:00 to 23:59, got ${quote(value)}` });
    return undefined;
  }
  return Number(match[1]) * 60 + Number(match[2]);
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : typeof value;
}

/** Wall-clock fields of a zone; `day` may overflow the month (setUTCFullYear carries it over). */
interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second?: number;
}

// One formatter per zone: building an Intl.DateTimeFormat costs far more than using one. Zone
// names come from configuration or a user's function, so the map is capped rather than trusted.
const formatters = new Map<string, Intl.DateTimeFormat | null>();
const MAX_CACHED_ZONES = 1_000;

function formatterOf(zone: string): Intl.DateTimeFormat | null {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        calendar: 'gregory',
        numberingSystem: 'latn',
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      formatter = null;
    }
    if (formatters.size >= MAX_CACHED_ZONES) formatters.clear();
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** Whether the runtime knows `zone` as an IANA time zone (offsets such as '+05:00' are refused). */
function isTimeZone(zone: unknown): zone is string {
  return typeof zone === 'string' && zone !== '' && formatterOf(zone) !== null;
}

function wallTime(at: number, zone: string): Required<WallTime> {
  const formatter = formatterOf(zone) as Intl.DateTimeFormat;
  // format() costs a third of formatToParts(); en-US writes "11/29/2026 AD, 10:00:00", month,
  // day, year, hour, minute, second. Should an ICU build write it otherwise, read the parts.
  const text = formatter.format(at);
  const numbers = text.match(DIGITS);
  if (numbers?.length !== 6) return wallTimeFromParts(formatter.formatToParts(at));
  const year = Number(numbers[2]);
  return {
    year: text.includes('BC') ? 1 - year : year,
    month: Number(numbers[0]),
    day: Number(numbers[1]),
    // `hour12: false` has written midnight as 24 in some ICU builds; h23 should not, but costs nothing to guard.
    hour: Number(numbers[3]) % 24,
    minute: Number(numbers[4]),
    second: Number(numbers[5]),
  };
}

const DIGITS = /\d+/g;

function wallTimeFromParts(parts: Intl.DateTimeFormatPart[]): Required<WallTime> {
  const wall = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  let bc = false;
  for (const part of parts) {
    switch (part.type) {
      case 'year':
      case 'month':
      case 'day':
      case 'hour':
      case 'minute':
      case 'second':
        wall[part.type] = Number(part.value);
        break;
      case 'era':
        bc = part.value.startsWith('B');
        break;
    }
  }
  if (bc) wall.year = 1 - wall.year;
  wall.hour %= 24;
  return wall;
}

/** The wall time read as if it were UTC: the instant minus the zone's offset at it. */
function asUtc(wall: WallTime): number {
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  date.setUTCFullYear(wall.year, wall.month - 1, wall.day);
  date.setUTCHours(wall.hour, wall.minute, wall.second ?? 0, 0);
  return date.getTime();
}

function wholeSecond(at: number): number {
  return Math.floor(at / 1000) * 1000;
}

function offsetAt(at: number, zone: string): number {
  const whole = wholeSecond(at);
  return asUtc(wallTime(whole, zone)) - whole;
}

/**
 * The first instant after `after` at which a zone's clock shows `wall`; when the clock skips it
 * (a spring-forward jump, a skipped day), the jump: the first instant it reads later than `wall`.
 * `hint` is the zone's offset at `after`, right unless a transition lies in between.
 */
function firstShowing(wall: WallTime, zone: string, after: number, hint: number): number {
  const local = asUtc(wall);
  // On an ordinary day one lookup confirms the guess. With the offset in force at `after`, the
  // guess is also the earlier of two instants in a fall-back hour, the one to keep.
  const guess = local - hint;
  if (guess > after && offsetAt(guess, zone) === hint) return guess;
  // A transition lies in between: the offset there is one of those a day either side.
  let found: number | undefined;
  for (const offset of new Set([offsetAt(local - 86_400_000, zone), offsetAt(local + 86_400_000, zone)])) {
    const candidate = local - offset;
    if (candidate > after && offsetAt(candidate, zone) === offset && (found === undefined || candidate < found))
      found = candidate;
  }
  if (found !== undefined) return found;
  // The clock never shows `wall`: find the jump over it. The clock at `after` reads earlier than
  // `wall` (it is inside the window that `wall` ends), and three days later it reads past it.
  let low = after;
  let high = after + 3 * 86_400_000;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (asUtc(wallTime(middle, zone)) >= local) high = middle;
    else low = middle;
  }
  return high;
}

export { defaultTimeZone };
