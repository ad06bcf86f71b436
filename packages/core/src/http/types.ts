import type { TriggerResult } from '../notifier/types.js';
import type { InboundError } from './errors.js';
import type { FormLocale } from './locale.js';

/**
 * What an adapter hands the handler: one shape for every framework. `body` is the raw request
 * stream, or `{ parsed }` when the app's own body parser already consumed it.
 */
export interface HandlerRequest {
  method: string;
  /** The path below the mount point (or the full path when the `prefix` option is set). */
  path: string;
  /**
   * The raw query string (without `?`), read only by the GET trigger (`queryTrigger`). When absent,
   * whatever follows `?` in `path` is the query.
   */
  query?: string | undefined;
  /** Lower-case names, as Node's `IncomingHttpHeaders`. */
  headers: Record<string, string | string[] | undefined>;
  /** The socket's remote address. Forwarded headers count only as far as `trustProxy` says. */
  ip?: string | undefined;
  body?: AsyncIterable<Uint8Array | string> | { parsed: unknown } | undefined;
}

/** What the adapter writes back. `body` is undefined only for answers without content (204). */
export interface HandlerResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

export interface InboundLimit {
  points: number;
  durationMs: number;
}

export interface InboundLimitsOptions {
  /** Form submissions (and `notify()` calls) per client IP. Default 10 a minute; false: off. */
  perIp?: InboundLimit | false;
  /** Messages queued per recipient phone by forms and `notify()`. Default 5 an hour; false: off. */
  perPhone?: InboundLimit | false;
}

/**
 * Which proxies to believe about the client's address. false (default): the socket's address.
 * true: the left-most `X-Forwarded-For` entry. A number: that many proxies in front of the app.
 * A function: `(address, hop) => trusted`, asked from the socket outwards (hop 0 is the socket).
 */
export type TrustProxy = boolean | number | ((address: string, hop: number) => boolean);

export type CorsOption = boolean | { origin: string | readonly string[] | ((origin: string) => boolean) };

export interface HandlerLogger {
  error(obj: object, msg?: string): void;
}

export interface QueryTriggerOptions {
  /**
   * The value callers put in the `secret` query parameter (at least 16 characters). Compared in
   * constant time, removed from the data, never logged.
   */
  secret: string;
}

export interface HandlerOptions {
  /**
   * Enables the API routes for `Authorization: Bearer <apiKey>`: `POST /messages`, `GET` and
   * `DELETE /messages/:id`, `POST /messages/:id/retry`, `GET`, `PUT` and `DELETE /suppressions/:phone`,
   * `POST /replies`.
   */
  apiKey?: string;
  /** Where a browser form is sent (303) after a successful `POST /forms/:ruleId`. */
  redirect?: string;
  /** Largest request body read, in bytes. Default 64 KiB. */
  maxBodyBytes?: number;
  /** A form field bots fill and people do not see. When filled, the answer looks ordinary and nothing is sent. Default off. */
  honeypot?: string | false;
  /** CORS for the handler's routes: true allows any origin. Default false. */
  cors?: CorsOption;
  trustProxy?: TrustProxy;
  /** Default: per IP 10 a minute, per recipient phone 5 an hour. false turns both off. */
  inboundLimits?: InboundLimitsOptions | false;
  /**
   * Also accept `GET /forms/:ruleId?secret=…&field=…` (Bitrix24's "Outgoing webhook" robot, simple 1C
   * code): the query is the form's data, with the same validation, honeypot and inbound limits as the
   * POST route. Also `GET /replies?secret=…&phone=…&text=…`: a customer's reply forwarded by a
   * Bitrix24 robot from the open line. Default off: GET answers 405.
   */
  queryTrigger?: QueryTriggerOptions;
  /**
   * The language of a form's `400 invalid_input` issues (the form routes and `notify()`): `'ru'`
   * (default) for the customer, `'en'` as the rule's schema and the library say them. A schema's own
   * Russian messages are kept either way; the messages API (apiKey) always answers as the library does.
   */
  locale?: FormLocale;
  /** The handler answers only below this path (the Koa router's prefix). */
  prefix?: string;
  /** How long `GET /health` reuses OLChat's line status. Default 30 000 ms. */
  healthCacheMs?: number;
  /** Where unexpected errors are reported (they are answered 500 without detail). Default: console.error. */
  logger?: HandlerLogger;
}

/** The options `notify()` takes from the handler's: the rest concern the router's own routes. */
export type NotifyHandlerOptions = Pick<
  HandlerOptions,
  'maxBodyBytes' | 'honeypot' | 'trustProxy' | 'inboundLimits' | 'logger' | 'locale'
>;

export interface NotifyHooks {
  /** Called with the parsed body before `from`: the adapter puts it where the app expects it. */
  onBody?: (body: unknown) => void;
  /** The data to trigger the rule with. Default: the parsed body. */
  from?: () => unknown;
}

export type NotifyOutcome =
  | { ok: true; job: TriggerResult }
  | { ok: false; error: InboundError; response: HandlerResponse };
