/**
 * What WhatsApp does to a number that breaks the vendor's guidance ("number blocked" page): it
 * gets suspected of spam. Per line (token), over a rolling 24 h: new recipients (phones the line
 * never wrote to), the most recipients one identical text reached, and messages carrying a
 * shortened link. Past a threshold, the line is flagged: `checkStatus` answers spam suspicion, as
 * the vendor would, in Russian and English, until `reset()` or `setFlagged(false)`.
 */

const DAY_MS = 24 * 3600_000;
/** The vendor: a line connected less than 10 days ago writes to at most 20 new recipients a day. */
const YOUNG_LINE_DAYS = 10;
const YOUNG_NEW_RECIPIENTS = 20;

/** When the emulator flags a line: more than this many in a rolling 24 h. */
export interface FlagThresholds {
  /** New recipients a day. Default 20 for a line younger than 10 days (the vendor's number), else 100. */
  newRecipientsPerDay?: number;
  /** Recipients of one identical text. Default 50. */
  identicalTexts?: number;
  /** Messages with a shortened link (bit.ly, clck.ru, vk.cc…). Default 3. */
  shortLinks?: number;
}

export interface WhatsappOptions {
  /** Days since the line was connected; default 30 (past the vendor's 10-day warm-up). */
  lineAgeDays?: number;
  flagAfter?: FlagThresholds;
}

/** What one line did in the last 24 h, and whether WhatsApp flagged it. */
export interface WhatsappLineState {
  /** Phones written to for the first time. */
  newRecipients: number;
  /** The most different recipients one identical text went to. */
  identicalTexts: number;
  /** Messages that carried a shortened link. */
  shortLinks: number;
  flagged: boolean;
  /** When it was flagged (ms since the epoch). */
  flaggedAt?: number;
  /** Which guidance was broken: 'new_recipients' | 'identical_texts' | 'short_links' | 'manual'. */
  reason?: FlagReason;
}

export type FlagReason = 'new_recipients' | 'identical_texts' | 'short_links' | 'manual';

/** The answer `checkStatus` gives for a flagged line. */
export const FLAGGED_STATUS_BODY = {
  result: true,
  status: 'suspected_spam',
  connected: true,
  message: 'Номер подозревается в рассылке спама / The number is suspected of spam: sending may be blocked',
} as const;

const SHORTENERS = [
  'bit.ly',
  'clck.ru',
  'vk.cc',
  'goo.su',
  'tinyurl.com',
  'cutt.ly',
  't.ly',
  'is.gd',
  'ow.ly',
  'rb.gy',
  'goo.gl',
  'tiny.cc',
  'shorturl.at',
  'surl.li',
];
const SHORT_LINK = new RegExp(
  `(?<![\\p{L}\\p{N}_-])(?:${SHORTENERS.map((host) => host.replace(/\./g, '\\.')).join('|')})(?![\\p{L}\\p{N}_-]|\\.[\\p{L}\\p{N}])`,
  'iu',
);

interface Sent {
  at: number;
  phone: string;
  text: string;
  isNew: boolean;
  shortLink: boolean;
}

/** Most sends remembered per line for the rolling day (older ones leave first). */
const MAX_REMEMBERED = 100_000;

class LineGuidance {
  readonly #thresholds: Required<FlagThresholds>;
  readonly #everSent = new Set<string>();
  // The rolling day, kept as running counts: a send is added once and leaves once.
  #sent: Sent[] = [];
  #head = 0;
  #newRecipients = 0;
  #shortLinks = 0;
  /** Text → recipient → how many of the day's sends of it went there. */
  readonly #byText = new Map<string, Map<string, number>>();
  #identical = 0;
  #flaggedAt: number | undefined;
  #reason: FlagReason | undefined;

  readonly #flagsByItself: boolean;

  constructor(thresholds: Required<FlagThresholds>, flagsByItself: boolean) {
    this.#thresholds = thresholds;
    this.#flagsByItself = flagsByItself;
  }

