import { FINAL_STATUSES, type JobStatus, PENDING_STATUSES, PRIORITIES, type Priority } from '../../job.js';
import type { LaneInfo, LineInfo, NotifierStats } from '../../notifier/types.js';
import type { JobRecord } from '../../queue/types.js';
import { html, type SafeHtml } from '../html.js';
import { overviewPath, type ViewContext } from './context.js';
import { layout } from './layout.js';
import { jobsTable, laneForm, phone, resumeAllForm, rowActions, searchForm, time } from './parts.js';

const FILTER_STATUSES: readonly JobStatus[] = [...PENDING_STATUSES, ...FINAL_STATUSES];
const COUNTED: readonly (keyof Omit<NotifierStats, 'etaMs' | 'guard'>)[] = [
  'scheduled',
  'queued',
  'sending',
  'sent',
  'failed',
  'cancelled',
  'expired',
];

export interface OverviewData {
  line: LineInfo;
  closed: boolean;
  stats: NotifierStats;
  /** Queued jobs per lane, counted over `lanesSample` queued jobs (all of them unless capped). */
  lanes: Record<Priority, number>;
  lanesCapped: boolean;
  lanesSample: number;
  /** Whether each lane sends now, or what holds it. */
  laneInfo: Record<Priority, LaneInfo>;
  /** The soonest scheduled jobs, soonest first. */
  nextScheduled: JobRecord[];
  jobs: JobRecord[];
  pageSize: number;
  status?: JobStatus | undefined;
  flash?: string | undefined;
}

export function overviewPage(context: ViewContext, data: OverviewData): SafeHtml {
  const { t } = context;
  return layout(
    context,
    context.title,
    html`${data.flash !== undefined ? html`<p class="flash" role="status">${data.flash}</p>` : ''}
${data.closed ? html`<p class="notice">${t.closed}</p>` : ''}
<div class="grid">
${lineSection(context, data.line)}
${queueSection(context, data)}
</div>
${searchForm(context)}
${lanesSection(context, data)}
${scheduledSection(context, data)}
${recentSection(context, data)}`,
  );
}

function lineSection(context: ViewContext, line: LineInfo): SafeHtml {
  const { t } = context;
  const flagged = line.state === 'flagged' && line.until !== undefined;
  return html`<section id="line" aria-labelledby="line-h">
<h2 id="line-h">${t.line}</h2>
<p class="state state-${line.state}">${t.lineState[line.state]}${line.reason ? html` — ${t.lineReason[line.reason]}` : ''}</p>
${flagged ? html`<p class="notice" id="flagged">${t.flaggedNote(context.formatTime(line.until as number))}</p>${resumeAllForm(context)}` : ''}
<p class="muted">${t.since(context.formatTime(line.since), t.ago(context.now - line.since))}<br>
${line.checkedAt !== undefined ? t.checkedAt(context.formatTime(line.checkedAt)) : t.neverChecked}</p>
</section>`;
}

function queueSection(context: ViewContext, data: OverviewData): SafeHtml {
  const { t } = context;
  const { stats } = data;
  const waiting = stats.queued + stats.sending;
  // An empty queue is said on its own: «Очередь опустеет: очередь пуста» would say it twice.
  const eta =
    waiting === 0
      ? html`<strong id="eta">${t.etaEmpty}</strong>`
      : html`<span class="muted">${t.eta}:</span> <strong id="eta">${stats.etaMs < 60_000 ? t.etaSoon : t.etaIn(stats.etaMs)}</strong>`;
  return html`<section id="queue" aria-labelledby="queue-h">
<h2 id="queue-h">${t.queue}</h2>
<ul class="counts">
${COUNTED.map(
  (status) =>
    html`<li><a href="${overviewPath(context, { status })}" data-count="${status}"><b>${stats[status]}</b><span>${t.status[status]}</span></a></li>`,
)}
</ul>
<p>${eta}</p>
</section>`;
}

function lanesSection(context: ViewContext, data: OverviewData): SafeHtml {
  const { t } = context;
  return html`<section id="lanes" aria-labelledby="lanes-h">
<h2 id="lanes-h">${t.lanes}</h2>
<table>
<thead><tr><th>${t.lane}</th><th>${t.waiting}</th><th>${t.laneState}</th><th>${t.actions}</th></tr></thead>
<tbody>
${PRIORITIES.map((priority) => laneRow(context, priority, data.lanes[priority], data.laneInfo[priority]))}
</tbody>
</table>
${data.lanesCapped ? html`<p class="muted">${t.lanesOfLatest(data.lanesSample)}</p>` : ''}
</section>`;
}

function laneRow(context: ViewContext, lane: Priority, waiting: number, info: LaneInfo): SafeHtml {
  const { t } = context;
  const state = info.paused
    ? t.lanePaused
    : info.flaggedUntil !== undefined
      ? t.laneFlagged(context.formatTime(info.flaggedUntil))
      : t.laneOpen;
  return html`<tr data-lane-row="${lane}">
<td>${t.priority[lane]}</td>
<td data-lane="${lane}">${waiting}</td>
<td data-lane-state="${lane}">${state}</td>
<td><div class="actions">${laneForm(context, lane, info.paused ? 'resume' : 'pause')}${laneForm(context, lane, 'clear')}</div></td>
</tr>`;
}

function scheduledSection(context: ViewContext, data: OverviewData): SafeHtml {
  const { t } = context;
  const jobs = data.nextScheduled;
  const more = data.stats.scheduled - jobs.length;
  const back = { to: 'list' as const, status: data.status };
  return html`<section id="scheduled" aria-labelledby="scheduled-h">
<h2 id="scheduled-h">${t.scheduled}</h2>
${
  jobs.length === 0
    ? html`<p class="muted">${t.scheduledNone}</p>`
    : html`<table>
<thead><tr><th class="nowrap">${t.when}</th><th>${t.rule}</th><th class="nowrap">${t.phone}</th><th>${t.lane}</th><th>${t.actions}</th></tr></thead>
<tbody>
${jobs.map(
  (job) => html`<tr data-job="${job.id}">
<td class="nowrap">${time(context, job.sendAt)}</td>
<td>${job.ruleId ?? '—'}</td>
<td class="nowrap">${phone(job)}</td>
<td>${t.priority[job.priority]}</td>
<td>${rowActions(context, job, back)}</td>
</tr>`,
)}
</tbody>
</table>
${more > 0 ? html`<p class="muted">${t.scheduledMore(more)}</p>` : ''}`
}
</section>`;
}

function recentSection(context: ViewContext, data: OverviewData): SafeHtml {
  const { t } = context;
  const back = { to: 'list' as const, status: data.status };
  const filter = (status: JobStatus | undefined, label: string) =>
    html`<li><a href="${overviewPath(context, { status })}"${data.status === status ? html` aria-current="page"` : ''}>${label}</a></li>`;
  return html`<section id="recent" aria-labelledby="recent-h">
<h2 id="recent-h">${t.recent}</h2>
<ul class="filters" aria-label="${t.filterByStatus}">
${filter(undefined, t.all)}
${FILTER_STATUSES.map((status) => filter(status, t.status[status]))}
</ul>
${
  data.jobs.length === 0
    ? html`<p class="muted">${data.status === undefined ? t.noJobs : t.noJobsWithStatus(t.status[data.status])}</p>`
    : html`${jobsTable(context, data.jobs, back)}
${data.jobs.length >= data.pageSize ? html`<p class="muted">${t.latest(data.pageSize)}</p>` : ''}`
}
<p><a href="${overviewPath(context, { status: data.status })}">${t.refresh}</a></p>
</section>`;
}
