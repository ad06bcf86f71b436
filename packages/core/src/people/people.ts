import { ValidationError } from '../errors.js';
import type { Category } from '../job.js';
import { normalizePhone } from '../phone.js';
import {
  type Admission,
  type AdmitRequest,
  type ForgottenPerson,
  type PeopleStore,
  type PersonState,
  SUPPRESSION_SCOPES,
  type Suppression,
  type SuppressionScope,
} from '../queue/people-store.js';
import type { JobRecord } from '../queue/types.js';
import { checkOneOf } from '../util/validate.js';
import { MemoryPeopleStore } from './memory-store.js';
import type { PhoneKey } from './phone-key.js';
import { isStopWord } from './stop-words.js';

export interface SuppressOptions {
  /** Default `'marketing'`: transactional messages (an order confirmation) still go out. */
  scope?: SuppressionScope;
  /** The app's word for it, kept with the suppression (at most 200 characters). */
  reason?: string;
}

export interface ReplyOptions {
  /** The reply's text: read for a stop word, then forgotten (never stored, never logged). */
  text?: string;
}

export interface ReplyResult {
  /** Whether it counted for the reply ratio (one reply per phone until it is written to again). */
  counted: boolean;
  /** Whether it was a stop word: the phone is now suppressed (scope `marketing`, unless it had one). */
  stopWord: boolean;
}

/** `notifier.contacts`. */
export interface Contacts {
  /** Known (warm) contacts: not new recipients. Resolves how many were not known before. */
  add(phones: Iterable<string | number>): Promise<number>;
  /** A reply from the phone: it counts for the reply ratio, and a stop word suppresses the phone. */
  replied(phone: string | number, options?: ReplyOptions): Promise<ReplyResult>;
}

export const MAX_REASON_LENGTH = 200;
/** The reason a stop word's suppression carries. */
export const STOP_WORD_REASON = 'stop_word';
/** Contacts go to the store this many at a time (one script call each on Redis). */
const ADD_BATCH = 1_000;

/** Whether a suppression holds back a message of this category. */
export function inScope(suppression: Suppression | undefined, category: Category): boolean {
  return suppression !== undefined && (suppression.scope === 'all' || category === 'marketing');
}

/**
 * What the notifier knows of people, in its words: phones as the app gives them, checked and
 * keyed here, so its store only ever sees keys.
 */
export class People {
  readonly store: PeopleStore;
  readonly #keyOf: PhoneKey;
  /** The memory store answers at once: a trigger then waits for no promise. */
  readonly #memory: MemoryPeopleStore | undefined;
  readonly contacts: Contacts;

  constructor(store: PeopleStore, keyOf: PhoneKey) {
    this.store = store;
    this.#keyOf = keyOf;
    this.#memory = store instanceof MemoryPeopleStore ? store : undefined;
    this.contacts = {
      add: (phones) => this.#add(phones),
      replied: (phone, options) => this.#replied(phone, options),
    };
  }

  keyOf(phone: string): string {
    return this.#keyOf(phone);
  }

