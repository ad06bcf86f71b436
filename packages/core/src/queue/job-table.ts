import type { OutgoingMessage } from '../client/message.js';
import type { TraceCarrier } from '../job.js';
import {
  CATEGORIES,
  type Category,
  type DeliveryStatus,
  defaultCategory,
  JOB_STATUSES,
  type JobError,
  type JobMeta,
  type JobStatus,
  PRIORITIES,
  type Priority,
  SKIP_REASONS,
  type SkipReason,
} from '../job.js';
import { decodeId, encodeId, random48 } from '../util/ids.js';
import type { JobRecord, NewJob, SendKind } from './types.js';

/*
 * The memory queue's jobs as columns: one typed array per number field and one plain array per
 * reference, indexed by slot. 100 000 waiting jobs are then a few dozen arrays, not 100 000
 * objects with a boxed 16-byte double per time field, a message object, a map entry and an id
 * string each: a job costs about 100 bytes here besides its text and keys.
 *
 * A slot is reused once its job is forgotten. Lanes, the timer and the history hold *handles*
 * (slot and generation in one number), so an entry left behind by a job that is gone never
 * reaches the job that took its slot. Job ids are not stored either: an id is the slot, its
 * generation and 48 random bits of the job, mixed so that ids look uniformly random (the
 * honeypot's decoy ids must not stand out), and decoded on `get`.
 */

const STATUSES = JOB_STATUSES;
const STATUS_CODE = Object.fromEntries(STATUSES.map((status, code) => [status, code])) as Record<JobStatus, number>;
const PRIORITY_CODE = Object.fromEntries(PRIORITIES.map((priority, code) => [priority, code])) as Record<
  Priority,
  number
>;

// One byte per slot beside the state word (which is full): the category, and why a job was skipped.
const MARKETING = 1;
const REASON_SHIFT = 1; // 0: none, else 1 + its index in SKIP_REASONS
/** The job waits for the new-recipient budget (`heldBy`), shown while it is `scheduled`. */
const HELD = 0x80;

/** Where a job waits: nowhere (running or finished), in its lane, or on the timer. */
export type Place = typeof NOWHERE | typeof IN_LANE | typeof ON_TIMER;
export const NOWHERE = 0;
export const IN_LANE = 1;
export const ON_TIMER = 2;

// One 32-bit word of state per slot: status, priority, place and flags, and the generation.
const STATUS_MASK = 0b111;
const PRIORITY_SHIFT = 3;
const PLACE_SHIFT = 5;
const QUIET = 1 << 7;
const TO_IMOL = 1 << 8;
/** Visible to `get()` and `list()`: from its creation until its finished record expires. */
const RECORDED = 1 << 9;
const IN_USE = 1 << 10;
const GEN_SHIFT = 11;
const GEN_LIMIT = 2 ** 21; // a slot reused two million times starts again at 0

const SLOT_LIMIT = 2 ** 24; // ids have 24 bits for the slot
const TWO_24 = 2 ** 24;

/** Fields most jobs never have: one object for the jobs that do. */
class Rare {
  notAfter: number | undefined = undefined;
  replaceKey: string | undefined = undefined;
  meta: JobMeta | undefined = undefined;
  messageId: string | undefined = undefined;
  error: JobError | undefined = undefined;
  delivery: DeliveryStatus | undefined = undefined;
  deliveryCheckedAt: number | undefined = undefined;
  deliveryRaw: string | undefined = undefined;
  /** A recipient that is not a plain digit string (the column keeps digits as a number). */
  phone: string | undefined = undefined;
  /** When a job waiting out a backoff is due (a scheduled job's is its `sendAt`). */
  retryAt = 0;
  /** The trigger span's context (only with telemetry). */
  trace: TraceCarrier | undefined = undefined;
}

type Body = string | { url: string; caption?: string };

// The recipient as a number: 11 digits are 8 bytes in a column instead of a 32-byte string.
const DIGITS = /^[1-9][0-9]{0,14}$/;

