/** Delivery: after a send, ask the vendor what became of the message, under its own limit. */

import type { OlchatClient } from '../client/client.js';
import { OlchatError, ValidationError } from '../errors.js';
import type { DeliveryStatus } from '../job.js';
import type { Logger } from '../logger.js';
import type { LineMonitor } from '../queue/line.js';
import { Scheduler } from '../queue/scheduler.js';
import type { JobRecord } from '../queue/types.js';
import { vendorAttributes } from '../telemetry/send-span.js';
import { ATTRIBUTES, failSpan, MESSAGING_SYSTEM, SPAN_NAMES, type Telemetry } from '../telemetry/telemetry.js';
import { Fifo } from '../util/fifo.js';
import { checkInteger } from '../util/validate.js';

export interface DeliveryChecksOptions {
  /** Ask the vendor about each sent message this long after the send (one check per offset, each ≥ 1 000). */
  afterMs: number[];
  /** A check that could not run within this long after its time is dropped. Default 1 h. */
  maxLagMs?: number;
  /** Most sent messages followed at once; past it the oldest stop being checked. Default 10 000. */
  maxPending?: number;
}

/*
 * Delivery checks: for each sent message, `checkMessageStatus` at each offset of `afterMs` after
 * the send. Checks have their own vendor limit (never a send's), run only while the line is up,
 * and fall behind gracefully: a message has one pending check at a time (late offsets collapse
 * into one), a check that waited past `maxLagMs` is dropped, and at most `maxPending` messages
 * are tracked (the oldest give way).
 */

const READ = new Set(['read', 'seen', 'viewed', 'played', 'прочитано', 'прочитан', 'просмотрено']);
const DELIVERED = new Set(['delivered', 'received', 'delivered_to_device', 'доставлено', 'доставлен']);
const UNDELIVERED = new Set([
  'failed',
  'fail',
  'error',
  'undelivered',
  'not_delivered',
  'rejected',
  'expired',
  'deleted',
  'ошибка',
  'не доставлено',
  'не_доставлено',
]);

/**
 * The vendor's word for a message's state, in ours. The format is not documented, so words are
 * read tolerantly (any case, spaces or dashes for underscores, WhatsApp's numeric acks); a word
 * we do not know (sent, pending, queued…) says nothing and changes nothing.
 */
export function mapDeliveryStatus(status: unknown): DeliveryStatus | undefined {
  if (typeof status === 'number' || (typeof status === 'string' && /^-?\d+$/.test(status.trim()))) {
    const ack = Number(status);
    if (ack === 2) return 'delivered';
    if (ack === 3 || ack === 4) return 'read';
    if (ack < 0) return 'undelivered';
    return undefined;
  }
  if (typeof status !== 'string') return undefined;
  const word = status
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  const spaced = word.replaceAll('_', ' ');
  if (READ.has(word)) return 'read';
  if (DELIVERED.has(word)) return 'delivered';
  if (UNDELIVERED.has(word) || UNDELIVERED.has(spaced)) return 'undelivered';
  return undefined;
}

/** Later news wins, but a message never goes back: delivered → read, never read → delivered. */
const RANK: Record<DeliveryStatus, number> = { delivered: 1, read: 2, undelivered: 2 };

export interface DeliveryUpdate {
  id: string;
  delivery: DeliveryStatus | undefined;
  /** The vendor's own word (or the unreadable answer), at most 200 characters. */
  raw: string;
  checkedAt: number;
}

interface Tracked {
  id: string;
  phone: string;
  messageId: string;
  sentAt: number;
  /** Index of the next offset to check. */
  next: number;
  delivery: DeliveryStatus | undefined;
  /** The time of the check it waits for (a stale scheduler entry does not match). */
  dueAt: number;
}

const DEFAULT_MAX_LAG_MS = 3600_000;
const DEFAULT_MAX_PENDING = 10_000;

export interface ResolvedDeliveryChecks {
  afterMs: number[];
  maxLagMs: number;
  maxPending: number;
}

