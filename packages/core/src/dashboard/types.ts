import type { HandlerLogger, HandlerRequest, HandlerResponse } from '../http/types.js';
import type { DashboardLang } from './i18n.js';

export type { DashboardLang };

export interface DashboardOptions {
  /** The page's language. Default `'ru'`. */
  lang?: DashboardLang;
  /** The page's heading. Default "Очередь WhatsApp" (or "WhatsApp queue"). */
  title?: string;
  /**
   * Where the browser sees the dashboard (`'/admin/olchat'`), for its links and forms. Default: where
   * the adapter mounted it (`req.baseUrl` in Express, the prefix in Koa). Give it when a proxy serves
   * the app below a path of its own, or when your adapter cannot tell.
   */
  basePath?: string;
  /** Recent jobs shown. Default 50, at most 500. */
  pageSize?: number;
  /** The IANA zone times are shown in. Default `'Europe/Moscow'`. */
  timeZone?: string;
  /**
   * Signs the forms' tokens (at least 32 characters). Default: random per process, which is right
   * for one process; give the same secret to every process behind one load balancer.
   */
  secret?: string;
  /**
   * Origins whose forms are accepted besides the request's own `Host` (`'https://admin.example.com'`):
   * for a proxy that rewrites `Host`.
   */
  allowedOrigins?: readonly string[];
  /** Where unexpected errors are reported (the page says only that something failed). Default: console.error. */
  logger?: HandlerLogger;
}

/** The handler's request, plus where the dashboard is mounted when the adapter knows it. */
export interface DashboardRequest extends HandlerRequest {
  /** The mount point (`req.baseUrl` in Express, the router's prefix in Koa); the `basePath` option wins. */
  basePath?: string | undefined;
}

export interface OlchatDashboard {
  /** The answer for a request below the mount point; undefined for a path the dashboard does not serve. */
  handle(request: DashboardRequest): Promise<HandlerResponse | undefined>;
  /** The paths to register with a router, below its prefix. */
  readonly routes: readonly string[];
}
