/**
 * Where the limiter keeps its slots. The in-memory store serves one process; a shared store
 * (`@olchat-kit/redis`) serves many. Core only ever speaks to this interface.
 *
 * The model: a limit of N per T is N slots. A request holds a slot while it is in flight and
 * for T + margin after its answer, so two uses of one slot are at least T apart on the
 * vendor's clock whatever the latency, and N slots never let more than N through in any T.
 */
export interface SlotLease {
  readonly key: string;
  readonly slot: number;
  /** Unique per acquisition: a release only acts while this lease still owns the slot. */
  readonly owner: string;
}

export interface SlotWait {
  /** When a slot may be free at the earliest, in ms from now. */
  readonly retryInMs: number;
}

export interface LimiterStore {
  /**
   * Takes any free slot among `slots` for `key`. The slot stays taken for at most `leaseMs`
   * if never released (a crashed process), so the lease must outlast any request. `holdMs`, when
   * given, is how long a slot stays taken after an answer (T + margin): a store that starts empty
   * in each process may use it to hold the window a previous process may have used.
   */
  tryAcquire(key: string, slots: number, leaseMs: number, holdMs?: number): Promise<SlotLease | SlotWait>;
  /**
   * Keeps the slot taken for `holdMs` from now, then frees it (`holdMs` 0 frees it at once:
   * for a request that certainly never reached the vendor). A no-op once the lease lost the slot.
   */
  release(lease: SlotLease, holdMs: number): Promise<void>;
  /**
   * Keeps the slot taken for `leaseMs` more from now, if `lease` still owns it (compare-and-set on
   * the owner). False when the lease lapsed, whether or not another took the slot since: the
   * caller must not send under it and takes a slot again.
   */
  renew(lease: SlotLease, leaseMs: number): Promise<boolean>;
  /**
   * Calls `listener` when a slot of `key` frees in this process; returns an unsubscribe.
   * Stores shared between processes may omit it: waiters then poll.
   */
  onFree?(key: string, listener: () => void): () => void;
  /** Longest a waiter sleeps before asking again (defaults to 100 ms). */
  readonly maxPollMs?: number;
}

export function isLease(result: SlotLease | SlotWait): result is SlotLease {
  return 'owner' in result;
}
