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

const HOSTS: ReadonlySet<string> = new Set(SHORTENER_HOSTS);
// A host is `label.tld` with both parts short: what to read on each side of a dot.
const MAX_LABEL = Math.max(...SHORTENER_HOSTS.map((host) => host.indexOf('.')));
const MAX_TLD = Math.max(...SHORTENER_HOSTS.map((host) => host.length - host.indexOf('.') - 1));
/** What may not touch a host name: it would make it part of a longer name. */
const NAME_CHAR = /[\p{L}\p{N}_-]/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/**
 * The first shortener host named in `text` (lower case), or undefined. It runs for every rendered
 * text, so it looks only around the dots (a message has few) instead of running a pattern over
 * every character.
 */
export function findShortLink(text: string): string | undefined {
  for (let dot = text.indexOf('.'); dot !== -1; dot = text.indexOf('.', dot + 1)) {
    let start = dot;
    while (start > 0 && dot - start < MAX_LABEL + 1 && isAsciiAlnum(text.charCodeAt(start - 1))) start--;
    let end = dot + 1;
    while (end < text.length && end - dot <= MAX_TLD + 1 && isAsciiAlnum(text.charCodeAt(end))) end++;
    // Nothing on one side, or a longer word on the other (`example.com`): no shortener's name.
    if (start === dot || end === dot + 1 || isAsciiAlnum(text.charCodeAt(end))) continue;
    if (start > 0 && isAsciiAlnum(text.charCodeAt(start - 1))) continue;
    const host = text.slice(start, end).toLowerCase();
    if (!HOSTS.has(host)) continue;
    // `abit.ly`, `bit.lyrics`, `bit.ly.example`: a longer name, not the shortener. A dot before
    // (`www.bit.ly`, `my.bit.ly`) is the shortener's own subdomain.
    const before = text[start - 1];
    const after = text[end];
    if (before !== undefined && NAME_CHAR.test(before)) continue;
    if (after !== undefined && NAME_CHAR.test(after)) continue;
    if (after === '.' && text[end + 1] !== undefined && LETTER_OR_DIGIT.test(text[end + 1] as string)) continue;
    return host;
  }
  return undefined;
}

function isAsciiAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** Whether short links may go out: the rule's word first, then the notifier's guard. */
export type ShortLinksPolicy = 'refuse' | 'allow';
export const SHORT_LINKS_POLICIES: readonly ShortLinksPolicy[] = ['refuse', 'allow'];
