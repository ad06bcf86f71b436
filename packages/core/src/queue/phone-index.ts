import { randomBytes } from 'node:crypto';

/**
 * The memory queue's jobs by phone: `findByPhone()` and `forget()` walk one phone's jobs instead
 * of every job. A phone is known here only by a 32-bit keyed hash (a random key per queue), never
 * by its digits: the chain's slots are checked against the job table's own phone column.
 *
 * Why not the notifier's HMAC, as the Redis queue's index is keyed: that index is a copy anyone
 * with the Redis dump can read, this one lives and dies with the process that already holds the
 * digits in its job table, and an HMAC costs about a third of a whole trigger.
 *
 * Layout: an open-addressing table of hash → newest slot (two `Uint32Array`s, at most half full),
 * and per slot the next and previous slot of its phone's chain (newest first), so a job leaves its
 * chain in O(1) wherever it is. A job costs 8 bytes, a phone at most 16 more.
 */
export class PhoneIndex {
  readonly #k0: number;
  readonly #k1: number;
  #hashes = new Uint32Array(1024);
  /** slot + 1 of the chain's newest job; 0: empty bucket. */
  #heads = new Uint32Array(1024);
  #mask = 1023;
  #chains = 0;
  /** Per slot: slot + 1 of the next (older) and previous (newer) job of its chain; 0: none. */
  #next = new Uint32Array(0);
  #prev = new Uint32Array(0);

  constructor() {
    const key = randomBytes(8);
    this.#k0 = key.readUInt32LE(0);
    this.#k1 = key.readUInt32LE(4);
  }

  /** The keyed hash of a phone (its characters mixed with this queue's random key). */
  hash(phone: string): number {
    let h = this.#k0;
    for (let i = 0; i < phone.length; i++) {
      h = Math.imul(h ^ phone.charCodeAt(i), 0x01000193);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ this.#k1, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  /** Puts a new job at the head (newest end) of its phone's chain. */
  add(slot: number, hash: number): void {
    this.#ensure(slot);
    let at = this.#bucket(hash);
    if (at < 0) {
      if ((this.#chains + 1) * 2 > this.#heads.length) this.#resize(this.#heads.length * 2);
      at = hash & this.#mask;
      while (this.#heads[at] !== 0) at = (at + 1) & this.#mask;
      this.#hashes[at] = hash;
      this.#chains++;
      this.#next[slot] = 0;
    } else {
      const head = this.#heads[at] as number;
      this.#next[slot] = head;
      this.#prev[head - 1] = slot + 1;
    }
    this.#prev[slot] = 0;
    this.#heads[at] = slot + 1;
  }

  /** Takes a job out of its phone's chain (`hash` is the one it was added with). */
  remove(slot: number, hash: number): void {
    const next = this.#next[slot] as number;
    const prev = this.#prev[slot] as number;
    this.#next[slot] = 0;
    this.#prev[slot] = 0;
    if (next !== 0) this.#prev[next - 1] = prev;
    if (prev !== 0) {
      this.#next[prev - 1] = next;
      return;
    }
    const at = this.#bucket(hash);
    if (at < 0) return;
    if (next !== 0) this.#heads[at] = next;
    else this.#removeAt(at);
  }

  /** The slots of this hash's chain, newest first (another phone of the same hash may be among them). */
  *slots(hash: number): IterableIterator<number> {
    const at = this.#bucket(hash);
    if (at < 0) return;
    for (let entry = this.#heads[at] as number; entry !== 0; entry = this.#next[entry - 1] as number) {
      yield entry - 1;
    }
  }

  /** Bytes held (the bench compares it with the queue's). */
  get bytes(): number {
    return this.#hashes.byteLength + this.#heads.byteLength + this.#next.byteLength + this.#prev.byteLength;
  }

  #bucket(hash: number): number {
    for (let at = hash & this.#mask; ; at = (at + 1) & this.#mask) {
      if (this.#heads[at] === 0) return -1;
      if (this.#hashes[at] === hash) return at;
    }
  }

  /** Empties a bucket, then moves back every following entry the gap would hide (no tombstones). */
  #removeAt(at: number): void {
    const mask = this.#mask;
    const hashes = this.#hashes;
    const heads = this.#heads;
    let gap = at;
    heads[gap] = 0;
    for (let next = (gap + 1) & mask; heads[next] !== 0; next = (next + 1) & mask) {
      const home = (hashes[next] as number) & mask;
      const reachable = gap <= next ? home <= gap || home > next : home <= gap && home > next;
      if (reachable) {
        hashes[gap] = hashes[next] as number;
        heads[gap] = heads[next] as number;
        heads[next] = 0;
        gap = next;
      }
    }
    this.#chains--;
    if (heads.length > 1024 && this.#chains * 8 < heads.length) this.#resize(heads.length / 2);
  }

  #resize(capacity: number): void {
    const hashes = this.#hashes;
    const heads = this.#heads;
    this.#hashes = new Uint32Array(capacity);
    this.#heads = new Uint32Array(capacity);
    this.#mask = capacity - 1;
    for (let i = 0; i < heads.length; i++) {
      if (heads[i] === 0) continue;
      const hash = hashes[i] as number;
      let at = hash & this.#mask;
      while (this.#heads[at] !== 0) at = (at + 1) & this.#mask;
      this.#hashes[at] = hash;
      this.#heads[at] = heads[i] as number;
    }
  }

  /** Room for `slot` in the per-slot columns, grown by a quarter as the job table grows. */
  #ensure(slot: number): void {
    if (slot < this.#next.length) return;
    const capacity = Math.max(1024, Math.ceil((slot + 1) * 1.25));
    const next = new Uint32Array(capacity);
    next.set(this.#next);
    const prev = new Uint32Array(capacity);
    prev.set(this.#prev);
    this.#next = next;
    this.#prev = prev;
  }
}
