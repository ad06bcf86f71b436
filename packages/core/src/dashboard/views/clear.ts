import type { Priority } from '../../job.js';
import { html, type SafeHtml } from '../html.js';
import { lanePath, overviewPath, type ViewContext } from './context.js';
import { layout } from './layout.js';

/** The second step of clearing a lane's backlog: what will happen, and the button that does it. */
export function clearConfirmPage(context: ViewContext, lane: Priority): SafeHtml {
  const { t } = context;
  const name = t.priority[lane];
  return layout(
    context,
    t.clearTitle(name),
    html`<section id="clear" aria-labelledby="clear-h">
<h2 id="clear-h">${t.clearTitle(name)}</h2>
<p class="notice">${t.clearQuestion(name)}</p>
<form method="post" action="${lanePath(context, lane)}/clear">
<input type="hidden" name="token" value="${context.token}">
<input type="hidden" name="confirm" value="yes">
<button type="submit" class="danger" data-action="clear-confirm">${t.clearConfirm}</button>
</form>
<p><a href="${overviewPath(context)}">${t.back}</a></p>
</section>`,
  );
}
