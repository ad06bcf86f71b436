import type { OlchatClient } from '../client/client.js';
import { flagWords } from '../client/flag-words.js';
import { HttpError, isCertainlyNotAccepted, OlchatError, VendorError } from '../errors.js';
import { MAX_TIMER_MS } from '../util/backoff.js';
import { isTokenRejected } from './lifecycle.js';

/** `flagged`: the vendor suspects the number of spam (or banned it): normal and low wait (the guard). */
export type LineState = 'up' | 'down' | 'unknown' | 'flagged';
/** Why the line cannot be used: the vendor is not answering, the WhatsApp session is down, or the token is refused. */
export type LineReason = 'vendor_unreachable' | 'line_down' | 'token_rejected';

export interface LineEvent {
  state: LineState;
  reason?: LineReason;
  /** `flagged`: until when normal and low wait (ms since the epoch), unless `resume()` comes first. */
  until?: number;
  /** The guard's warning: replies under 30 % of 50 or more sends in 7 days (the budget is halved). */
  warning?: 'low_reply_ratio';
}

export interface LineInfo extends LineEvent {
  /** When the state last changed (ms since the epoch). */
  since: number;
  /** When the vendor was last heard from (a send or a status check), if ever. */
  checkedAt?: number;
}

/** The guard's watch for a flagged line: how often to ask at least, and who hears of the words. */
export interface FlagWatch {
  /** The line is asked at least this often, whatever else asks (ms). */
  checkEveryMs: number;
  /** A status answer had words of spam suspicion or a ban (an excerpt of them); the check waits for it. */
  onFlag(words: string): void | Promise<void>;
}

/** Repeated failed sends make one status check per this long, not one each. */
const PROBE_ON_REFUSAL_MS = 30_000;

export interface LineOptions {
  /** Not-accepted sends in a row (vendor unreachable, 502–504) that pause the line. Default 3. */
  failureThreshold?: number;
  /** First wait between status probes while the line is down; doubles up to `probeMaxMs`. Default 1 000. */
  probeMinMs?: number;
  /** Longest wait between status probes while the line is down. Default 30 000. */
  probeMaxMs?: number;
  /** How often the line is checked in the background while it seems up; false: only on demand. Default 60 000. */
  checkIntervalMs?: number | false;
}

export type UsableVerdict = 'usable' | 'aborted' | 'deadline';

/**
 * The line breaker. While sends keep failing as not accepted, or OLChat says the WhatsApp line
 * is down, the line is `down`: jobs wait here instead of burning attempts, and a status probe
 * (`checkStatus`, within its own limit) runs with growing pauses until the line is back. A
 * refused token is a configuration error, not an outage: it is reported, never waited out.
 */
export class LineMonitor {
  readonly #client: OlchatClient;
  readonly #onChange: (event: LineEvent) => void;
  readonly #failureThreshold: number;
  readonly #probeMinMs: number;
  readonly #probeMaxMs: number;
  readonly #checkIntervalMs: number | false;
  readonly #flagWatch: FlagWatch | undefined;
  #state: LineState = 'unknown';
  #reason: LineReason | undefined;
  #since = Date.now();
  #checkedAt: number | undefined;
  /** When the vendor was last asked, answered or not: what `refresh(maxAgeMs)` counts from. */
  #askedAt: number | undefined;
  #failures = 0;
  #probeDelay: number;
  #probeTimer: NodeJS.Timeout | undefined;
  #intervalTimer: NodeJS.Timeout | undefined;
  #checking: Promise<LineInfo> | undefined;
  #waiters = new Set<() => void>();
  #closed = false;

