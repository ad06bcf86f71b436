import type { AnyNotifier, LineInfo, LineReason } from '../notifier/types.js';
import { json } from './answers.js';
import { closedError } from './errors.js';
import type { HandlerLogger, HandlerResponse } from './types.js';

/** How long the first `/health` of a notifier whose line was never checked may wait for an answer. */
export const FIRST_CHECK_WAIT_MS = 1_000;

const REASON_MESSAGES: Record<LineReason, string> = {
  vendor_unreachable: 'OLChat is not answering (or answers 502–504): messages wait in the queue until it is back',
  token_rejected: 'OLChat refuses the webhook token (401/403/404): check the token the client was given',
  line_down: 'OLChat reports the WhatsApp line as disconnected: messages wait in the queue until it is back',
};

const FLAGGED_MESSAGE =
  'OLChat suspects the WhatsApp number of spam (or reports a ban): normal and low messages wait until the pause ends or notifier.resume()';

// Per notifier, however many handlers serve it: when the line was last asked about for /health, and
// the first answer the first probes wait for.
const lastAsked = new WeakMap<AnyNotifier, number>();
const firstChecks = new WeakMap<AnyNotifier, Promise<unknown>>();

/**
 * `GET /health`, answered from the notifier's last known line state: a load balancer's probe never
 * waits for OLChat. A fresh check is started in the background at most once per `cacheMs`, and
 * never while the line is down (the line breaker probes then by itself). Only a line never checked
 * at all waits, briefly, for its first answer.
 */
export async function healthAnswer(
  notifier: AnyNotifier,
  cacheMs: number,
  logger: HandlerLogger,
): Promise<HandlerResponse> {
  if (notifier.closed) return json(503, { ...closedError().toJSON(), status: 'closed', queue: notifier.stats() });
  const refreshing = refreshInBackground(notifier, cacheMs, logger);
  if (neverChecked(notifier.lineInfo())) await firstCheck(notifier, refreshing);
  const line = notifier.lineInfo();
  const queue = notifier.stats();
  if (line.state === 'flagged') {
    return json(503, {
      error: 'line_flagged',
      message: FLAGGED_MESSAGE,
      status: 'flagged',
      reason: 'line_flagged',
      line,
      queue,
    });
  }
  const reason = unusableBecause(line);
  if (reason !== undefined) {
    return json(503, {
      error: 'olchat_unavailable',
      message: REASON_MESSAGES[reason],
      status: 'down',
      reason,
      line,
      queue,
    });
  }
  return json(200, { status: line.state === 'up' ? 'ok' : 'unknown', line, queue });
}

/** Why the line cannot be used now, if it cannot: it is down, or the token is refused (whatever the state). */
function unusableBecause(line: LineInfo): LineReason | undefined {
  if (line.reason === 'token_rejected') return 'token_rejected';
  if (line.state === 'down') return line.reason ?? 'vendor_unreachable';
  return undefined;
}

function neverChecked(line: LineInfo): boolean {
  return line.state === 'unknown' && line.reason === undefined && line.checkedAt === undefined;
}

/** Starts a line check unless one was started within `cacheMs` or the line is down; never awaited here. */
function refreshInBackground(
  notifier: AnyNotifier,
  cacheMs: number,
  logger: HandlerLogger,
): Promise<unknown> | undefined {
  const now = Date.now();
  const asked = lastAsked.get(notifier);
  if (notifier.line === 'down' || (asked !== undefined && now - asked < cacheMs)) return undefined;
  lastAsked.set(notifier, now);
  return notifier.refreshLine(cacheMs).catch((error: unknown) => {
    logger.error({ err: error }, 'olchat-kit: checking the WhatsApp line for /health failed');
  });
}

/**
 * The first check of a line, waited for at most `FIRST_CHECK_WAIT_MS` by every probe that comes
 * meanwhile; once that wait is over, nobody waits again, whatever the vendor does.
 */
function firstCheck(notifier: AnyNotifier, refreshing: Promise<unknown> | undefined): Promise<unknown> {
  let first = firstChecks.get(notifier);
  if (!first && refreshing) {
    first = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FIRST_CHECK_WAIT_MS);
      timer.unref?.();
      void refreshing.finally(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    firstChecks.set(notifier, first);
  }
  return first ?? Promise.resolve();
}
