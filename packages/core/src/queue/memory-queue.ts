/**
 * The queue engine: the job contract (types.ts), its lifecycle (lifecycle.ts), the worker's
 * attempt (job-worker.ts), the line breaker (line.ts), lanes, the scheduler and quiet hours, and
 * the default in-memory queue (this file, on job-table.ts and key-index.ts).
 */

import { setMaxListeners } from 'node:events';
import { ClosedError, JobStateError, OlchatError, QueueFullError } from '../errors.js';
import type { TraceCarrier } from '../job.js';
import { type DeliveryStatus, type JobError, PRIORITIES, type Priority } from '../job.js';
import { NumberFifo } from '../util/fifo.js';
import { IN_LANE, JobTable, NOWHERE, ON_TIMER, type Place } from './job-table.js';
import { KeyIndex } from './key-index.js';
import { Lanes } from './lanes.js';
import { expiredError } from './lifecycle.js';
import { PhoneIndex } from './phone-index.js';
import { Scheduler } from './scheduler.js';
import { TopRecent } from './top-recent.js';
import { allows, freesKeys, isFinal } from './transitions.js';
import type {
  ActiveJob,
  AddResult,
  CancelFilter,
  CancelTarget,
  Claim,
  ForgottenJobs,
  JobOutcome,
  JobQueue,
  JobRecord,
  JobStats,
  ListOptions,
  NewJob,
  SendKind,
  WorkerOptions,
} from './types.js';

export interface MemoryQueueOptions {
  /** How long finished job records stay readable through `get()`. Default 7 days; the notifier's `keepFinishedMs` wins. */
  keepFinishedMs?: number;
  /** At most this many finished records are kept; the oldest go first. Default 10 000. */
  maxFinished?: number;
  /** At most this many idempotency / dedupe keys are remembered; the oldest go first. Default 100 000. */
  maxKeys?: number;
  /** Most unfinished jobs (scheduled, queued and sending). Default 100 000; the notifier's `maxQueued` wins. */
  maxQueued?: number;
  /** How often jobs waiting in a lane are checked against their deadline. Default 30 000. */
  sweepIntervalMs?: number;
}

export const DEFAULT_MAX_QUEUED = 100_000;
/** How long a finished job is kept by default: a week, for support to look a customer's messages up. */
export const DEFAULT_KEEP_FINISHED_MS = 7 * 24 * 3600_000;

const CLOSED_ERROR: JobError = { code: 'CLOSED', message: 'Not sent: the notifier closed before its turn' };
const SCHEDULED_CLOSED_ERROR: JobError = {
  code: 'CLOSED',
  message: 'Not sent: the notifier closed before its time (the memory queue keeps nothing across restarts)',
};

/**
 * The default queue: jobs live in this process only and are lost if it dies.
 *
 * Jobs are rows of a `JobTable` (see there why); this class keeps the lifecycle. Lanes, the timer,
 * the history and the key expiry line hold handles, never removed from their middle: an entry whose
 * job moved, ended or is gone no longer matches the job's state and is skipped.
 */
