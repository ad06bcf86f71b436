/**
 * The storage contract for what the notifier remembers of people: contact memory (which phones
 * are known, so not new recipients), suppressions (opt-outs) and the sent and reply counts of the
 * last 7 days. Every phone arrives here already keyed (`phoneKeyer`): a store never sees digits.
 *
 * The notifier keeps one in memory unless its queue offers one (`JobQueue.peopleStore()`); the
 * Redis queue's is shared by every process on the queue.
 */

/** `marketing`: no marketing messages; `all`: nothing at all, transactional ones included. */
export type SuppressionScope = 'marketing' | 'all';
export const SUPPRESSION_SCOPES: readonly SuppressionScope[] = ['marketing', 'all'];

/** An opt-out, as `notifier.suppressed(phone)` answers it. */
export interface Suppression {
  scope: SuppressionScope;
  /** The app's word for it (at most 200 characters); `stop_word` when a reply said STOP. */
  reason?: string;
  /** When it was made, ms since the epoch. */
  at: number;
}

/** What a send needs to know of its recipient, in one look. */
export interface PersonState {
  /** Sent to before, added with `contacts.add`, or replied. */
  known: boolean;
  suppression: Suppression | undefined;
}

/**
 * What the guard asks of one send about to be written (`PeopleStore.admit`): the budget it may
 * spend and the per-recipient cap it is under. Decided and counted in one step, so two processes
 * sharing a store never both take the budget's last place.
 */
export interface AdmitRequest {
  /** A marketing message (the per-recipient cap, and opt-outs of scope `marketing`, apply). */
  marketing: boolean;
  /**
   * New recipients this send may bring the rolling 24 h to; undefined: it does not spend the
   * budget (a transactional send under `appliesTo: 'marketing'`, or no budget). `high` passes
   * over it with `force` but still counts.
   */
  budget?: number;
  force?: boolean;
  /** At most `max` marketing sends to one phone within `windowMs` (this one included). */
  perRecipient?: { max: number; windowMs: number };
}

/** The store's answer: the person, and what the guard decided. */
export interface Admission extends PersonState {
  /** Over the new-recipient budget: the job waits until then (the budget frees). */
  heldUntil?: number;
  /** Over the per-recipient cap: the job ends skipped. */
  overCap?: boolean;
}

/** The new-recipient counts of the last 24 h. */
export interface NewRecipientCounts {
  /** Every new recipient written to (whatever its category). */
  all: number;
  /** Those that spent the budget. */
  budget: number;
}

/** The window of the new-recipient budget. */
export const BUDGET_WINDOW_MS = 24 * 3600_000;

export interface PeopleCounts {
  /** Sends that may have reached a phone (accepted, or AMBIGUOUS) in the last 7 days. */
  sent7d: number;
  /** Replies counted in the last 7 days (one per phone until it is written to again). */
  replies7d: number;
}

/** How long the sent and reply counts look back. */
export const PEOPLE_WINDOW_MS = 7 * 24 * 3600_000;

export interface PeopleStore {
  /** Whether the phone is known (not a new recipient). */
  isKnown(key: string): Promise<boolean>;
  /** Makes these phones known without counting a send (`contacts.add`). Resolves how many were new. */
  markKnown(keys: readonly string[], now: number): Promise<number>;
  /**
   * A send that may have reached the phone (accepted, or AMBIGUOUS): the phone is known from now
   * on, one more counts in `sent7d`, and its next reply counts again. Resolves true when the
   * phone was new.
   */
  recordSent(key: string, now: number): Promise<boolean>;
  /**
   * A reply from the phone: it is known from now on, and the reply counts in `replies7d` unless
   * one was already counted since the phone was last written to. Resolves whether it counted.
   */
  recordReply(key: string, now: number): Promise<boolean>;
  /** The sent and reply counts of the last 7 days before `now`. */
  counts(now: number): Promise<PeopleCounts>;
  /** Known and suppressed together: one round trip on a shared store (the check before a send). */
  lookup(key: string): Promise<PersonState>;
  /**
   * The guard's look before a send (one round trip on a shared store, in place of `lookup`): the
   * person, and, unless a suppression in scope ends it, the per-recipient cap and the
   * new-recipient budget, counted when the send may go. A phone already counted as new in the
   * window (a retry) is not counted again.
   */
  admit(key: string, now: number, request: AdmitRequest): Promise<Admission>;
  /** The new-recipient counts of the 24 h before `now`. */
  newRecipients(now: number): Promise<NewRecipientCounts>;
  suppression(key: string): Promise<Suppression | undefined>;
  /**
   * Stores the suppression, replacing one the phone had; with `keepExisting`, a phone already
   * suppressed keeps what it has (a STOP reply never narrows an opt-out of everything). Resolves
   * the suppression the phone has now.
   */
  suppress(key: string, suppression: Suppression, keepExisting?: boolean): Promise<Suppression>;
  /** Resolves whether there was one. */
  unsuppress(key: string): Promise<boolean>;
  /**
   * Erases what is kept of the phone (`notifier.forget()`): its contact memory, and with
   * `suppression` its suppression too (kept by default, so an opted-out phone stays opted out).
   * The hourly counts name no one and stay. Resolves how many of each were erased (0 or 1).
   */
  forget(key: string, suppression: boolean): Promise<ForgottenPerson>;
}

export interface ForgottenPerson {
  contacts: number;
  suppressions: number;
}
