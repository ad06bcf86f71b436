import { type Logger, privateLogger } from '../logger.js';
import type { ClaimedWebhookDelivery, WebhookDelivery, WebhookOutbox } from '../queue/outbox.js';
import { type HeapEntry, MinHeap } from '../util/heap.js';
import { checkInteger } from '../util/validate.js';
import { originOf } from './endpoints.js';

export interface MemoryWebhookOutboxOptions {
  /** Most deliveries kept; past it the oldest waiting one is dropped (logged). Default 10 000. */
  maxPending?: number;
  logger?: Logger;
}

/** One stored delivery; in both heaps while it waits, in neither while it is being attempted. */
interface Slot {
  readonly delivery: WebhookDelivery;
  /** Insertion order: the tie-break that keeps equal times first come, first served. */
  readonly seq: number;
  due: HeapEntry<Slot> | undefined;
  age: HeapEntry<Slot> | undefined;
  lease: string | undefined;
}

/** Dropped deliveries are reported at once, then at most this often (with a count), not once each. */
const DROP_REPORT_MS = 60_000;

/**
 * The default outbox: in this process only (lost if it dies), bounded like the job history. Each
 * endpoint's waiting deliveries are in a heap by due time, so the dispatcher's one timer finds the
 * earliest at once; a second heap by age finds the one to drop when the bound is reached.
 */
export class MemoryWebhookOutbox implements WebhookOutbox {
  readonly #maxPending: number;
  readonly #logger: Logger | undefined;
  readonly #slots = new Map<string, Slot>();
  readonly #due = new Map<string, MinHeap<Slot>>();
  readonly #age = new MinHeap<Slot>(
    (a, b) =>
      a.delivery.createdAt < b.delivery.createdAt || (a.delivery.createdAt === b.delivery.createdAt && a.seq < b.seq),
  );
  #seq = 0;
  #leases = 0;
  #dropped = 0;
  #droppedSinceReport = 0;
  #lastReport = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryWebhookOutboxOptions = {}) {
    const { maxPending = 10_000, logger } = options;
    this.#maxPending = checkInteger(maxPending, 'maxPending');
    this.#logger = logger && privateLogger(logger);
  }

  /** Deliveries dropped by the bound since this outbox was made. */
  get dropped(): number {
    return this.#dropped;
  }

  async add(deliveries: readonly WebhookDelivery[]): Promise<void> {
    for (const delivery of deliveries) {
      const key = slotKey(delivery.endpoint, delivery.id);
      if (this.#slots.has(key)) continue; // the same event stored twice would be sent twice
      const slot: Slot = {
        delivery: { ...delivery },
        seq: this.#seq++,
        due: undefined,
        age: undefined,
        lease: undefined,
      };
      this.#slots.set(key, slot);
      this.#wait(slot);
    }
    while (this.#slots.size > this.#maxPending && this.#age.size > 0) this.#dropOldest();
  }

  /** No lease is needed in one process: a claim ends with the attempt's `complete()` or `retry()`. */
  async claim(endpoint: string, limit: number, now: number, _leaseMs?: number): Promise<ClaimedWebhookDelivery[]> {
    const heap = this.#due.get(endpoint);
    const claimed: ClaimedWebhookDelivery[] = [];
    while (heap && claimed.length < limit) {
      const slot = heap.peek();
      if (!slot || slot.delivery.nextAt > now) break;
      this.#unwait(slot);
      slot.delivery.attempt += 1;
      slot.lease = String(++this.#leases);
      claimed.push({ ...slot.delivery, lease: slot.lease });
    }
    return claimed;
  }

  async complete(delivery: ClaimedWebhookDelivery): Promise<void> {
    const key = slotKey(delivery.endpoint, delivery.id);
    const slot = this.#slots.get(key);
    if (!slot) return;
    this.#unwait(slot);
    this.#slots.delete(key);
  }

  async retry(delivery: ClaimedWebhookDelivery, nextAt: number): Promise<boolean> {
    const slot = this.#slots.get(slotKey(delivery.endpoint, delivery.id));
    if (!slot || slot.lease === undefined || slot.lease !== delivery.lease) return false;
    slot.lease = undefined;
    slot.delivery.nextAt = nextAt;
    this.#wait(slot);
    return true;
  }

  async nextDue(endpoints: readonly string[]): Promise<number | undefined> {
    let earliest: number | undefined;
    for (const endpoint of endpoints) {
      const at = this.#due.get(endpoint)?.peek()?.delivery.nextAt;
      if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
    }
    return earliest;
  }

  async size(): Promise<number> {
    return this.#slots.size;
  }

  async forget(subjects: readonly string[]): Promise<number> {
    if (subjects.length === 0) return 0;
    const wanted = new Set(subjects);
    let erased = 0;
    for (const [key, slot] of this.#slots) {
      if (slot.delivery.subject === undefined || !wanted.has(slot.delivery.subject)) continue;
      this.#unwait(slot);
      this.#slots.delete(key);
      erased++;
    }
    return erased;
  }

  async close(): Promise<void> {}

  #wait(slot: Slot): void {
    let heap = this.#due.get(slot.delivery.endpoint);
    if (!heap) {
      heap = new MinHeap<Slot>(
        (a, b) => a.delivery.nextAt < b.delivery.nextAt || (a.delivery.nextAt === b.delivery.nextAt && a.seq < b.seq),
      );
      this.#due.set(slot.delivery.endpoint, heap);
    }
    slot.due = heap.push(slot);
    slot.age = this.#age.push(slot);
  }

  #unwait(slot: Slot): void {
    if (slot.due) this.#due.get(slot.delivery.endpoint)?.remove(slot.due);
    if (slot.age) this.#age.remove(slot.age);
    slot.due = undefined;
    slot.age = undefined;
  }

  #dropOldest(): void {
    const slot = this.#age.peek() as Slot;
    this.#unwait(slot);
    this.#slots.delete(slotKey(slot.delivery.endpoint, slot.delivery.id));
    this.#dropped++;
    this.#droppedSinceReport++;
    const now = Date.now();
    if (now - this.#lastReport < DROP_REPORT_MS) return;
    this.#logger?.warn(
      {
        dropped: this.#droppedSinceReport,
        maxPending: this.#maxPending,
        webhookId: slot.delivery.id,
        type: slot.delivery.type,
        endpoint: originOf(slot.delivery.endpoint),
        attempts: slot.delivery.attempt,
      },
      `olchat-kit: the in-memory webhook outbox holds ${this.#maxPending} undelivered webhooks: dropped the oldest`,
    );
    this.#lastReport = now;
    this.#droppedSinceReport = 0;
  }
}

function slotKey(endpoint: string, id: string): string {
  return `${endpoint}\n${id}`;
}
