/**
 * The guard's option (`createNotifier({ guard })`): its whole shape, its defaults and its checks in
 * one place, so each part of the guard reads the resolved values from here. The defaults follow
 * the vendor's "number blocked" page (see the README's "Keeping the number alive").
 */

import { ValidationError } from '../errors.js';
import { PRIORITIES, type Priority } from '../job.js';
import { SHORT_LINKS_POLICIES, type ShortLinksPolicy } from '../rules/short-links.js';
import { parseIsoDate } from '../util/iso-date.js';
import { checkInteger, checkOneOf } from '../util/validate.js';

const HOUR_MS = 3600_000;
const MINUTE_MS = 60_000;
/** A gap or a window longer than this is a mistake, not a policy (a week). */
const MAX_SPAN_MS = 7 * 24 * HOUR_MS;

/** A random gap in `[minMs, maxMs]` between two sends of a lane. */
export type PacingRange = readonly [minMs: number, maxMs: number];

export interface GuardOptions {
  /** New recipients a line may write to in a rolling 24 h. Default `{ perDay: 50, appliesTo: 'marketing' }`. */
  newRecipients?: { perDay: number; appliesTo?: 'marketing' | 'all' } | false;
  /** When the line was connected: for its first 10 days, 20 new recipients a day, for every category. */
  warmup?: { since: Date | string };
  /** Random gaps per lane on top of the vendor's limit. Default `{ low: [2000, 6000] }`. */
  pacing?: { high?: PacingRange; normal?: PacingRange; low?: PacingRange } | false;
  /** Marketing messages per recipient within `windowMs`. Default `{ max: 2, windowMs: 24 h }`. */
  perRecipient?: { max: number; windowMs: number } | false;
  /** After the line was down longer than `overMs`, normal and low ramp up over `rampMs`. Default 15 min, 30 min. */
  afterDowntime?: { overMs: number; rampMs: number } | false;
  /**
   * When `checkStatus` answers spam suspicion or a ban: normal and low (and high with `pauseHigh`)
   * wait `pauseMs` or until `notifier.resume()`. The line is asked every `checkEveryMs`.
   * Default `{ pauseMs: 72 h, pauseHigh: false, checkEveryMs: 5 min }`.
   */
  flagged?: { pauseMs?: number; pauseHigh?: boolean; checkEveryMs?: number };
  /** Whether rendered texts may carry shortened links (a rule's own `shortLinks` wins). Default `'refuse'`. */
  shortLinks?: ShortLinksPolicy;
}

export interface ResolvedFlagged {
  pauseMs: number;
  pauseHigh: boolean;
  checkEveryMs: number;
}

/** Every part with its default filled in; `false`: that part is off. */
export interface ResolvedGuard {
  newRecipients: { perDay: number; appliesTo: 'marketing' | 'all' } | false;
  /** The line's connection time (ms), when a warm-up was given. */
  warmupSince: number | undefined;
  pacing: Partial<Record<Priority, PacingRange>> | false;
  perRecipient: { max: number; windowMs: number } | false;
  afterDowntime: { overMs: number; rampMs: number } | false;
  flagged: ResolvedFlagged;
  shortLinks: ShortLinksPolicy;
}

export const GUARD_DEFAULTS: ResolvedGuard = Object.freeze<ResolvedGuard>({
  newRecipients: { perDay: 50, appliesTo: 'marketing' },
  warmupSince: undefined,
  pacing: { low: [2_000, 6_000] },
  perRecipient: { max: 2, windowMs: 24 * HOUR_MS },
  afterDowntime: { overMs: 15 * MINUTE_MS, rampMs: 30 * MINUTE_MS },
  flagged: { pauseMs: 72 * HOUR_MS, pauseHigh: false, checkEveryMs: 5 * MINUTE_MS },
  shortLinks: 'refuse',
});

const KEYS = ['newRecipients', 'warmup', 'pacing', 'perRecipient', 'afterDowntime', 'flagged', 'shortLinks'] as const;

/** The guard as configured; undefined when `guard: false` turned all of it off. */
export function resolveGuard(options: GuardOptions | false | undefined): ResolvedGuard | undefined {
  if (options === false) return undefined;
  if (options === undefined) return GUARD_DEFAULTS;
  const given = objectOf(options, 'guard');
  onlyKeys(given, KEYS, 'guard');
  return {
    newRecipients: newRecipientsOf(given.newRecipients),
    warmupSince: warmupOf(given.warmup),
    pacing: pacingOf(given.pacing),
    perRecipient: perRecipientOf(given.perRecipient),
    afterDowntime: afterDowntimeOf(given.afterDowntime),
    flagged: flaggedOf(given.flagged),
    shortLinks:
      given.shortLinks === undefined
        ? GUARD_DEFAULTS.shortLinks
        : checkOneOf(given.shortLinks, SHORT_LINKS_POLICIES, 'guard.shortLinks'),
  };
}

