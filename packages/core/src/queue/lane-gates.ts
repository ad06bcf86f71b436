import { PRIORITIES, type Priority } from '../job.js';
import { MAX_TIMER_MS } from '../util/backoff.js';

/**
 * Whether each lane may hand out its next job: the one place a queue asks before it takes a job
 * from a lane, so a lane held here keeps its jobs waiting (`queued`) without holding a worker, and
 * the other lanes go on at their pace. A lane is held while an operator paused it
 * (`notifier.pause(lane)`, until `resume`), or while the line is flagged for spam (normal and low,
 * high too with `pauseHigh`, until `flaggedUntil` or `resume()`).
 *
 * A lane is also held, briefly, while its pacing gap runs (the guard's pacing and its ramp after
 * downtime): a "not before" time set when a send of that lane is written, a hold that ends by
 * itself (one timer reopens the lane at the earliest timed end).
 */

/** The holds that can be shared by every process of a queue (the Redis queue stores them). */
export interface LaneGateState {
  /** Lanes an operator paused; they wait until resumed. */
  paused: readonly Priority[];
  /** While this time (ms) is ahead, the line is flagged: normal and low wait. */
  flaggedUntil?: number;
  /** When the flag was raised (ms). */
  flaggedAt?: number;
  /** The flag holds `high` too. */
  flaggedHigh?: boolean;
  /** A lane's next send waits until then (ms): its pacing gap. Only times still ahead. */
  notBefore?: Partial<Record<Priority, number>>;
}

/** One change of the shared holds, as `notifier.pause/resume` and the flag detector make them. */
export type LaneGateChange =
  | { op: 'pause'; lanes: readonly Priority[] }
  /** No lane: every pause and the flag are lifted. */
  | { op: 'resume'; lane?: Priority }
  /** Raises the flag unless it is already up (a later probe may raise it again once it is down). */
  | { op: 'flag'; at: number; until: number; high: boolean }
  /**
   * A send of `lane` takes its pacing gap: granted (changed) only when no gap of that lane runs at
   * `at`; then the lane's next send waits until `until`. Check and set in one step, so two
   * workers (or two processes) never both take one gap.
   */
  | { op: 'pace'; lane: Priority; at: number; until: number }
  /** Gives a gap back (its send did not happen): the lane opens if that gap is still the one running. */
  | { op: 'unpace'; lane: Priority; until: number };

/** Why a lane is held now. */
export interface LaneHold {
  paused: boolean;
  /** The flag holds this lane until then (ms). */
  flaggedUntil?: number;
  /** Its pacing gap holds this lane until then (ms). */
  notBefore?: number;
}

/** What a queue needs of the gates (an interface: a queue package may see another build of core). */
export interface QueueGates {
  /** Whether `lane` may hand out a job now. */
  isOpen(lane: Priority): boolean;
  /** When a held `lane` opens by itself; undefined when open or held until `resume`. */
  opensAt(lane: Priority): number | undefined;
  /** Called after every change (a held lane may have opened). */
  onChange(listener: () => void): () => void;
  /** Takes the state another process stored (a shared queue). */
  set(state: LaneGateState): boolean;
}

export class LaneGates implements QueueGates {
  #paused = new Set<Priority>();
  #flaggedUntil = 0;
  #flaggedAt = 0;
  #flaggedHigh = false;
  readonly #notBefore: Record<Priority, number> = { high: 0, normal: 0, low: 0 };
  readonly #open: Record<Priority, boolean> = { high: true, normal: true, low: true };
  readonly #listeners = new Set<() => void>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Whether `lane` may hand out a job now: a field read, cheap enough for every pickup. */
  isOpen(lane: Priority): boolean {
    return this.#open[lane];
  }

