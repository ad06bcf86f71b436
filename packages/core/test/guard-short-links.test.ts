import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { GUARD_DEFAULTS, resolveGuard } from '../src/guard/options.js';
import { type AnyNotifier, createNotifier, defineRule, type NotifierOptions } from '../src/index.js';
import { findShortLink, SHORTENER_HOSTS } from '../src/rules/short-links.js';
import { FakeVendor } from './helpers/fake-vendor.js';
import { rejection, thrownValidation } from './helpers/rejection.js';

const PHONE = '79123456789';
const notifiers: AnyNotifier[] = [];

afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.close({ timeoutMs: 100 })));
});

function make(options: Partial<NotifierOptions> = {}, rules = [promo, allowed, dynamic]): AnyNotifier {
  const notifier = createNotifier({
    client: new FakeVendor(),
    rules,
    line: { checkIntervalMs: false },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...options,
  } as NotifierOptions);
  notifiers.push(notifier);
  return notifier;
}

const promo = defineRule({ id: 'promo', to: 'phone', text: 'Скидка: {{link}}', priority: 'low' });
const allowed = defineRule({ id: 'partner', to: 'phone', text: 'Партнёр: {{link}}', shortLinks: 'allow' });
const dynamic = defineRule({ id: 'photo', to: 'phone', file: { url: '{{url}}', caption: 'Фото {{link}}' } });

describe('short links', () => {
  it.each([
    ['https://bit.ly/3abc', 'bit.ly'],
    ['BIT.LY/3abc', 'bit.ly'],
    ['смотрите clck.ru/34xyz.', 'clck.ru'],
    ['vk.cc/abc', 'vk.cc'],
    ['http://goo.su/x', 'goo.su'],
    ['https://www.tinyurl.com/y2', 'tinyurl.com'],
    ['cutt.ly/q', 'cutt.ly'],
    ['(t.ly/abc)', 't.ly'],
  ])('finds %j', (text, host) => {
    expect(findShortLink(text)).toBe(host);
  });

  it.each([
    'https://example.ru/bit.lyrics',
    'abit.ly/x',
    'https://shop.ru/order/123',
    'It.ly was fun',
    'users.id',
    'Отписаться: https://olchat.ru/unsubscribe',
  ])('leaves %j alone', (text) => {
    expect(findShortLink(text)).toBeUndefined();
  });

  it('finds what a plain pattern over the whole text finds, for any text around any host', () => {
    // The reference: one regular expression, too slow to run on every trigger, simple to read.
    const hosts = SHORTENER_HOSTS.map((host) => host.replace(/\./g, '\\.')).join('|');
    const reference = new RegExp(`(?<![\\p{L}\\p{N}_-])(${hosts})(?![\\p{L}\\p{N}_-]|\\.[\\p{L}\\p{N}])`, 'iu');
    const piece = fc.oneof(
      fc.constantFrom(...SHORTENER_HOSTS, 'BIT.LY', 'shop.ru', 'example.com', 'www.', 'https://', '/'),
      fc.constantFrom('.', '-', '_', ' ', 'a', 'Ж', '1', 'ly', 'ru', 'bit'),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const text = pieces.join('');
        expect(findShortLink(text)).toBe(reference.exec(text)?.[1]?.toLowerCase());
      }),
      { numRuns: 3_000 },
    );
  });

  it('a template naming a shortener is VALIDATION at defineRule, in the text and the caption', () => {
    const text = thrownValidation(() => defineRule({ id: 'a', to: 'phone', text: 'Жми https://bit.ly/{{code}}' }));
    expect(text.code).toBe('VALIDATION');
    expect(text.message).toMatch(/rule a: text has a shortened link \(bit\.ly\).*shortLinks: 'allow'/);
    expect(text.issues).toEqual([{ path: 'text', message: 'Shortened link (bit.ly)' }]);
    const caption = thrownValidation(() =>
      defineRule({ id: 'b', to: 'phone', file: { url: 'https://shop.ru/a.pdf', caption: 'vk.cc/x' } }),
    );
    expect(caption.issues[0]?.path).toBe('file.caption');
    // A variant counts too: every variant may be the one sent.
    thrownValidation(() => defineRule({ id: 'c', to: 'phone', text: '{Ссылка|Жми} {clck.ru/a|https://shop.ru}' }));
  });

  it("a rule with shortLinks: 'allow' may name one; a bad value is refused", () => {
    expect(defineRule({ id: 'a', to: 'phone', text: 'bit.ly/x', shortLinks: 'allow' }).id).toBe('a');
    const error = thrownValidation(() =>
      defineRule({ id: 'a', to: 'phone', text: 'x', shortLinks: 'yes' as unknown as 'allow' }),
    );
    expect(error.message).toMatch(/shortLinks must be one of 'refuse', 'allow'/);
  });

  it('a rendered text with a short link is refused at trigger, nothing queued; a full link goes', async () => {
    const notifier = make();
    const error = await rejection(notifier.trigger('promo', { phone: PHONE, link: 'https://bit.ly/3abc' }));
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toMatch(/rule promo: text has a shortened link \(bit\.ly\)/);
    expect(notifier.stats()).toMatchObject({ queued: 0, scheduled: 0, sending: 0, sent: 0 });
    const fine = await notifier.trigger('promo', { phone: PHONE, link: 'https://shop.ru/sale' });
    expect(fine.status).toBe('queued');
    // In a file's caption too; the file's own link is fetched by the vendor, never shown.
    await expect(
      notifier.trigger('photo', { phone: PHONE, url: 'https://bit.ly/a.jpg', link: 'goo.su/x' }),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(
      (await notifier.trigger('photo', { phone: PHONE, url: 'https://bit.ly/a.jpg', link: 'https://shop.ru' })).status,
    ).toBe('queued');
  });

  it('send() refuses an ad-hoc text with a short link', async () => {
    const notifier = make();
    const error = await rejection(notifier.send({ phone: PHONE, text: 'Оплата: cutt.ly/pay' }));
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toMatch(/The message: text has a shortened link \(cutt\.ly\)/);
    expect(notifier.stats().queued).toBe(0);
  });

  it("the rule's allow, the guard's shortLinks: 'allow' and guard: false each let them through", async () => {
    const strict = make();
    expect((await strict.trigger('partner', { phone: PHONE, link: 'bit.ly/x' })).status).toBe('queued');

    const lenient = make({ guard: { shortLinks: 'allow' } });
    expect((await lenient.trigger('promo', { phone: PHONE, link: 'bit.ly/x' })).status).toBe('queued');
    expect((await lenient.send({ phone: PHONE, text: 'bit.ly/y' })).status).toBe('queued');

    const off = make({ guard: false });
    expect((await off.send({ phone: PHONE, text: 'vk.cc/y' })).status).toBe('queued');
  });
});

