import type { WhatsappLineState, WhatsappOptions } from './whatsapp.js';

export type { FlagReason, FlagThresholds, WhatsappLineState, WhatsappOptions } from './whatsapp.js';

/** The OLChat REST API (v1) methods the emulator knows. */
export type OlchatMethod = 'sendText' | 'sendFile' | 'checkPhone' | 'checkStatus' | 'checkMessageStatus';

/** A limit of `points` requests in any interval of `durationMs` (a strict sliding window). */
export interface EmulatorLimit {
  points: number;
  durationMs: number;
}

/** Per-method limit overrides; methods left out keep the vendor's defaults. */
export type EmulatorLimits = Partial<Record<OlchatMethod, EmulatorLimit>>;

/**
 * A message's delivery status as `checkMessageStatus` reports it and the inbox page shows it:
 * 'sent' (accepted, one grey tick), 'delivered' (two grey ticks), 'read' (two blue ticks),
 * 'failed' (a red mark; only ever set by hand with `emu.setDelivery`).
 */
export type EmulatorMessageStatus = 'sent' | 'delivered' | 'read' | 'failed';

/**
 * When accepted messages change status by themselves, in ms after acceptance, measured on the
 * emulator's `clock` (so a fake clock drives it). Left out: that status never comes by itself
 * (it can still be set with `emu.setDelivery`). 0 means at once.
 */
export interface EmulatorDelivery {
  /** 'sent' becomes 'delivered' this long after acceptance. */
  deliveredAfterMs?: number;
  /** The message becomes 'read' this long after acceptance (not less than `deliveredAfterMs` when both are given). */
  readAfterMs?: number;
}

/** What the next answers become after `emu.fail(mode)`. */
export type FailMode = '429' | '500' | '502' | '503' | 'timeout' | 'drop';

/** What a latency function is told about the request it delays. */
export interface LatencyInfo {
  /** The method segment of the path (may be a method the emulator does not know). */
  method: string;
  /** The HTTP verb. */
  httpMethod: string;
  /** Index of the request's token in `tokens`, or -1 for an unknown token. */
  tokenIndex: number;
  /** The status about to be answered; 0 when no answer will be written ('drop'). */
  status: number;
}

/**
 * A delay in milliseconds applied after a request's arrival is stamped and before it is answered:
 * a fixed number, a `[min, max]` range (uniform random), or a function of the request.
 */
export type Latency = number | readonly [min: number, max: number] | ((info: LatencyInfo) => number);

export interface EmulatorOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; default '127.0.0.1'. */
  host?: string;
  /** Webhook tokens the emulator accepts; default ['test-token']. */
  tokens?: readonly string[];
  /** Per-method limit overrides (default: every method 5 per 3000 ms, checkPhone 3 per 1000 ms). */
  limits?: EmulatorLimits;
  /** Delay before every API answer; default none. */
  latencyMs?: Latency;
  /** What checkStatus reports; default true. */
  connected?: boolean;
  /**
   * How accepted messages move from 'sent' to 'delivered' and 'read' by themselves; default: never
   * (they stay 'sent' unless `emu.setDelivery` changes them).
   */
  delivery?: EmulatorDelivery;
  /**
   * WhatsApp's side of the vendor's guidance: with this option, a line (token) that writes to too
   * many new recipients in a day (a line younger than 10 days: more than 20), sends one text to too
   * many people, or sends shortened links gets flagged, and `checkStatus` answers spam suspicion.
   * Without it, the counts are kept (`emu.whatsapp`) but only `emu.setFlagged` flags a line.
   */
  whatsapp?: WhatsappOptions;
  /** Most records kept in each of `messages`, `requests` and `violations` (oldest dropped first); default 10 000. */
  maxRecords?: number;
  /** Largest accepted POST body in bytes (413 beyond); default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Monotonic clock (ms) for the window math and the delivery schedule; default `performance.now`.
   * Tests may pass a fake one.
   */
  clock?: () => number;
  /**
   * Shows a "send N" button on the inbox page that calls this (a demo queues a burst through its
   * own notifier, so a person can watch the limiter pace it). `POST /inbox/burst?count=N`.
   */
  onBurst?: (count: number) => unknown | Promise<unknown>;
}

/** A message the emulator accepted (sendText or sendFile). */
export interface EmulatorMessage {
  /** The `message_id` answered to the client. */
  id: string;
  method: 'sendText' | 'sendFile';
  /** Index of the token it came with in `tokens`. */
  tokenIndex: number;
  /** Recipient, as sent: 11 digits starting with 7. */
  phone: string;
  /** sendText: the text. */
  text?: string;
  /** sendFile: the file URL. */
  url?: string;
  /** sendFile: the caption, when given. */
  caption?: string;
  /** send_to_imol=Y */
  sendToImol: boolean;
  /** Arrival time, ms since the epoch. */
  at: number;
  /**
   * The current delivery status, read live: it follows `delivery` on the emulator's clock until
   * `emu.setDelivery` sets it by hand. An enumerable getter, so JSON and `toEqual` see it.
   */
  readonly status: EmulatorMessageStatus;
}