  constructor(
    client: OlchatClient,
    onChange: (event: LineEvent) => void,
    options: LineOptions = {},
    flagWatch?: FlagWatch,
  ) {
    this.#client = client;
    this.#onChange = onChange;
    this.#failureThreshold = options.failureThreshold ?? 3;
    this.#probeMinMs = options.probeMinMs ?? 1_000;
    this.#probeMaxMs = options.probeMaxMs ?? 30_000;
    this.#checkIntervalMs = options.checkIntervalMs ?? 60_000;
    this.#flagWatch = flagWatch;
    this.#probeDelay = this.#probeMinMs;
    // One background check serves both: the line's health and the guard's watch for a flag.
    const every = Math.min(
      this.#checkIntervalMs === false ? Number.POSITIVE_INFINITY : this.#checkIntervalMs,
      flagWatch?.checkEveryMs ?? Number.POSITIVE_INFINITY,
    );
    if (Number.isFinite(every)) {
      this.#intervalTimer = setInterval(() => {
        if (this.#state !== 'down') void this.refresh(0);
      }, every);
      this.#intervalTimer.unref();
    }
  }

  get state(): LineState {
    return this.#state;
  }

  info(): LineInfo {
    const info: LineInfo = { state: this.#state, since: this.#since };
    if (this.#reason !== undefined) info.reason = this.#reason;
    if (this.#checkedAt !== undefined) info.checkedAt = this.#checkedAt;
    return info;
  }

  /**
   * Resolves 'usable' at once unless the line is down; otherwise when it is back, 'deadline' if
   * `deadline` comes first, 'aborted' if the signal does.
   */
  whenUsable(signal: AbortSignal, deadline: number): Promise<UsableVerdict> {
    if (this.#state !== 'down') return Promise.resolve('usable');
    if (signal.aborted) return Promise.resolve('aborted');
    return new Promise<UsableVerdict>((resolve) => {
      const done = (verdict: UsableVerdict) => {
        this.#waiters.delete(onUp);
        signal.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        resolve(verdict);
      };
      const onUp = () => done('usable');
      const onAbort = () => done('aborted');
      const timer = setTimeout(() => done('deadline'), Math.min(Math.max(0, deadline - Date.now()), MAX_TIMER_MS));
      this.#waiters.add(onUp);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The vendor accepted a request: the line works. */
  reportSuccess(): void {
    this.#failures = 0;
    this.#checkedAt = Date.now();
    this.#set('up', undefined);
  }

  /** An attempt failed; only not-accepted failures and a refused token say something of the line. */
  reportFailure(error: unknown): void {
    if (isTokenRejected(error)) {
      this.#checkedAt = Date.now();
      this.#set(this.#state === 'down' ? 'unknown' : this.#state, 'token_rejected');
      return;
    }
    // The vendor answered and refused the send (a failure in a 2xx answer, or a 4xx): a number
    // suspected of spam starts that way, so the guard asks about the line, once per
    // PROBE_ON_REFUSAL_MS however many sends are refused.
    if (this.#flagWatch && isRefusal(error)) {
      void this.refresh(PROBE_ON_REFUSAL_MS);
      return;
    }
    // A 429 is about pace, not the line: the limiter pauses that method by itself.
    if (!isCertainlyNotAccepted(error) || (error as OlchatError).code === 'RATE_LIMITED') return;
    this.#failures++;
    if (this.#failures >= this.#failureThreshold) this.#goDown('vendor_unreachable');
  }

  /**
   * Asks OLChat now unless it was asked within `maxAgeMs`; concurrent calls share one request.
   * Never rejects: a failed check is itself an answer about the line.
   */
  refresh(maxAgeMs = 0): Promise<LineInfo> {
    if (this.#checking) return this.#checking;
    if (this.#askedAt !== undefined && Date.now() - this.#askedAt < maxAgeMs) return Promise.resolve(this.info());
    this.#checking = this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#intervalTimer);
    clearTimeout(this.#probeTimer);
    // Jobs waiting for the line go back to the queue: the queue decides what closing means for them.
    for (const wake of [...this.#waiters]) wake();
  }

  async #check(): Promise<LineInfo> {
    this.#askedAt = Date.now();
    try {
      const { connected, raw } = await this.#client.checkStatus({ retries: 0, priority: 'high' });
      this.#checkedAt = Date.now();
      await this.#watchFlag(raw);
      if (connected === false) this.#goDown('line_down');
      else this.reportSuccess();
    } catch (error) {
      // A refusal may say why: a banned number's status check may be refused in those words.
      if (error instanceof VendorError) await this.#watchFlag(error.raw);
      else if (error instanceof HttpError) await this.#watchFlag(error.body);
      if (isTokenRejected(error)) this.reportFailure(error);
      else if (error instanceof OlchatError && error.code === 'CLOSED') {
        // The client is closing: nothing learnt.
      } else if (isCertainlyNotAccepted(error) || (error instanceof OlchatError && error.code === 'AMBIGUOUS')) {
        if (error instanceof OlchatError && error.code !== 'RATE_LIMITED') this.#goDown('vendor_unreachable');
      }
    }
    return this.info();
  }

  async #watchFlag(raw: unknown): Promise<void> {
    const watch = this.#flagWatch;
    if (!watch || this.#closed) return;
    const words = flagWords(typeof raw === 'string' ? parseMaybe(raw) : raw);
    if (words !== undefined) await watch.onFlag(words);
  }

  #goDown(reason: LineReason): void {
    if (this.#state !== 'down') this.#probeDelay = this.#probeMinMs;
    this.#set('down', reason);
    this.#scheduleProbe();
  }

  #scheduleProbe(): void {
    if (this.#closed || this.#probeTimer) return;
    const delay = this.#probeDelay;
    this.#probeDelay = Math.min(this.#probeMaxMs, this.#probeDelay * 2);
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      void this.refresh(0).then(() => {
        if (this.#state === 'down') this.#scheduleProbe();
      });
    }, delay);
    this.#probeTimer.unref();
  }

  #set(state: LineState, reason: LineReason | undefined): void {
    if (state === this.#state && reason === this.#reason) return;
    const changedState = state !== this.#state;
    this.#state = state;
    this.#reason = reason;
    if (changedState) this.#since = Date.now();
    if (state !== 'down') {
      this.#failures = 0;
      clearTimeout(this.#probeTimer);
      this.#probeTimer = undefined;
      for (const wake of [...this.#waiters]) wake();
    }
    this.#onChange(reason === undefined ? { state } : { state, reason });
  }
}

/** The vendor read the request and said no (not a 429, not the token: those say something else). */
function isRefusal(error: unknown): boolean {
  if (error instanceof VendorError) return true;
  return error instanceof HttpError && error.code === 'HTTP' && error.status >= 400 && error.status < 500;
}

/** An error's body as JSON when it is JSON, else the text. */
function parseMaybe(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
