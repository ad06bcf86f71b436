import { vi } from 'vitest';
import {
  AmbiguousError,
  type CallOptions,
  HttpError,
  MemoryLimiterStore,
  NetworkError,
  OlchatClient,
  type SendFileParams,
  type SendResult,
  type SendTextParams,
  VendorError,
} from '../../src/index.js';
import type { AnyNotifier } from '../../src/notifier/types.js';

/** `refusing`: the vendor answers 200 `{ result: false }` (a send it read and refused). */
export type VendorMode = 'ok' | 'refused' | '503' | '401' | 'hang' | 'refusing';

export interface FakeSend {
  phone: string;
  text: string;
  at: number;
}

/**
 * A client whose vendor lives in this process, for tests that drive time with a fake clock (the
 * real client and emulator talk over sockets, which a fake clock cannot hurry). Failures are the
 * client's real error classes, so the notifier's reading of them is what runs in production; the
 * limiter and the HTTP path are proven against the emulator elsewhere.
 */
export class FakeVendor extends OlchatClient {
  readonly sent: FakeSend[] = [];
  mode: VendorMode = 'ok';
  connected = true;
  /** What checkStatus answers besides `connected` (the raw answer the notifier reads for a flag). */
  statusRaw: Record<string, unknown> = {};
  statusChecks = 0;
  attempts = 0;
  #hung: (() => void)[] = [];
  #next = 0;

  constructor() {
    // The notifier still reserves limit slots through this client (slot first): from a store that
    // has seen no send, as a fake clock's process has no previous run to hold a window for.
    super({
      token: 'fake-token',
      baseUrl: 'http://127.0.0.1:9/rest/webhook/wa',
      limiterStore: new MemoryLimiterStore({ assumeRecentUse: false }),
    });
  }

  /** Lets every hung request answer (as accepted). */
  release(): void {
    for (const resume of this.#hung.splice(0)) resume();
  }

  override async sendText(params: SendTextParams, options: CallOptions = {}): Promise<SendResult> {
    await options.beforeAttempt?.({ method: 'sendText', attempt: 1 });
    this.attempts++;
    if (this.mode === 'hang') await new Promise<void>((resolve) => this.#hung.push(resolve));
    else this.#fail();
    this.sent.push({ phone: params.phone, text: params.text, at: Date.now() });
    return { messageId: `m${++this.#next}`, raw: { result: true } };
  }

  override async sendFile(params: SendFileParams, options: CallOptions = {}): Promise<SendResult> {
    return this.sendText({ phone: params.phone, text: params.url }, options);
  }

  override async checkStatus(): Promise<{ connected?: boolean; raw: unknown }> {
    this.statusChecks++;
    if (this.mode !== 'refusing') this.#fail();
    return { connected: this.connected, raw: this.statusRaw };
  }

  #fail(): void {
    if (this.mode === 'refused') throw new NetworkError('Could not connect to OLChat (ECONNREFUSED); nothing was sent');
    if (this.mode === '503') throw new HttpError(503, 'OLChat sendText answered HTTP 503', '');
    if (this.mode === '401') throw new HttpError(401, 'OLChat sendText answered HTTP 401', '');
    if (this.mode === 'refusing') {
      throw new VendorError('OLChat sendText reported a failure: not sent', { result: false, error: 'not sent' }, 200);
    }
  }
}

/** Where the fake clock of these tests starts: a Saturday noon in Moscow. */
export const FAKE_NOW = new Date('2026-11-28T12:00:00+03:00');

/** Starts a test on the fake clock, with a vendor of its own. */
export function startFakeClock(): FakeVendor {
  vi.useFakeTimers({ now: FAKE_NOW });
  return new FakeVendor();
}

/** Ends it: hung requests answer, the notifier drains and closes on fake time, real timers again. */
export async function stopFakeClock(vendor: FakeVendor, notifier: AnyNotifier | undefined): Promise<void> {
  vendor.release();
  const closing = notifier?.close({ timeoutMs: 1_000 });
  await vi.advanceTimersByTimeAsync(2_000);
  await closing;
  vi.useRealTimers();
}

export { AmbiguousError };
