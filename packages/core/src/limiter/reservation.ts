import type { LimiterStore, SlotLease } from './store.js';

/** What a reservation holds until a request takes it. */
export interface ReservedSlot {
  store: LimiterStore;
  key: string;
  lease: SlotLease;
  /** performance.now() when the slot was granted: how old the lease is. */
  grantedAt: number;
}

interface Held extends ReservedSlot {
  settle(): void;
}

// Kept off the object, so no caller can read or forge a lease through it.
const held = new WeakMap<SlotReservation, Held>();

/**
 * A limit slot taken before the request it will carry is chosen: a queue takes a slot first,
 * then the best job waiting for it (see `OlchatClient.reserveSlot`). It is spent once: by the
 * first attempt of the call given it, or by `release()`.
 */
export class SlotReservation {
  readonly method: string;
  /** How long the slot took to get, in ms. */
  readonly waitedMs: number;
  readonly #spent: Promise<void>;

  /** Made by the client only (`reserveSlot`). */
  constructor(method: string, waitedMs: number, slot: ReservedSlot) {
    this.method = method;
    this.waitedMs = waitedMs;
    let settle!: () => void;
    this.#spent = new Promise<void>((resolve) => {
      settle = resolve;
    });
    held.set(this, { ...slot, settle });
  }

  /** True once a request took the slot, or it was given back. */
  get spent(): boolean {
    return !held.has(this);
  }

  /** Resolves once the reservation is spent. */
  whenSpent(): Promise<void> {
    return this.#spent;
  }

  /**
   * Gives the slot back unused: it frees at once (nothing was sent under it). A no-op once spent.
   * Never rejects: a slot the store cannot be told about lapses with its lease.
   */
  async release(): Promise<void> {
    const slot = takeReserved(this);
    if (slot) await slot.store.release(slot.lease, 0).catch(() => undefined);
  }
}

/** Hands the reservation's slot over, once: undefined when it is spent already. */
export function takeReserved(reservation: SlotReservation): ReservedSlot | undefined {
  const slot = held.get(reservation);
  if (!slot) return undefined;
  held.delete(reservation);
  slot.settle();
  return slot;
}

/** Whether an unspent `reservation` was made for another store or limiter key. */
export function reservedElsewhere(reservation: SlotReservation, store: LimiterStore, key: string): boolean {
  const slot = held.get(reservation);
  return slot !== undefined && (slot.store !== store || slot.key !== key);
}
