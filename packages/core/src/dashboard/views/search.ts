import { maskPhone } from '../../phone.js';
import type { JobRecord } from '../../queue/types.js';
import { html, type SafeHtml } from '../html.js';
import { overviewPath, type ViewContext } from './context.js';
import { layout } from './layout.js';
import { jobsTable, searchForm } from './parts.js';

export type SearchResult = { kind: 'found'; phone: string; jobs: JobRecord[]; limit: number } | { kind: 'invalid' };

/**
 * A phone's messages, newest first. The phone is shown masked, as everywhere on the dashboard:
 * the operator typed it, the page need not repeat it whole.
 */
export function searchPage(context: ViewContext, result: SearchResult): SafeHtml {
  const { t } = context;
  const back = { to: 'job' as const };
  let body: SafeHtml;
  if (result.kind === 'invalid') {
    body = html`<h2 id="results-h">${t.search}</h2>
<p class="notice" role="alert" id="search-invalid">${t.searchInvalid}</p>`;
  } else {
    const masked = maskPhone(result.phone);
    body = html`<h2 id="results-h">${t.searchResults(masked)}</h2>
${
  result.jobs.length === 0
    ? html`<p class="muted" id="search-none">${t.searchNone(masked)}</p>`
    : html`${jobsTable(context, result.jobs, back)}
${result.jobs.length >= result.limit ? html`<p class="muted">${t.searchLatest(result.limit)}</p>` : ''}`
}`;
  }
  return layout(
    context,
    t.search,
    html`<p><a href="${overviewPath(context)}">${t.back}</a></p>
${searchForm(context)}
<section id="results" aria-labelledby="results-h">
${body}
</section>`,
  );
}
