/**
 * Whether the vendor's answer about the line says the number is suspected of spam or banned. The
 * vendor documents no such answer, so the whole answer is read tolerantly: every string in it
 * (values, nested ones, and the keys of fields that are set: `{ banned: true }`), in any case, for
 * the stems of those words in English and Russian.
 */

// A stem must start a word (`unblocked`, `urban` do not count); `ban` is a whole word or `banned`.
const FLAG_WORDS =
  /(?<![\p{L}\p{N}])(?:spam|suspic|ban(?:s|ned|ning)?(?![\p{L}])|block|подозр|спам|заблок|блокир|забан)/iu;
/** Keys that say something only when set: `{ blocked: false }` says the opposite. */
const SET_VALUES = new Set<unknown>([true, 1, '1', 'Y', 'y', 'true', 'yes']);
/** However the answer is nested, it is read within bounds. */
const MAX_STRINGS = 200;
const MAX_DEPTH = 6;
const MAX_TEXT = 2_000;

/** The words of suspicion or a ban in `raw` (100 characters around them, long numbers cut), or undefined. */
export function flagWords(raw: unknown): string | undefined {
  let seen = 0;
  const visit = (value: unknown, depth: number): string | undefined => {
    if (seen++ > MAX_STRINGS || depth > MAX_DEPTH) return undefined;
    if (typeof value === 'string') return matchIn(value);
    if (typeof value !== 'object' || value === null) return undefined;
    if (Array.isArray(value)) {
      for (const item of value) {
        const found = visit(item, depth + 1);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (SET_VALUES.has(inner)) {
        const found = matchIn(key);
        if (found !== undefined) return found;
      }
      const found = visit(inner, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit(raw, 0);
}

function matchIn(text: string): string | undefined {
  const slice = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  const found = FLAG_WORDS.exec(slice);
  if (!found) return undefined;
  const from = Math.max(0, found.index - 40);
  // It goes to the log: a phone in it (the line's own, most likely) is not written whole.
  return slice.slice(from, from + 100).replace(/\d{7,}/g, (digits) => `${digits.slice(0, 4)}***`);
}
