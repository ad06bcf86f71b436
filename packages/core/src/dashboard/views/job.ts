import type { JobRecord } from '../../queue/types.js';
import { type HtmlValue, html, type SafeHtml } from '../html.js';
import { overviewPath, type ViewContext } from './context.js';
import { layout } from './layout.js';
import { actionForm, isAmbiguous, isCancellable, isRetryable, phone, statusBadge, time } from './parts.js';

/** Every field of a job's record; the error message and meta are user data, printed as text. */
export function jobPage(context: ViewContext, record: JobRecord, flash?: string): SafeHtml {
  const { t } = context;
  const f = t.fields;
  const rows: [string, HtmlValue][] = [
    [f.id, html`<code>${record.id}</code>`],
    [t.statusHeading, statusBadge(context, record.status)],
    [t.rule, record.ruleId ?? '—'],
    [t.phone, phone(record)],
    [t.lane, t.priority[record.priority]],
    [f.attempts, record.attempts],
    [f.messageId, record.messageId ?? '—'],
    [f.createdAt, time(context, record.createdAt)],
    [f.updatedAt, time(context, record.updatedAt)],
    [f.sendAt, time(context, record.sendAt)],
    [f.notAfter, time(context, record.notAfter)],
    ...messageRows(context, record),
    [f.replaceKey, record.replaceKey ?? '—'],
    [t.delivery, record.delivery ? t.deliveryStatus[record.delivery] : '—'],
    [f.deliveryCheckedAt, time(context, record.deliveryCheckedAt)],
  ];
  if (record.error) {
    rows.push(
      [f.errorCode, html`<code id="error-code">${record.error.code}</code>`],
      [f.errorStatus, record.error.status ?? '—'],
      [f.errorMessage, html`<span id="error-message">${record.error.message}</span>`],
    );
  }
  return layout(
    context,
    t.job(record.id),
    html`${flash !== undefined ? html`<p class="flash" role="status">${flash}</p>` : ''}
<p><a href="${overviewPath(context)}">${t.back}</a></p>
<section id="job" aria-labelledby="job-h">
<h2 id="job-h">${t.job(record.id)}</h2>
<dl>
${rows.map(([name, value]) => html`<dt>${name}</dt><dd>${value}</dd>`)}
<dt>${f.meta}</dt><dd>${record.meta === undefined ? '—' : html`<pre id="meta">${JSON.stringify(record.meta, null, 2)}</pre>`}</dd>
</dl>
</section>
${jobActions(context, record)}`,
  );
}

/** What was sent: the text, or the file and its caption (printed as text, never as markup). */
function messageRows(context: ViewContext, record: JobRecord): [string, HtmlValue][] {
  const f = context.t.fields;
  if (record.text !== undefined) return [[f.text, html`<pre id="text">${record.text}</pre>`]];
  if (record.file !== undefined) {
    return [
      [f.fileUrl, html`<code id="file-url">${record.file.url}</code>`],
      [f.caption, record.file.caption === undefined ? '—' : html`<pre id="caption">${record.file.caption}</pre>`],
    ];
  }
  // A skipped job never had one; otherwise it was dropped once the job finished.
  return record.status === 'skipped' ? [] : [[f.text, html`<span class="muted">${context.t.textNotKept}</span>`]];
}

function jobActions(context: ViewContext, record: JobRecord): SafeHtml | '' {
  const { t } = context;
  const back = { to: 'job' as const };
  if (isCancellable(record)) return html`<section>${actionForm(context, record, 'cancel', back)}</section>`;
  if (!isRetryable(record)) return '';
  if (!isAmbiguous(record)) return html`<section>${actionForm(context, record, 'retry', back)}</section>`;
  // The browser asks for the tick (required); the server refuses without it all the same.
  const confirm = html`<label class="confirm"><input type="checkbox" name="ambiguous" value="true" required> ${t.ambiguousConfirm}</label>`;
  return html`<section id="ambiguous">
<p class="notice">${t.ambiguousNote}</p>
${actionForm(context, record, 'retry', back, confirm)}
</section>`;
}
