/**
 * Idempotency and dedupe keys → the job that holds them, as an open-addressing hash table of
 * 32-bit entries that point at the key where the job already keeps it. A `Map` entry cost about
 * 37 bytes a key (three 8-byte words and a bucket share, at a power-of-two capacity); an entry
 * here is 4 bytes, at most half the table full: 8 to 16 bytes a key, and the key string is not
 * stored twice.
 *
 * An entry is `slot * 256 + index + 1` (0: empty; slots below 2^24, at most 255 keys a job),
 * where `keyAt(slot, index)` gives the key: the owner must remove a job's entries before its slot
 * can hold another job. Linear probing, with
 * deletion by shifting the entries that follow back (no tombstones).
 */
export class KeyIndex {
  readonly #keyAt: (slot: number, index: number) => string;
  #entries = new Uint32Array(1024);
  #mask = 1023;
  #size = 0;

  constructor(keyAt: (slot: number, index: number) => string) {
    this.#keyAt = keyAt;
  }

  get size(): number {
    return this.#size;
  }

  /** The slot of the job holding this key, or -1. */
  get(key: string): number {
    const at = this.#find(key);
    return at < 0 ? -1 : Math.floor(((this.#entries[at] as number) - 1) / 256);
  }

  /** Points the key (the `index`-th key of the job in `slot`) at that job, replacing another job's. */
  set(key: string, slot: number, index: number): void {
    if (index > 254) throw new RangeError('A job holds at most 255 keys');
    const entry = slot * 256 + index + 1;
    const found = this.#find(key);
    if (found >= 0) {
      this.#entries[found] = entry;
      return;
    }
    if ((this.#size + 1) * 2 > this.#entries.length) this.#resize(this.#entries.length * 2);
    let at = hash(key) & this.#mask;
    while (this.#entries[at] !== 0) at = (at + 1) & this.#mask;
    this.#entries[at] = entry;
    this.#size++;
  }

  /** Removes the key if it points at the job in `slot`; whether it did. */
  deleteIf(key: string, slot: number): boolean {
    const at = this.#find(key);
    if (at < 0 || Math.floor(((this.#entries[at] as number) - 1) / 256) !== slot) return false;
    this.#removeAt(at);
    if (this.#entries.length > 1024 && this.#size * 8 < this.#entries.length) this.#resize(this.#entries.length / 2);
    return true;
  }

  #find(key: string): number {
    const entries = this.#entries;
    for (let at = hash(key) & this.#mask; ; at = (at + 1) & this.#mask) {
      const entry = entries[at] as number;
      if (entry === 0) return -1;
      if (this.#keyOf(entry) === key) return at;
    }
  }

  #keyOf(entry: number): string {
    const slotAndIndex = entry - 1;
    return this.#keyAt(Math.floor(slotAndIndex / 256), slotAndIndex % 256);
  }

  /** Empties a bucket, then moves back every following entry that the gap would hide from its lookup. */
  #removeAt(at: number): void {
    const entries = this.#entries;
    const mask = this.#mask;
    let gap = at;
    entries[gap] = 0;
    for (let next = (gap + 1) & mask; entries[next] !== 0; next = (next + 1) & mask) {
      const home = hash(this.#keyOf(entries[next] as number)) & mask;
      // The entry may fill the gap when its home is not cyclically after the gap up to it.
      const reachable = gap <= next ? home <= gap || home > next : home <= gap && home > next;
      if (reachable) {
        entries[gap] = entries[next] as number;
        entries[next] = 0;
        gap = next;
      }
    }
    this.#size--;
  }

  #resize(capacity: number): void {
    const old = this.#entries;
    this.#entries = new Uint32Array(capacity);
    this.#mask = capacity - 1;
    for (const entry of old) {
      if (entry === 0) continue;
      let at = hash(this.#keyOf(entry)) & this.#mask;
      while (this.#entries[at] !== 0) at = (at + 1) & this.#mask;
      this.#entries[at] = entry;
    }
  }
}

/** FNV-1a over the UTF-16 code units, with a final mix so that nearby keys spread over the table. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}
