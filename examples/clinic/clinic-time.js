/**
 * The clinic's own clock: the booking form's date and time are wall-clock time at the clinic, and
 * its pages show times the same way. (WhatsApp messages are different: the library writes their
 * dates in the patient's zone.) Offsets come from the runtime's tz data through `Intl`, never
 * hard-coded, so a clinic in a zone with DST works too.
 */
export const CLINIC_TIME_ZONE = 'Europe/Moscow';

const DAY_MS = 24 * 3600_000;

/**
 * The instant the clinic's clock shows `date` ('2026-11-30') at `time` ('10:00'); undefined
 * when there is no such calendar date (a 30 February).
 */
export function clinicInstant(date, time, timeZone = CLINIC_TIME_ZONE) {
  const [year, month, day] = date.split('-').map(Number);
  const [hour, minute] = time.split(':').map(Number);
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return undefined;
  }
  // The zone's offset at a first guess, then at the answer: one correction covers a DST change
  // between the two (Moscow has had none since 2014, but the code should not rely on it).
  const guess = wall - offsetAt(wall, timeZone);
  return wall - offsetAt(guess, timeZone);
}

/** 'YYYY-MM-DD' of the clinic's calendar at `at`: the form's earliest date. */
export function clinicDate(at, timeZone = CLINIC_TIME_ZONE) {
  return isoDayFormatter(timeZone).format(at);
}

/** The last bookable date: how far ahead the schedule is open. */
export function lastBookableDate(at, daysAhead, timeZone = CLINIC_TIME_ZONE) {
  return clinicDate(at + daysAhead * DAY_MS, timeZone);
}

/** «30 ноября в 10:00», the same words the WhatsApp templates use, at the clinic. */
export function formatClinicTime(at, timeZone = CLINIC_TIME_ZONE) {
  const { date, time } = ruFormatters(timeZone);
  return `${date.format(at)} в ${time.format(at)}`;
}

/** The wall clock's `YYYY-MM-DD` and `HH:MM` at the clinic, to fill the move form. */
export function clinicWallTime(at, timeZone = CLINIC_TIME_ZONE) {
  return { date: clinicDate(at, timeZone), time: ruFormatters(timeZone).time.format(at) };
}

function offsetAt(at, timeZone) {
  const parts = Object.fromEntries(
    numericFormatter(timeZone)
      .formatToParts(at)
      .map((part) => [part.type, Number(part.value)]),
  );
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute);
  return wall - Math.floor(at / 60_000) * 60_000;
}

const formatters = new Map();
function cached(key, make) {
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = make();
    formatters.set(key, formatter);
  }
  return formatter;
}

function numericFormatter(timeZone) {
  return cached(
    `numeric:${timeZone}`,
    () =>
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
      }),
  );
}

function isoDayFormatter(timeZone) {
  // Swedish writes dates as ISO 8601 does: 2026-11-30.
  return cached(
    `iso:${timeZone}`,
    () => new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }),
  );
}

function ruFormatters(timeZone) {
  return cached(`ru:${timeZone}`, () => ({
    date: new Intl.DateTimeFormat('ru-RU', { timeZone, day: 'numeric', month: 'long' }),
    time: new Intl.DateTimeFormat('ru-RU', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
  }));
}
