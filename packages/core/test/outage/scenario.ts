import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { expect } from 'vitest';
import { type AnyNotifier, createNotifier, type JobQueue, MemoryLimiterStore, OlchatClient } from '../../src/index.js';
import type { LimiterStore } from '../../src/limiter/index.js';

export interface OutageSetUp {
  queue?: JobQueue;
  limiterStore?: LimiterStore;
}

export const OUTAGE_MS = 60_000;
const MESSAGES = 30;

/**
 * 30 messages queued while the vendor is away for 60 s (refusing connections, or answering 503),
 * at the vendor's real limits. Every message must arrive exactly once after it returns, none over
 * the limit, none failed or expired. Shared by the memory and Redis queue tests.
 */
export async function outageScenario(kind: 'refused' | '503', setUp: OutageSetUp = {}): Promise<void> {
  const emu: Emulator = await startEmulator();
  const limiterStore = setUp.limiterStore ?? new MemoryLimiterStore();
  const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore });
  const queue = setUp.queue;
  // A shared queue (Redis) needs the secret phones are keyed with; the memory queue takes it too.
  const secret = 'outage-scenario-secret-0123456789';
  const notifier: AnyNotifier = createNotifier({ client, secret, ...(queue ? { queue } : {}) });
  const lines: string[] = [];
  notifier.on('line', (e) => lines.push(e.state));
  const ended: string[] = [];
  notifier.on('failed', (r) => ended.push(`failed ${r.error.code}: ${r.error.message}`));
  notifier.on('expired', (r) => ended.push(`expired ${r.error.code}: ${r.error.message}`));
  try {
    if (kind === 'refused') await emu.suspend();
    else emu.fail('503', Number.POSITIVE_INFINITY);
    const texts = Array.from({ length: MESSAGES }, (_, i) => `Заказ №${i + 1} принят`);
    for (const text of texts) await notifier.send({ phone: '79123456789', text });
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    expect(notifier.line).toBe('down');
    expect(ended).toEqual([]);
    if (kind === 'refused') await emu.resume();
    else emu.clearFaults();
    await emu.waitForMessages(MESSAGES, 90_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(emu.messages.map((m) => m.text).sort()).toEqual([...texts].sort());
    expect(emu.violations).toEqual([]);
    expect(ended).toEqual([]);
    expect(notifier.stats()).toMatchObject({ queued: 0, sending: 0, failed: 0, expired: 0 });
    expect(lines).toContain('down');
    expect(lines.at(-1)).toBe('up');
  } finally {
    await notifier.close({ timeoutMs: 5_000 });
    await client.close();
    await emu.close();
  }
}
