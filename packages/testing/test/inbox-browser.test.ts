import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium } from '../../../test/helpers/chromium.js';
import { call, fakeClock, sendTextParams, start } from './helpers.js';

let browser: Browser | undefined;

describe.skipIf(chromiumMissing !== undefined)(
  `the inbox page in a real browser (Chromium)${chromiumMissing ? `: skipped, ${chromiumMissing}` : ''}`,
  () => {
    beforeAll(async () => {
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    it('updates the ticks and shows new messages by polling, with no CSP violation or script error', async () => {
      const clock = fakeClock();
      const emu = await start({ clock: clock.now, delivery: { deliveredAfterMs: 1000, readAfterMs: 2000 } });
      await call(emu, 'sendText', sendTextParams('first'));

      const page = await (browser as Browser).newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      try {
        await page.goto(`${emu.url}/`);
        const statuses = () =>
          page.$$eval('#list [data-status]', (marks) => marks.map((m) => m.getAttribute('data-status')));
        // Generous bounds: the page polls every 0.7 s, the machine may be loaded.
        const poll = { timeout: 15_000, interval: 100 };
        expect(await statuses()).toEqual(['sent']);

        clock.advance(1000);
        await expect.poll(statuses, poll).toEqual(['delivered']);
        clock.advance(1000);
        await expect.poll(statuses, poll).toEqual(['read']);

        const second = await call(emu, 'sendText', sendTextParams('second'));
        await expect.poll(statuses, poll).toEqual(['sent', 'read']); // newest first
        emu.setDelivery(String(second.body.message_id), 'failed');
        await expect.poll(statuses, poll).toEqual(['failed', 'read']);

        // The stylesheet applies under the CSP: blue ticks for read, a red badge for failed.
        const colours = await page.$$eval('#list [data-status]', (marks) => {
          // Runs in the page; the tests' TypeScript has no DOM lib.
          const view = globalThis as unknown as {
            getComputedStyle(e: unknown): { color: string; backgroundColor: string };
          };
          return marks.map((m) => [view.getComputedStyle(m).color, view.getComputedStyle(m).backgroundColor]);
        });
        expect(colours).toEqual([
          ['rgb(255, 255, 255)', 'rgb(234, 0, 56)'],
          ['rgb(83, 189, 235)', 'rgba(0, 0, 0, 0)'],
        ]);
        await expect.poll(() => page.textContent('#stats'), poll).toContain('сообщений: 2');
        expect(problems).toEqual([]);
      } finally {
        await page.close();
      }
    });
  },
);