/** A request that reached a known method with a known token (the token itself is never stored). */
export interface EmulatorRequest {
  method: OlchatMethod;
  /** Index of the token in `tokens`. */
  tokenIndex: number;
  /** Arrival time, ms since the epoch. */
  at: number;
  /** The answered status; 0 while pending or when no answer was written ('timeout', 'drop'). */
  status: number;
  /** The `phone_number` param, when given (at most 32 characters kept). */
  phone?: string;
  /** The injected fault this request consumed, if any. */
  fault?: FailMode;
  /** True when it broke a sliding-window limit (answered 429). */
  violation: boolean;
}

/** A request that broke a sliding-window limit; it was answered 429. */
export interface EmulatorViolation {
  method: OlchatMethod;
  tokenIndex: number;
  /** Arrival time, ms since the epoch. */
  at: number;
  /** Earlier arrivals of this token and method within the window (the window keeps at most `points`). */
  inWindow: number;
  points: number;
  durationMs: number;
}

export interface Emulator {
  /** `http://HOST:PORT/rest/webhook/wa`: pass it as the client's `baseUrl`. */
  readonly baseUrl: string;
  /** `http://HOST:PORT`; the inbox page is at `${url}/`, its data at `${url}/inbox.json`. */
  readonly url: string;
  /** The first token. */
  readonly token: string;
  readonly tokens: readonly string[];
  /** Accepted messages, oldest first (a live array, cleared in place by `reset()`). */
  readonly messages: readonly EmulatorMessage[];
  /** Requests to a known method with a known token, in arrival order (live array). */
  readonly requests: readonly EmulatorRequest[];
  /** Requests that broke a limit, in arrival order (live array). */
  readonly violations: readonly EmulatorViolation[];
  /**
   * The next `count` API answers (default 1) become `mode`; `Infinity` keeps answering `mode` until
   * `clearFaults()` or `reset()` (failures queued after it never come). Violations still answer
   * 429 and consume none.
   */
  fail(mode: FailMode, count?: number): void;
  /** Drops every pending failure, an endless one included; the next answers are normal. */
  clearFaults(): void;
  /** Changes the latency from now on; `undefined` or 0 removes it. */
  setLatency(latency: Latency | undefined): void;
  /**
   * What checkStatus reports from now on: `{ result: true, status: 'connected', connected: true }`
   * or `{ result: true, status: 'disconnected', connected: false }`.
   */
  setConnected(connected: boolean): void;
  /**
   * The first line's (token's) last 24 h as WhatsApp would judge it: new recipients, the most
   * recipients of one identical text, messages with a shortened link, and whether it is flagged.
   * A fresh snapshot on every read.
   */
  readonly whatsapp: WhatsappLineState;
  /** The same for the line of `tokens[tokenIndex]`. */
  whatsappOf(tokenIndex: number): WhatsappLineState;
  /**
   * Flags a line by hand (`checkStatus` answers spam suspicion from now on), or lifts its flag;
   * default the first token's. `reset()` lifts every flag and clears the counts.
   */
  setFlagged(flagged: boolean, tokenIndex?: number): void;
  /**
   * Sets a message's status by hand ('delivered', 'read' or 'failed'); it replaces the `delivery`
   * schedule for that message and stays until set again. Throws for an id not in `messages`.
   */
  setDelivery(messageId: string, status: 'delivered' | 'read' | 'failed'): void;
  /** Resolves with `messages` once at least `count` are stored; rejects after `timeoutMs` (default 10 000). */
  waitForMessages(count: number, timeoutMs?: number): Promise<readonly EmulatorMessage[]>;
  /** Clears messages, requests, violations, pending failures (endless ones too), the limit windows, and the WhatsApp counts and flags. */
  reset(): void;
  /**
   * An outage: the listener closes (new connections get ECONNREFUSED) and open sockets are
   * destroyed (requests in flight get no answer). Messages, requests, violations, windows, pending
   * failures and settings are all kept. Resolves once nothing listens; a no-op when suspended.
   */
  suspend(): Promise<void>;
  /**
   * Listens again on the same host and port, so `baseUrl` and `url` work as before. A no-op when
   * not suspended. Rejects after `close()`, or when another process took the port meanwhile.
   */
  resume(): Promise<void>;
  /** Stops the server, destroying open sockets (hanging 'timeout' requests included). */
  close(): Promise<void>;
}
