/**
 * A string kept for long (a queued job's text or key) as its own flat copy. An app's string may be
 * a slice of a large one, such as a request body, and V8 would keep the whole of that alive with
 * it; or a rope of concatenated parts, several 32-byte nodes. `join` returns a lone part as it is,
 * so this goes through JSON, which always builds a new string.
 */
export function ownCopy(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}
