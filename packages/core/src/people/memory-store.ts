import {
  type ForgottenPerson,
  PEOPLE_WINDOW_MS,
  type PeopleCounts,
  type PeopleStore,
  type PersonState,
  type Suppression,
} from '../queue/people-store.js';
import { ContactTable } from './contact-table.js';
import { HourlyCounts } from './hourly-counts.js';

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

  async forget(key: string, suppression: boolean): Promise<ForgottenPerson> {
    const contacts = this.#contacts.delete(key) ? 1 : 0;
    const suppressions = suppression && this.#suppressions.delete(key) ? 1 : 0;
    return { contacts, suppressions };
  }

  /** Callers get copies: a change to an answer never reaches the store. */
  #copy(suppression: Suppression | undefined): Suppression | undefined {
    return suppression === undefined ? undefined : { ...suppression };
  }
}
