import type { Priority } from '@olchat-kit/core';
import { type LaneGateChange, type LaneGateState, PRIORITIES, type QueueGates } from '@olchat-kit/core/queue';
import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_NAME, type JobData } from './bull.js';
import type { Fields } from './record.js';
import type { JobStore } from './store.js';

/**
 * Lane pauses, the line's flag and the lanes' pacing gaps for every process of one queue, and what keeps a held lane from
 * holding a worker on BullMQ (which hands out jobs by priority and knows nothing of our lanes).
 *
 * The state is one hash in Redis (scripts/gates.ts): a change is one script, and every process
 * reads it back each `intervalMs` into the notifier's `LaneGates` (its own changes at once).
 *
 * A job BullMQ hands over while its lane is held is parked: moved to BullMQ's delayed set until the
 * hold ends by itself (the flag's end), or at most `PARK_MS`, and its id noted under
 * `parked:<lane>`. When a lane opens, the process that sees it first takes the parked ids (each
 * id once, atomically) and promotes them: they are back in line, in their lane's order.
 */

/** A parked job comes back by itself after this, should the promotion that was due never come. */
export const PARK_MS = 15 * 60_000;
/** Parked ids promoted per Redis round. */
const UNPARK_BATCH = 200;
const LANE_NUMBER: Record<number, Priority> = { 1: 'high', 2: 'normal', 3: 'low' };

export interface SharedGatesHost {
  store: JobStore;
  client: Redis;
  /** `<prefix>:<name>:~` (the keys of scripts/prelude.ts). */
  base: string;
  queue: Queue<JobData>;
  warn(what: string, error: unknown): void;
}

export class SharedGates {
  readonly #host: SharedGatesHost;
  #gates: QueueGates | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading = false;
  /** Which lanes were open when this process last looked: an opening is what unparks. */
  #wasOpen: Record<Priority, boolean> = { high: true, normal: true, low: true };
  #stopped = false;

  constructor(host: SharedGatesHost) {
    this.#host = host;
  }

  /** The notifier's gates: kept in step from now on, read every `intervalMs`. */
  attach(gates: QueueGates, intervalMs: number): void {
    this.#gates = gates;
    gates.onChange(() => this.#onChange());
    void this.refresh().then(() => this.unparkOpenLanes());
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stores a change for every process, takes the state after it; whether it changed anything. */
  async update(change: LaneGateChange): Promise<boolean> {
    const args: (string | number)[] =
      change.op === 'pause'
        ? ['pause', change.lanes.join(',')]
        : change.op === 'resume'
          ? ['resume', change.lane ?? '']
          : change.op === 'pace' || change.op === 'unpace'
            ? [change.op, change.lane, '', change.until, '']
            : ['flag', '', change.at, change.until, change.high ? '1' : '0'];
    // A pace is checked against the time it was asked for (the caller's `at`).
    const { changed, fields } = await this.#host.store.changeGates(args, change.op === 'pace' ? change.at : Date.now());
    this.#gates?.set(stateOf(fields));
    return changed;
  }

  /** Reads the shared state into this process's gates (a change elsewhere shows within one interval). */
  async refresh(): Promise<void> {
    if (this.#reading || !this.#gates) return;
    this.#reading = true;
    try {
      this.#gates.set(stateOf(await this.#host.store.readGates(Date.now())));
    } catch (error) {
      // Redis is away: the gates stay as last read until it is back.
      this.#host.warn('gates', error);
    } finally {
      this.#reading = false;
    }
  }

  /**
   * Parks a job BullMQ handed over if its lane is held here: true when it did (the caller then
   * tells BullMQ it was moved). A lane that opened meanwhile parks nothing.
   */
  async park(job: Job<JobData>, token: string): Promise<boolean> {
    const gates = this.#gates;
    const lane = laneOf(job);
    if (!gates || gates.isOpen(lane)) return false;
    const now = Date.now();
    const until = Math.min(gates.opensAt(lane) ?? Number.POSITIVE_INFINITY, now + PARK_MS);
    await this.#host.client.zadd(this.#parkedKey(lane), now, job.id as string);
    await job.moveToDelayed(Math.max(now + 1, until), token);
    return true;
  }

  #onChange(): void {
    const gates = this.#gates;
    if (!gates) return;
    for (const lane of PRIORITIES) {
      const open = gates.isOpen(lane);
      if (open && !this.#wasOpen[lane]) void this.#unpark(lane);
      this.#wasOpen[lane] = open;
    }
  }

  /** Puts the jobs parked for a lane back in line: each id is taken by one process only. */
  async #unpark(lane: Priority): Promise<void> {
    const { client, queue } = this.#host;
    try {
      // Bounded: each round takes ids out of the set, and a set holds at most the queue's jobs.
      for (let round = 0; round < 100_000 && !this.#stopped; round++) {
        if (this.#gates?.isOpen(lane) === false) return; // held again meanwhile: they stay parked
        const popped = await client.zpopmin(this.#parkedKey(lane), UNPARK_BATCH);
        if (popped.length === 0) return;
        const ids = popped.filter((_, index) => index % 2 === 0);
        await Promise.all(
          // A job no longer delayed (cancelled, already back, worked) has nothing to promote.
          ids.map((id) => new Job<JobData>(queue, JOB_NAME, { id }, {}, id).promote().catch(() => undefined)),
        );
      }
    } catch (error) {
      this.#host.warn('gates', error);
    }
  }

  #parkedKey(lane: Priority): string {
    return `${this.#host.base}parked:${lane}`;
  }

  /** Lanes open at start: jobs a process parked before it stopped come back now, not after PARK_MS. */
  unparkOpenLanes(): void {
    const gates = this.#gates;
    if (!gates) return;
    for (const lane of PRIORITIES) if (gates.isOpen(lane)) void this.#unpark(lane);
  }
}

function laneOf(job: Job<JobData>): Priority {
  return LANE_NUMBER[job.priority ?? job.opts?.priority ?? 2] ?? 'normal';
}

function stateOf(fields: Fields): LaneGateState {
  const paused = (fields.paused ?? '')
    .split(',')
    .filter((lane): lane is Priority => PRIORITIES.includes(lane as Priority));
  const state: LaneGateState = { paused };
  const until = Number(fields.flaggedUntil);
  if (Number.isFinite(until) && until > Date.now()) {
    state.flaggedUntil = until;
    const at = Number(fields.flaggedAt);
    if (Number.isFinite(at)) state.flaggedAt = at;
    if (fields.flaggedHigh === '1') state.flaggedHigh = true;
  }
  for (const lane of PRIORITIES) {
    const notBefore = Number(fields[`pace:${lane}`]);
    if (!Number.isFinite(notBefore) || notBefore <= Date.now()) continue;
    state.notBefore ??= {};
    state.notBefore[lane] = notBefore;
  }
  return state;
}
