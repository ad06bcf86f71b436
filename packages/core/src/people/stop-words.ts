/**
 * Stop words: a reply that is nothing but one of these asks not to be written to. Matched on the
 * whole message, in any case, with punctuation, symbols and spaces around it trimmed and runs of
 * spaces inside it taken as one ("  СТОП!!! ", "Не пишите."); a longer message that merely
 * contains one ("стоп, я передумал, пришлите чек") is a reply, not an opt-out.
 */
export const STOP_WORDS: readonly string[] = ['стоп', 'stop', 'отписаться', 'unsubscribe', 'не пишите'];

const STOP_SET = new Set(STOP_WORDS);
/** Anything but letters and digits, at either end. */
const EDGES = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu;
const SPACES = /\s+/gu;
/** Longer than any stop word with room for spaces: not worth normalizing. */
const MAX_CANDIDATE = 64;

export function isStopWord(text: unknown): boolean {
  if (typeof text !== 'string' || text.length > MAX_CANDIDATE * 4) return false;
  const word = text.replace(EDGES, '').replace(SPACES, ' ').toLowerCase();
  return word.length <= MAX_CANDIDATE && STOP_SET.has(word);
}
