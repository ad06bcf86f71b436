import type { ActiveJob, JobOutcome } from '@olchat-kit/core/queue';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { sleep, waitFor } from '../../../test/helpers/waiting.js';
import { newJob, Queues } from './helpers/queue-harness.js';
import { RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;
const queues = new Queues(() => redis);

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterEach(() => queues.closeAll());
afterAll(async () => {
  await redis?.destroy();
});

it('a job released and fetched again by another slot keeps its lock while it waits: one pickup works it, no takeover', async () => {
  // BullMQ tracks locks by job id: the release's own clean-up may untrack the next pickup's lock.
  const queue = queues.open(queues.name('locks'), { lockDurationMs: 600, stalledIntervalMs: 300 });
  const pickups: string[] = [];
  const endings: string[] = [];
  const rounds = 5;
  for (let round = 0; round < rounds; round++) await queue.add(newJob(`Заказ ${round}`));
  const seen = new Map<string, number>();
  queue.start({
    concurrency: 4,
    onFinished: (record) => endings.push(`${record.status}${record.error ? ` ${record.error.code}` : ''}`),
    worker: async (job: ActiveJob): Promise<JobOutcome> => {
      const n = (seen.get(job.id) ?? 0) + 1;
      seen.set(job.id, n);
      pickups.push(`${job.id}#${n}`);
      // The first pickup gives the job back at once (as when the line goes down); the next one
      // waits several lock durations (a long line for a slot) before it writes the request.
      if (n === 1) return { status: 'released' };
      await sleep(2_500);
      await job.markAttempt();
      return { status: 'sent', messageId: `m-${job.id}` };
    },
  });
  await waitFor(() => endings.length === rounds, 20_000, 'every job ended');
  await sleep(500);
  expect(endings).toEqual(Array.from({ length: rounds }, () => 'sent'));
  // Each job picked up exactly twice: the release and the pickup that sent it; never a third.
  expect([...seen.values()]).toEqual(Array.from({ length: rounds }, () => 2));
});