export function resolveDeliveryChecks(
  option: DeliveryChecksOptions | false | undefined,
): ResolvedDeliveryChecks | undefined {
  if (option === undefined || option === false) return undefined;
  const afterMs = (option as DeliveryChecksOptions | null)?.afterMs;
  const { maxLagMs = DEFAULT_MAX_LAG_MS, maxPending = DEFAULT_MAX_PENDING } = option;
  checkInteger(maxLagMs, 'deliveryChecks.maxLagMs');
  checkInteger(maxPending, 'deliveryChecks.maxPending');
  if (
    !Array.isArray(afterMs) ||
    afterMs.length === 0 ||
    afterMs.length > 10 ||
    !afterMs.every((ms) => Number.isInteger(ms) && ms >= 1_000)
  ) {
    throw new ValidationError('deliveryChecks.afterMs must be 1–10 delays of at least 1 000 ms each', [
      { path: 'deliveryChecks.afterMs', message: 'Expected 1–10 integers ≥ 1000' },
    ]);
  }
  return { afterMs: [...new Set(afterMs)].sort((a, b) => a - b), maxLagMs, maxPending };
}

export class DeliveryTracker {
  readonly #client: OlchatClient;
  readonly #line: LineMonitor;
  readonly #afterMs: number[];
  readonly #maxLagMs: number;
  readonly #maxPending: number;
  readonly #onUpdate: (update: DeliveryUpdate) => Promise<void>;
  readonly #logger: Logger;
  readonly #telemetry: Telemetry | undefined;
  readonly #vendor: ReturnType<typeof vendorAttributes> | undefined;
  readonly #tracked = new Map<string, Tracked>(); // insertion order: oldest first
  readonly #ready = new Fifo<Tracked>();
  readonly #scheduler = new Scheduler<Tracked>((item, at) => this.#due(item, at));
  readonly #abort = new AbortController();
  #running = 0;
  #dropped = 0;

  constructor(
    client: OlchatClient,
    line: LineMonitor,
    checks: ResolvedDeliveryChecks,
    onUpdate: (update: DeliveryUpdate) => Promise<void>,
    logger: Logger,
    telemetry?: Telemetry,
  ) {
    this.#client = client;
    this.#line = line;
    this.#afterMs = checks.afterMs;
    this.#maxLagMs = checks.maxLagMs;
    this.#maxPending = checks.maxPending;
    this.#onUpdate = onUpdate;
    this.#logger = logger;
    this.#telemetry = telemetry;
    this.#vendor = telemetry && vendorAttributes(client);
  }

  /** Checks dropped so far because they fell too far behind or were crowded out. */
  get dropped(): number {
    return this.#dropped;
  }

  get pending(): number {
    return this.#tracked.size;
  }

  /** Starts checking a sent message (one with a vendor message id). */
  track(record: JobRecord): void {
    if (record.status !== 'sent' || record.messageId === undefined || record.phone === undefined) return;
    if (this.#abort.signal.aborted || this.#tracked.has(record.id)) return;
    if (this.#tracked.size >= this.#maxPending) {
      const oldest = this.#tracked.values().next().value as Tracked;
      this.#forget(oldest);
      this.#dropped++;
    }
    const item: Tracked = {
      id: record.id,
      phone: record.phone,
      messageId: record.messageId,
      sentAt: record.updatedAt,
      next: 0,
      delivery: undefined,
      dueAt: 0,
    };
    this.#tracked.set(item.id, item);
    this.#schedule(item);
  }

  /**
   * Stops checking these jobs (`notifier.forget()`): nothing more is asked about them, and the
   * phone is wiped from the entries the timer and the ready line may still hold. Resolves how
   * many were being checked.
   */
  forget(ids: readonly string[]): number {
    let forgotten = 0;
    for (const id of ids) {
      const item = this.#tracked.get(id);
      if (!item) continue;
      this.#tracked.delete(id);
      item.phone = '';
      item.messageId = '';
      forgotten++;
    }
    return forgotten;
  }

  close(): void {
    this.#abort.abort();
    this.#scheduler.stop();
    this.#tracked.clear();
    this.#ready.drain();
  }

  #schedule(item: Tracked): void {
    const offset = this.#afterMs[item.next];
    if (offset === undefined) {
      this.#forget(item);
      return;
    }
    item.dueAt = item.sentAt + offset;
    this.#scheduler.add(item, item.dueAt);
  }

