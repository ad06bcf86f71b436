import { type JobQueue, type JobRecord, type JobStatus, MemoryQueue } from '@olchat-kit/core';
import { type ActiveJob, type JobOutcome, type NewJob, phoneKeyer } from '@olchat-kit/core/queue';
import { redisQueue } from '@olchat-kit/redis';
import { afterAll, afterEach, beforeAll, vi } from 'vitest';
import { RedisServer } from '../../packages/redis/test/helpers/redis-server.js';

/*
 * One queue contract, one suite: every test here runs once per queue kind (the vitest projects
 * `queue-memory` and `queue-redis` set OLCHAT_QUEUE), through the `JobQueue` interface a notifier
 * uses, with a worker function the test drives by hand. A Redis queue runs on a real redis-server.
 */

export const kind = process.env.OLCHAT_QUEUE as 'memory' | 'redis';
if (kind !== 'memory' && kind !== 'redis')
  throw new Error('run the queue conformance suite through its vitest projects');

/** Whether jobs outlive the queue object (Redis) or die with it (memory: they end `failed` `CLOSED`). */
export const durable = kind === 'redis';

export const PHONE = '79123456789';

export interface QueueOptions {
  maxQueued?: number;
}

let redis: RedisServer | undefined;
let count = 0;
const open: JobQueue[] = [];

beforeAll(async () => {
  if (kind === 'redis') redis = await RedisServer.start();
});
afterEach(async () => {
  // Jobs a test left held are given back when their signals abort, after this wait.
  await Promise.all(open.splice(0).map((queue) => queue.close({ timeoutMs: 300 })));
});
afterAll(async () => {
  await redis?.destroy();
});

/**
 * A fresh, empty queue of this run's kind. Timers are short (sweeps and stats every 100 ms) so
 * deadlines and counts show within a fraction of a second; every wait in the suite is still
 * bounded generously.
 */
export function freshQueue(options: QueueOptions = {}): JobQueue {
  return openQueue(`conformance-${++count}-${process.pid}`, options);
}

/** Another queue object on the same jobs (Redis: the same name), as a restarted process opens it. */
export function reopen(name: string, options: QueueOptions = {}): JobQueue {
  return openQueue(name, options);
}

const names = new WeakMap<JobQueue, string>();

export function nameOf(queue: JobQueue): string {
  return names.get(queue) as string;
}

function openQueue(name: string, { maxQueued }: QueueOptions): JobQueue {
  const queue =
    kind === 'memory'
      ? new MemoryQueue({ sweepIntervalMs: 100, ...(maxQueued === undefined ? {} : { maxQueued }) })
      : redisQueue({
          connection: (redis as RedisServer).connection,
          name,
          lockDurationMs: 2_000,
          stalledIntervalMs: 1_000,
          sweepIntervalMs: 100,
          statsIntervalMs: 100,
          ...(maxQueued === undefined ? {} : { maxQueued }),
        });
  names.set(queue, name);
  open.push(queue);
  return queue;
}

/** A job as the notifier adds it: due now, normal lane, a deadline a minute ahead. */
export function newJob(text: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    message: { phone: PHONE, text, sendToImol: false },
    keys: [],
    keyTtlMs: 60_000,
    priority: 'normal',
    deadline: Date.now() + 60_000,
    quiet: false,
    ...overrides,
  };
}

export function textOf(job: ActiveJob): string {
  return 'text' in job.message ? job.message.text : job.message.file.url;
}

/** Polls until `check` passes (up to 15 s: a loaded machine, a Redis sweep), then returns its value. */
export function eventually<T>(check: () => T | Promise<T>, timeoutMs = 15_000): Promise<T> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 20 });
}

export async function statusOf(queue: JobQueue, id: string): Promise<JobStatus | undefined> {
  return (await queue.get(id))?.status;
}

