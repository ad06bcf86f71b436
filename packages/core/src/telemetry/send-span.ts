import type { OlchatClient } from '../client/client.js';
import type { OlchatMethod } from '../client/methods.js';
import type { ActiveJob, Claim, JobOutcome } from '../queue/types.js';
import {
  ATTRIBUTES,
  failSpan,
  MESSAGING_SYSTEM,
  REQUEST_EVENT,
  SPAN_NAMES,
  type Telemetry,
  type TelemetryAttributes,
  type TelemetrySpan,
} from './telemetry.js';

type Worker = (job: ActiveJob, claim?: Claim) => Promise<JobOutcome>;

/**
 * The vendor's address for a span: the base URL, a placeholder where the token goes, the method.
 * Never the query (it holds the phone and the text) and never the token.
 */
export function vendorAttributes(client: OlchatClient): (method: OlchatMethod) => TelemetryAttributes {
  const { baseUrl } = client.toJSON() as { baseUrl: string };
  const host = new URL(baseUrl).hostname;
  return (method) => ({
    [ATTRIBUTES.method]: method,
    [ATTRIBUTES.url]: `${baseUrl}/REDACTED/${method}`,
    [ATTRIBUTES.serverAddress]: host,
  });
}

/**
 * Wraps the notifier's worker: each pickup of a job is an `olchat.send` span (kind CLIENT), the
 * first of a trace of its own, linked to the trigger span whose context the job carries. It
 * records the limiter's wait (an attribute and the `olchat.request` event when the request goes
 * out) and ends with the outcome; a failed attempt is an error with its code.
 */
export function traceWorker(worker: Worker, telemetry: Telemetry, client: OlchatClient): Worker {
  const vendor = vendorAttributes(client);
  return async (job, claim) => {
    const attributes = vendor('text' in job.message ? 'sendText' : 'sendFile');
    attributes[ATTRIBUTES.system] = MESSAGING_SYSTEM;
    attributes[ATTRIBUTES.jobId] = job.id;
    attributes[ATTRIBUTES.priority] = job.priority;
    attributes[ATTRIBUTES.attempt] = job.attempts + 1;
    if (job.ruleId !== undefined) attributes[ATTRIBUTES.rule] = job.ruleId;
    const span = telemetry.startSpan(SPAN_NAMES.send, {
      kind: 'client',
      attributes,
      root: true,
      ...(job.trace === undefined ? {} : { links: [job.trace] }),
    });
    const pickedAt = Date.now();
    // The queue's own job, with the moment its request may go noted on the span.
    const traced: ActiveJob = {
      ...job,
      markAttempt: async () => {
        await job.markAttempt();
        // Slot first: most of the wait came before the pickup, while its claim took the slot.
        const waited = { [ATTRIBUTES.limiterWaitMs]: (claim?.waitedMs ?? 0) + Date.now() - pickedAt };
        span.setAttributes(waited);
        span.addEvent(REQUEST_EVENT, waited);
      },
    };
    try {
      const outcome = await span.run(() => worker(traced, claim));
      describeOutcome(span, outcome);
      return outcome;
    } catch (error) {
      failSpan(span, 'INTERNAL');
      throw error;
    } finally {
      span.end();
    }
  };
}

/**
 * `sent`; `retry` (not accepted: back in line), `failed` and `expired` as errors with their code;
 * `deferred` (quiet hours began) and `released` (the line went down, or the queue is closing) when
 * the turn ended before a request was written.
 */
function describeOutcome(span: TelemetrySpan, outcome: JobOutcome): void {
  span.setAttributes({ [ATTRIBUTES.outcome]: outcome.status });
  if (!('error' in outcome)) return;
  if (outcome.error.status !== undefined) span.setAttributes({ [ATTRIBUTES.httpStatus]: outcome.error.status });
  failSpan(span, outcome.error.code);
}
