/**
 * Contact memory in process: a set of phone keys (16 bytes of HMAC each) with a few flag bits,
 * on two typed arrays with open addressing. A `Set` of the keys' 22-character strings would cost
 * about 100 bytes a phone; this costs 17 bytes a slot, at most 45 a phone (the table is between
 * three eighths and three quarters full), so 100 000 contacts take under 5 MB of heap.
 *
 * The keys are HMAC output, uniformly random: their first word is the hash, no mixing needed.
 */

const WORDS = 4; // 16 bytes a key
const IN_USE = 1;
const MIN_CAPACITY = 1024;
/** A key as the store is given it: 16 bytes in base64url, 22 characters. */
const KEY_LENGTH = 22;

const scratch = Buffer.alloc(16);

export class ContactTable {
  #capacity = MIN_CAPACITY;
  #size = 0;
  #words = new Uint32Array(MIN_CAPACITY * WORDS);
  /** Per slot: IN_USE, and the caller's bits above it. */
  #flags = new Uint8Array(MIN_CAPACITY);

  get size(): number {
    return this.#size;
  }

  /** The caller's flag bits of a known key (0 for none), or -1 when the key is unknown. */
  get(key: string): number {
    const slot = this.#find(key, false);
    return slot < 0 ? -1 : (this.#flags[slot] as number) >> 1;
  }

  /** Makes the key known with these flag bits (replacing its bits); resolves whether it was new. */
  set(key: string, bits: number): boolean {
    const before = this.#size;
    const slot = this.#find(key, true);
    this.#flags[slot] = IN_USE | (bits << 1);
    return this.#size > before;
  }

  /** Forgets the key; whether it was known. The slot's words are zeroed, not only marked free. */
  delete(key: string): boolean {
    const slot = this.#find(key, false);
    if (slot < 0) return false;
    const words = this.#words;
    const flags = this.#flags;
    const mask = this.#capacity - 1;
    let gap = slot;
    flags[gap] = 0;
    words.fill(0, gap * WORDS, gap * WORDS + WORDS);
    // Entries after the gap that could no longer be found past it move back into it (no tombstones).
    for (let next = (gap + 1) & mask; (flags[next] as number) & IN_USE; next = (next + 1) & mask) {
      const home = (words[next * WORDS] as number) & mask;
      const reachable = gap <= next ? home <= gap || home > next : home <= gap && home > next;
      if (!reachable) continue;
      words.copyWithin(gap * WORDS, next * WORDS, next * WORDS + WORDS);
      flags[gap] = flags[next] as number;
      flags[next] = 0;
      words.fill(0, next * WORDS, next * WORDS + WORDS);
      gap = next;
    }
    this.#size--;
    return true;
  }

  /** The slot of the key; with `create`, a free one is taken for it. -1: unknown. */
  #find(key: string, create: boolean): number {
    if (key.length !== KEY_LENGTH || scratch.write(key, 0, 16, 'base64url') !== 16) {
      throw new TypeError('A contact key must be 16 bytes in base64url (phoneKeyer)');
    }
    const a = scratch.readUInt32LE(0);
    const b = scratch.readUInt32LE(4);
    const c = scratch.readUInt32LE(8);
    const d = scratch.readUInt32LE(12);
    const mask = this.#capacity - 1;
    const words = this.#words;
    const flags = this.#flags;
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      if (!((flags[slot] as number) & IN_USE)) {
        if (!create) return -1;
        if ((this.#size + 1) * 4 > this.#capacity * 3) {
          this.#grow();
          return this.#find(key, true);
        }
        const at = slot * WORDS;
        words[at] = a;
        words[at + 1] = b;
        words[at + 2] = c;
        words[at + 3] = d;
        this.#size++;
        return slot;
      }
      const at = slot * WORDS;
      if (words[at] === a && words[at + 1] === b && words[at + 2] === c && words[at + 3] === d) return slot;
    }
  }

  #grow(): void {
    const oldWords = this.#words;
    const oldFlags = this.#flags;
    const oldCapacity = this.#capacity;
    this.#capacity = oldCapacity * 2;
    this.#words = new Uint32Array(this.#capacity * WORDS);
    this.#flags = new Uint8Array(this.#capacity);
    const mask = this.#capacity - 1;
    for (let old = 0; old < oldCapacity; old++) {
      if (!((oldFlags[old] as number) & IN_USE)) continue;
      const from = old * WORDS;
      let slot = (oldWords[from] as number) & mask;
      while ((this.#flags[slot] as number) & IN_USE) slot = (slot + 1) & mask;
      this.#words.set(oldWords.subarray(from, from + WORDS), slot * WORDS);
      this.#flags[slot] = oldFlags[old] as number;
    }
  }
}
