// Temporary stand-in until the quiet-hours calendar lands (same API).
import { ValidationError } from './errors.js';

export interface QuietHoursOptions {
  start: string;
  end: string;
  timeZone?: string | ((phone: string) => string);
}
export interface QuietHours {
  zoneOf(phone: string): string;
  nextAllowed(at: number, phone: string): number;
}
export function defaultTimeZone(phone: string): string {
  return phone.startsWith('77') ? 'Asia/Almaty' : 'Europe/Moscow';
}
export function resolveTimeZone(option: QuietHoursOptions['timeZone'], phone: string): string {
  if (typeof option === 'string') return option;
  if (typeof option === 'function') return option(phone);
  return defaultTimeZone(phone);
}
export function createQuietHours(options: QuietHoursOptions): QuietHours {
  const parse = (hhmm: string) => {
    const m = /^(\d\d):(\d\d)$/.exec(hhmm);
    if (!m) throw new ValidationError('bad time');
    return Number(m[1]) * 60 + Number(m[2]);
  };
  const start = parse(options.start);
  const end = parse(options.end);
  return {
    zoneOf: (phone) => resolveTimeZone(options.timeZone, phone),
    nextAllowed(at, phone) {
      const zone = resolveTimeZone(options.timeZone, phone);
      const parts = new Intl.DateTimeFormat('en-GB', {
        timeZone: zone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).formatToParts(at);
      const minute =
        Number(parts.find((p) => p.type === 'hour')?.value) * 60 +
        Number(parts.find((p) => p.type === 'minute')?.value);
      const quiet = start < end ? minute >= start && minute < end : minute >= start || minute < end;
      if (!quiet) return at;
      const wait = (end - minute + 1440) % 1440;
      return at - (at % 60_000) + wait * 60_000;
    },
  };
}