  record(phone: string, text: string, at: number): void {
    this.#expire(at);
    const isNew = !this.#everSent.has(phone);
    this.#everSent.add(phone);
    const sent: Sent = { at, phone, text, isNew, shortLink: SHORT_LINK.test(text) };
    this.#sent.push(sent);
    if (isNew) this.#newRecipients++;
    if (sent.shortLink) this.#shortLinks++;
    let recipients = this.#byText.get(text);
    if (!recipients) {
      recipients = new Map();
      this.#byText.set(text, recipients);
    }
    recipients.set(phone, (recipients.get(phone) ?? 0) + 1);
    this.#identical = Math.max(this.#identical, recipients.size);
    if (this.#sent.length - this.#head > MAX_REMEMBERED) this.#leave();
    if (this.#flaggedAt !== undefined || !this.#flagsByItself) return;
    const broken: FlagReason | undefined =
      this.#newRecipients > this.#thresholds.newRecipientsPerDay
        ? 'new_recipients'
        : this.#identical > this.#thresholds.identicalTexts
          ? 'identical_texts'
          : this.#shortLinks > this.#thresholds.shortLinks
            ? 'short_links'
            : undefined;
    if (broken) this.flag(broken, at);
  }

  flag(reason: FlagReason, at: number): void {
    this.#flaggedAt = at;
    this.#reason = reason;
  }

  unflag(): void {
    this.#flaggedAt = undefined;
    this.#reason = undefined;
  }

  get flagged(): boolean {
    return this.#flaggedAt !== undefined;
  }

  state(now: number): WhatsappLineState {
    this.#expire(now);
    const state: WhatsappLineState = {
      newRecipients: this.#newRecipients,
      identicalTexts: this.#identical,
      shortLinks: this.#shortLinks,
      flagged: this.flagged,
    };
    if (this.#flaggedAt !== undefined) state.flaggedAt = this.#flaggedAt;
    if (this.#reason !== undefined) state.reason = this.#reason;
    return state;
  }

  /** Sends older than a day leave the counts. */
  #expire(now: number): void {
    while (this.#head < this.#sent.length && (this.#sent[this.#head] as Sent).at <= now - DAY_MS) this.#leave();
  }

  #leave(): void {
    const sent = this.#sent[this.#head] as Sent;
    this.#head++;
    if (sent.isNew) this.#newRecipients--;
    if (sent.shortLink) this.#shortLinks--;
    const recipients = this.#byText.get(sent.text);
    if (recipients) {
      const left = (recipients.get(sent.phone) ?? 1) - 1;
      if (left > 0) recipients.set(sent.phone, left);
      else {
        const size = recipients.size;
        recipients.delete(sent.phone);
        if (recipients.size === 0) this.#byText.delete(sent.text);
        // The largest text may have shrunk: look again (only then).
        if (size === this.#identical) {
          this.#identical = 0;
          for (const other of this.#byText.values()) this.#identical = Math.max(this.#identical, other.size);
        }
      }
    }
    // Drop the consumed part now and then, not on every send.
    if (this.#head > 1_024 && this.#head * 2 > this.#sent.length) {
      this.#sent = this.#sent.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** The guidance of every line (token) of one emulator. */
export class WhatsappModel {
  readonly #thresholds: Required<FlagThresholds>;
  readonly #flagsByItself: boolean;
  #lines = new Map<number, LineGuidance>();

  /** `flagsByItself`: a broken threshold flags the line (else only `setFlagged` does). */
  constructor(options: WhatsappOptions = {}, flagsByItself = true) {
    this.#flagsByItself = flagsByItself;
    if (typeof options !== 'object' || options === null) throw new TypeError('whatsapp must be an object');
    const age = options.lineAgeDays ?? 30;
    if (typeof age !== 'number' || !Number.isFinite(age) || age < 0) {
      throw new RangeError('whatsapp.lineAgeDays must be a number ≥ 0');
    }
    const given = options.flagAfter ?? {};
    this.#thresholds = {
      newRecipientsPerDay: threshold(
        given.newRecipientsPerDay,
        age < YOUNG_LINE_DAYS ? YOUNG_NEW_RECIPIENTS : 100,
        'newRecipientsPerDay',
      ),
      identicalTexts: threshold(given.identicalTexts, 50, 'identicalTexts'),
      shortLinks: threshold(given.shortLinks, 3, 'shortLinks'),
    };
  }

  /** An accepted message: its text (or file caption and link) counted against its line. */
  record(tokenIndex: number, phone: string, text: string, at: number): void {
    this.#line(tokenIndex).record(phone, text, at);
  }

  isFlagged(tokenIndex: number): boolean {
    return this.#lines.get(tokenIndex)?.flagged === true;
  }

  setFlagged(tokenIndex: number, flagged: boolean, at: number): void {
    const line = this.#line(tokenIndex);
    if (flagged) line.flag('manual', at);
    else line.unflag();
  }

  state(tokenIndex: number, now: number): WhatsappLineState {
    return (
      this.#lines.get(tokenIndex)?.state(now) ?? {
        newRecipients: 0,
        identicalTexts: 0,
        shortLinks: 0,
        flagged: false,
      }
    );
  }

  reset(): void {
    this.#lines = new Map();
  }

  #line(tokenIndex: number): LineGuidance {
    let line = this.#lines.get(tokenIndex);
    if (!line) {
      line = new LineGuidance(this.#thresholds, this.#flagsByItself);
      this.#lines.set(tokenIndex, line);
    }
    return line;
  }
}

function threshold(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`whatsapp.flagAfter.${name} must be an integer ≥ 0`);
  return value;
}
