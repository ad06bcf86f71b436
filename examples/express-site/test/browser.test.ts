import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, chromiumMissing as missing } from '../../../test/helpers/chromium.js';

// Debian's chromium (or CHROMIUM_PATH); no browser download. `pnpm test` installs it where it can;
// elsewhere this suite is skipped with the command to run, and under CI it fails instead.

const demoScript = fileURLToPath(new URL('../demo.js', import.meta.url));
const builtCore = fileURLToPath(new URL('../../../packages/core/dist/index.js', import.meta.url));
const screenshots = fileURLToPath(new URL('../../../test-results/screenshots/', import.meta.url));

let demo: ChildProcess | undefined;
let browser: Browser | undefined;
let siteUrl = '';
let inboxUrl = '';

/** Starts `pnpm demo`'s script on free ports and reads the two URLs it prints. */
async function startDemo(): Promise<void> {
  demo = spawn(process.execPath, [demoScript], {
    env: { ...process.env, PORT: '0', EMULATOR_PORT: '0', OLCHAT_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo printed no URLs within 20 s:\n${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const site = /Site \(order form\):\s+(\S+)/.exec(output);
      const inbox = /WhatsApp inbox \(emulator\):\s+(\S+)/.exec(output);
      if (site?.[1] && inbox?.[1]) {
        clearTimeout(timer);
        siteUrl = site[1];
        inboxUrl = inbox[1];
        resolve();
      }
    };
    demo?.stdout?.on('data', read);
    demo?.stderr?.on('data', read);
    demo?.once('exit', (code) => reject(new Error(`the demo exited with ${code}:\n${output}`)));
  });
}

describe.skipIf(missing)(`the demo in a real browser (Chromium)${missing ? `: skipped, ${missing}` : ''}`, () => {
  beforeAll(async () => {
    if (!existsSync(builtCore)) throw new Error('Build the packages first: pnpm -r build (pnpm test does it)');
    mkdirSync(screenshots, { recursive: true });
    await startDemo();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) {
      const exited = new Promise((resolve) => demo?.once('exit', resolve));
      demo.kill('SIGTERM');
      await exited;
    }
  });

  it('a customer orders on the form, lands on the thank-you page, and the WhatsApp message shows in the inbox', async () => {
    const page = await (browser as Browser).newPage();
    await page.goto(siteUrl);
    await page.fill('input[name="name"]', 'Дарина');
    await page.fill('input[name="phone"]', '+7 (701) 555-12-34');
    await page.selectOption('select[name="bouquet"]', 'tulips');
    await page.fill('textarea[name="comment"]', 'Позвоните за час');
    await page.screenshot({ path: `${screenshots}form-filled.png`, fullPage: true });
    await Promise.all([page.waitForURL(/\/thanks/), page.click('button[type="submit"]')]);
    expect(await page.locator('h1').textContent()).toBe('Спасибо! Заявка принята');
    await page.screenshot({ path: `${screenshots}thanks.png`, fullPage: true });

    const inbox = await (browser as Browser).newPage();
    await inbox.goto(inboxUrl);
    // The inbox polls for news, so the message appears without a reload.
    const bubble = inbox.locator('.message', { hasText: 'Здравствуйте, Дарина! Мы получили ваш заказ' });
    await bubble.waitFor({ timeout: 15_000 });
    const text = await bubble.textContent();
    expect(text).toContain('Тюльпаны «Весна»');
    expect(text).toContain('+7 701 555-12-34');
    await inbox.screenshot({ path: `${screenshots}inbox.png`, fullPage: true });
  });

  it('"Отправить 20" on the inbox queues a burst that the limiter delivers with no 429', async () => {
    const inbox = await (browser as Browser).newPage();
    await inbox.goto(inboxUrl);
    const before = Number(/сообщений: (\d+)/.exec((await inbox.locator('#stats').textContent()) ?? '')?.[1]);
    await inbox.click('#burst');
    // 20 at 5 per 3 s: the last batch goes out after about 9 s.
    await inbox.getByText(`сообщений: ${before + 20}`).waitFor({ timeout: 40_000 });
    expect(await inbox.locator('#stats').textContent()).toContain('0 ответов 429');
    await inbox.screenshot({ path: `${screenshots}inbox-burst.png` });
  }, 60_000);

  it('an invalid form shows the Russian field error and keeps what the customer typed', async () => {
    const page = await (browser as Browser).newPage();
    await page.goto(siteUrl);
    await page.fill('input[name="name"]', 'Дарина');
    await page.fill('input[name="phone"]', '12-34');
    await page.click('button[type="submit"]');
    await page.getByText('Введите номер в формате +7 912 345-67-89').waitFor({ state: 'visible' });
    await page.getByText('Выберите букет').waitFor({ state: 'visible' });
    expect(await page.inputValue('input[name="name"]')).toBe('Дарина');
    expect(await page.inputValue('input[name="phone"]')).toBe('12-34');
    await page.screenshot({ path: `${screenshots}form-errors.png`, fullPage: true });
  });
  it('the callback form answers a bad phone with the Russian error on the page, then accepts the fixed one', async () => {
    const page = await (browser as Browser).newPage();
    await page.goto(`${siteUrl}callback`);
    await page.fill('input[name="name"]', 'Олег');
    await page.fill('input[name="phone"]', '12-34');
    await page.click('button[type="submit"]');
    await page.getByText('Введите номер в формате +7 912 345-67-89').waitFor({ state: 'visible' });
    expect(await page.locator('h1').textContent()).toBe('Перезвоните мне');
    expect(await page.inputValue('input[name="name"]')).toBe('Олег');
    await page.screenshot({ path: `${screenshots}callback-errors.png`, fullPage: true });
    await page.fill('input[name="phone"]', '+7 912 345 67 89');
    await Promise.all([page.waitForURL(/\/thanks/), page.click('button[type="submit"]')]);
    expect(await page.locator('main').textContent()).toContain('в очереди на отправку');
  });
});
