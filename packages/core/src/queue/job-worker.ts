import type { CallOptions, OlchatClient, SendResult } from '../client/client.js';
import type { OutgoingMessage } from '../client/message.js';
import type { OlchatMethod } from '../client/methods.js';
import { isCertainlyNotAccepted, OlchatError } from '../errors.js';
import { type Backoff, expiredError, isTokenRejected, outcomeOfFailure, toJobError } from './lifecycle.js';
import type { LineMonitor } from './line.js';
import { SlotClaim } from './slot-claim.js';
import { type ActiveJob, type Claim, type JobOutcome, sendKindOf } from './types.js';

/** One request the notifier made: what the metrics count. */
export interface AttemptEvent {
  method: OlchatMethod;
  ruleId?: string;
  /** Time spent waiting for the limit slot. */
  waitMs: number;
  /** Time from writing the request to its answer (or failure). */
  durationMs: number;
  /** The error code, when it failed. */
  code?: string;
}

/** The quiet-hours calendar, as the worker needs it. */
export interface QuietCalendar {
  nextAllowed(at: number, phone: string): number;
}

export interface JobWorkerContext {
  client: OlchatClient;
  line: LineMonitor;
  quietHours: QuietCalendar | undefined;
  backoff: Backoff;
  onAttempt: (event: AttemptEvent) => void;
  /**
   * Asked just before each request is written: an outcome ends or holds the job instead (a phone
   * suppressed since the job was queued ends it `skipped`); undefined lets it go.
   */
  beforeSend?: (job: ActiveJob) => JobOutcome | undefined | Promise<JobOutcome | undefined>;
}

/** Thrown from the attempt hook when the job may not be written after all; nothing was sent. */
class NotNow extends Error {
  constructor(readonly outcome: JobOutcome) {
    super('not now');
  }
}

/**
 * One pickup of one job: deadline, quiet hours and the line first, then one attempt through the
 * client (its limiter paces it; the queue, not the client, waits between attempts), and the
 * lifecycle decides what the answer means. With a claim (the queue took the slot first) the
 * attempt uses the claimed slot; a job that ends before its send leaves the claim unspent, for
 * the queue's next job.
 */
export function createJobWorker(context: JobWorkerContext): (job: ActiveJob, claim?: Claim) => Promise<JobOutcome> {
  const { client, line, quietHours, backoff, onAttempt, beforeSend } = context;

  return async (job, claim) => {
    const waitFrom = Date.now();
    const early = checkTime(job, waitFrom, quietHours);
    if (early) return early;
    let claimed = claim instanceof SlotClaim ? claim.reservation : undefined;
    if (claimed?.spent) claimed = undefined;
    // A slot of the other limit (a shared queue's head changed meanwhile) is no use to this job;
    // nor may a slot be held while the job waits for the line.
    if (claimed && (claim?.kind !== sendKindOf(job.message) || line.state === 'down')) {
      await claimed.release();
      claimed = undefined;
    }
    const verdict = await line.whenUsable(job.signal, job.deadline);
    if (verdict === 'deadline') return { status: 'expired', error: expiredError(job.lastError) };
    if (verdict === 'aborted') return { status: 'released' };

    let attempted = false;
    let writtenAt = 0;
    const hooks: CallOptions = {
      signal: job.signal,
      retries: 0,
      priority: job.priority,
      beforeAttempt: async () => {
        // The slot may have taken a while: the deadline, quiet hours and the line are checked again.
        const late = checkTime(job, Date.now(), quietHours);
        if (late) throw new NotNow(late);
        if (line.state === 'down') throw new NotNow({ status: 'released' });
        if (beforeSend) {
          const held = await beforeSend(job);
          if (held) throw new NotNow(held);
        }
        await job.markAttempt();
        attempted = true;
        writtenAt = performance.now();
      },
      onNotAccepted: () => job.markNotAccepted(),
    };
    if (claimed) hooks.reservation = claimed;
    // The slot's wait before the job was chosen counts as this send's wait for its slot.
    const waitedBefore = claimed ? claimed.waitedMs : 0;
    const method = 'text' in job.message ? 'sendText' : 'sendFile';
    const report = (code?: string) => {
      const event: AttemptEvent = {
        method,
        waitMs: waitedBefore + Math.max(0, Date.now() - waitFrom - (attempted ? performance.now() - writtenAt : 0)),
        durationMs: attempted ? performance.now() - writtenAt : 0,
      };
      if (job.ruleId !== undefined) event.ruleId = job.ruleId;
      if (code !== undefined) event.code = code;
      onAttempt(event);
    };

    try {
      const result = await send(client, job.message, hooks);
      report();
      line.reportSuccess();
      return result.messageId === undefined ? { status: 'sent' } : { status: 'sent', messageId: result.messageId };
    } catch (error) {
      if (error instanceof NotNow) return error.outcome;
      if (!attempted) {
        // Never written: cancelled or closing while it waited for a slot, or the limiter failed.
        if (job.signal.aborted) return { status: 'released' };
        if (isCertainlyNotAccepted(error)) return outcomeOfFailure(error, job, Date.now(), backoff);
        return { status: 'failed', error: toJobError(error) };
      }
      report(error instanceof OlchatError ? error.code : 'INTERNAL');
      line.reportFailure(error);
      if (isTokenRejected(error)) return { status: 'failed', error: toJobError(error) };
      return outcomeOfFailure(error, { attempts: job.attempts + 1, deadline: job.deadline }, Date.now(), backoff);
    }
  };
}

/** Expired, or held back by quiet hours; undefined when the job may go now. */
function checkTime(job: ActiveJob, now: number, quietHours: QuietCalendar | undefined): JobOutcome | undefined {
  if (now >= job.deadline) return { status: 'expired', error: expiredError(job.lastError) };
  if (!job.quiet || !quietHours) return undefined;
  const until = quietHours.nextAllowed(now, job.message.phone);
  if (until <= now) return undefined;
  // A deadline inside quiet hours ends the job rather than sending it late.
  if (until >= job.deadline) return { status: 'expired', error: expiredError(job.lastError) };
  return { status: 'deferred', until };
}

function send(client: OlchatClient, m: OutgoingMessage, hooks: CallOptions): Promise<SendResult> {
  if ('text' in m) return client.sendText({ phone: m.phone, text: m.text, sendToImol: m.sendToImol }, hooks);
  const params =
    m.file.caption === undefined
      ? { phone: m.phone, url: m.file.url, sendToImol: m.sendToImol }
      : { phone: m.phone, url: m.file.url, caption: m.file.caption, sendToImol: m.sendToImol };
  return client.sendFile(params, hooks);
}
