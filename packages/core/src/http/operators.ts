import { ValidationError } from '../errors.js';
import { PRIORITIES, type Priority } from '../job.js';
import type { AnyNotifier, CancelFilter } from '../notifier/types.js';
import { json } from './answers.js';
import { InboundError } from './errors.js';
import type { LaneAction } from './routes.js';
import type { HandlerResponse } from './types.js';

/*
 * The operator's routes (apiKey): hold or release a lane, and clear a backlog. Each does what the
 * notifier's method of the same name does, and answers the lanes as they are after it.
 */

/** `GET /lanes`: each lane, open or what holds it, and the line. */
export function lanesAnswer(notifier: AnyNotifier): HandlerResponse {
  return json(200, { lanes: notifier.lanes(), line: notifier.lineInfo() });
}

/** `POST /lanes/:lane/pause|resume`, and `POST /lanes/pause|resume` for every lane (resume: the flag too). */
export async function laneAction(
  notifier: AnyNotifier,
  lane: string | undefined,
  action: LaneAction,
): Promise<HandlerResponse> {
  const known = lane === undefined ? undefined : PRIORITIES.find((name) => name === lane.toLowerCase());
  if (lane !== undefined && known === undefined) {
    throw new InboundError(
      'not_found',
      `No lane ${JSON.stringify(lane.slice(0, 40))}: the lanes are high, normal and low`,
    );
  }
  if (action === 'pause') await notifier.pause(known);
  else await notifier.resume(known);
  return lanesAnswer(notifier);
}

/** `POST /messages/cancel` `{ ruleId?, priority?, status? }`: cancels every pending job that matches. */
export async function cancelManyAnswer(notifier: AnyNotifier, body: unknown): Promise<HandlerResponse> {
  const cancelled = await notifier.cancelMany(cancelFilterOf(body));
  return json(200, { cancelled });
}

function cancelFilterOf(body: unknown): CancelFilter {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('Expected a JSON object: { "ruleId"?, "priority"?, "status"? }', [
      { path: '', message: 'Expected an object' },
    ]);
  }
  return body as CancelFilter & { priority?: Priority };
}
