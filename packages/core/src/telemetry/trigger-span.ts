import { OlchatError } from '../errors.js';
import type { JobStatus } from '../job.js';

/** What a trigger answers (the notifier's `TriggerResult`). */
interface TriggerResult {
  id: string;
  status: JobStatus;
}

import { ATTRIBUTES, failSpan, MESSAGING_SYSTEM, SPAN_NAMES, type Telemetry, type TelemetrySpan } from './telemetry.js';

/**
 * Runs one `trigger()` or `send()` inside an `olchat.trigger` span (kind PRODUCER), a child of the
 * context active at the call: the app's HTTP span when it has HTTP instrumentation. `work` gets the
 * span to store its context with the job; the span ends with the job's id and what became of it,
 * or as failed with the error's code.
 */
export async function traceTrigger(
  telemetry: Telemetry,
  ruleId: string | undefined,
  work: (span: TelemetrySpan) => Promise<TriggerResult>,
): Promise<TriggerResult> {
  const attributes = { [ATTRIBUTES.system]: MESSAGING_SYSTEM } as Record<string, string>;
  if (ruleId !== undefined) attributes[ATTRIBUTES.rule] = ruleId;
  const span = telemetry.startSpan(SPAN_NAMES.trigger, { kind: 'producer', attributes, root: false });
  try {
    const result = await span.run(() => work(span));
    span.setAttributes({ [ATTRIBUTES.jobId]: result.id });
    return result;
  } catch (error) {
    failSpan(span, error instanceof OlchatError ? error.code : 'INTERNAL');
    throw error;
  } finally {
    span.end();
  }
}

/**
 * What the trigger came to: the new job's status (`queued`, `scheduled`, `skipped`), or
 * `duplicate` when an idempotency or dedupe key answered with an earlier job.
 */
export function describeTrigger(span: TelemetrySpan, outcome: string, priority: string | undefined): void {
  if (priority === undefined) span.setAttributes({ [ATTRIBUTES.outcome]: outcome });
  else span.setAttributes({ [ATTRIBUTES.outcome]: outcome, [ATTRIBUTES.priority]: priority });
}