function newRecipientsOf(value: unknown): ResolvedGuard['newRecipients'] {
  if (value === undefined) return GUARD_DEFAULTS.newRecipients;
  if (value === false) return false;
  const given = objectOf(value, 'guard.newRecipients');
  onlyKeys(given, ['perDay', 'appliesTo'], 'guard.newRecipients');
  return {
    perDay: checkInteger(given.perDay, 'guard.newRecipients.perDay', 0, 100_000),
    appliesTo:
      given.appliesTo === undefined
        ? 'marketing'
        : checkOneOf(given.appliesTo, ['marketing', 'all'] as const, 'guard.newRecipients.appliesTo'),
  };
}

function warmupOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const given = objectOf(value, 'guard.warmup');
  onlyKeys(given, ['since'], 'guard.warmup');
  const { since } = given;
  const ms = since instanceof Date ? since.getTime() : typeof since === 'string' ? parseIsoDate(since)?.ms : Number.NaN;
  if (ms === undefined || !Number.isFinite(ms)) {
    throw new ValidationError('guard.warmup.since must be a Date or an ISO 8601 date (when the line was connected)', [
      { path: 'guard.warmup.since', message: 'Expected a date' },
    ]);
  }
  return ms;
}

function pacingOf(value: unknown): ResolvedGuard['pacing'] {
  if (value === undefined) return GUARD_DEFAULTS.pacing;
  if (value === false) return false;
  const given = objectOf(value, 'guard.pacing');
  onlyKeys(given, PRIORITIES, 'guard.pacing');
  const pacing: Partial<Record<Priority, PacingRange>> = {};
  for (const lane of PRIORITIES) {
    const range = given[lane];
    if (range === undefined) continue;
    const path = `guard.pacing.${lane}`;
    if (!Array.isArray(range) || range.length !== 2) {
      throw new ValidationError(`${path} must be [minMs, maxMs]`, [{ path, message: 'Expected [minMs, maxMs]' }]);
    }
    const min = checkInteger(range[0], `${path}[0]`, 0, MAX_SPAN_MS);
    const max = checkInteger(range[1], `${path}[1]`, min, MAX_SPAN_MS);
    pacing[lane] = [min, max];
  }
  return pacing;
}

function perRecipientOf(value: unknown): ResolvedGuard['perRecipient'] {
  if (value === undefined) return GUARD_DEFAULTS.perRecipient;
  if (value === false) return false;
  const given = objectOf(value, 'guard.perRecipient');
  onlyKeys(given, ['max', 'windowMs'], 'guard.perRecipient');
  return {
    max: checkInteger(given.max, 'guard.perRecipient.max', 1, 10_000),
    windowMs: checkInteger(given.windowMs, 'guard.perRecipient.windowMs', 1_000, 366 * 24 * HOUR_MS),
  };
}

function afterDowntimeOf(value: unknown): ResolvedGuard['afterDowntime'] {
  if (value === undefined) return GUARD_DEFAULTS.afterDowntime;
  if (value === false) return false;
  const given = objectOf(value, 'guard.afterDowntime');
  onlyKeys(given, ['overMs', 'rampMs'], 'guard.afterDowntime');
  return {
    overMs: checkInteger(given.overMs, 'guard.afterDowntime.overMs', 1, MAX_SPAN_MS),
    rampMs: checkInteger(given.rampMs, 'guard.afterDowntime.rampMs', 1, MAX_SPAN_MS),
  };
}

function flaggedOf(value: unknown): ResolvedFlagged {
  const defaults = GUARD_DEFAULTS.flagged;
  if (value === undefined) return defaults;
  const given = objectOf(value, 'guard.flagged');
  onlyKeys(given, ['pauseMs', 'pauseHigh', 'checkEveryMs'], 'guard.flagged');
  if (given.pauseHigh !== undefined && typeof given.pauseHigh !== 'boolean') {
    throw new ValidationError('guard.flagged.pauseHigh must be a boolean', [
      { path: 'guard.flagged.pauseHigh', message: 'Expected a boolean' },
    ]);
  }
  return {
    pauseMs:
      given.pauseMs === undefined
        ? defaults.pauseMs
        : checkInteger(given.pauseMs, 'guard.flagged.pauseMs', 1, 30 * 24 * HOUR_MS),
    pauseHigh: given.pauseHigh ?? defaults.pauseHigh,
    // Asking more often than every 10 s is itself a pattern the vendor frowns on.
    checkEveryMs:
      given.checkEveryMs === undefined
        ? defaults.checkEveryMs
        : checkInteger(given.checkEveryMs, 'guard.flagged.checkEveryMs', 10_000, 24 * HOUR_MS),
  };
}

function objectOf(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`${path} must be an object`, [{ path, message: 'Expected an object' }]);
  }
  return value as Record<string, unknown>;
}

/** A misspelt option would silently keep a default: it is refused instead. */
function onlyKeys(given: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) {
      throw new ValidationError(`${path} has no option ${JSON.stringify(key)}; it takes ${known.join(', ')}`, [
        { path: `${path}.${key}`, message: 'Unknown option' },
      ]);
    }
  }
}
