import { createHash } from 'node:crypto';

/** The page's only stylesheet: system fonts, nothing fetched from anywhere else. */
const CSS = `
:root {
  color-scheme: light;
  --fg: #1d2330; --muted: #5d6678; --line: #dde1e8; --bg: #f5f6f8; --card: #fff;
  --accent: #0b6e4f; --up: #157347; --down: #b02a37; --unknown: #8a6d00; --warn-bg: #fff4d6;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header { background: #16303f; color: #fff; padding: 12px 24px; display: flex; gap: 24px; align-items: baseline; }
header h1 { margin: 0; font-size: 18px; font-weight: 600; }
header a { color: #cfe6ff; }
main { padding: 16px 24px 32px; max-width: 1280px; }
footer { color: var(--muted); font-size: 13px; padding: 0 24px 24px; }
a { color: #0a58ca; }
h2 { font-size: 16px; margin: 0 0 10px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 16px; }
.grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); }
.grid > section { margin-bottom: 0; }
button { white-space: nowrap; }
.grid + section, .grid + .grid { margin-top: 16px; }
dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.state { font-weight: 600; font-size: 17px; }
.state-up { color: var(--up); }
.state-down { color: var(--down); }
.state-unknown { color: var(--unknown); }
.state-flagged { color: var(--down); }
.muted { color: var(--muted); }
.counts { display: flex; flex-wrap: wrap; gap: 8px 20px; margin: 0; padding: 0; list-style: none; }
.counts a { display: block; text-decoration: none; color: var(--muted); }
.counts a:hover span { text-decoration: underline; }
.counts b { font-size: 20px; display: block; color: var(--fg); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; font-size: 13px; }
td.nowrap, th.nowrap { white-space: nowrap; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; }
pre { background: #f0f2f5; border-radius: 6px; padding: 10px; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; background: #e9ecef; white-space: nowrap; }
.badge-sent { background: #d1e7dd; }
.badge-failed, .badge-expired { background: #f8d7da; }
.badge-scheduled { background: #e0e7ff; }
.badge-queued, .badge-sending { background: #fff3cd; }
.filters { display: flex; flex-wrap: wrap; gap: 6px; margin: 0 0 10px; padding: 0; list-style: none; }
.filters a { display: inline-block; padding: 2px 10px; border: 1px solid var(--line); border-radius: 14px; text-decoration: none; color: var(--fg); }
.filters a[aria-current="page"] { background: var(--accent); border-color: var(--accent); color: #fff; }
.actions { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; }
form.inline { display: inline; margin: 0; }
button { font: inherit; font-size: 13px; padding: 2px 10px; border-radius: 6px; border: 1px solid #9aa3b2; background: #fff; cursor: pointer; }
button:hover { background: #eef1f5; }
button.danger { border-color: var(--down); color: var(--down); }
.flash { background: #d1e7dd; border: 1px solid #a3cfbb; border-radius: 8px; padding: 10px 14px; margin-bottom: 16px; }
.notice { background: var(--warn-bg); border: 1px solid #ecd48a; border-radius: 8px; padding: 10px 14px; margin-bottom: 16px; }
.confirm { display: flex; gap: 8px; align-items: center; margin: 8px 0; }
form.search { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 0 0 6px; }
form.search input { font: inherit; padding: 3px 8px; border: 1px solid #9aa3b2; border-radius: 6px; min-width: 16em; }
`.trim();

/** A small mark for the tab, served here so the browser asks no one else for a favicon. */
const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#16303f"/><path d="M8 11h16M8 16h16M8 21h10" stroke="#7fd1ae" stroke-width="3" stroke-linecap="round"/></svg>`;

export interface Asset {
  path: string;
  type: string;
  body: string;
  /** Changes with the content: put in the link so a cached copy is never stale. */
  version: string;
}

function asset(path: string, type: string, body: string): Asset {
  return { path, type, body, version: createHash('sha256').update(body).digest('hex').slice(0, 12) };
}

export const ASSETS: readonly Asset[] = [
  asset('/assets/dashboard.css', 'text/css; charset=utf-8', CSS),
  asset('/assets/icon.svg', 'image/svg+xml', ICON),
];

export function assetAt(path: string): Asset | undefined {
  return ASSETS.find((candidate) => candidate.path === path);
}
