import { type Browser, chromium } from 'playwright-core';
import { findChromium, skipReason } from '../../scripts/system-deps.mjs';

/**
 * Debian's chromium for the browser tests (no browser download). Why the browser tests are skipped
 * on this machine, or undefined when Chromium is here; under CI a missing Chromium throws instead.
 */
export const chromiumMissing: string | undefined = skipReason('chromium');

/** Headless Chromium with the flags this sandbox needs: no background traffic to hosts it cannot reach. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium() ?? '',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