  #due(item: Tracked, at: number): void {
    if (this.#tracked.get(item.id) !== item || item.dueAt !== at) return;
    this.#ready.push(item);
    this.#pump();
  }

  #pump(): void {
    // At most as many checks in flight as the method's limit lets out at once; the rest wait here.
    const limit = this.#client.limits.checkMessageStatus.points;
    while (this.#running < limit && !this.#abort.signal.aborted) {
      const item = this.#ready.shift();
      if (!item) return;
      if (this.#tracked.get(item.id) !== item) continue;
      if (Date.now() - item.dueAt > this.#maxLagMs) {
        this.#dropped++;
        this.#forget(item);
        continue;
      }
      this.#running++;
      void this.#check(item).finally(() => {
        this.#running--;
        this.#pump();
      });
    }
  }

  async #check(item: Tracked): Promise<void> {
    // While the line is down nobody can answer: wait for it (within the lag bound) instead.
    const verdict = await this.#line.whenUsable(this.#abort.signal, item.dueAt + this.#maxLagMs);
    if (verdict !== 'usable') {
      if (verdict === 'deadline') this.#dropped++;
      this.#forget(item);
      return;
    }
    let raw: string;
    let delivery: DeliveryStatus | undefined;
    const span = this.#telemetry?.startSpan(SPAN_NAMES.deliveryCheck, {
      kind: 'client',
      root: true,
      attributes: {
        ...this.#vendor?.('checkMessageStatus'),
        [ATTRIBUTES.system]: MESSAGING_SYSTEM,
        [ATTRIBUTES.jobId]: item.id,
        [ATTRIBUTES.attempt]: item.next + 1,
      },
    });
    try {
      const call = () =>
        this.#client.checkMessageStatus(
          { phone: item.phone, messageId: item.messageId },
          { signal: this.#abort.signal, retries: 0, priority: 'low' },
        );
      const answer = await (span ? span.run(call) : call());
      raw = answer.status ?? rawText(answer.raw);
      delivery = mapDeliveryStatus(answer.status ?? (typeof answer.raw === 'string' ? answer.raw : undefined));
      span?.setAttributes({ [ATTRIBUTES.outcome]: delivery ?? 'unknown' });
      span?.end();
    } catch (error) {
      if (span) {
        failSpan(span, error instanceof OlchatError ? error.code : 'INTERNAL');
        const status = (error as { status?: unknown }).status;
        if (typeof status === 'number') span.setAttributes({ [ATTRIBUTES.httpStatus]: status });
        span.end();
      }
      if (this.#abort.signal.aborted) return;
      // Not knowing is not news: the next offset (if any) asks again.
      this.#logger.debug(
        { id: item.id, code: error instanceof OlchatError ? error.code : 'INTERNAL' },
        'olchat-kit: a delivery check failed',
      );
      this.#advance(item);
      return;
    }
    const checkedAt = Date.now();
    const newer = delivery !== undefined && (item.delivery === undefined || RANK[delivery] > RANK[item.delivery]);
    if (newer) item.delivery = delivery;
    try {
      await this.#onUpdate({ id: item.id, delivery: newer ? delivery : undefined, raw, checkedAt });
    } catch (error) {
      this.#logger.warn({ id: item.id, err: String(error) }, 'olchat-kit: could not record a delivery status');
    }
    // Read and undelivered are as far as a message goes.
    if (item.delivery === 'read' || item.delivery === 'undelivered') this.#forget(item);
    else this.#advance(item);
  }

  /** On to the next offset still ahead: offsets already passed collapse into this check. */
  #advance(item: Tracked): void {
    if (this.#tracked.get(item.id) !== item) return;
    const now = Date.now();
    let next = item.next + 1;
    while (next + 1 < this.#afterMs.length && item.sentAt + (this.#afterMs[next + 1] as number) <= now) next++;
    item.next = next;
    this.#schedule(item);
  }

  #forget(item: Tracked): void {
    if (this.#tracked.get(item.id) === item) this.#tracked.delete(item.id);
  }
}

function rawText(raw: unknown): string {
  const text = typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? '');
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
