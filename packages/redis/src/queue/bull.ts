import type { JobsOptions, Queue } from 'bullmq';

/*
 * What BullMQ holds of a job: only its record's id. BullMQ schedules (lanes, delays, one worker at
 * a time, recovery of a dead worker's jobs); the record in Redis is the job. A job scheduled far
 * ahead gets its BullMQ job only when its time nears (see `handOffWithinMs`).
 */

export const JOB_NAME = 'send';

export interface JobData {
  id: string;
}

/** Lanes are BullMQ priorities: a lower number first, first in first out within one. */
const LANE: Record<string, number> = { high: 1, normal: 2, low: 3 };

/** A job whose processing hit a Redis error is tried again after this (BullMQ's own retry). */
export const REDIS_ERROR_RETRY_MS = 2_000;
/**
 * BullMQ never fails a job for good: a job whose processing keeps failing on Redis errors is tried
 * again until Redis answers, and its record's deadline ends it (at pickup, or by the sweep).
 */
const NEVER = 1_000_000_000;

/**
 * A schedule due within this is handed to BullMQ when it is added (BullMQ's timers are exact); one
 * due later waits in the record store alone, and the sweep (every `sweepIntervalMs`) hands it over
 * once it comes this close: ten sweeps before its time, so a slow or missed sweep does not make it
 * late. A BullMQ job costs about as much Redis memory as the record itself: a reminder waiting for
 * days needs none.
 */
export function handOffWithinMs(sweepIntervalMs: number): number {
  return 10 * sweepIntervalMs;
}

export function jobOptions(bullId: string, priority: string, delayMs: number): JobsOptions {
  return {
    jobId: bullId,
    priority: LANE[priority] ?? 2,
    ...(delayMs > 0 ? { delay: delayMs } : {}),
    removeOnComplete: true, // the record is the result
    removeOnFail: true,
    attempts: NEVER,
    backoff: { type: 'fixed', delay: REDIS_ERROR_RETRY_MS },
  };
}

/** Hands a recorded job to BullMQ, due at `dueAt` (now or earlier: at once). A known id is a no-op. */
export async function schedule(
  queue: Queue<JobData>,
  job: { id: string; bull: string; priority: string; dueAt: number },
  now = Date.now(),
): Promise<void> {
  await queue.add(JOB_NAME, { id: job.id }, jobOptions(job.bull, job.priority, Math.max(0, job.dueAt - now)));
}

/**
 * Hands many recorded jobs to BullMQ in one round trip (the sweep's hand-offs and revivals). Should
 * it fail, the jobs are still in `adding`, and the sweep adds them again.
 */
export async function scheduleMany(
  queue: Queue<JobData>,
  jobs: readonly { id: string; bull: string; priority: string; dueAt: number }[],
  now = Date.now(),
): Promise<void> {
  if (jobs.length === 0) return;
  await queue.addBulk(
    jobs.map((job) => ({
      name: JOB_NAME,
      data: { id: job.id },
      opts: jobOptions(job.bull, job.priority, Math.max(0, job.dueAt - now)),
    })),
  );
}

/**
 * Removes a BullMQ job that will never be worked (cancelled, expired). Best effort: a job a worker
 * holds is not removed, and one left behind is refused at pickup by its record anyway.
 */
export async function unschedule(queue: Queue<JobData>, bullId: string): Promise<void> {
  await queue.remove(bullId).catch(() => undefined);
}
