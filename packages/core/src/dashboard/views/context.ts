import type { Messages } from '../i18n.js';

/** What every view needs: the words, where the dashboard is mounted, how to print a time. */
export interface ViewContext {
  t: Messages;
  lang: string;
  title: string;
  /** The mount point without a trailing slash ('' at the root). */
  base: string;
  timeZone: string;
  formatTime(ms: number): string;
  /** A fresh token for this page's forms. */
  token: string;
  now: number;
}

export function jobPath(context: ViewContext, id: string): string {
  return `${context.base}/jobs/${encodeURIComponent(id)}`;
}

export function lanePath(context: ViewContext, lane: string): string {
  return `${context.base}/lanes/${encodeURIComponent(lane)}`;
}

export function overviewPath(context: ViewContext, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, value);
  const search = params.toString();
  return `${context.base}/${search === '' ? '' : `?${search}`}`;
}
