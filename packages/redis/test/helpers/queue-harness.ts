import type { JobRecord } from '@olchat-kit/core';
import { type ActiveJob, type JobOutcome, type NewJob, phoneKeyer, type WorkerOptions } from '@olchat-kit/core/queue';
import { waitFor } from '../../../../test/helpers/waiting.js';
import { type RedisQueue, type RedisQueueOptions, redisQueue } from '../../src/index.js';
import type { RedisServer } from './redis-server.js';

/*
 * Drives a RedisQueue through the JobQueue interface alone, as a notifier would: jobs go in with
 * add(), a worker function of the test's own decides each pickup's outcome.
 */

export const PHONE = '79123456789';

/** A job as the notifier would add it: text `text`, normal lane, a deadline a minute ahead. */
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

/** What a worker does for a job that goes out: the in-flight mark, then "the vendor accepted it". */
export async function deliver(job: ActiveJob): Promise<JobOutcome> {
  await job.markAttempt();
  return { status: 'sent', messageId: `m-${textOf(job)}` };
}

export type Worker = WorkerOptions['worker'];

/** Queues opened by a test file, closed after each test; names are unique per call. */
export class Queues {
  readonly #redis: () => RedisServer;
  readonly #open: RedisQueue[] = [];
  #count = 0;

  constructor(redis: () => RedisServer) {
    this.#redis = redis;
  }

  /** A fresh queue name for one test. */
  name(label: string): string {
    return `${label}-${++this.#count}-${process.pid}`;
  }

  open(name: string, options: Partial<RedisQueueOptions> = {}): RedisQueue {
    const queue = redisQueue({
      connection: this.#redis().connection,
      name,
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
      sweepIntervalMs: 200,
      statsIntervalMs: 200,
      ...options,
    });
    this.#open.push(queue);
    return queue;
  }

  /** A queue with a worker: `finished` collects what onFinished was called with. */
  working(
    name: string,
    worker: Worker,
    {
      concurrency = 1,
      maxQueued,
      storeText,
      gates,
      ...options
    }: Partial<RedisQueueOptions> & {
      concurrency?: number;
      storeText?: boolean;
      gates?: WorkerOptions['gates'];
    } = {},
  ): Working {
    const queue = this.open(name, options);
    const finished: JobRecord[] = [];
    queue.start({
      concurrency,
      worker,
      onFinished: (record) => finished.push(record),
      phoneKey: phoneKeyer('queue-harness-secret-0123456789'),
      ...(maxQueued === undefined ? {} : { maxQueued }),
      ...(storeText === undefined ? {} : { storeText }),
      ...(gates === undefined ? {} : { gates }),
    });
    return {
      queue,
      finished,
      async finishedWith(id: string, timeoutMs = 10_000): Promise<JobRecord> {
        await waitFor(() => finished.some((r) => r.id === id), timeoutMs, `job ${id} to finish`);
        return finished.find((r) => r.id === id) as JobRecord;
      },
    };
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.#open.splice(0).map((queue) => queue.close({ timeoutMs: 2_000 })));
  }
}

export interface Working {
  queue: RedisQueue;
  finished: JobRecord[];
  finishedWith(id: string, timeoutMs?: number): Promise<JobRecord>;
}

/** A promise with its resolve, for workers the test releases by hand. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
