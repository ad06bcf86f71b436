import { JobStateError, ValidationError } from '../errors.js';
import { readBody } from '../http/body.js';
import { InboundError } from '../http/errors.js';
import { queryOf } from '../http/query.js';
import type { HandlerResponse } from '../http/types.js';
import { FINAL_STATUSES, type JobStatus, PENDING_STATUSES, PRIORITIES, type Priority } from '../job.js';
import type { AnyNotifier as Notifier } from '../notifier/types.js';
import { isPhone, normalizePhone } from '../phone.js';
import type { JobRecord } from '../queue/types.js';
import { assetAnswer, htmlAnswer, seeOther } from './answers.js';
import { dateTimeFormat } from './format.js';
import { createActionGuard } from './guard.js';
import { MESSAGES } from './i18n.js';
import { MAX_PAGE_SIZE, normalizeBasePath, resolveDashboardOptions } from './options.js';
import { DASHBOARD_ROUTES, type DashboardRoute, type LaneAction, matchDashboardRoute } from './routes.js';
import type { DashboardOptions, DashboardRequest, OlchatDashboard } from './types.js';
import { clearConfirmPage } from './views/clear.js';
import { jobPath, overviewPath, type ViewContext } from './views/context.js';
import { jobPage } from './views/job.js';
import { noticePage } from './views/notice.js';
import { overviewPage } from './views/overview.js';
import { searchPage } from './views/search.js';

/** A dashboard form is a token and two small fields; anything much larger is not one. */
const MAX_FORM_BYTES = 4 * 1024;
const NEXT_SCHEDULED_SHOWN = 10;
const ALL_STATUSES: readonly JobStatus[] = [...PENDING_STATUSES, ...FINAL_STATUSES];
type Flash = 'cancelled' | 'retried';
type LaneFlash = 'paused' | 'resumed' | 'resumedAll';

/**
 * The admin dashboard, as framework-free as the HTTP handler: a request below the mount point in,
 * a response out. Server-rendered pages without script, under a strict CSP; cancel and retry are
 * POSTs that must come from the dashboard's own page (origin check and a signed token). It has no
 * auth of its own: the app mounts it behind its admin auth.
 */
