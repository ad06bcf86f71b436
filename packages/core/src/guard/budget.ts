/**
 * The guard's side of a send about to be written: which new-recipient budget applies now (the
 * configured one, the warm-up's 20 a day for a line's first 10 days, halved while replies are
 * too few), and the numbers `stats().guard` shows. The counting itself is the people store's
 * (`admit`), one step per send, shared by every process on a shared store.
 */

import type { Category, Priority } from '../job.js';
import { MemoryPeopleStore } from '../people/memory-store.js';
import type { AdmitRequest, PeopleCounts, PeopleStore } from '../queue/people-store.js';
import type { ResolvedGuard } from './options.js';

const DAY_MS = 24 * 3600_000;
/** The vendor's warm-up: a line's first 10 days, at most 20 new recipients a day, for every category. */
export const WARMUP_DAYS = 10;
export const WARMUP_PER_DAY = 20;
/** The vendor's aim: 30 replies per 100 sent; judged once 50 were sent in 7 days. */
export const REPLY_RATIO = 0.3;
export const REPLY_RATIO_MIN_SENT = 50;
/** On a shared store the counts are read at most this often (`stats().guard` may be this old). */
const REFRESH_MS = 1_000;

/** `notifier.stats().guard`. */
export interface GuardStats {
  /** Every new recipient written to in the last 24 h, whatever its category. */
  newRecipients24h: number;
  /** New recipients a day the budget allows now (warm-up and a low reply ratio included); undefined: none. */
  newRecipientBudget: number | undefined;
  sent7d: number;
  replies7d: number;
}

export class GuardBudget {
  readonly #guard: ResolvedGuard;
  readonly #store: PeopleStore;
  readonly #memory: MemoryPeopleStore | undefined;
  readonly #onLowRatio: (low: boolean) => void;
  #counts: PeopleCounts = { sent7d: 0, replies7d: 0 };
  #newAll = 0;
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;
  #low = false;

  constructor(guard: ResolvedGuard, store: PeopleStore, onLowRatio: (low: boolean) => void) {
    this.#guard = guard;
    this.#store = store;
    this.#memory = store instanceof MemoryPeopleStore ? store : undefined;
    this.#onLowRatio = onLowRatio;
  }

  /** What `admit` is asked for a send of this priority and category at `now`. */
  request(priority: Priority, category: Category, now: number): AdmitRequest {
    this.#refresh(now);
    const marketing = category === 'marketing';
    const request: AdmitRequest = { marketing };
    const budget = this.#budget(now);
    if (budget && (budget.appliesTo === 'all' || marketing)) {
      request.budget = budget.perDay;
      if (priority === 'high') request.force = true;
    }
    if (marketing && this.#guard.perRecipient) request.perRecipient = this.#guard.perRecipient;
    return request;
  }

  stats(now: number): GuardStats {
    this.#refresh(now);
    return {
      newRecipients24h: this.#newAll,
      newRecipientBudget: this.#budget(now)?.perDay,
      sent7d: this.#counts.sent7d,
      replies7d: this.#counts.replies7d,
    };
  }

  /** The budget in force at `now`; undefined: none. */
  #budget(now: number): { perDay: number; appliesTo: 'marketing' | 'all' } | undefined {
    const { newRecipients, warmupSince } = this.#guard;
    let budget: { perDay: number; appliesTo: 'marketing' | 'all' } | undefined = newRecipients || undefined;
    if (warmupSince !== undefined && now < warmupSince + WARMUP_DAYS * DAY_MS) {
      budget = { perDay: Math.min(WARMUP_PER_DAY, budget?.perDay ?? WARMUP_PER_DAY), appliesTo: 'all' };
    }
    if (budget && this.#low) budget = { perDay: Math.floor(budget.perDay / 2), appliesTo: budget.appliesTo };
    return budget;
  }

  /** The memory store is read at once; a shared one at most once a second, in the background. */
  #refresh(now: number): void {
    const memory = this.#memory;
    if (memory) {
      this.#counts = memory.countsNow(now);
      this.#newAll = memory.newRecipientsNow(now).all;
      this.#judge();
      return;
    }
    if (this.#reading || now - this.#readAt < REFRESH_MS) return;
    this.#readAt = now;
    this.#reading = Promise.all([this.#store.counts(now), this.#store.newRecipients(now)])
      .then(([counts, fresh]) => {
        this.#counts = counts;
        this.#newAll = fresh.all;
        this.#judge();
      })
      .catch(() => {
        // The last counts stand; the next look reads again.
      })
      .finally(() => {
        this.#reading = undefined;
      });
  }

  #judge(): void {
    const { sent7d, replies7d } = this.#counts;
    const low = sent7d >= REPLY_RATIO_MIN_SENT && replies7d < sent7d * REPLY_RATIO;
    if (low === this.#low) return;
    this.#low = low;
    this.#onLowRatio(low);
  }
}
