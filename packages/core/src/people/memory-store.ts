import { randomBytes } from 'node:crypto';
import {
  type Admission,
  type AdmitRequest,
  BUDGET_WINDOW_MS,
  type ForgottenPerson,
  type NewRecipientCounts,
  PEOPLE_WINDOW_MS,
  type PeopleCounts,
  type PeopleStore,
  type PersonState,
  type Suppression,
} from '../queue/people-store.js';
import { ContactTable } from './contact-table.js';
import { HourlyCounts } from './hourly-counts.js';
import { TimeWindow } from './time-window.js';

/** A contact's flag: a reply was counted since it was last written to (the next one does not count). */
const REPLY_COUNTED = 1;

/**
 * The notifier's people store when its queue keeps none: this process only, gone with it (as the
 * memory queue's jobs are). Contacts in a compact table, suppressions in a map (opt-outs are few).
 */
export class MemoryPeopleStore implements PeopleStore {
  readonly #contacts = new ContactTable();
  readonly #suppressions = new Map<string, Suppression>();
  readonly #sent = new HourlyCounts(PEOPLE_WINDOW_MS);
  readonly #replies = new HourlyCounts(PEOPLE_WINDOW_MS);
  /** New recipients written to in 24 h, and those of them that spent the budget. */
  readonly #newAll = new TimeWindow(BUDGET_WINDOW_MS);
  readonly #newBudget = new TimeWindow(BUDGET_WINDOW_MS);
  /** Per phone key: its marketing sends' times, oldest first. */
  readonly #marketing = new Map<string, number[]>();

  /** How many phones are known. */
  get contacts(): number {
    return this.#contacts.size;
  }

  /** How many phones are suppressed. */
  get suppressions(): number {
    return this.#suppressions.size;
  }

  /** `suppression()` without a promise (the notifier's check at trigger). */
  suppressionNow(key: string): Suppression | undefined {
    return this.#copy(this.#suppressions.get(key));
  }

  async isKnown(key: string): Promise<boolean> {
    return this.#contacts.get(key) >= 0;
  }

  async markKnown(keys: readonly string[], _now: number): Promise<number> {
    let added = 0;
    for (const key of keys) {
      if (this.#contacts.get(key) < 0 && this.#contacts.set(key, 0)) added++;
    }
    return added;
  }

  async recordSent(key: string, now: number): Promise<boolean> {
    this.#sent.add(now);
    return this.#contacts.set(key, 0);
  }

  async recordReply(key: string, now: number): Promise<boolean> {
    const bits = this.#contacts.get(key);
    if (bits >= 0 && bits & REPLY_COUNTED) return false;
    this.#contacts.set(key, REPLY_COUNTED);
    this.#replies.add(now);
    return true;
  }

  async counts(now: number): Promise<PeopleCounts> {
    return { sent7d: this.#sent.total(now), replies7d: this.#replies.total(now) };
  }

  async lookup(key: string): Promise<PersonState> {
    return this.lookupNow(key);
  }

  /** `lookup()` without a promise (the notifier's check before a send). */
  lookupNow(key: string): PersonState {
    return { known: this.#contacts.get(key) >= 0, suppression: this.#copy(this.#suppressions.get(key)) };
  }

  async admit(key: string, now: number, request: AdmitRequest): Promise<Admission> {
    return this.admitNow(key, now, request);
  }

  /** `admit()` without a promise. */
  admitNow(key: string, now: number, request: AdmitRequest): Admission {
    const admission: Admission = this.lookupNow(key);
    const { suppression } = admission;
    if (suppression && (suppression.scope === 'all' || request.marketing)) return admission;
    const cap = request.marketing ? request.perRecipient : undefined;
    let sends: number[] | undefined;
    if (cap) {
      sends = (this.#marketing.get(key) ?? []).filter((at) => at > now - cap.windowMs);
      if (sends.length >= cap.max) {
        admission.overCap = true;
        return admission;
      }
    }
    if (!admission.known && this.#newAll.size(now) >= 0 && !this.#newAll.has(key)) {
      const { budget } = request;
      if (budget !== undefined && !request.force && this.#newBudget.size(now) >= budget) {
        admission.heldUntil = Math.max(now + 1, this.#newBudget.freesAt());
        return admission;
      }
      this.#newAll.add(key, now);
      if (budget !== undefined) this.#newBudget.add(key, now);
    }
    if (sends) {
      sends.push(now);
      this.#marketing.set(key, sends);
      if (this.#marketing.size > 10_000) this.#sweepMarketing(now, cap?.windowMs ?? 0);
    }
    return admission;
  }

  async newRecipients(now: number): Promise<NewRecipientCounts> {
    return this.newRecipientsNow(now);
  }

  /** `newRecipients()` without a promise. */
  newRecipientsNow(now: number): NewRecipientCounts {
    return { all: this.#newAll.size(now), budget: this.#newBudget.size(now) };
  }

  /** `counts()` without a promise. */
  countsNow(now: number): PeopleCounts {
    return { sent7d: this.#sent.total(now), replies7d: this.#replies.total(now) };
  }

  /** Phones whose marketing sends all left the window are forgotten (the map stays bounded by recent sends). */
  #sweepMarketing(now: number, windowMs: number): void {
    for (const [key, times] of this.#marketing) {
      if ((times[times.length - 1] ?? 0) <= now - windowMs) this.#marketing.delete(key);
    }
  }

  async suppression(key: string): Promise<Suppression | undefined> {
    return this.#copy(this.#suppressions.get(key));
  }

  async suppress(key: string, suppression: Suppression, keepExisting = false): Promise<Suppression> {
    const existing = this.#suppressions.get(key);
    if (existing && keepExisting) return { ...existing };
    const stored: Suppression = { scope: suppression.scope, at: suppression.at };
    if (suppression.reason !== undefined) stored.reason = suppression.reason;
    this.#suppressions.set(key, stored);
    return { ...stored };
  }

  async unsuppress(key: string): Promise<boolean> {
    return this.#suppressions.delete(key);
  }

  /**
   * Its contact memory and marketing sends go; in the new-recipient counts its place stays under a
   * random name (forgetting people must not refill the day's budget), no longer its key.
   */
  async forget(key: string, suppression: boolean): Promise<ForgottenPerson> {
    const anonymous = `~${randomBytes(12).toString('base64url')}`;
    this.#newAll.rename(key, anonymous);
    this.#newBudget.rename(key, anonymous);
    this.#marketing.delete(key);
    const contacts = this.#contacts.delete(key) ? 1 : 0;
    const suppressions = suppression && this.#suppressions.delete(key) ? 1 : 0;
    return { contacts, suppressions };
  }

  /** Callers get copies: a change to an answer never reaches the store. */
  #copy(suppression: Suppression | undefined): Suppression | undefined {
    return suppression === undefined ? undefined : { ...suppression };
  }
}
