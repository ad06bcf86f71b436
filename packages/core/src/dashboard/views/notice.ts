import { html, type SafeHtml } from '../html.js';
import { overviewPath, type ViewContext } from './context.js';
import { layout } from './layout.js';

/** A page that says why nothing was done, with the way back. */
export function noticePage(context: ViewContext, heading: string, text: string): SafeHtml {
  return layout(
    context,
    heading,
    html`<section id="notice" role="alert">
<h2>${heading}</h2>
<p>${text}</p>
<p><a href="${overviewPath(context)}">${context.t.back}</a></p>
</section>`,
  );
}