export function createDashboard(notifier: Notifier, options: DashboardOptions = {}): OlchatDashboard {
  if (typeof notifier?.list !== 'function' || typeof notifier.lineInfo !== 'function') {
    throw new ValidationError('createDashboard needs a notifier made with createNotifier()');
  }
  const config = resolveDashboardOptions(options);
  const t = MESSAGES[config.lang];
  const formatTime = dateTimeFormat(t.locale, config.timeZone);
  const guard = createActionGuard({ secret: config.secret, allowedOrigins: config.allowedOrigins });

  function contextFor(request: DashboardRequest): ViewContext {
    const mounted = request.basePath === undefined ? undefined : normalizeBasePath(request.basePath);
    const now = Date.now();
    return {
      t,
      lang: config.lang,
      title: config.title,
      base: config.basePath ?? mounted ?? '',
      timeZone: config.timeZone,
      formatTime,
      token: guard.issue(now),
      now,
    };
  }

  async function answer(route: DashboardRoute, request: DashboardRequest): Promise<HandlerResponse> {
    const method = request.method.toUpperCase();
    const context = contextFor(request);
    if (route.name === 'action' || route.name === 'lane' || route.name === 'resumeAll') {
      if (method !== 'POST') return notice(context, 405, t.badRequestTitle, t.methodNotAllowed, { allow: 'POST' });
      if (route.name === 'action') return act(context, request, route.id, route.action);
      return actOnLane(
        context,
        request,
        route.name === 'lane' ? route.lane : undefined,
        route.name === 'lane' ? route.action : 'resume',
      );
    }
    if (route.name === 'search') {
      if (method === 'POST') return search(context, request);
      if (method === 'GET' || method === 'HEAD') return seeOther(overviewPath(context));
      return notice(context, 405, t.badRequestTitle, t.methodNotAllowed, { allow: 'GET, HEAD, POST' });
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return notice(context, 405, t.badRequestTitle, t.methodNotAllowed, { allow: 'GET, HEAD' });
    }
    const query = new URLSearchParams(queryOf(request));
    if (route.name === 'asset') return assetAnswer(route.asset, query.get('v') === route.asset.version);
    if (route.name === 'job') return job(context, route.id, query);
    return overview(context, query);
  }

  async function overview(context: ViewContext, query: URLSearchParams): Promise<HandlerResponse> {
    const status = statusOf(query.get('status'));
    const stats = notifier.stats();
    const [jobs, scheduled, queued] = await Promise.all([
      notifier.list({ ...(status ? { status } : {}), limit: config.pageSize }),
      stats.scheduled > 0 ? notifier.list({ status: 'scheduled', limit: MAX_PAGE_SIZE }) : [],
      stats.queued > 0 ? notifier.list({ status: 'queued', limit: MAX_PAGE_SIZE }) : [],
    ]);
    const flashed = await flashedRecord(query);
    const page = overviewPage(context, {
      line: notifier.lineInfo(),
      closed: notifier.closed,
      stats,
      lanes: laneCounts(queued),
      lanesCapped: queued.length >= MAX_PAGE_SIZE,
      lanesSample: queued.length,
      laneInfo: notifier.lanes(),
      nextScheduled: soonestFirst(scheduled).slice(0, NEXT_SCHEDULED_SHOWN),
      jobs,
      pageSize: config.pageSize,
      status,
      flash: (flashed && flashText(query.get('flash'), flashed)) ?? laneFlashText(query),
    });
    return htmlAnswer(200, page);
  }

  async function job(context: ViewContext, id: string, query: URLSearchParams): Promise<HandlerResponse> {
    const record = await notifier.get(id);
    if (!record) return notice(context, 404, t.notFoundTitle, t.notFound);
    return htmlAnswer(200, jobPage(context, record, flashText(query.get('flash'), record)));
  }

  /**
   * A phone's messages. Read-only, so it needs no token; a POST, so the phone is never in a URL
   * (nor in the app's access log, nor in the browser's history).
   */
  async function search(context: ViewContext, request: DashboardRequest): Promise<HandlerResponse> {
    const typed = (await readForm(request)).get('phone') ?? '';
    // The form again with what is wrong (a page to read, not a failed request: 200, as a form re-shown is).
    if (!isPhone(typed)) return htmlAnswer(200, searchPage(context, { kind: 'invalid' }));
    const phone = normalizePhone(typed);
    const jobs = await notifier.find({ phone, limit: config.pageSize });
    return htmlAnswer(200, searchPage(context, { kind: 'found', phone, jobs, limit: config.pageSize }));
  }

  /** Cancel or retry: same origin first, then the form and its token, then the notifier decides. */
  async function act(
    context: ViewContext,
    request: DashboardRequest,
    id: string,
    action: 'cancel' | 'retry',
  ): Promise<HandlerResponse> {
    if (!guard.sameOrigin(request)) return forbidden(context);
    const form = await readForm(request);
    if (!guard.verify(form.get('token'))) return forbidden(context);
    const record = await notifier.get(id);
    if (!record) return notice(context, 404, t.notFoundTitle, t.notFound);
    if (action === 'cancel') {
      if (!(await notifier.cancel(id))) return refused(context, await cancelRefusal(id, record));
    } else {
      const ambiguous = form.get('ambiguous') === 'true';
      try {
        if (!(await notifier.retry(id, { ambiguous }))) return notice(context, 404, t.notFoundTitle, t.notFound);
      } catch (error) {
        if (!(error instanceof JobStateError)) throw error;
        return refused(context, await retryRefusal(id, ambiguous));
      }
    }
    const flash: Flash = action === 'cancel' ? 'cancelled' : 'retried';
    if (form.get('back') === 'job') return seeOther(`${jobPath(context, id)}?flash=${flash}`);
    return seeOther(overviewPath(context, { flash, job: id, status: statusOf(form.get('status')) }));
  }

  /**
   * Pause or resume a lane (no lane: lift every pause and the flag), or clear its backlog: the same
   * two checks as a job's actions first. Clearing asks to confirm on a page of its own; only the
   * form of that page (with `confirm=yes`) cancels anything.
   */
  async function actOnLane(
    context: ViewContext,
    request: DashboardRequest,
    lane: Priority | undefined,
    action: LaneAction,
  ): Promise<HandlerResponse> {
    if (!guard.sameOrigin(request)) return forbidden(context);
    const form = await readForm(request);
    if (!guard.verify(form.get('token'))) return forbidden(context);
    if (lane === undefined) {
      await notifier.resume();
      return seeOther(overviewPath(context, { flash: 'resumedAll' }));
    }
    if (action === 'clear') {
      if (form.get('confirm') !== 'yes') return htmlAnswer(200, clearConfirmPage(context, lane));
      const count = await notifier.cancelMany({ priority: lane });
      return htmlAnswer(200, noticePage(context, t.clearedTitle, t.cleared(count, t.priority[lane])));
    }
    if (action === 'pause') await notifier.pause(lane);
    else await notifier.resume(lane);
    return seeOther(overviewPath(context, { flash: action === 'pause' ? 'paused' : 'resumed', lane }));
  }

  /** A lane's flash, as long as it is still true (a crafted link cannot make the page say otherwise). */
  function laneFlashText(query: URLSearchParams): string | undefined {
    const kind = query.get('flash') as LaneFlash | null;
    const lanes = notifier.lanes();
    if (kind === 'resumedAll') {
      return Object.values(lanes).every((info) => info.open) ? t.flashResumedAll : undefined;
    }
    const lane = laneOf(query.get('lane'));
    if (lane === undefined) return undefined;
    if (kind === 'paused' && lanes[lane].paused) return t.flashPaused(t.priority[lane]);
    if (kind === 'resumed' && !lanes[lane].paused) return t.flashResumed(t.priority[lane]);
    return undefined;
  }

  async function cancelRefusal(id: string, before: JobRecord): Promise<string> {
    const now = (await notifier.get(id)) ?? before;
    return t.cannotCancel(t.status[now.status]);
  }

  async function retryRefusal(id: string, ambiguous: boolean): Promise<string> {
    const record = await notifier.get(id);
    if (!record) return t.notFound;
    if (record.status !== 'failed' && record.status !== 'expired') return t.cannotRetry(t.status[record.status]);
    if (record.error.code === 'AMBIGUOUS' && !ambiguous) return t.retryNeedsConfirm;
    if (record.notAfter !== undefined && record.notAfter <= Date.now()) return t.retryTooLate;
    return t.changedMeanwhile;
  }

  async function readForm(request: DashboardRequest): Promise<Map<string, string>> {
    const body = await readBody(request, MAX_FORM_BYTES);
    const fields = new Map<string, string>();
    if (typeof body !== 'object' || body === null) return fields;
    // A repeated field is no dashboard form's: it counts as absent.
    for (const [name, value] of Object.entries(body)) if (typeof value === 'string') fields.set(name, value);
    return fields;
  }

  /** The job a flash message names: only a real one, so a crafted link cannot make the page say anything. */
  async function flashedRecord(query: URLSearchParams): Promise<JobRecord | undefined> {
    const id = query.get('job');
    return query.has('flash') && id !== null && id !== '' ? notifier.get(id) : undefined;
  }

  /** What an action's redirect says, as long as it is still true of the job. */
  function flashText(kind: string | null, record: JobRecord): string | undefined {
    if (kind === 'cancelled' && record.status === 'cancelled') return t.flashCancelled(record.id);
    if (kind === 'retried' && record.status !== 'failed' && record.status !== 'expired') {
      return t.flashRetried(record.id);
    }
    return undefined;
  }

  function forbidden(context: ViewContext): HandlerResponse {
    return notice(context, 403, t.forbiddenTitle, t.forbidden);
  }

  function refused(context: ViewContext, text: string): HandlerResponse {
    return notice(context, 409, t.refusedTitle, text);
  }

  function notice(
    context: ViewContext,
    status: number,
    heading: string,
    text: string,
    headers: Record<string, string> = {},
  ): HandlerResponse {
    return htmlAnswer(status, noticePage(context, heading, text), headers);
  }

  function failure(request: DashboardRequest, error: unknown): HandlerResponse {
    const context = contextFor(request);
    // The form's body could not be read (malformed, too large, of another type): the client's fault.
    if (error instanceof InboundError && error.status < 500) {
      return notice(context, error.status, t.badRequestTitle, t.badRequest, error.headers);
    }
    config.logger.error({ err: error }, 'olchat-kit: unexpected error in the dashboard');
    return notice(context, 500, t.internalTitle, t.internal);
  }

  return {
    routes: DASHBOARD_ROUTES,
    async handle(request) {
      const route = matchDashboardRoute(request.path);
      if (!route) return undefined;
      try {
        return await answer(route, request);
      } catch (error) {
        return failure(request, error);
      }
    },
  };
}

function laneOf(value: string | null): Priority | undefined {
  return PRIORITIES.find((lane) => lane === value);
}

function statusOf(value: string | null | undefined): JobStatus | undefined {
  return ALL_STATUSES.find((status) => status === value);
}

function laneCounts(queued: readonly JobRecord[]): Record<Priority, number> {
  const counts: Record<Priority, number> = { high: 0, normal: 0, low: 0 };
  for (const record of queued) counts[record.priority]++;
  return counts;
}

function soonestFirst(scheduled: readonly JobRecord[]): JobRecord[] {
  return [...scheduled].sort((a, b) => (a.sendAt ?? a.createdAt) - (b.sendAt ?? b.createdAt));
}
