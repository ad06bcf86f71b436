/**
 * The guard's pacing and its ramp after downtime: how long a lane's next send must wait after one
 * is written. The wait itself is a hold in the lane gates (queue/lane-gates.ts, op 'pace'), so a
 * job waiting for it holds no worker and other lanes go on.
 *
 * - Pacing: a random gap in the lane's `[minMs, maxMs]` (default only `low`: 2–6 s), so a campaign
 *   does not go out at the machine's even beat.
 * - After downtime: the vendor warns that a backlog sent at once when a line reconnects gets the
 *   number blocked again "for intensity". When the line was down longer than `overMs`, `normal`
 *   and `low` keep a gap that starts at RAMP_START_INTERVALS vendor intervals and shrinks linearly
 *   to none over `rampMs`; `high` goes at once. A lane's gap is the larger of the two.
 */

import type { Priority } from '../job.js';
import type { ResolvedGuard } from './options.js';

/** The ramp's first gap, in vendor intervals (the send limit's window ÷ its points). */
export const RAMP_START_INTERVALS = 4;

export class Pacer {
  readonly #pacing: ResolvedGuard['pacing'];
  readonly #afterDowntime: ResolvedGuard['afterDowntime'];
  readonly #intervalMs: number;
  readonly #random: () => number;
  #downAt: number | undefined;
  #rampFrom: number | undefined;

  /** `intervalMs`: the vendor's send interval (window ÷ points). */
  constructor(guard: ResolvedGuard, intervalMs: number, random: () => number = Math.random) {
    this.#pacing = guard.pacing;
    this.#afterDowntime = guard.afterDowntime;
    this.#intervalMs = intervalMs;
    this.#random = random;
  }

  /** Whether any lane may ever be paced (else the notifier skips the step altogether). */
  get active(): boolean {
    return this.#afterDowntime !== false || (this.#pacing !== false && Object.keys(this.#pacing).length > 0);
  }

  /** The line went down (the first time counts) or came back up. */
  lineChanged(state: 'up' | 'down', now: number): void {
    if (state === 'down') {
      this.#downAt ??= now;
      return;
    }
    const after = this.#afterDowntime;
    if (this.#downAt !== undefined && after && now - this.#downAt > after.overMs) this.#rampFrom = now;
    this.#downAt = undefined;
  }

  /** The gap (ms) a send of `lane` written now leaves before the lane's next one; 0: none. */
  gapMs(lane: Priority, now: number): number {
    const range = this.#pacing === false ? undefined : this.#pacing[lane];
    const paced = range ? range[0] + Math.floor(this.#random() * (range[1] - range[0] + 1)) : 0;
    return Math.max(paced, this.#rampGapMs(lane, now));
  }

  #rampGapMs(lane: Priority, now: number): number {
    const after = this.#afterDowntime;
    if (lane === 'high' || !after || this.#rampFrom === undefined) return 0;
    const left = 1 - (now - this.#rampFrom) / after.rampMs;
    if (left <= 0) {
      this.#rampFrom = undefined;
      return 0;
    }
    return Math.ceil(RAMP_START_INTERVALS * this.#intervalMs * left);
  }
}
