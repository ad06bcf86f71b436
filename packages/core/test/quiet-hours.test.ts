import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createQuietHours, defaultTimeZone, resolveTimeZone } from '../src/queue/quiet-hours.js';
import { thrownValidation } from './helpers/rejection.js';

const MOSCOW_PHONE = '79123456789';
const ALMATY_PHONE = '77012345678';
const MINUTE = 60_000;

const wallClocks = new Map<string, Intl.DateTimeFormat>();

/** The zone's wall clock at an instant, 'YYYY-MM-DD HH:MM:SS', read independently through Intl. */
function wall(at: number, zone: string): string {
  let clock = wallClocks.get(zone);
  if (!clock) {
    clock = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallClocks.set(zone, clock);
  }
  const parts = clock.formatToParts(at);
  const get = (type: string) => parts.find((part) => part.type === type)?.value;
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

describe('defaultTimeZone', () => {
  it.each([
    ['77012345678', 'Asia/Almaty'], // Kazakh mobile 70x
    ['77771234567', 'Asia/Almaty'], // Kazakh mobile 77x
    ['77271234567', 'Asia/Almaty'], // Almaty landline 727
    ['79123456789', 'Europe/Moscow'],
    ['74951234567', 'Europe/Moscow'],
    ['78005553535', 'Europe/Moscow'],
  ])('%s → %s', (phone, zone) => {
    expect(defaultTimeZone(phone)).toBe(zone);
  });
});

describe('resolveTimeZone', () => {
  it('takes the option string, else the function answer, else the default by phone', () => {
    expect(resolveTimeZone('Asia/Yekaterinburg', ALMATY_PHONE)).toBe('Asia/Yekaterinburg');
    const asked: string[] = [];
    const byPhone = (phone: string) => {
      asked.push(phone);
      return 'Asia/Novosibirsk';
    };
    expect(resolveTimeZone(byPhone, MOSCOW_PHONE)).toBe('Asia/Novosibirsk');
    expect(asked).toEqual([MOSCOW_PHONE]);
    expect(resolveTimeZone(undefined, ALMATY_PHONE)).toBe('Asia/Almaty');
    expect(resolveTimeZone(undefined, MOSCOW_PHONE)).toBe('Europe/Moscow');
  });

  it('refuses a zone the runtime does not know, naming it', () => {
    for (const option of ['Mars/Olympus', () => 'Nowhere/City', '+05:00', '']) {
      const error = thrownValidation(() => resolveTimeZone(option, MOSCOW_PHONE));
      expect(error.issues[0]?.path).toBe('quietHours.timeZone');
      const named = typeof option === 'function' ? option() : option;
      expect(error.message).toContain(JSON.stringify(named));
    }
    const notAString = thrownValidation(() => resolveTimeZone((() => 42) as unknown as () => string, MOSCOW_PHONE));
    expect(notAString.issues[0]?.path).toBe('quietHours.timeZone');
  });
});

describe('createQuietHours over midnight (21:00–09:00)', () => {
  const quiet = createQuietHours({ start: '21:00', end: '09:00' });

  it('lets an instant outside quiet hours through unchanged', () => {
    for (const at of [Date.parse('2026-11-28T12:00:00+03:00'), Date.parse('2026-11-28T20:59:59.999+03:00')]) {
      expect(quiet.nextAllowed(at, MOSCOW_PHONE)).toBe(at);
    }
  });

  it('holds an evening job until 09:00 the next morning, across the date change', () => {
    const evening = Date.parse('2026-11-28T23:30:00+03:00');
    expect(wall(evening, 'Europe/Moscow')).toBe('2026-11-28 23:30:00');
    const next = quiet.nextAllowed(evening, MOSCOW_PHONE);
    expect(wall(next, 'Europe/Moscow')).toBe('2026-11-29 09:00:00');
    expect(next).toBe(Date.parse('2026-11-29T09:00:00+03:00'));
  });

  it('holds a night job until 09:00 the same morning', () => {
    const night = Date.parse('2026-11-29T03:15:00+03:00');
    expect(wall(quiet.nextAllowed(night, MOSCOW_PHONE), 'Europe/Moscow')).toBe('2026-11-29 09:00:00');
  });

  it('crosses a month and a year end', () => {
    const newYearsEve = Date.parse('2026-12-31T22:00:00+03:00');
    expect(wall(quiet.nextAllowed(newYearsEve, MOSCOW_PHONE), 'Europe/Moscow')).toBe('2027-01-01 09:00:00');
    const endOfFebruary = Date.parse('2028-02-28T21:00:00+03:00'); // a leap year: the 29th comes next
    expect(wall(quiet.nextAllowed(endOfFebruary, MOSCOW_PHONE), 'Europe/Moscow')).toBe('2028-02-29 09:00:00');
  });

  it('counts the start minute as quiet and the end minute as allowed', () => {
    const start = Date.parse('2026-11-28T21:00:00+03:00');
    const nextMorning = Date.parse('2026-11-29T09:00:00+03:00');
    expect(quiet.nextAllowed(start - 1, MOSCOW_PHONE)).toBe(start - 1);
    expect(quiet.nextAllowed(start, MOSCOW_PHONE)).toBe(nextMorning);
    expect(quiet.nextAllowed(nextMorning - 1, MOSCOW_PHONE)).toBe(nextMorning);
    expect(quiet.nextAllowed(nextMorning, MOSCOW_PHONE)).toBe(nextMorning);
  });

  it('reads the hours in each recipient’s zone: Almaty and Moscow differ for the same instant', () => {
    // Read through the runtime's tz data: Kazakhstan moved Asia/Almaty to UTC+5 in 2024.
    const at = Date.parse('2026-11-29T03:30:00Z');
    const moscow = quiet.nextAllowed(at, MOSCOW_PHONE);
    const almaty = quiet.nextAllowed(at, ALMATY_PHONE);
    expect(quiet.zoneOf(MOSCOW_PHONE)).toBe('Europe/Moscow');
    expect(quiet.zoneOf(ALMATY_PHONE)).toBe('Asia/Almaty');
    expect(wall(moscow, 'Europe/Moscow')).toBe('2026-11-29 09:00:00');
    expect(wall(almaty, 'Asia/Almaty')).toBe('2026-11-29 09:00:00');
    expect(almaty).toBeLessThan(moscow);

    // The instant Almaty's morning begins is still night in Moscow, and vice versa it passes.
    expect(quiet.nextAllowed(almaty, ALMATY_PHONE)).toBe(almaty);
    expect(quiet.nextAllowed(almaty, MOSCOW_PHONE)).toBe(moscow);
  });

  it('refuses an instant that is not epoch milliseconds', () => {
    for (const at of [Number.NaN, Number.POSITIVE_INFINITY, 1e20]) {
      expect(thrownValidation(() => quiet.nextAllowed(at, MOSCOW_PHONE)).issues[0]?.path).toBe('at');
    }
  });
});

describe('createQuietHours within a day (13:00–14:00)', () => {
  const lunch = createQuietHours({ start: '13:00', end: '14:00', timeZone: 'Europe/Moscow' });

  it('holds only the window itself, on the same day', () => {
    const day = (time: string) => Date.parse(`2026-11-28T${time}+03:00`);
    expect(lunch.nextAllowed(day('12:59:59'), MOSCOW_PHONE)).toBe(day('12:59:59'));
    expect(lunch.nextAllowed(day('13:00:00'), MOSCOW_PHONE)).toBe(day('14:00:00'));
    expect(lunch.nextAllowed(day('13:59:59'), MOSCOW_PHONE)).toBe(day('14:00:00'));
    expect(lunch.nextAllowed(day('14:00:00'), MOSCOW_PHONE)).toBe(day('14:00:00'));
    expect(lunch.nextAllowed(day('23:30:00'), MOSCOW_PHONE)).toBe(day('23:30:00'));
    expect(lunch.nextAllowed(day('00:10:00'), MOSCOW_PHONE)).toBe(day('00:10:00'));
  });

  it('applies one string zone to every recipient, Kazakh numbers included', () => {
    expect(lunch.zoneOf(ALMATY_PHONE)).toBe('Europe/Moscow');
    const at = Date.parse('2026-11-28T13:30:00+03:00');
    expect(lunch.nextAllowed(at, ALMATY_PHONE)).toBe(Date.parse('2026-11-28T14:00:00+03:00'));
  });
});

describe('createQuietHours with a zone function', () => {
  it('asks the function for each recipient and keeps that zone’s hours', () => {
    const asked: string[] = [];
    const quiet = createQuietHours({
      start: '22:00',
      end: '08:00',
      timeZone: (phone) => {
        asked.push(phone);
        return phone === '74232123456' ? 'Asia/Vladivostok' : 'Europe/Kaliningrad';
      },
    });
    const at = Date.parse('2026-11-28T19:00:00Z'); // 05:00 in Vladivostok, 21:00 in Kaliningrad
    const vladivostok = quiet.nextAllowed(at, '74232123456');
    const kaliningrad = quiet.nextAllowed(at, '74012123456');
    expect(wall(vladivostok, 'Asia/Vladivostok')).toBe('2026-11-29 08:00:00');
    expect(kaliningrad).toBe(at);
    expect(asked).toEqual(['74232123456', '74012123456']);
    expect(quiet.zoneOf('74232123456')).toBe('Asia/Vladivostok');
  });

  it('turns an unknown zone from the function into a ValidationError naming it', () => {
    const quiet = createQuietHours({ start: '22:00', end: '08:00', timeZone: () => 'Europe/Atlantis' });
    for (const call of [() => quiet.nextAllowed(Date.now(), MOSCOW_PHONE), () => quiet.zoneOf(MOSCOW_PHONE)]) {
      const error = thrownValidation(call);
      expect(error.issues).toEqual([
        { path: 'quietHours.timeZone', message: expect.stringContaining('Europe/Atlantis') },
      ]);
    }
  });
});

describe('createQuietHours across DST (Europe/Berlin)', () => {
  // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00Z). 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00Z).
  it('ends an overnight window at 09:00 local on the nights the clocks change', () => {
    const quiet = createQuietHours({ start: '21:00', end: '09:00', timeZone: 'Europe/Berlin' });
    const spring = quiet.nextAllowed(Date.parse('2026-03-28T22:00:00+01:00'), MOSCOW_PHONE);
    expect(spring).toBe(Date.parse('2026-03-29T09:00:00+02:00'));
    const autumn = quiet.nextAllowed(Date.parse('2026-10-24T22:00:00+02:00'), MOSCOW_PHONE);
    expect(autumn).toBe(Date.parse('2026-10-25T09:00:00+01:00'));
  });

  it('ends at the jump when the end time is skipped, without looping', () => {
    const quiet = createQuietHours({ start: '22:00', end: '02:30', timeZone: 'Europe/Berlin' });
    const next = quiet.nextAllowed(Date.parse('2026-03-28T23:00:00+01:00'), MOSCOW_PHONE);
    expect(next).toBe(Date.parse('2026-03-29T01:00:00Z'));
    expect(wall(next, 'Europe/Berlin')).toBe('2026-03-29 03:00:00');
  });

  it('ends at the next 02:30 in the repeated hour, the first or the second one', () => {
    const quiet = createQuietHours({ start: '22:00', end: '02:30', timeZone: 'Europe/Berlin' });
    const evening = Date.parse('2026-10-24T22:00:00+02:00');
    expect(quiet.nextAllowed(evening, MOSCOW_PHONE)).toBe(Date.parse('2026-10-25T02:30:00+02:00'));
    // 02:10 CET, the second time the clock shows 02:10: quiet again until the second 02:30.
    const repeated = Date.parse('2026-10-25T02:10:00+01:00');
    expect(quiet.nextAllowed(repeated, MOSCOW_PHONE)).toBe(Date.parse('2026-10-25T02:30:00+01:00'));
  });

  it('starts a window whose start is skipped at the jump', () => {
    const quiet = createQuietHours({ start: '02:30', end: '05:00', timeZone: 'Europe/Berlin' });
    const beforeJump = Date.parse('2026-03-29T01:59:59+01:00');
    expect(quiet.nextAllowed(beforeJump, MOSCOW_PHONE)).toBe(beforeJump);
    expect(quiet.nextAllowed(Date.parse('2026-03-29T01:00:00Z'), MOSCOW_PHONE)).toBe(
      Date.parse('2026-03-29T05:00:00+02:00'),
    );
  });

  it('survives a skipped calendar day (Pacific/Apia, 30 December 2011)', () => {
    // Samoa went from 29 December 23:59:59 (UTC−10) straight to 31 December 00:00 (UTC+14).
    const quiet = createQuietHours({ start: '21:00', end: '09:00', timeZone: 'Pacific/Apia' });
    const next = quiet.nextAllowed(Date.parse('2011-12-29T22:00:00-10:00'), MOSCOW_PHONE);
    expect(wall(next, 'Pacific/Apia')).toBe('2011-12-31 09:00:00');
  });
});

describe('createQuietHours property: the answer is the first allowed instant', () => {
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Almaty', 'Europe/Moscow'];
  // 2026 transitions: Berlin (2), New York (2), Lord Howe's half-hour shifts (2).
  const transitions = [
    '2026-03-29T01:00:00Z',
    '2026-10-25T01:00:00Z',
    '2026-03-08T07:00:00Z',
    '2026-11-01T06:00:00Z',
    '2026-04-04T15:00:00Z',
    '2026-10-03T15:30:00Z',
  ].map(Date.parse);
  const clock = fc.integer({ min: 0, max: 24 * 60 - 1 });
  const toClock = (minutes: number) =>
    `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

  it('never answers earlier than asked, never inside the window, and every minute skipped was quiet', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        clock,
        clock,
        fc.oneof(
          fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
          // Within a day and a half of a 2026 clock change in one of the zones, where the mistakes would be.
          fc
            .tuple(fc.constantFrom(...transitions), fc.integer({ min: -36 * 60, max: 36 * 60 }))
            .map(([transition, minutes]) => transition + minutes * MINUTE),
        ),
        (zone, start, end, at) => {
          fc.pre(start !== end);
          const quiet = createQuietHours({ start: toClock(start), end: toClock(end), timeZone: zone });
          const isQuiet = (instant: number) => {
            const [hour, minute] = wall(instant, zone).slice(11, 16).split(':').map(Number) as [number, number];
            const m = hour * 60 + minute;
            return start < end ? m >= start && m < end : m >= start || m < end;
          };
          const next = quiet.nextAllowed(at, MOSCOW_PHONE);
          expect(next).toBeGreaterThanOrEqual(at);
          expect(isQuiet(next)).toBe(false);
          if (next === at) return;
          expect(isQuiet(at)).toBe(true);
          // Quietness changes only on whole minutes of these zones: check each one skipped.
          for (let minute = Math.ceil(at / MINUTE) * MINUTE; minute < next; minute += MINUTE) {
            expect(isQuiet(minute)).toBe(true);
          }
        },
      ),
      { numRuns: 300, seed: 20261129 },
    );
  });
});

describe('createQuietHours options', () => {
  it.each([
    [{ start: '9:00', end: '21:00' }, 'quietHours.start'],
    [{ start: '24:00', end: '09:00' }, 'quietHours.start'],
    [{ start: '21:60', end: '09:00' }, 'quietHours.start'],
    [{ start: 2100, end: '09:00' }, 'quietHours.start'],
    [{ end: '09:00' }, 'quietHours.start'],
    [{ start: '21:00', end: '9' }, 'quietHours.end'],
    [{ start: '21:00', end: ' 09:00' }, 'quietHours.end'],
    [{ start: '21:00', end: '21:00' }, 'quietHours.end'],
    [{ start: '21:00', end: '09:00', timeZone: 'Mars/Olympus' }, 'quietHours.timeZone'],
    [{ start: '21:00', end: '09:00', timeZone: 3 }, 'quietHours.timeZone'],
    [null, 'quietHours'],
  ])('%j → ValidationError at %s', (options, path) => {
    const error = thrownValidation(() => createQuietHours(options as never));
    expect(error.issues.map((issue) => issue.path)).toEqual([path]);
    expect(error.code).toBe('VALIDATION');
  });

  it('reports every bad option at once', () => {
    const error = thrownValidation(() => createQuietHours({ start: '25:00', end: 'nine', timeZone: 'Mars/Olympus' }));
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'quietHours.start',
      'quietHours.end',
      'quietHours.timeZone',
    ]);
    expect(error.message).toContain('Mars/Olympus');
  });

  it('accepts the edges of the day', () => {
    const quiet = createQuietHours({ start: '00:00', end: '23:59', timeZone: 'Europe/Moscow' });
    const at = Date.parse('2026-11-28T00:00:00+03:00');
    expect(quiet.nextAllowed(at, MOSCOW_PHONE)).toBe(Date.parse('2026-11-28T23:59:00+03:00'));
  });
});