export class JobTable {
  #capacity = 0;
  #top = 0;
  #free: number[] = [];
  #state = new Uint32Array(0);
  #attempts = new Uint32Array(0);
  #createdAt = new Float64Array(0);
  #updatedAt = new Float64Array(0);
  #deadline = new Float64Array(0);
  /** NaN: none. */
  #sendAt = new Float64Array(0);
  /** Until when the job's keys count (NaN: it has none). */
  #keysUntil = new Float64Array(0);
  #nonce = new Float64Array(0);
  /** NaN: absent, or kept as text in `Rare.phone`. */
  #phone = new Float64Array(0);
  /** Category and skip reason (see MARKETING, REASON_SHIFT). */
  #extra = new Uint8Array(0);
  // Reference columns grow by push, in step with `#top`.
  readonly #ruleId: (string | undefined)[] = [];
  /** The text (or file) to send; dropped once the job can never be sent again. */
  readonly #body: (Body | undefined)[] = [];
  readonly #keys: (string | readonly string[] | undefined)[] = [];
  readonly #rare: (Rare | undefined)[] = [];

  /** One past the highest slot in use: slots below it may hold jobs. */
  get top(): number {
    return this.#top;
  }

  /** Stores a new job and returns its slot. */
  add(job: NewJob, status: JobStatus, now: number): number {
    const slot = this.#allocate();
    const gen = this.#state[slot] as number;
    let state = gen | STATUS_CODE[status] | (PRIORITY_CODE[job.priority] << PRIORITY_SHIFT) | RECORDED | IN_USE;
    if (job.quiet) state |= QUIET;
    const message = job.skipped ? undefined : job.message;
    if (message?.sendToImol) state |= TO_IMOL;
    this.#state[slot] = state;
    this.#attempts[slot] = 0;
    this.#createdAt[slot] = now;
    this.#updatedAt[slot] = now;
    this.#deadline[slot] = job.deadline;
    // A sendAt already past is no schedule: the job was due at once.
    this.#sendAt[slot] = job.sendAt !== undefined && job.sendAt > now ? job.sendAt : Number.NaN;
    this.#keysUntil[slot] = job.keys.length > 0 ? now + job.keyTtlMs : Number.NaN;
    this.#nonce[slot] = random48();
    // A skipped job keeps its recipient when it had one (a suppressed phone), never its text.
    const phone = job.message.phone === '' ? undefined : job.message.phone;
    const digits = phone !== undefined && DIGITS.test(phone);
    this.#phone[slot] = digits ? Number(phone) : Number.NaN;
    const textPhone = phone !== undefined && !digits ? phone : undefined;
    const reason = job.skipped ? (job.reason ?? 'when') : undefined;
    const category = job.category ?? defaultCategory(job.priority);
    this.#extra[slot] = (category === 'marketing' ? MARKETING : 0) | reasonCode(reason);
    const replaceKey = job.skipped ? undefined : job.replaceKey;
    let rare: Rare | undefined;
    if (
      textPhone !== undefined ||
      job.notAfter !== undefined ||
      replaceKey !== undefined ||
      job.meta !== undefined ||
      job.trace !== undefined
    ) {
      rare = new Rare();
      rare.phone = textPhone;
      rare.notAfter = job.notAfter;
      rare.replaceKey = replaceKey;
      rare.meta = job.meta;
      rare.trace = job.trace;
    }
    const keys = job.keys.length === 0 ? undefined : job.keys.length === 1 ? job.keys[0] : [...job.keys];
    this.#setRef(this.#ruleId, slot, job.ruleId);
    this.#setRef(this.#body, slot, message === undefined ? undefined : 'text' in message ? message.text : message.file);
    this.#setRef(this.#keys, slot, keys);
    this.#setRef(this.#rare, slot, rare);
    return slot;
  }

  /** The number lanes, the timer and the history keep for a job. */
  handle(slot: number): number {
    return this.#gen(slot) * SLOT_LIMIT + slot;
  }

  /** The slot of a handle, or -1 when that job is gone (its slot may hold another job by now). */
  slotOf(handle: number): number {
    const slot = handle % SLOT_LIMIT;
    const state = this.#state[slot];
    if (state === undefined || !(state & IN_USE) || state >>> GEN_SHIFT !== Math.floor(handle / SLOT_LIMIT)) return -1;
    return slot;
  }