export class MemoryQueue implements JobQueue {
  #keepFinishedMs: number;
  #storeText = true;
  readonly #maxFinished: number;
  readonly #maxKeys: number;
  readonly #sweepIntervalMs: number;
  #maxQueued: number;
  readonly #table = new JobTable();
  // Finished jobs in finishing order, and when each finished.
  readonly #finished = new NumberFifo();
  readonly #finishedAt = new NumberFifo();
  // Key → slot. A key keeps its job's slot even after the record expired, so a late duplicate
  // never resends.
  readonly #keys = new KeyIndex((slot, index) => this.#table.keyAt(slot, index));
  readonly #keyOrder = new NumberFifo(); // jobs with keys, in the order they set them
  readonly #replaceKeys = new Map<string, number>(); // → slot, pending jobs only
  readonly #phones = new PhoneIndex();
  /** Handle → what to call once a job being sent when its phone was forgotten is erased. */
  readonly #forgetting = new Map<number, () => void>();
  /** One set of lanes per limit: a slot of one is no use to a job waiting for the other. */
  readonly #lanes: Record<SendKind, Lanes> = { text: new Lanes(), file: new Lanes() };
  /** Jobs in each kind's lanes (the lanes also hold entries that no longer count). */
  readonly #inLane: Record<SendKind, number> = { text: 0, file: 0 };
  /** Claims (limit slots asked for, not yet granted) per kind: never more than jobs waiting for them. */
  readonly #claiming: Record<SendKind, number> = { text: 0, file: 0 };
  /** Which kind goes first when both lanes' best jobs are equal: they take turns. */
  #tieFirst: SendKind = 'text';
  readonly #scheduler = new Scheduler<number>((handle, at) => this.#due(handle, at));
  /** Handle → what tells its worker the job was cancelled, while a worker holds it. */
  readonly #held = new Map<number, AbortController>();
  #running = 0;
  #counts: JobStats = { scheduled: 0, queued: 0, sending: 0, sent: 0, failed: 0, cancelled: 0, expired: 0 };
  #options: WorkerOptions | undefined;
  #closing: Promise<void> | undefined;
  #abort = new AbortController();
  /** Ends the claims still waiting once the queue has closed (or on the hard abort). */
  readonly #claimsDone = new AbortController();
  readonly #claimSignal = AbortSignal.any([this.#abort.signal, this.#claimsDone.signal]);
  #idle: (() => void) | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: MemoryQueueOptions = {}) {
    setMaxListeners(0, this.#abort.signal); // one listener per running job
    this.#keepFinishedMs = options.keepFinishedMs ?? DEFAULT_KEEP_FINISHED_MS;
    this.#maxFinished = options.maxFinished ?? 10_000;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 30_000;
  }

