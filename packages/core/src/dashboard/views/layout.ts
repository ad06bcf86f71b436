import { ASSETS } from '../assets.js';
import { type HtmlValue, html, type SafeHtml } from '../html.js';
import { overviewPath, type ViewContext } from './context.js';

const [CSS, ICON] = ASSETS;

/** The document around every page: the stylesheet and icon (both served here), header and footer. */
export function layout(context: ViewContext, heading: string, content: HtmlValue): SafeHtml {
  const { t, base } = context;
  return html`<!doctype html>
<html lang="${context.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${heading === context.title ? context.title : `${heading} · ${context.title}`}</title>
<link rel="stylesheet" href="${base}${CSS?.path}?v=${CSS?.version}">
<link rel="icon" href="${base}${ICON?.path}?v=${ICON?.version}" type="image/svg+xml">
</head>
<body>
<header>
<h1>${context.title}</h1>
<nav><a href="${overviewPath(context)}">${t.overview}</a></nav>
</header>
<main>
${content}
</main>
<footer>${t.timesIn(context.timeZone)}</footer>
</body>
</html>
`;
}
