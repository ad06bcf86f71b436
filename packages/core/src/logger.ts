import { maskPhone } from './phone.js';

/** Where olchat-kit writes its log lines: pino, or anything with these four methods. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const PRIVATE = Symbol('olchat-kit.private-logger');

/*
 * No log line holds a whole phone. Every logger the library is given is wrapped here once: a run of
 * 10 or 11 digits that reads as a phone (spaces, dashes, dots or brackets between them, maybe a +)
 * is masked as the dashboard shows phones (`+7 912 ***-**-89`), in the message and in every string
 * of the object, an error's message and stack included. Message texts cannot be told from other
 * words: the library never puts them in a log line (see `redact` where a vendor's answer may echo
 * one), and whatever else is written is bounded and stripped of phones.
 */

// Not inside a longer run of digits or a word: a 13-digit timestamp or an id is left alone.
const PHONE_RUN = /(?<![\w+])\+?\d(?:[ \u00a0().-]{0,2}\d){9,10}(?![\w])/g;

/** The text with every phone-like run of digits masked. */
export function maskPhones(text: string): string {
  if (!/\d{3}/.test(text) && !/\d[ ().-]\d/.test(text)) return text;
  return text.replace(PHONE_RUN, (run) => {
    const digits = run.replace(/\D/g, '');
    if (digits.length === 10) return maskPhone(`7${digits}`);
    // The trunk prefix 8 is how people write +7.
    return digits.length === 11 ? maskPhone(digits.startsWith('8') ? `7${digits.slice(1)}` : digits) : run;
  });
}

/** A logger (or any object with some of its methods) whose lines never hold a whole phone. */
export function privateLogger<L extends Partial<Logger>>(logger: L): L {
  if ((logger as { [PRIVATE]?: true })[PRIVATE]) return logger;
  const wrapped = { [PRIVATE]: true } as unknown as L;
  for (const level of LEVELS) {
    const write = logger[level];
    if (typeof write !== 'function') continue;
    (wrapped as Record<string, unknown>)[level] = (obj: object, msg?: string) => {
      const clean = scrub(obj, 0) as object;
      if (msg === undefined) write.call(logger, clean);
      else write.call(logger, clean, maskPhones(String(msg)));
    };
  }
  return wrapped;
}

/** A copy with every string masked: errors become plain objects, depth and size are bounded. */
function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return maskPhones(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 5) return '[…]';
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: maskPhones(value.message) };
    if (value.stack !== undefined) out.stack = maskPhones(value.stack);
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = scrub(code, depth + 1);
    const status = (value as { status?: unknown }).status;
    if (typeof status === 'number') out.status = status;
    return out;
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => scrub(item, depth + 1));
  const out: Record<string, unknown> = {};
  let fields = 0;
  for (const [key, field] of Object.entries(value)) {
    if (++fields > 50) break;
    out[key] = scrub(field, depth + 1);
  }
  return out;
}