/** Waits until the job is in `status` and answers its record. */
export async function reaches(queue: JobQueue, id: string, status: JobStatus): Promise<JobRecord> {
  return eventually(async () => {
    const record = await queue.get(id);
    if (record?.status !== status) throw new Error(`job ${id} is ${record?.status}, not yet ${status}`);
    return record;
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One pickup of a job, held until the test says what became of it. */
export class Pickup {
  readonly job: ActiveJob;
  readonly at = Date.now();
  readonly #resolve: (outcome: JobOutcome) => void;
  readonly outcome: Promise<JobOutcome>;

  constructor(job: ActiveJob) {
    this.job = job;
    let resolve!: (outcome: JobOutcome) => void;
    this.outcome = new Promise((r) => {
      resolve = r;
    });
    this.#resolve = resolve;
    // As a real worker does: a job whose signal aborts (cancelled, or the queue closing) before it
    // was sent is given back.
    const release = () => this.end({ status: 'released' });
    if (job.signal.aborted) release();
    else job.signal.addEventListener('abort', release, { once: true });
  }

  get id(): string {
    return this.job.id;
  }

  /** What a worker does just before it writes the request. */
  attempt(): Promise<void> {
    return this.job.markAttempt();
  }

  end(outcome: JobOutcome): void {
    this.#resolve(outcome);
  }

  /** Marks the attempt and reports the vendor's acceptance. */
  async send(messageId = `m-${textOf(this.job)}`): Promise<void> {
    await this.attempt();
    this.end({ status: 'sent', messageId });
  }
}

/** The notifier's secret in this suite: the Redis queue keys its phone index with it. */
export const SECRET = 'queue-conformance-secret-0123456789';

export interface DeskOptions {
  concurrency?: number;
  maxQueued?: number;
  keepFinishedMs?: number;
  storeText?: boolean;
}

/**
 * The worker side of a queue, driven by the test: each job the queue hands over waits in `next()`
 * for the test to decide (or goes through `auto` when set); `finished` collects what `onFinished`
 * reported.
 */
export class Desk {
  readonly finished: JobRecord[] = [];
  readonly pickups: Pickup[] = [];
  /** When set, every pickup is answered by this instead of waiting for the test. */
  auto: ((pickup: Pickup) => Promise<void> | void) | undefined;
  #unclaimed: Pickup[] = [];
  #waiters: ((pickup: Pickup) => void)[] = [];

  constructor(queue: JobQueue, options: DeskOptions = {}) {
    const { concurrency = 1, maxQueued, keepFinishedMs, storeText } = options;
    queue.start({
      concurrency,
      worker: (job) => this.#take(job),
      onFinished: (record) => this.finished.push(record),
      phoneKey: phoneKeyer(SECRET),
      ...(maxQueued === undefined ? {} : { maxQueued }),
      ...(keepFinishedMs === undefined ? {} : { keepFinishedMs }),
      ...(storeText === undefined ? {} : { storeText }),
    });
  }

  #take(job: ActiveJob): Promise<JobOutcome> {
    const pickup = new Pickup(job);
    this.pickups.push(pickup);
    if (this.auto) {
      void Promise.resolve(this.auto(pickup)).catch((error: unknown) =>
        pickup.end({ status: 'failed', error: { code: 'INTERNAL', message: String(error) } }),
      );
    } else {
      const waiter = this.#waiters.shift();
      if (waiter) waiter(pickup);
      else this.#unclaimed.push(pickup);
    }
    return pickup.outcome;
  }

  /** The next job handed to the worker (bounded wait). */
  async next(timeoutMs = 15_000): Promise<Pickup> {
    const ready = this.#unclaimed.shift();
    if (ready) return ready;
    let timer: NodeJS.Timeout | undefined;
    let waiter!: (pickup: Pickup) => void;
    const picked = new Promise<Pickup>((resolve) => {
      waiter = resolve;
      this.#waiters.push(waiter);
    });
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`No job was handed to the worker within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([picked, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether a job was handed over that the test has not taken with `next()`. */
  get waiting(): number {
    return this.#unclaimed.length;
  }

  /** The record `onFinished` reported for this job (its latest, after a retry). */
  async finishedWith(id: string, status?: JobStatus): Promise<JobRecord> {
    return eventually(() => {
      const matching = this.finished.filter((r) => r.id === id && (status === undefined || r.status === status));
      const record = matching[matching.length - 1];
      if (!record) throw new Error(`job ${id} has not been reported finished${status ? ` as ${status}` : ''}`);
      return record;
    });
  }

  /** How often `onFinished` reported this job. */
  reports(id: string): number {
    return this.finished.filter((r) => r.id === id).length;
  }
}

/** The keys the notifier gives a job with an idempotency key and a rule's dedupe key. */
export function keysOf(label: string): string[] {
  return [`idem:${label}`, `dedupe:rule:${label}`];
}
