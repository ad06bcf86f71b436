import { afterEach } from 'vitest';
import { type Emulator, type EmulatorOptions, startEmulator } from '../src/index.js';

const started: Emulator[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((emu) => emu.close()));
});

/** Starts an emulator on a free port; it is closed after the test. */
export async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ port: 0, ...options });
  started.push(emu);
  return emu;
}

/** A fake monotonic clock for deterministic window tests. */
export function fakeClock(): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let t = 1_000_000;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = 1_000_000 + ms;
    },
  };
}

export interface CallResult {
  status: number;
  body: Record<string, unknown>;
  text: string;
  headers: Headers;
}

/** GET `${baseUrl}/${token}/${method}?params`, parsed. */
export async function call(
  emu: Emulator,
  method: string,
  params: Record<string, string> = {},
  init: RequestInit & { token?: string } = {},
): Promise<CallResult> {
  const { token = emu.token, ...rest } = init;
  const qs = new URLSearchParams(params).toString();
  const res = await fetch(`${emu.baseUrl}/${encodeURIComponent(token)}/${method}${qs ? `?${qs}` : ''}`, rest);
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = {};
  }
  return { status: res.status, body, text, headers: res.headers };
}

export const PHONE = '79123456789';

export const sendTextParams = (text = 'Hello', phone = PHONE): Record<string, string> => ({
  phone_number: phone,
  body: text,
  send_to_imol: 'N',
});
