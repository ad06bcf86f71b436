/**
 * ISO 8601 dates and times, read strictly: a date or time that does not exist (30 February, 24:00)
 * is not a date, where `Date.parse` would roll it over. Templates and the HTTP API share it.
 */

/** An instant, or a wall time with no zone of its own (`floating`), as epoch ms of that wall time in UTC. */
export interface DateValue {
  ms: number;
  floating: boolean;
}

// A Date holds at most ±8.64e15 ms from the epoch.
export const MAX_EPOCH_MS = 8.64e15;

// ISO 8601 as RFC 3339 profiles it: a calendar date, optionally a time (hours and minutes at
// least) and then optionally `Z` or an offset. Not Date.parse: it also takes '12/01/2026' or
// 'Sun Nov 29 2026 10:00:00 GMT+0300', and reads a date-time without an offset in the server's zone.
const ISO_DATE =
  /^(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})(?:[Tt ](?<hour>\d{2}):(?<minute>\d{2})(?::(?<second>\d{2})(?:[.,](?<fraction>\d{1,9}))?)?(?<zone>[Zz]|(?<sign>[+-])(?<offsetHour>\d{2})(?::?(?<offsetMinute>\d{2}))?)?)?$/;

export function parseIsoDate(text: string): DateValue | undefined {
  const fields = ISO_DATE.exec(text)?.groups;
  if (!fields) return undefined;
  const number = (name: string) => Number(fields[name] ?? 0);
  const [year, month, day, hour, minute, second] = [
    number('year'),
    number('month'),
    number('day'),
    number('hour'),
    number('minute'),
    number('second'),
  ] as const;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (number('offsetHour') > 23 || number('offsetMinute') > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, keeps years 0–99 as written.
  date.setUTCFullYear(year, month - 1, day);
  // '2026-02-30' would roll over into March: a day the month does not have is not a date.
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  date.setUTCHours(hour, minute, second, Number((fields.fraction ?? '').slice(0, 3).padEnd(3, '0')));
  const offsetMinutes = number('offsetHour') * 60 + number('offsetMinute');
  const ms = date.getTime() - (fields.sign === '-' ? -offsetMinutes : offsetMinutes) * 60_000;
  return Math.abs(ms) <= MAX_EPOCH_MS ? { ms, floating: fields.zone === undefined } : undefined;
}
