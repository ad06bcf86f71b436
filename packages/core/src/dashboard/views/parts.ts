import type { JobError, JobStatus, Priority } from '../../job.js';
import { maskPhone } from '../../phone.js';
import type { JobRecord } from '../../queue/types.js';
import { html, type SafeHtml } from '../html.js';
import { jobPath, lanePath, type ViewContext } from './context.js';

/** Where an action sends the operator back to: the list (keeping its filter) or the job's page. */
export type ReturnTo = { to: 'list'; status?: JobStatus | undefined } | { to: 'job' };

export function statusBadge(context: ViewContext, status: JobStatus): SafeHtml {
  return html`<span class="badge badge-${status}">${context.t.status[status]}</span>`;
}

export function time(context: ViewContext, ms: number | undefined): SafeHtml {
  if (ms === undefined) return html`<span class="muted">—</span>`;
  return html`<time datetime="${new Date(ms).toISOString()}">${context.formatTime(ms)}</time>`;
}

/** `HTTP 500`, `AMBIGUOUS`: the code, with the vendor's HTTP status when there was one. */
export function errorLabel(error: JobError): string {
  return error.status === undefined ? error.code : `${error.code} ${error.status}`;
}

export function phone(record: JobRecord): string {
  return maskPhone(record.phone);
}

export function isCancellable(record: JobRecord): boolean {
  return record.status === 'scheduled' || record.status === 'queued';
}

export function isRetryable(record: JobRecord): boolean {
  return record.status === 'failed' || record.status === 'expired';
}

export function isAmbiguous(record: JobRecord): boolean {
  return record.error?.code === 'AMBIGUOUS';
}

function returnFields(back: ReturnTo): SafeHtml {
  return html`<input type="hidden" name="back" value="${back.to}">${
    back.to === 'list' && back.status !== undefined
      ? html`<input type="hidden" name="status" value="${back.status}">`
      : ''
  }`;
}

/** A one-button POST form carrying the page's token. */
export function actionForm(
  context: ViewContext,
  record: JobRecord,
  action: 'cancel' | 'retry',
  back: ReturnTo,
  extra: SafeHtml | '' = '',
): SafeHtml {
  const label = action === 'cancel' ? context.t.cancel : context.t.retry;
  return html`<form class="inline" method="post" action="${jobPath(context, record.id)}/${action}">
<input type="hidden" name="token" value="${context.token}">${returnFields(back)}${extra}
<button type="submit" class="${action === 'cancel' ? 'danger' : ''}" data-action="${action}">${label}</button>
</form>`;
}

/** Jobs as rows: when, rule, masked phone, status, error, delivery and the row's actions. */
export function jobsTable(context: ViewContext, jobs: readonly JobRecord[], back: ReturnTo): SafeHtml {
  const { t } = context;
  return html`<table id="jobs">
<thead><tr><th class="nowrap">${t.time}</th><th>${t.rule}</th><th class="nowrap">${t.phone}</th><th>${t.statusHeading}</th><th>${t.error}</th><th>${t.delivery}</th><th>${t.actions}</th></tr></thead>
<tbody>
${jobs.map(
  (job) => html`<tr data-job="${job.id}" data-status="${job.status}">
<td class="nowrap">${time(context, job.updatedAt)}</td>
<td>${job.ruleId ?? '—'}</td>
<td class="nowrap">${phone(job)}</td>
<td>${statusBadge(context, job.status)}</td>
<td>${job.error ? html`<code title="${job.error.message}">${errorLabel(job.error)}</code>` : ''}</td>
<td>${job.delivery ? t.deliveryStatus[job.delivery] : ''}</td>
<td>${rowActions(context, job, back)}</td>
</tr>`,
)}
</tbody>
</table>`;
}

/** The phone search: a POST, so a customer's phone never ends up in a URL or an access log. */
export function searchForm(context: ViewContext): SafeHtml {
  const { t } = context;
  return html`<section id="search" aria-labelledby="search-h">
<h2 id="search-h">${t.search}</h2>
<form class="search" method="post" action="${context.base}/search" role="search">
<label for="search-phone">${t.searchLabel}</label>
<input id="search-phone" name="phone" type="search" inputmode="tel" autocomplete="off" required maxlength="40">
<button type="submit">${t.searchButton}</button>
</form>
<p class="muted">${t.searchHint}</p>
</section>`;
}

/**
 * The actions a row offers. A job that may already have been delivered (`AMBIGUOUS`) is retried
 * only from its own page, where the operator has to tick the confirmation first.
 */
export function rowActions(context: ViewContext, record: JobRecord, back: ReturnTo): SafeHtml {
  return html`<div class="actions">
${isCancellable(record) ? actionForm(context, record, 'cancel', back) : ''}
${isRetryable(record) && !isAmbiguous(record) ? actionForm(context, record, 'retry', back) : ''}
<a href="${jobPath(context, record.id)}">${context.t.details}</a>
</div>`;
}

/** A lane's one-button form: pause, resume, or ask to clear its backlog (which asks to confirm first). */
export function laneForm(context: ViewContext, lane: Priority, action: 'pause' | 'resume' | 'clear'): SafeHtml {
  const { t } = context;
  const label = action === 'pause' ? t.pause : action === 'resume' ? t.resume : t.clearBacklog;
  return html`<form class="inline" method="post" action="${lanePath(context, lane)}/${action}">
<input type="hidden" name="token" value="${context.token}">
<button type="submit"${action === 'clear' ? html` class="danger"` : ''} data-lane-action="${action}" data-for="${lane}">${label}</button>
</form>`;
}

/** Lifts every pause and the line's flag (`notifier.resume()`). */
export function resumeAllForm(context: ViewContext): SafeHtml {
  return html`<form class="inline" method="post" action="${context.base}/lanes/resume">
<input type="hidden" name="token" value="${context.token}">
<button type="submit" data-action="resume-all">${context.t.resumeAll}</button>
</form>`;
}
