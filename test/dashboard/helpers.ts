import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  type AnyNotifier,
  type AnyRule,
  createNotifier,
  MemoryLimiterStore,
  MemoryQueue,
  OlchatClient,
  type OlchatClientOptions,
} from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';

// Scaled-down limits keep the files quick; the limiter itself is proven at vendor scale elsewhere.
export const limits = { sendText: { points: 5, durationMs: 500 }, sendFile: { points: 5, durationMs: 500 } };
export const ADMIN = { username: 'admin', password: 'correct horse battery staple' };

export type Emulator = Awaited<ReturnType<typeof startEmulator>>;

export async function startVendor(): Promise<Emulator> {
  return startEmulator({ limits });
}

export function makeNotifier(
  emu: Emulator,
  clientOptions: Partial<OlchatClientOptions> = {},
  rules: readonly AnyRule[] = [],
): AnyNotifier {
  const client = new OlchatClient({
    token: emu.token,
    baseUrl: emu.baseUrl,
    limits,
    limiterStore: new MemoryLimiterStore(),
    retry: { minDelayMs: 20, maxDelayMs: 60 },
    ...clientOptions,
  });
  return createNotifier({ client, rules, queue: new MemoryQueue() });
}

/**
 * Whether the `Authorization` header carries these credentials: the check the README's basic-auth
 * middleware makes. Both sides are hashed first, so the comparison takes the same time whatever
 * the lengths.
 */
export function isAuthorized(headers: IncomingHttpHeaders, username: string, password: string): boolean {
  const [scheme = '', encoded = ''] = (headers.authorization ?? '').split(' ');
  const given = createHash('sha256').update(Buffer.from(encoded, 'base64').toString()).digest();
  const expected = createHash('sha256').update(`${username}:${password}`).digest();
  return scheme.toLowerCase() === 'basic' && timingSafeEqual(given, expected);
}

export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