  /** Why `lane` is held; undefined when it is open. */
  holdOf(lane: Priority): LaneHold | undefined {
    if (this.#open[lane]) return undefined;
    const hold: LaneHold = { paused: this.#paused.has(lane) };
    if (this.#flags(lane)) hold.flaggedUntil = this.#flaggedUntil;
    if (this.#notBefore[lane] > this.#now()) hold.notBefore = this.#notBefore[lane];
    return hold;
  }

  /**
   * When `lane` opens by itself (the flag's end, its pacing gap's end, whichever is later);
   * undefined when it is open or waits for `resume`.
   */
  opensAt(lane: Priority): number | undefined {
    if (this.#open[lane] || this.#paused.has(lane)) return undefined;
    return Math.max(this.#flags(lane) ? this.#flaggedUntil : 0, this.#notBefore[lane]);
  }

  /** When the next send of `lane` may be written (its pacing gap's end; 0 when none runs). */
  notBefore(lane: Priority): number {
    return this.#notBefore[lane] > this.#now() ? this.#notBefore[lane] : 0;
  }

  /** The flag, while it is up. */
  get flag(): { at: number; until: number; high: boolean } | undefined {
    return this.#flaggedUntil > this.#now()
      ? { at: this.#flaggedAt, until: this.#flaggedUntil, high: this.#flaggedHigh }
      : undefined;
  }

  state(): LaneGateState {
    const state: LaneGateState = { paused: PRIORITIES.filter((lane) => this.#paused.has(lane)) };
    const flag = this.flag;
    if (flag) {
      state.flaggedUntil = flag.until;
      state.flaggedAt = flag.at;
      if (flag.high) state.flaggedHigh = true;
    }
    const now = this.#now();
    for (const lane of PRIORITIES) {
      if (this.#notBefore[lane] <= now) continue;
      state.notBefore ??= {};
      state.notBefore[lane] = this.#notBefore[lane];
    }
    return state;
  }

  /** Applies a change made in this process; whether it changed anything. */
  apply(change: LaneGateChange): boolean {
    const before = stateKey(this.state());
    const now = this.#now();
    switch (change.op) {
      case 'pause':
        for (const lane of change.lanes) this.#paused.add(lane);
        break;
      case 'resume':
        if (change.lane !== undefined) this.#paused.delete(change.lane);
        else {
          this.#paused.clear();
          this.#flaggedUntil = 0;
        }
        break;
      case 'flag':
        if (this.#flaggedUntil > now) return false;
        this.#flaggedAt = change.at;
        this.#flaggedUntil = change.until;
        this.#flaggedHigh = change.high;
        break;
      case 'pace':
        if (this.#notBefore[change.lane] > change.at) return false;
        this.#notBefore[change.lane] = change.until;
        break;
      case 'unpace':
        if (this.#notBefore[change.lane] !== change.until) return false;
        this.#notBefore[change.lane] = 0;
        break;
    }
    return this.#settle(before);
  }

  /** Takes the holds another process stored (a shared queue); whether anything changed. */
  set(state: LaneGateState): boolean {
    const before = stateKey(this.state());
    this.#paused = new Set(state.paused.filter((lane) => PRIORITIES.includes(lane)));
    this.#flaggedUntil = state.flaggedUntil ?? 0;
    this.#flaggedAt = state.flaggedAt ?? 0;
    this.#flaggedHigh = state.flaggedHigh === true;
    for (const lane of PRIORITIES) this.#notBefore[lane] = state.notBefore?.[lane] ?? 0;
    return this.#settle(before);
  }

  /** Called after every change, the flag's own end included (a held lane may have opened). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#listeners.clear();
  }

  #flags(lane: Priority): boolean {
    return this.#flaggedUntil > this.#now() && (lane !== 'high' || this.#flaggedHigh);
  }

  #settle(before: string): boolean {
    this.#recompute();
    if (stateKey(this.state()) === before) return false;
    this.#notify();
    return true;
  }

  #recompute(): void {
    const now = this.#now();
    for (const lane of PRIORITIES) {
      this.#open[lane] = !this.#paused.has(lane) && !this.#flags(lane) && this.#notBefore[lane] <= now;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // The earliest timed hold still ahead: the flag's end or a lane's pacing gap.
    let until = Number.POSITIVE_INFINITY;
    for (const end of [this.#flaggedUntil, this.#notBefore.high, this.#notBefore.normal, this.#notBefore.low]) {
      if (end > now && end < until) until = end;
    }
    if (this.#closed || until === Number.POSITIVE_INFINITY) return;
    // One timer, at the earliest end (re-armed when the end is further than a timer reaches).
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        // The flag's end is news even to a lane an operator still holds (the line is no longer flagged).
        const ended = this.#flaggedUntil > 0 && this.#flaggedUntil <= this.#now();
        if (ended) this.#flaggedUntil = 0;
        const before = PRIORITIES.map((lane) => this.#open[lane]).join();
        this.#recompute();
        if (ended || PRIORITIES.map((lane) => this.#open[lane]).join() !== before) this.#notify();
      },
      Math.min(until - now, MAX_TIMER_MS),
    );
    // A pacing gap's end is work still to do (a job waits for it), as a scheduled job's time is:
    // it keeps the process alive. The flag's end (hours away) does not.
    if (until === this.#flaggedUntil) this.#timer.unref();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // A listener is the queue's or the notifier's own: none may stop the others hearing.
      }
    }
  }
}

function stateKey(state: LaneGateState): string {
  const paces = PRIORITIES.map((lane) => state.notBefore?.[lane] ?? 0).join(',');
  return `${state.paused.join(',')}|${state.flaggedUntil ?? 0}|${state.flaggedHigh === true}|${paces}`;
}
