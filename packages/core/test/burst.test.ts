import { startEmulator } from '@olchat-kit/testing';
import { describe, expect, it, vi } from 'vitest';
import { maxInAnyWindow } from '../../../test/helpers/waiting.js';
import { MemoryLimiterStore, OlchatClient } from '../src/index.js';

describe('bursts against the emulator (vendor limits, random latency)', () => {
  it('40 sendText: all delivered, the first 5 at once, never more than 5 in any 3 s, no 429', async () => {
    const emu = await startEmulator({ latencyMs: [0, 150] });
    // The first five must go at once: an empty window at the start (this emulator is new, nothing
    // used it before; restart.test.ts covers the window a previous process may have used).
    const limiterStore = new MemoryLimiterStore({ assumeRecentUse: false });
    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore });
    try {
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => client.sendText({ phone: '+7 912 345 67 89', text: `Заказ №${i}` })),
      );
      const elapsed = Date.now() - started;
      expect(results.every((r) => typeof r.messageId === 'string')).toBe(true);
      expect(emu.messages).toHaveLength(40);
      expect(new Set(emu.messages.map((m) => m.text)).size).toBe(40);
      expect(emu.violations).toHaveLength(0);
      expect(emu.requests.every((r) => r.status === 200)).toBe(true);
      const arrivals = emu.requests.map((r) => r.at);
      expect(maxInAnyWindow(arrivals, 3000)).toBeLessThanOrEqual(5);
      // A burst of up to N is not held back: the first five went out together.
      expect((arrivals[4] as number) - started).toBeLessThan(1000);
      // (40/5 − 1) × 3 s = 21 s is the floor; the bench measures the ratio, this only catches a stall.
      expect(elapsed).toBeGreaterThanOrEqual(21_000);
      expect(elapsed).toBeLessThan(21_000 * 1.5);
    } finally {
      await client.close();
      await emu.close();
    }
  }, 90_000);

  it('15 checkPhone: never more than 3 in any 1 s, no 429', async () => {
    const emu = await startEmulator({ latencyMs: [0, 80] });
    const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
    try {
      await Promise.all(Array.from({ length: 15 }, () => client.checkPhone({ phone: '8 912 345 67 89' })));
      expect(emu.requests).toHaveLength(15);
      expect(emu.violations).toHaveLength(0);
      expect(
        maxInAnyWindow(
          emu.requests.map((r) => r.at),
          1000,
        ),
      ).toBeLessThanOrEqual(3);
    } finally {
      await client.close();
      await emu.close();
    }
  }, 60_000);

  it('two clients on one token share one limit through the default store', async () => {
    const emu = await startEmulator();
    const a = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl });
    const b = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl });
    try {
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).sendText({ phone: '+79123456789', text: `${i}` })),
      );
      expect(emu.violations).toHaveLength(0);
      expect(
        maxInAnyWindow(
          emu.requests.map((r) => r.at),
          3000,
        ),
      ).toBeLessThanOrEqual(5);
    } finally {
      await a.close();
      await b.close();
      await emu.close();
    }
  }, 60_000);
});

describe('a wall-clock jump', () => {
  it('forward by an hour mid-burst frees no slot early', async () => {
    const limits = { sendText: { points: 2, durationMs: 400 } };
    const emu = await startEmulator({ limits }); // counts on the monotonic clock
    const client = new OlchatClient({
      token: emu.token,
      baseUrl: emu.baseUrl,
      limits,
      limiterStore: new MemoryLimiterStore(),
    });
    const realNow = Date.now.bind(Date);
    try {
      await Promise.all([0, 1].map((i) => client.sendText({ phone: '79123456789', text: `before ${i}` })));
      vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
      await Promise.all([0, 1, 2, 3].map((i) => client.sendText({ phone: '79123456789', text: `after ${i}` })));
      expect(emu.messages).toHaveLength(6);
      expect(emu.violations).toHaveLength(0);
    } finally {
      vi.restoreAllMocks();
      await client.close();
      await emu.close();
    }
  });
});