  /** The job's id (made from its slot, generation and random bits; not stored). */
  id(slot: number): string {
    const nonce = this.#nonce[slot] as number;
    const high = Math.floor(nonce / TWO_24);
    const low = nonce % TWO_24;
    return encodeId(high, low, this.#gen(slot) ^ mask(high, low), slot ^ mask(low, high));
  }

  /** The slot of a recorded job by its id, or -1. */
  slotOfId(id: unknown): number {
    const parts = decodeId(id);
    if (!parts) return -1;
    const [high, low, gen, slot] = parts;
    const s = slot ^ mask(low, high);
    if (s >= this.#top) return -1;
    const state = this.#state[s] as number;
    if (!(state & IN_USE) || !(state & RECORDED) || state >>> GEN_SHIFT !== (gen ^ mask(high, low))) return -1;
    return this.#nonce[s] === high * TWO_24 + low ? s : -1;
  }

  /**
   * Forgets the job: its slot may be reused and its handles no longer resolve. Nothing of it stays
   * behind: the number columns are zeroed too (the phone's digits, and the random bits its id was
   * made of), not only the references.
   */
  free(slot: number): void {
    const gen = (this.#gen(slot) + 1) % GEN_LIMIT;
    this.#state[slot] = gen << GEN_SHIFT;
    this.#phone[slot] = Number.NaN;
    this.#nonce[slot] = 0;
    this.#attempts[slot] = 0;
    this.#createdAt[slot] = 0;
    this.#updatedAt[slot] = 0;
    this.#deadline[slot] = 0;
    this.#sendAt[slot] = Number.NaN;
    this.#keysUntil[slot] = Number.NaN;
    this.#extra[slot] = 0;
    this.#ruleId[slot] = undefined;
    this.#body[slot] = undefined;
    this.#keys[slot] = undefined;
    this.#rare[slot] = undefined;
    this.#free.push(slot);
    if (slot === this.#top - 1) this.#trim();
  }

  /** Slots that hold a recorded job, in slot order. */
  *recorded(): IterableIterator<number> {
    for (let slot = 0; slot < this.#top; slot++) if ((this.#state[slot] as number) & RECORDED) yield slot;
  }

  isRecorded(slot: number): boolean {
    return ((this.#state[slot] as number) & RECORDED) !== 0;
  }

  /**
   * The record expired: `get()` no longer finds the job. Its keys may still point at it (a late
   * duplicate must not resend), so the slot may stay a while: it keeps only its status and phone
   * (which `forget()` finds it by) and what a replay answers, never its text, meta or the
   * vendor's words.
   */
  unrecord(slot: number): void {
    this.#state[slot] = (this.#state[slot] as number) & ~RECORDED;
    this.#body[slot] = undefined;
    const rare = this.#rare[slot];
    if (rare === undefined) return;
    rare.meta = undefined;
    rare.deliveryRaw = undefined;
  }

  status(slot: number): JobStatus {
    return STATUSES[(this.#state[slot] as number) & STATUS_MASK] as JobStatus;
  }

  setStatus(slot: number, status: JobStatus): void {
    this.#state[slot] = ((this.#state[slot] as number) & ~STATUS_MASK) | STATUS_CODE[status];
  }

  priority(slot: number): Priority {
    return PRIORITIES[((this.#state[slot] as number) >>> PRIORITY_SHIFT) & 0b11] as Priority;
  }

  place(slot: number): Place {
    return (((this.#state[slot] as number) >>> PLACE_SHIFT) & 0b11) as Place;
  }

  setPlace(slot: number, place: Place): void {
    this.#state[slot] = ((this.#state[slot] as number) & ~(0b11 << PLACE_SHIFT)) | (place << PLACE_SHIFT);
  }

  quiet(slot: number): boolean {
    return ((this.#state[slot] as number) & QUIET) !== 0;
  }

  category(slot: number): Category {
    return CATEGORIES[(this.#extra[slot] as number) & MARKETING] as Category;
  }

  reason(slot: number): SkipReason | undefined {
    const code = (this.#extra[slot] as number) >> REASON_SHIFT;
    return code === 0 ? undefined : SKIP_REASONS[code - 1];
  }

  setHeld(slot: number, held: boolean): void {
    const extra = (this.#extra[slot] as number) & ~HELD;
    this.#extra[slot] = held ? extra | HELD : extra;
  }

  setReason(slot: number, reason: SkipReason): void {
    this.#extra[slot] = ((this.#extra[slot] as number) & MARKETING) | reasonCode(reason);
  }

  attempts(slot: number): number {
    return this.#attempts[slot] as number;
  }

  addAttempt(slot: number): void {
    this.#attempts[slot] = (this.#attempts[slot] as number) + 1;
  }

  updatedAt(slot: number): number {
    return this.#updatedAt[slot] as number;
  }

  setUpdatedAt(slot: number, at: number): void {
    this.#updatedAt[slot] = at;
  }

  deadline(slot: number): number {
    return this.#deadline[slot] as number;
  }

  setDeadline(slot: number, at: number): void {
    this.#deadline[slot] = at;
  }

  setSendAt(slot: number, at: number): void {
    this.#sendAt[slot] = at;
  }

  keysUntil(slot: number): number {
    return this.#keysUntil[slot] as number;
  }

  keys(slot: number): string | readonly string[] | undefined {
    return this.#keys[slot];
  }

  /** The job's `index`-th key (the order they were given in). */
  keyAt(slot: number, index: number): string {
    const keys = this.#keys[slot];
    return (typeof keys === 'string' ? keys : keys?.[index]) as string;
  }

  ruleId(slot: number): string | undefined {
    return this.#ruleId[slot];
  }

  replaceKey(slot: number): string | undefined {
    return this.#rare[slot]?.replaceKey;
  }

  trace(slot: number): TraceCarrier | undefined {
    return this.#rare[slot]?.trace;
  }

  error(slot: number): JobError | undefined {
    return this.#rare[slot]?.error;
  }

  setError(slot: number, error: JobError | undefined): void {
    if (error !== undefined) this.#rareOf(slot).error = error;
    else if (this.#rare[slot]) (this.#rare[slot] as Rare).error = undefined;
  }

  setMessageId(slot: number, messageId: string | undefined): void {
    if (messageId !== undefined) this.#rareOf(slot).messageId = messageId;
    else if (this.#rare[slot]) (this.#rare[slot] as Rare).messageId = undefined;
  }

  setDelivery(slot: number, delivery: DeliveryStatus | undefined, checkedAt: number, raw: string | undefined): void {
    const rare = this.#rareOf(slot);
    if (delivery !== undefined) rare.delivery = delivery;
    rare.deliveryCheckedAt = checkedAt;
    if (raw !== undefined) rare.deliveryRaw = raw;
  }

  /** When a job on the timer is due: its `sendAt` (before its deadline) while scheduled, else its backoff's end. */
  dueAt(slot: number): number {
    if (this.status(slot) === 'scheduled') {
      return Math.min(this.#sendAt[slot] as number, this.#deadline[slot] as number);
    }
    return this.#rare[slot]?.retryAt ?? 0;
  }

  setRetryAt(slot: number, at: number): void {
    this.#rareOf(slot).retryAt = at;
  }

  hasMessage(slot: number): boolean {
    return this.#body[slot] !== undefined;
  }

  dropMessage(slot: number): void {
    this.#body[slot] = undefined;
  }

  /** Which limit its send waits for (a job whose message was dropped counts as text). */
  kind(slot: number): SendKind {
    const body = this.#body[slot];
    return body === undefined || typeof body === 'string' ? 'text' : 'file';
  }

  /** The message to send, built when the job is picked up. */
  message(slot: number): OutgoingMessage {
    const body = this.#body[slot] as Body;
    const phone = this.#phoneOf(slot) as string;
    const sendToImol = ((this.#state[slot] as number) & TO_IMOL) !== 0;
    return typeof body === 'string' ? { phone, text: body, sendToImol } : { phone, file: body, sendToImol };
  }

  record(slot: number): JobRecord {
    const record = {
      id: this.id(slot),
      status: this.status(slot),
      priority: this.priority(slot),
      category: this.category(slot),
      attempts: this.#attempts[slot] as number,
      createdAt: this.#createdAt[slot] as number,
      updatedAt: this.#updatedAt[slot] as number,
    } as JobRecord;
    const ruleId = this.#ruleId[slot];
    if (ruleId !== undefined) record.ruleId = ruleId;
    const reason = this.reason(slot);
    if (reason !== undefined) record.reason = reason;
    if ((this.#extra[slot] as number) & HELD && record.status === 'scheduled') record.heldBy = 'new_recipients';
    const phone = this.#phoneOf(slot);
    if (phone !== undefined) record.phone = phone;
    const body = this.#body[slot];
    if (typeof body === 'string') record.text = body;
    else if (body !== undefined) record.file = body.caption === undefined ? { url: body.url } : { ...body };
    const rare = this.#rare[slot];
    if (rare?.messageId !== undefined) record.messageId = rare.messageId;
    if (rare?.error !== undefined) record.error = rare.error;
    const sendAt = this.#sendAt[slot] as number;
    if (!Number.isNaN(sendAt)) record.sendAt = sendAt;
    if (rare === undefined) return record;
    if (rare.notAfter !== undefined) record.notAfter = rare.notAfter;
    if (rare.replaceKey !== undefined) record.replaceKey = rare.replaceKey;
    if (rare.meta !== undefined) record.meta = rare.meta;
    if (rare.delivery !== undefined) record.delivery = rare.delivery;
    if (rare.deliveryCheckedAt !== undefined) record.deliveryCheckedAt = rare.deliveryCheckedAt;
    if (rare.deliveryRaw !== undefined) record.deliveryRaw = rare.deliveryRaw;
    return record;
  }

  /** The recipient (undefined on a job skipped before its recipient was worked out). */
  phone(slot: number): string | undefined {
    return this.#phoneOf(slot);
  }

  #phoneOf(slot: number): string | undefined {
    const digits = this.#phone[slot] as number;
    return Number.isNaN(digits) ? this.#rare[slot]?.phone : String(digits);
  }

  #gen(slot: number): number {
    return (this.#state[slot] as number) >>> GEN_SHIFT;
  }

  #rareOf(slot: number): Rare {
    let rare = this.#rare[slot];
    if (rare === undefined) {
      rare = new Rare();
      this.#rare[slot] = rare;
    }
    return rare;
  }

  #setRef<T>(column: T[], slot: number, value: T): void {
    if (slot < column.length) column[slot] = value;
    else column.push(value);
  }

  #allocate(): number {
    while (this.#free.length > 0) {
      const slot = this.#free.pop() as number;
      // Slots above the top were trimmed away, and a slot trimmed and taken again may be listed twice.
      if (slot < this.#top && !((this.#state[slot] as number) & IN_USE)) return slot;
    }
    if (this.#top === SLOT_LIMIT) throw new RangeError('The memory queue holds 16 777 216 jobs and keys, its most');
    // By a quarter: at most a fifth of the columns stand empty (about a tenth on average), for
    // about five copies of each slot over the table's growth.
    if (this.#top === this.#capacity) {
      this.#resize(Math.min(SLOT_LIMIT, Math.max(1024, Math.ceil(this.#capacity * 1.25))));
    }
    return this.#top++;
  }

  /** Gives back the slots above the highest one in use, and memory once most of it is unused. */
  #trim(): void {
    while (this.#top > 0 && !((this.#state[this.#top - 1] as number) & IN_USE)) this.#top--;
    if (this.#capacity > 4096 && this.#top * 4 < this.#capacity) {
      this.#resize(Math.ceil(this.#capacity / 2));
      for (const column of [this.#ruleId, this.#body, this.#keys, this.#rare]) column.length = this.#top;
      this.#free = this.#free.filter((slot) => slot < this.#top);
    }
  }

  #resize(capacity: number): void {
    // A slot's generation outlives its job (a handle left in a lane must never match the slot's
    // next job), so the state column never shrinks: 4 bytes per slot ever used.
    if (capacity > this.#state.length) this.#state = resized(this.#state, capacity);
    this.#attempts = resized(this.#attempts, capacity);
    this.#createdAt = resized(this.#createdAt, capacity);
    this.#updatedAt = resized(this.#updatedAt, capacity);
    this.#deadline = resized(this.#deadline, capacity);
    this.#sendAt = resized(this.#sendAt, capacity);
    this.#keysUntil = resized(this.#keysUntil, capacity);
    this.#nonce = resized(this.#nonce, capacity);
    this.#phone = resized(this.#phone, capacity);
    this.#extra = resized(this.#extra, capacity);
    this.#capacity = capacity;
  }
}

function reasonCode(reason: SkipReason | undefined): number {
  return reason === undefined ? 0 : (SKIP_REASONS.indexOf(reason) + 1) << REASON_SHIFT;
}

function resized<A extends Uint8Array | Uint32Array | Float64Array>(column: A, capacity: number): A {
  const next = new (column.constructor as new (length: number) => A)(capacity);
  next.set(column.subarray(0, Math.min(column.length, capacity)));
  return next;
}

/** 24 bits that look random, from two 24-bit numbers (a multiply-xorshift mix). */
function mask(a: number, b: number): number {
  let h = Math.imul(a ^ 0x5bd1e995, 0x27d4eb2d) ^ b;
  h = Math.imul(h ^ (h >>> 15), 0x165667b1);
  return (h ^ (h >>> 13)) & 0xffffff;
}
