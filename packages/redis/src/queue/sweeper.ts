import { randomUUID } from 'node:crypto';
import { expiredError, freesKeys, type JobOutcome } from '@olchat-kit/core/queue';
import type { Queue } from 'bullmq';
import { type JobData, scheduleMany, unschedule } from './bull.js';
import type { Fields } from './record.js';
import type { CachedStats } from './stats.js';
import type { Expiring, JobStore } from './store.js';
import { AMBIGUOUS_MESSAGE } from './worker.js';

/** Most jobs of each kind one sweep round handles; a full round is followed by another at once. */
const ROUND_LIMIT = 100;
const MAX_ROUNDS = 50;

export interface SweeperHost {
  store: JobStore;
  queue: Queue<JobData>;
  stats: CachedStats;
  announce(fields: Fields): void;
  warn(what: string, error: unknown): void;
}

export interface SweeperSettings {
  intervalMs: number;
  retryAmbiguous: boolean;
  /** A job held by a live worker past its deadline is looked at again this much later. */
  recheckMs: number;
  /** A job whose BullMQ job has not shown up this long after its add is added again. */
  reviveAfterMs: number;
  /** A schedule waiting without a BullMQ job is handed to BullMQ this long before its time. */
  handOffWithinMs: number;
}

/**
 * What happens to jobs that no worker picks up: run every `intervalMs` by each process that works
 * the queue. Schedules whose time nears are handed to BullMQ, and join their lane when it comes;
 * jobs past their deadline end 'expired' (onFinished is called here, so events fire); a job whose
 * BullMQ job was lost is added again.
 */
export class Sweeper {
  readonly #host: SweeperHost;
  readonly #settings: SweeperSettings;
  readonly #token = `sweep:${randomUUID()}`;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(host: SweeperHost, settings: SweeperSettings) {
    this.#host = host;
    this.#settings = settings;
  }

  start(): void {
    if (this.#timer) return;
    void this.run();
    this.#timer = setInterval(() => void this.run(), this.#settings.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One sweep (rounds until nothing is left over); a second call while one runs joins it. */
  run(): Promise<void> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(): Promise<void> {
    const { store, queue } = this.#host;
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const now = Date.now();
        const reply = await store.sweep(
          {
            token: this.#token,
            limit: ROUND_LIMIT,
            reviveBefore: now - this.#settings.reviveAfterMs,
            recheckAt: now + this.#settings.recheckMs,
            handBefore: now + this.#settings.handOffWithinMs,
          },
          now,
        );
        for (const job of reply.expiring) await this.#expire(job);
        await scheduleMany(queue, reply.revive).catch((error) => this.#host.warn('sweep', error));
        const full = Math.max(reply.promoted, reply.expiring.length, reply.revive.length) >= ROUND_LIMIT;
        if (!full) return;
      }
    } catch (error) {
      this.#host.warn('sweep', error); // Redis unreachable: the next round tries again
    }
  }

  async #expire(job: Expiring): Promise<void> {
    // Its worker died with the request in flight: it may have been sent, so it is not "expired".
    const outcome: Extract<JobOutcome, { status: 'failed' | 'expired' }> =
      job.inflight && !this.#settings.retryAmbiguous
        ? { status: 'failed', error: { code: 'AMBIGUOUS', message: AMBIGUOUS_MESSAGE } }
        : { status: 'expired', error: expiredError(job.lastError) };
    const { done, fields } = await this.#host.store.outcome(
      job.id,
      this.#token,
      outcome,
      freesKeys(outcome.status, outcome.error),
      Date.now(),
    );
    if (!done) return; // a worker took it meanwhile: it decides
    this.#host.stats.move(job.status, outcome.status);
    await unschedule(this.#host.queue, job.bull);
    this.#host.announce(fields);
  }
}
