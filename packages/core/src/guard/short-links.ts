/**
 * Shortened links: the vendor's "number blocked" page names them among the things that get a
 * WhatsApp number banned (a shortener hides where a link goes, as spam does). The known shortener
 * hosts are looked for as whole host names, with or without a scheme, `www.` or a path after them.
 */

/** Hosts whose links are shortened ones. Matched case-insensitively as a whole host. */
export const SHORTENER_HOSTS: readonly string[] = [
  'bit.ly',
  'bitly.com',
  'bitly.is',
  'j.mp',
  'clck.ru',
  'vk.cc',
  'goo.su',
  'goo.gl',
  'tinyurl.com',
  'tiny.cc',
  'tiny.one',
  'cutt.ly',
  't.ly',
  't.co',
  'is.gd',
  'v.gd',
  'ow.ly',
  'buff.ly',
  'rebrand.ly',
  'rb.gy',
  'shorturl.at',
  'surl.li',
  'u.to',
  'qps.ru',
  'lnkd.in',
  's.id',
  'bl.ink',
  'shorte.st',
  'adf.ly',
  'clc.li',
  'inlnk.ru',
  'to.click',
];

const escaped = SHORTENER_HOSTS.map((host) => host.replace(/\./g, '\\.')).join('|');
// Not part of a longer host before it (`abit.ly`, `my.bit.ly` is still bit.ly's) nor after it
// (`bit.lyrics`): a letter, digit, `-` or `.` next to the name makes it another name.
const SHORT_LINK = new RegExp(
  `(?<![\\p{L}\\p{N}_-])(?:www\\.)?(${escaped})(?![\\p{L}\\p{N}_-]|\\.[\\p{L}\\p{N}])`,
  'iu',
);

/** The first shortener host named in `text` (lower case), or undefined. */
export function findShortLink(text: string): string | undefined {
  const found = SHORT_LINK.exec(text);
  return found ? (found[1] as string).toLowerCase() : undefined;
}

/** Whether short links may go out: the rule's word first, then the notifier's guard. */
export type ShortLinksPolicy = 'refuse' | 'allow';
export const SHORT_LINKS_POLICIES: readonly ShortLinksPolicy[] = ['refuse', 'allow'];
