import { PRIORITIES, type Priority } from '../job.js';
import { MAX_TIMER_MS } from '../util/backoff.js';

/**
 * Whether each lane may hand out its next job: the one place a queue asks before it takes a job
 * from a lane, so a lane held here keeps its jobs waiting (`queued`) without holding a worker, and
 * the other lanes go on at their pace. A lane is held while an operator paused it
 * (`notifier.pause(lane)`, until `resume`), or while the line is flagged for spam (normal and low,
 * high too with `pauseHigh`, until `flaggedUntil` or `resume()`).
 *
 * Other holds of the guard (a lane's pacing gap, the ramp after downtime) belong here too: each is
 * one more reason in `#recompute`, and a timed one one more time in `#nextChange`.
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
}

/** One change of the shared holds, as `notifier.pause/resume` and the flag detector make them. */
export type LaneGateChange =
  | { op: 'pause'; lanes: readonly Priority[] }
  /** No lane: every pause and the flag are lifted. */
  | { op: 'resume'; lane?: Priority }
  /** Raises the flag unless it is already up (a later probe may raise it again once it is down). */
  | { op: 'flag'; at: number; until: number; high: boolean };

/** Why a lane is held now. */
export interface LaneHold {
  paused: boolean;
  /** The flag holds this lane until then (ms). */
  flaggedUntil?: number;
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
    return hold;
  }

  /** When `lane` opens by itself (the flag's end); undefined when it is open or waits for `resume`. */
  opensAt(lane: Priority): number | undefined {
    if (this.#open[lane] || this.#paused.has(lane)) return undefined;
    return this.#flaggedUntil;
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
    for (const lane of PRIORITIES) this.#open[lane] = !this.#paused.has(lane) && !this.#flags(lane);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const until = this.#flaggedUntil;
    const now = this.#now();
    if (this.#closed || until <= now) return;
    // One timer, at the flag's end (re-armed when the end is further than a timer reaches).
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        const ended = this.#flaggedUntil <= this.#now();
        this.#recompute();
        if (ended) this.#notify();
      },
      Math.min(until - now, MAX_TIMER_MS),
    );
    this.#timer.unref();
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
  return `${state.paused.join(',')}|${state.flaggedUntil ?? 0}|${state.flaggedHigh === true}`;
}
