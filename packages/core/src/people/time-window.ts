/**
 * Members with a time each, oldest first, over a rolling window: the guard's new recipients of the
 * last 24 h (a member a phone key), or one phone's marketing sends (members unused). A `Map` keeps
 * insertion order, and a member is re-inserted when it is counted again, so the oldest is first.
 */
export class TimeWindow {
  readonly #times = new Map<string, number>();
  readonly #windowMs: number;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Drops what left the window ending at `now`; the count left. */
  size(now: number): number {
    const edge = now - this.#windowMs;
    for (const [member, at] of this.#times) {
      if (at > edge) break;
      this.#times.delete(member);
    }
    return this.#times.size;
  }

  has(member: string): boolean {
    return this.#times.has(member);
  }

  add(member: string, now: number): void {
    this.#times.delete(member);
    this.#times.set(member, now);
  }

  /** Renames a member in place (its time and its turn kept); whether it was there. */
  rename(member: string, to: string): boolean {
    if (!this.#times.has(member)) return false;
    const entries = [...this.#times];
    this.#times.clear();
    for (const [name, at] of entries) this.#times.set(name === member ? to : name, at);
    return true;
  }

  /** When the oldest member leaves the window (call `size` first). */
  freesAt(): number {
    for (const at of this.#times.values()) return at + this.#windowMs;
    return 0;
  }
}