describe('the guard option', () => {
  it('defaults to the DESIGN values', () => {
    expect(resolveGuard(undefined)).toEqual({
      newRecipients: { perDay: 50, appliesTo: 'marketing' },
      warmupSince: undefined,
      pacing: { low: [2_000, 6_000] },
      perRecipient: { max: 2, windowMs: 24 * 3600_000 },
      afterDowntime: { overMs: 15 * 60_000, rampMs: 30 * 60_000 },
      flagged: { pauseMs: 72 * 3600_000, pauseHigh: false, checkEveryMs: 5 * 60_000 },
      shortLinks: 'refuse',
    });
    expect(resolveGuard(false)).toBeUndefined();
  });

  it('takes every part of its shape, each part off with false where it can be', () => {
    const resolved = resolveGuard({
      newRecipients: { perDay: 10, appliesTo: 'all' },
      warmup: { since: '2026-11-20' },
      pacing: { normal: [100, 200], low: [1_000, 1_000] },
      perRecipient: false,
      afterDowntime: { overMs: 60_000, rampMs: 120_000 },
      flagged: { pauseMs: 3_600_000, pauseHigh: true },
      shortLinks: 'allow',
    });
    expect(resolved).toEqual({
      newRecipients: { perDay: 10, appliesTo: 'all' },
      warmupSince: Date.parse('2026-11-20T00:00:00Z'),
      pacing: { normal: [100, 200], low: [1_000, 1_000] },
      perRecipient: false,
      afterDowntime: { overMs: 60_000, rampMs: 120_000 },
      flagged: { pauseMs: 3_600_000, pauseHigh: true, checkEveryMs: GUARD_DEFAULTS.flagged.checkEveryMs },
      shortLinks: 'allow',
    });
    expect(resolveGuard({ newRecipients: false, pacing: false, afterDowntime: false })).toMatchObject({
      newRecipients: false,
      pacing: false,
      afterDowntime: false,
    });
    expect(resolveGuard({ warmup: { since: new Date(5) } })?.warmupSince).toBe(5);
  });

  it.each([
    [{ newRecipent: { perDay: 5 } }, 'guard.newRecipent'],
    [{ newRecipients: { perDay: -1 } }, 'guard.newRecipients.perDay'],
    [{ newRecipients: { perDay: 5, appliesTo: 'some' } }, 'guard.newRecipients.appliesTo'],
    [{ warmup: { since: 'yesterday' } }, 'guard.warmup.since'],
    [{ pacing: { low: [5, 1] } }, 'guard.pacing.low[1]'],
    [{ pacing: { urgent: [1, 2] } }, 'guard.pacing.urgent'],
    [{ pacing: { low: 5 } }, 'guard.pacing.low'],
    [{ perRecipient: { max: 0, windowMs: 1_000 } }, 'guard.perRecipient.max'],
    [{ afterDowntime: { overMs: 1 } }, 'guard.afterDowntime.rampMs'],
    [{ flagged: { pauseMs: 0 } }, 'guard.flagged.pauseMs'],
    [{ flagged: { checkEveryMs: 1_000 } }, 'guard.flagged.checkEveryMs'],
    [{ flagged: { pauseHigh: 'yes' } }, 'guard.flagged.pauseHigh'],
    [{ shortLinks: 'sometimes' }, 'guard.shortLinks'],
    ['on', 'guard'],
  ])('refuses %j naming %s', (guard, path) => {
    const error = thrownValidation(() => make({ guard: guard as never }));
    expect(error.issues[0]?.path).toBe(path);
  });
});
