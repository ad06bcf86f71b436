import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Emulator, startEmulator } from '@olchat-kit/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { maxInAnyWindow } from '../../../test/helpers/waiting.js';
import { MemoryLimiterStore } from '../src/index.js';
import { isLease } from '../src/limiter/store.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/restart-sender.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../dist/index.js', import.meta.url));

// The vendor's 5 per 3 s stretched to 5 per 5 s: the second run then surely starts inside the window
// of the first run's sends, even on a loaded machine, so the test shows what a restart does.
const WINDOW_MS = 5_000;
const MARGIN_MS = 50;
const limits = { sendText: { points: 5, durationMs: WINDOW_MS } };

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

/** One run of the app as its own process; resolves with when its answers came (ms since its start). */
function run(config: { label: string; count: number; assumeRecentUse?: boolean }): Promise<number[]> {
  const env = { ...process.env, OLCHAT_FIXTURE: JSON.stringify({ ...config, limits, ...connection() }) };
  const child = spawn(process.execPath, [FIXTURE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the run exited with ${code}:\n${output}`));
      resolve((JSON.parse(output) as { answeredAtMs: number[] }).answeredAtMs);
    });
  });
}

function connection() {
  return { baseUrl: emu?.baseUrl, token: emu?.token };
}

const arrivals = () => (emu?.requests ?? []).filter((r) => r.method === 'sendText').map((r) => r.at);

describe('a restart', () => {
  it('a process started right after one that used the whole window sends nothing more until it ends: 0 violations', async () => {
    expect(existsSync(BUILT), 'build first: pnpm -r build (pnpm test does)').toBe(true);
    emu = await startEmulator({ limits });
    await run({ label: 'before', count: 5 });
    const after = await run({ label: 'after', count: 5 });
    expect(emu.messages).toHaveLength(10);
    expect(emu.violations).toEqual([]);
    expect(maxInAnyWindow(arrivals(), WINDOW_MS)).toBe(5);
    // It waited for one window after its start, not more (a generous bound: the start of a process
    // itself takes time on a loaded machine).
    expect(Math.min(...after)).toBeGreaterThanOrEqual(WINDOW_MS + MARGIN_MS);
    expect(Math.min(...after)).toBeLessThan(2 * WINDOW_MS);
  }, 60_000);

  it('with assumeRecentUse: false (an emulator started with the app) a fresh process sends at once', async () => {
    expect(existsSync(BUILT), 'build first: pnpm -r build (pnpm test does)').toBe(true);
    emu = await startEmulator({ limits });
    const answered = await run({ label: 'fresh', count: 5, assumeRecentUse: false });
    expect(emu.messages).toHaveLength(5);
    expect(Math.max(...answered)).toBeLessThan(WINDOW_MS);
  }, 60_000);
});

describe('MemoryLimiterStore right after the process started', () => {
  // A fake clock's performance.now() starts at 0: the store sees a process that has just started.
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds every slot until T + margin after the start, then lets a burst of N through at once', async () => {
    vi.useFakeTimers({ toFake: ['performance', 'setTimeout', 'clearTimeout', 'Date'] });
    const store = new MemoryLimiterStore();
    const hold = 3_050;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await store.tryAcquire('token:sendText', 5, 60_000, hold)).toEqual({ retryInMs: 2_050 });
    await vi.advanceTimersByTimeAsync(2_050);
    const leases = await Promise.all(
      Array.from({ length: 5 }, () => store.tryAcquire('token:sendText', 5, 60_000, hold)),
    );
    expect(leases.every(isLease)).toBe(true);
  });

  it('holds nothing when told not to, or when the caller names no hold (a shared store’s contract)', async () => {
    vi.useFakeTimers({ toFake: ['performance', 'setTimeout', 'clearTimeout', 'Date'] });
    expect(isLease(await new MemoryLimiterStore({ assumeRecentUse: false }).tryAcquire('k', 5, 60_000, 3_050))).toBe(
      true,
    );
    expect(isLease(await new MemoryLimiterStore().tryAcquire('k', 5, 60_000))).toBe(true);
  });
});
