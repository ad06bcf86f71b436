export type Unit = 'day' | 'hour' | 'minute' | 'second';

/** A duration as at most two units (`1 h 20 min`, `3 min 5 s`), the largest first. */
export function splitDuration(ms: number): { count: number; unit: Unit }[] {
  let seconds = Math.max(0, Math.round(ms / 1000));
  const parts: { count: number; unit: Unit }[] = [];
  for (const [unit, size] of [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
    ['second', 1],
  ] as const) {
    const count = Math.floor(seconds / size);
    seconds -= count * size;
    if (count > 0 || parts.length > 0) parts.push({ count, unit });
    if (parts.length === 2) break;
  }
  return parts.filter((part) => part.count > 0);
}

/** Russian plural form: `[one, few, many]` for 1 / 2–4 / 5–20 (21 is "one" again). */
export function russianPlural(count: number, forms: readonly [string, string, string]): string {
  const mod10 = count % 10;
  const mod100 = count % 100;
  if (mod10 === 1 && mod100 !== 11) return forms[0];
  if (mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14)) return forms[1];
  return forms[2];
}

/** A date and time in the dashboard's zone, to the second. */
export function dateTimeFormat(locale: string, timeZone: string): (ms: number) => string {
  const format = new Intl.DateTimeFormat(locale, {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  return (ms) => format.format(ms);
}