  async add(newJob: NewJob): Promise<AddResult> {
    if (this.#closing) throw new ClosedError('The queue is closed');
    const now = Date.now();
    this.#expire(now);
    const table = this.#table;
    const hit = this.#findKey(newJob.keys, now);
    if (hit >= 0) return { record: table.record(hit), created: false };
    // A skipped job replaces nothing; a job it replaces leaves room for it; a job already past its
    // deadline ends 'expired' at once, so it takes no room either.
    let replaced =
      newJob.skipped || newJob.replaceKey === undefined ? -1 : (this.#replaceKeys.get(newJob.replaceKey) ?? -1);
    if (replaced >= 0 && !allows(table.status(replaced), 'cancel')) replaced = -1;
    const tooLate = !newJob.skipped && newJob.deadline <= now;
    if (!newJob.skipped && !tooLate && this.#pending() - (replaced >= 0 ? 1 : 0) >= this.#maxQueued) {
      throw new QueueFullError(
        `The queue already holds ${this.#maxQueued} unfinished messages; nothing was queued`,
        RETRY_WHEN_FULL_MS,
      );
    }
    const dueAt = newJob.sendAt !== undefined && newJob.sendAt > now ? Math.min(newJob.sendAt, newJob.deadline) : 0;
    const status = newJob.skipped ? 'skipped' : dueAt > 0 ? 'scheduled' : 'queued';
    const slot = table.add(newJob, status, now);
    const phone = table.phone(slot);
    if (phone !== undefined) this.#phones.add(slot, this.#phones.hash(phone));
    if (newJob.keys.length > 0) {
      for (let index = 0; index < newJob.keys.length; index++)
        this.#keys.set(newJob.keys[index] as string, slot, index);
      this.#keyOrder.push(table.handle(slot));
    }
    let replacedRecord: JobRecord | undefined;
    if (replaced >= 0) {
      this.#end(replaced, 'cancelled', undefined);
      replacedRecord = table.record(replaced);
    }
    const replaceKey = table.replaceKey(slot);
    if (replaceKey !== undefined) this.#replaceKeys.set(replaceKey, slot);
    if (newJob.skipped) {
      this.#markFinished(slot, now);
    } else if (tooLate) {
      this.#counts[status as 'scheduled' | 'queued']++; // #end moves it from there
      this.#end(slot, 'expired', expiredError(undefined));
    } else if (status === 'scheduled') {
      this.#counts.scheduled++;
      this.#wait(slot, dueAt);
    } else {
      this.#counts.queued++;
      this.#enter(slot, false);
      this.#pump();
    }
    const result: AddResult = { record: table.record(slot), created: true };
    if (replacedRecord) result.replaced = replacedRecord;
    return result;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    this.#expire(Date.now());
    const slot = this.#table.slotOfId(id);
    return slot < 0 ? undefined : this.#table.record(slot);
  }

  async find(keys: readonly string[]): Promise<JobRecord | undefined> {
    const slot = this.#findKey(keys, Date.now());
    return slot < 0 ? undefined : this.#table.record(slot);
  }

  async cancel(target: CancelTarget): Promise<JobRecord | undefined> {
    const slot =
      typeof target === 'string' ? this.#table.slotOfId(target) : (this.#replaceKeys.get(target.replaceKey) ?? -1);
    if (slot < 0 || !allows(this.#table.status(slot), 'cancel')) return undefined;
    this.#end(slot, 'cancelled', undefined);
    return this.#table.record(slot);
  }

  async cancelMany(filter: CancelFilter): Promise<number> {
    const table = this.#table;
    const now = Date.now();
    const matching: number[] = [];
    for (const slot of table.recorded()) {
      const status = table.status(slot);
      if (status !== 'scheduled' && status !== 'queued') continue;
      if (filter.ruleId !== undefined && table.ruleId(slot) !== filter.ruleId) continue;
      if (filter.priority !== undefined && table.priority(slot) !== filter.priority) continue;
      // A schedule whose time came is queued from that moment, as its record says.
      const shown = status === 'scheduled' && table.dueAt(slot) <= now ? 'queued' : status;
      if (filter.status !== undefined && shown !== filter.status) continue;
      matching.push(slot);
    }
    // Ended after the scan: ending a job may free slots the scan would otherwise meet again.
    for (const slot of matching) this.#end(slot, 'cancelled', undefined);
    return matching.length;
  }

  async requeue(id: string, deadline: number): Promise<JobRecord | undefined> {
    const table = this.#table;
    const slot = table.slotOfId(id);
    if (slot < 0) return undefined;
    const status = table.status(slot);
    if (!allows(status, 'requeue') || !table.hasMessage(slot)) return undefined;
    if (this.#pending() >= this.#maxQueued) {
      throw new QueueFullError(`The queue already holds ${this.#maxQueued} unfinished messages`, RETRY_WHEN_FULL_MS);
    }
    const now = Date.now();
    // A retried job no longer counts as failed (or expired): it is pending again.
    this.#counts[status as 'failed' | 'expired']--;
    table.setStatus(slot, 'queued');
    table.setDeadline(slot, deadline);
    table.setUpdatedAt(slot, now);
    this.#counts.queued++;
    this.#takeKeysBack(slot, now);
    this.#enter(slot, false);
    this.#pump();
    return table.record(slot);
  }

  async setDelivery(
    id: string,
    delivery: DeliveryStatus | undefined,
    checkedAt: number,
    raw?: string,
  ): Promise<JobRecord | undefined> {
    const slot = this.#table.slotOfId(id);
    if (slot < 0) return undefined;
    // Only a sent message has a delivery to speak of.
    if (this.#table.status(slot) === 'sent') this.#table.setDelivery(slot, delivery, checkedAt, raw);
    return this.#table.record(slot);
  }

  async list(options: ListOptions = {}): Promise<JobRecord[]> {
    const table = this.#table;
    const limit = Math.min(Math.max(1, options.limit ?? 50), 500);
    const top = new TopRecent<number>(limit, (slot) => table.updatedAt(slot));
    for (const slot of table.recorded()) {
      if (options.status === undefined || table.status(slot) === options.status) top.offer(slot);
    }
    return top.newestFirst().map((slot) => table.record(slot));
  }

  async findByPhone(phone: string, limit: number): Promise<JobRecord[]> {
    this.#expire(Date.now());
    const table = this.#table;
    const found: JobRecord[] = [];
    // The chain is newest first (the order jobs were added in).
    for (const slot of this.#phones.slots(this.#phones.hash(phone))) {
      if (found.length >= limit) break;
      if (table.isRecorded(slot) && table.phone(slot) === phone) found.push(table.record(slot));
    }
    return found;
  }

  async forget(phone: string): Promise<ForgottenJobs> {
    const table = this.#table;
    const ids: string[] = [];
    const waits: Promise<void>[] = [];
    const slots = [...this.#phones.slots(this.#phones.hash(phone))];
    for (const slot of slots) {
      if (table.phone(slot) !== phone) continue;
      ids.push(table.id(slot));
      if (table.status(slot) === 'sending') waits.push(this.#forgetWhenDone(slot));
      else this.#erase(slot);
    }
    await Promise.all(waits);
    return { jobs: ids.length, ids };
  }

  stats(): JobStats {
    return { ...this.#counts };
  }

  start(options: WorkerOptions): void {
    if (this.#options) throw new Error('This queue already has a worker');
    this.#options = options;
    if (options.maxQueued !== undefined) this.#maxQueued = options.maxQueued;
    if (options.keepFinishedMs !== undefined) this.#keepFinishedMs = options.keepFinishedMs;
    if (options.storeText === false) this.#storeText = false;
    this.#sweepTimer = setInterval(() => this.#sweep(), this.#sweepIntervalMs);
    this.#sweepTimer.unref();
    const gates = options.gates;
    if (gates) {
      // Held lanes are passed over where the next job is chosen; when one opens, work resumes.
      for (const lanes of Object.values(this.#lanes)) lanes.gate((lane) => gates.isOpen(lane));
      gates.onChange(() => this.#pump());
    }
    this.#pump();
  }

  close({ timeoutMs }: { timeoutMs: number }): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    if (!this.#isIdle()) {
      const drained = new Promise<void>((resolve) => {
        this.#idle = resolve;
      });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const result = await Promise.race([drained, timedOut]);
      clearTimeout(timer);
      if (result === 'timeout') {
        // Out of time: the workers give their jobs back (unless a request is on the wire), and
        // whatever is still waiting cannot be sent by this process.
        this.#abort.abort(new Error('The queue closed before this job finished'));
        this.#failWaiting();
        // Only jobs on the timer (one waiting out a backoff) or in a held lane may have held it up:
        // no worker is left to say so, so look now.
        this.#pump();
        await drained;
      }
    }
    this.#scheduler.stop();
    clearInterval(this.#sweepTimer);
    this.#failWaiting();
    this.#claimsDone.abort(new Error('The queue closed'));
  }

  /** Every job not sent by now dies with this process: its listeners hear of it as `CLOSED`. */
  #failWaiting(): void {
    const table = this.#table;
    for (const handle of [...this.#lanes.text.drain(), ...this.#lanes.file.drain()]) {
      const slot = table.slotOf(handle);
      if (slot >= 0 && table.place(slot) === IN_LANE && table.status(slot) === 'queued') {
        this.#end(slot, 'failed', CLOSED_ERROR);
      }
    }
    for (const handle of this.#scheduler.items()) {
      const slot = table.slotOf(handle);
      if (slot < 0 || table.place(slot) !== ON_TIMER) continue;
      const status = table.status(slot);
      if (status === 'scheduled') this.#end(slot, 'failed', SCHEDULED_CLOSED_ERROR);
      else if (status === 'queued') this.#end(slot, 'failed', CLOSED_ERROR);
    }
  }

  #pending(): number {
    return this.#counts.scheduled + this.#counts.queued + this.#counts.sending;
  }

  /** Closing waits for due work only (queued, retrying, sending): jobs scheduled for later do not hold it up. */
  #isIdle(): boolean {
    return this.#running === 0 && (this.#counts.queued === 0 || !this.#options);
  }

  /** Into its lane: at the back, or at the head when it keeps the turn it had. */
  #enter(slot: number, front: boolean): void {
    const table = this.#table;
    if (table.place(slot) === IN_LANE) return;
    this.#setPlace(slot, IN_LANE);
    const lanes = this.#lanes[table.kind(slot)];
    if (front) lanes.pushFront(table.handle(slot), table.priority(slot));
    else lanes.push(table.handle(slot), table.priority(slot));
  }

  /** On the timer until `at` (a scheduled job's `sendAt`, or the end of a backoff). */
  #wait(slot: number, at: number): void {
    this.#setPlace(slot, ON_TIMER);
    this.#scheduler.add(this.#table.handle(slot), at);
  }

  /** Every move of a job goes through here: it keeps the count of jobs in each kind's lanes. */
  #setPlace(slot: number, place: Place): void {
    const table = this.#table;
    const was = table.place(slot);
    if (was === place) return;
    if (was === IN_LANE) this.#inLane[table.kind(slot)]--;
    else if (place === IN_LANE) this.#inLane[table.kind(slot)]++;
    table.setPlace(slot, place);
  }

  /** The slot of the job a live key points at, or -1. */
  #findKey(keys: readonly string[], now: number): number {
    for (const key of keys) {
      const slot = this.#keys.get(key);
      if (slot >= 0 && this.#table.keysUntil(slot) > now) return slot;
    }
    return -1;
  }

  /** A scheduled job's time came, or a job's backoff ended: into its lane. */
  #due(handle: number, at: number): void {
    const table = this.#table;
    const slot = table.slotOf(handle);
    // Cancelled, expired, gone or moved since.
    if (slot < 0 || table.place(slot) !== ON_TIMER || table.dueAt(slot) !== at) return;
    this.#setPlace(slot, NOWHERE);
    if (table.status(slot) === 'scheduled') {
      this.#counts.scheduled--;
      this.#counts.queued++;
      table.setStatus(slot, 'queued');
      table.setUpdatedAt(slot, Date.now());
      this.#enter(slot, false);
    } else {
      // Back from a not-accepted attempt: it keeps its turn at the head of its lane.
      this.#enter(slot, true);
    }
    this.#pump();
  }

  #pump(): void {
    const options = this.#options;
    if (options && !this.#abort.signal.aborted) {
      if (options.claim && !this.#claimSignal.aborted) this.#claimSlots(options, options.claim);
      else this.#handOut(options);
    }
    if (this.#closing && this.#isIdle()) this.#idle?.();
  }

  /** Without claims: jobs go to workers as workers free up, and each waits for its slot there. */
  #handOut(options: WorkerOptions): void {
    while (this.#running < options.concurrency) {
      const kind = this.#bestKind(() => true);
      if (kind === undefined) break;
      const handle = this.#take(kind);
      if (handle === undefined) continue; // every job of that kind had waited past its deadline
      this.#running++;
      void this.#work(handle, options, undefined);
    }
  }

  /**
   * Slot first: a claim per job waiting (up to `concurrency` claims and jobs at work together), in
   * the lane of the best job of its kind. A job leaves its lane only once a claim is granted, and
   * it is the best one at that moment: a `high` job that came meanwhile takes the next free slot.
   */
  #claimSlots(options: WorkerOptions, claim: NonNullable<WorkerOptions['claim']>): void {
    const claiming = this.#claiming;
    while (this.#running + claiming.text + claiming.file < options.concurrency) {
      const kind = this.#bestKind((k) => claiming[k] < this.#inLane[k]);
      if (kind === undefined) break;
      const priority = this.#table.priority(this.#table.slotOf(this.#headOf(kind) as number));
      claiming[kind]++;
      void this.#claim(kind, priority, options, claim);
    }
  }

  async #claim(
    kind: SendKind,
    priority: Priority,
    options: WorkerOptions,
    claim: NonNullable<WorkerOptions['claim']>,
  ): Promise<void> {
    let claimed: Claim;
    try {
      claimed = await claim(kind, priority, this.#claimSignal);
    } catch {
      this.#claiming[kind]--;
      // The limiter failed: the best job of that kind meets the failure through its own call, and
      // ends (or waits) as such a failure does.
      const handle = this.#claimSignal.aborted ? undefined : this.#take(kind);
      if (handle !== undefined) {
        this.#running++;
        void this.#work(handle, options, undefined);
      }
      this.#pump();
      return;
    }
    this.#claiming[kind]--;
    this.#useClaim(claimed, options);
  }

  /** The claim goes to the best job of its kind; without one it is given back. */
  #useClaim(claimed: Claim, options: WorkerOptions): void {
    const handle = this.#abort.signal.aborted ? undefined : this.#take(claimed.kind);
    if (handle === undefined) {
      void claimed.release();
      this.#pump();
      return;
    }
    this.#running++;
    void this.#work(handle, options, claimed);
  }

  /** The kind whose best waiting job comes first (of those `open` allows); on a tie they take turns. */
  #bestKind(open: (kind: SendKind) => boolean): SendKind | undefined {
    let best: SendKind | undefined;
    let bestRank = PRIORITIES.length;
    for (const kind of this.#tieFirst === 'text' ? KINDS : KINDS_FILE_FIRST) {
      if (this.#inLane[kind] === 0 || !open(kind)) continue;
      const head = this.#headOf(kind);
      if (head === undefined) continue;
      const rank = PRIORITIES.indexOf(this.#table.priority(this.#table.slotOf(head)));
      if (rank < bestRank) {
        best = kind;
        bestRank = rank;
      }
    }
    if (best !== undefined) this.#tieFirst = best === 'text' ? 'file' : 'text';
    return best;
  }

  /** The best job waiting in `kind`'s lanes, left in place (entries that no longer count are dropped). */
  #headOf(kind: SendKind): number | undefined {
    const table = this.#table;
    const lanes = this.#lanes[kind];
    for (let handle = lanes.peek(); handle !== undefined; handle = lanes.peek()) {
      const slot = table.slotOf(handle);
      // Cancelled, expired, gone or moved.
      if (slot >= 0 && table.place(slot) === IN_LANE && table.status(slot) === 'queued') return handle;
      lanes.shift();
    }
    return undefined;
  }

  /** Takes the best job of `kind` out of its lane; one past its deadline ends `expired` instead. */
  #take(kind: SendKind): number | undefined {
    const table = this.#table;
    for (let handle = this.#headOf(kind); handle !== undefined; handle = this.#headOf(kind)) {
      this.#lanes[kind].shift();
      const slot = table.slotOf(handle);
      this.#setPlace(slot, NOWHERE);
      if (table.deadline(slot) > Date.now()) return handle;
      // It waited past its deadline: it is not worked any more (the sweep may not have come by).
      this.#end(slot, 'expired', expiredError(table.error(slot)));
    }
    return undefined;
  }

  async #work(handle: number, options: WorkerOptions, claim: Claim | undefined): Promise<void> {
    const held = new AbortController();
    this.#held.set(handle, held);
    const signal = AbortSignal.any([held.signal, this.#abort.signal]);
    let outcome: JobOutcome;
    try {
      outcome = await options.worker(this.#active(handle, signal), claim);
    } catch (error) {
      outcome = {
        status: 'failed',
        error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) },
      };
    }
    this.#held.delete(handle);
    this.#running--;
    const slot = this.#table.slotOf(handle);
    const forgotten = this.#forgetting.get(handle);
    if (forgotten) {
      // Its phone was forgotten while it was being sent: erased now, and nobody hears of it.
      this.#forgetting.delete(handle);
      if (slot >= 0) this.#erase(slot);
      forgotten();
    }
    const status = slot < 0 || forgotten ? undefined : this.#table.status(slot);
    // A job cancelled (or expired by a sweep) while the worker held it keeps that ending.
    if (status !== undefined && allows(status, outcome.status)) {
      const final =
        outcome.status === 'sent' ||
        outcome.status === 'failed' ||
        outcome.status === 'expired' ||
        outcome.status === 'skipped';
      // Closing and out of time: a job given back cannot wait for a later turn in this process.
      if (!final && this.#abort.signal.aborted) this.#end(slot, 'failed', CLOSED_ERROR);
      else this.#apply(slot, outcome);
    }
    // A job that needed no send (expired, deferred) leaves its claim to the next job of its kind.
    if (claim && !claim.spent) this.#useClaim(claim, options);
    else this.#pump();
  }

  #active(handle: number, signal: AbortSignal): ActiveJob {
    const table = this.#table;
    const slot = table.slotOf(handle);
    const active: ActiveJob = {
      id: table.id(slot),
      message: table.message(slot),
      priority: table.priority(slot),
      category: table.category(slot),
      attempts: table.attempts(slot),
      deadline: table.deadline(slot),
      quiet: table.quiet(slot),
      signal,
      markAttempt: async () => {
        const current = table.slotOf(handle);
        const status = current < 0 || this.#forgetting.has(handle) ? undefined : table.status(current);
        if (status === undefined || !allows(status, 'attempt')) {
          if (status === 'cancelled') throw new OlchatError('CANCELLED', 'The job was cancelled; not sent');
          throw new JobStateError(`Not sent: the job was ${status ?? 'forgotten'} before its turn`);
        }
        if (status === 'queued') {
          this.#counts.queued--;
          this.#counts.sending++;
          table.setStatus(current, 'sending');
          // Sending now: a replace or a cancel can no longer take it back.
          const replaceKey = table.replaceKey(current);
          if (replaceKey !== undefined && this.#replaceKeys.get(replaceKey) === current) {
            this.#replaceKeys.delete(replaceKey);
          }
        }
        table.addAttempt(current);
        table.setUpdatedAt(current, Date.now());
      },
      markNotAccepted: async () => {},
    };
    const ruleId = table.ruleId(slot);
    if (ruleId !== undefined) (active as { ruleId?: string }).ruleId = ruleId;
    const lastError = table.error(slot);
    if (lastError !== undefined) (active as { lastError?: JobError }).lastError = lastError;
    const trace = table.trace(slot);
    if (trace !== undefined) (active as { trace?: TraceCarrier }).trace = trace;
    return active;
  }

  #apply(slot: number, outcome: JobOutcome): void {
    const table = this.#table;
    switch (outcome.status) {
      case 'sent':
        table.setMessageId(slot, outcome.messageId);
        table.setError(slot, undefined);
        this.#end(slot, 'sent', undefined);
        return;
      case 'failed':
      case 'expired':
        this.#end(slot, outcome.status, outcome.error);
        return;
      case 'skipped':
        // Never attempted (its phone was suppressed meanwhile): it ends as a trigger-time skip would.
        table.setReason(slot, outcome.reason);
        this.#end(slot, 'skipped', undefined);
        return;
      case 'retry':
        this.#toWaiting(slot, 'queued', outcome.error);
        table.setRetryAt(slot, outcome.at);
        this.#wait(slot, outcome.at);
        return;
      case 'deferred':
        this.#toWaiting(slot, 'scheduled', table.error(slot));
        table.setSendAt(slot, outcome.until);
        table.setHeld(slot, outcome.heldBy !== undefined);
        this.#wait(slot, Math.min(outcome.until, table.deadline(slot)));
        return;
      case 'released':
        this.#toWaiting(slot, 'queued', table.error(slot));
        this.#enter(slot, true);
        return;
    }
  }

  #toWaiting(slot: number, status: 'queued' | 'scheduled', error: JobError | undefined): void {
    const table = this.#table;
    this.#counts[table.status(slot) as 'queued' | 'sending']--;
    this.#counts[status]++;
    table.setStatus(slot, status);
    table.setError(slot, error);
    table.setUpdatedAt(slot, Date.now());
    const replaceKey = table.replaceKey(slot);
    if (replaceKey !== undefined && !this.#replaceKeys.has(replaceKey)) this.#replaceKeys.set(replaceKey, slot);
  }

  /** Ends a pending job: counts, keys, the record's history, and the worker if one holds it. */
  #end(
    slot: number,
    status: 'sent' | 'failed' | 'expired' | 'cancelled' | 'skipped',
    error: JobError | undefined,
  ): void {
    const table = this.#table;
    const now = Date.now();
    this.#counts[table.status(slot) as 'scheduled' | 'queued' | 'sending']--;
    if (status !== 'skipped') this.#counts[status]++; // stats() does not count skipped jobs
    table.setStatus(slot, status);
    table.setError(slot, error);
    table.setUpdatedAt(slot, now);
    const replaceKey = table.replaceKey(slot);
    if (replaceKey !== undefined && this.#replaceKeys.get(replaceKey) === slot) this.#replaceKeys.delete(replaceKey);
    if (freesKeys(status, error)) this.#forgetKeys(slot);
    this.#setPlace(slot, NOWHERE);
    this.#held.get(table.handle(slot))?.abort(new Error(`The job was ${status}`));
    // The record keeps what was sent, unless the app asked for no texts kept.
    if (!this.#storeText) table.dropMessage(slot);
    this.#markFinished(slot, now);
    try {
      this.#options?.onFinished(table.record(slot));
    } catch {
      // The notifier guards its listeners; a queue must never stop over one.
    }
  }

  #markFinished(slot: number, now: number): void {
    this.#finished.push(this.#table.handle(slot));
    this.#finishedAt.push(now);
    this.#expire(now);
  }

  /** Removes the keys that still point at this job (a key set again since points at a newer one). */
  #forgetKeys(slot: number): void {
    const keys = this.#table.keys(slot);
    if (typeof keys === 'string') this.#keys.deleteIf(keys, slot);
    else if (keys !== undefined) for (const key of keys) this.#keys.deleteIf(key, slot);
  }

  /** After a requeue: the keys its ending freed point at it again, where no newer job took them meanwhile. */
  #takeKeysBack(slot: number, now: number): void {
    const table = this.#table;
    const keys = table.keys(slot);
    if (keys === undefined || !(table.keysUntil(slot) > now)) return;
    let taken = false;
    const list = typeof keys === 'string' ? [keys] : keys;
    for (let index = 0; index < list.length; index++) {
      const key = list[index] as string;
      const holder = this.#keys.get(key);
      if (holder === slot || (holder >= 0 && table.keysUntil(holder) > now)) continue;
      this.#keys.set(key, slot, index);
      taken = true;
    }
    // The key expiry line may have let go of this job already (over `maxKeys`): it forgets them again.
    if (taken) this.#keyOrder.push(table.handle(slot));
  }