  async suppress(phone: unknown, options: SuppressOptions = {}): Promise<Suppression> {
    const key = this.#keyOf(normalizePhone(phone));
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('suppress() options must be { scope?, reason? }', [
        { path: '', message: 'Expected an object' },
      ]);
    }
    const scope = options.scope === undefined ? 'marketing' : checkOneOf(options.scope, SUPPRESSION_SCOPES, 'scope');
    const suppression: Suppression = { scope, at: Date.now() };
    const reason = checkReason(options.reason);
    if (reason !== undefined) suppression.reason = reason;
    return this.store.suppress(key, suppression);
  }

  async unsuppress(phone: unknown): Promise<boolean> {
    return this.store.unsuppress(this.#keyOf(normalizePhone(phone)));
  }

  async suppressed(phone: unknown): Promise<Suppression | undefined> {
    return this.store.suppression(this.#keyOf(normalizePhone(phone)));
  }

  /** Erases the phone's contact memory, and its suppression when asked (`notifier.forget()`). */
  forget(phone: string, suppression: boolean): Promise<ForgottenPerson> {
    return this.store.forget(this.#keyOf(phone), suppression);
  }

  /**
   * Whether an opt-out holds back a message of `category` to this (normalized) phone. The memory
   * store answers synchronously, and without hashing the phone while it holds no suppression.
   */
  blocks(phone: string, category: Category): boolean | Promise<boolean> {
    const memory = this.#memory;
    if (memory) return memory.suppressions > 0 && inScope(memory.suppressionNow(this.#keyOf(phone)), category);
    return this.store.suppression(this.#keyOf(phone)).then((suppression) => inScope(suppression, category));
  }

  /**
   * What a send needs to know of its recipient, in one look (one round trip on Redis): whether the
   * phone is known, and its suppression. The memory store answers synchronously.
   */
  lookup(phone: string): PersonState | Promise<PersonState> {
    const key = this.#keyOf(phone);
    const memory = this.#memory;
    return memory ? memory.lookupNow(key) : this.store.lookup(key);
  }

  /** The guard's look before a send (see `PeopleStore.admit`); the memory store answers synchronously. */
  admit(phone: string, now: number, request: AdmitRequest): Admission | Promise<Admission> {
    const key = this.#keyOf(phone);
    const memory = this.#memory;
    return memory ? memory.admitNow(key, now, request) : this.store.admit(key, now, request);
  }

  /**
   * A finished job: a send that may have reached its phone (accepted, or AMBIGUOUS) makes the
   * phone known and counts for the reply ratio. A send certainly not accepted does neither.
   */
  finished(record: JobRecord): Promise<boolean> | undefined {
    const reached =
      record.status === 'sent' ||
      ((record.status === 'failed' || record.status === 'expired') && record.error.code === 'AMBIGUOUS');
    if (!reached || record.phone === undefined || record.phone === '') return undefined;
    return this.store.recordSent(this.#keyOf(record.phone), record.updatedAt);
  }

  async #add(phones: Iterable<string | number>): Promise<number> {
    if (typeof phones === 'string' || typeof (phones as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
      throw new ValidationError('contacts.add() takes an array of phones', [
        { path: '', message: 'Expected an array' },
      ]);
    }
    // Every phone is checked before any is stored: a typo in row 900 adds nothing.
    const keys: string[] = [];
    let index = 0;
    for (const phone of phones) {
      try {
        keys.push(this.#keyOf(normalizePhone(phone)));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        throw new ValidationError(`contacts.add(): phone ${index}: ${error.message}`, [
          { path: String(index), message: error.issues[0]?.message ?? 'Invalid phone' },
        ]);
      }
      index++;
    }
    const now = Date.now();
    let added = 0;
    for (let at = 0; at < keys.length; at += ADD_BATCH) {
      added += await this.store.markKnown(keys.slice(at, at + ADD_BATCH), now);
    }
    return added;
  }

  async #replied(phone: unknown, options: ReplyOptions = {}): Promise<ReplyResult> {
    const key = this.#keyOf(normalizePhone(phone));
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('contacts.replied() options must be { text? }', [
        { path: '', message: 'Expected an object' },
      ]);
    }
    const { text } = options;
    if (text !== undefined && typeof text !== 'string') {
      throw new ValidationError('text must be a string', [{ path: 'text', message: 'Expected a string' }]);
    }
    const now = Date.now();
    const counted = await this.store.recordReply(key, now);
    const stopWord = isStopWord(text);
    // A STOP asks for no more marketing; a phone that opted out of everything keeps that.
    if (stopWord) await this.store.suppress(key, { scope: 'marketing', reason: STOP_WORD_REASON, at: now }, true);
    return { counted, stopWord };
  }
}

function checkReason(reason: unknown): string | undefined {
  if (reason === undefined) return undefined;
  if (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH) {
    throw new ValidationError(`reason must be a string of at most ${MAX_REASON_LENGTH} characters`, [
      { path: 'reason', message: `Expected a string of at most ${MAX_REASON_LENGTH} characters` },
    ]);
  }
  return reason === '' ? undefined : reason;
}