  #holdsKey(slot: number): boolean {
    const keys = this.#table.keys(slot);
    if (typeof keys === 'string') return this.#keys.get(keys) === slot;
    return keys?.some((key) => this.#keys.get(key) === slot) === true;
  }

  /** A job neither `get()` nor a key can reach any more gives its slot back. */
  #releaseIfUnreachable(slot: number): void {
    if (!this.#table.isRecorded(slot) && !this.#holdsKey(slot)) this.#free(slot);
  }

  /** Gives the slot back, out of the phone index first (its phone is what finds its chain). */
  #free(slot: number): void {
    const phone = this.#table.phone(slot);
    if (phone !== undefined) this.#phones.remove(slot, this.#phones.hash(phone));
    this.#table.free(slot);
  }

  /**
   * Erases a job of a forgotten phone at once: a pending one leaves its lane or the timer (its
   * entries there no longer resolve) and its worker, if one holds it before the attempt, gives up;
   * its keys and replace key go; the slot is freed, digits and all.
   */
  #erase(slot: number): void {
    const table = this.#table;
    const status = table.status(slot);
    if (status === 'scheduled' || status === 'queued' || status === 'sending') this.#counts[status]--;
    const replaceKey = table.replaceKey(slot);
    if (replaceKey !== undefined && this.#replaceKeys.get(replaceKey) === slot) this.#replaceKeys.delete(replaceKey);
    this.#forgetKeys(slot);
    // Out of its lane's count (its entry there no longer resolves once the slot is freed).
    this.#setPlace(slot, NOWHERE);
    const handle = table.handle(slot);
    this.#held.get(handle)?.abort(new Error('The job was forgotten'));
    this.#free(slot);
  }

  /** A job being sent: it may finish its attempt (never another), then `#work` erases it. */
  #forgetWhenDone(slot: number): Promise<void> {
    const handle = this.#table.handle(slot);
    return new Promise<void>((resolve) => {
      const earlier = this.#forgetting.get(handle);
      this.#forgetting.set(handle, () => {
        earlier?.();
        resolve();
      });
    });
  }

  /** Jobs waiting in a lane whose deadline passed (the line was down, or the backlog too long). */
  #sweep(): void {
    const now = Date.now();
    const table = this.#table;
    for (const kind of KINDS) {
      for (const handle of this.#lanes[kind]) {
        const slot = table.slotOf(handle);
        if (slot >= 0 && table.place(slot) === IN_LANE && table.deadline(slot) <= now) {
          this.#end(slot, 'expired', expiredError(table.error(slot)));
        }
      }
    }
    for (const handle of this.#scheduler.items()) {
      const slot = table.slotOf(handle);
      if (slot >= 0 && table.place(slot) === ON_TIMER && table.deadline(slot) <= now) {
        this.#end(slot, 'expired', expiredError(table.error(slot)));
      }
    }
    this.#expire(now);
  }

  /** Drops finished records past their time or over the cap, and keys past theirs, oldest first. */
  #expire(now: number): void {
    const table = this.#table;
    for (let finishedAt = this.#finishedAt.peek(); finishedAt !== undefined; finishedAt = this.#finishedAt.peek()) {
      if (this.#finished.size <= this.#maxFinished && now - finishedAt < this.#keepFinishedMs) break;
      const slot = table.slotOf(this.#finished.shift() as number);
      this.#finishedAt.shift();
      // A job retried since is pending again, or finished later: this entry no longer speaks for it.
      if (slot >= 0 && isFinal(table.status(slot)) && table.updatedAt(slot) <= finishedAt) {
        table.unrecord(slot);
        this.#releaseIfUnreachable(slot);
      }
    }
    for (let handle = this.#keyOrder.peek(); handle !== undefined; handle = this.#keyOrder.peek()) {
      const slot = table.slotOf(handle);
      if (slot >= 0 && this.#keys.size <= this.#maxKeys && table.keysUntil(slot) > now) break;
      this.#keyOrder.shift();
      if (slot < 0) continue; // its keys went before its slot did
      this.#forgetKeys(slot);
      this.#releaseIfUnreachable(slot);
    }
  }
}

const KINDS: readonly SendKind[] = ['text', 'file'];
const KINDS_FILE_FIRST: readonly SendKind[] = ['file', 'text'];

/** A full queue answers "come back later": a minute lets about a hundred messages out at the vendor's pace. */
const RETRY_WHEN_FULL_MS = 60_000;
