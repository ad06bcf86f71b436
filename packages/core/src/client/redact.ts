const MASK = '***';

/**
 * Replaces every occurrence of the secret in a text, however a server or proxy echoed it: in any
 * letter case (an error page that lowercases the URL), each character as itself or percent-encoded
 * once or twice, with either hex case (`%2f`, `%2F`, `%252F`).
 */
export function redact(text: string, secret: string): string {
  if (secret.length === 0 || text.length === 0) return text;
  return text.replace(patternOf(secret), MASK);
}

// One pattern per secret, kept: redaction runs on every answer. A process has a few tokens at most.
const patterns = new Map<string, RegExp>();
const MAX_PATTERNS = 32;

function patternOf(secret: string): RegExp {
  let pattern = patterns.get(secret);
  if (!pattern) {
    let source = '';
    for (const char of secret) {
      const hex = [...new TextEncoder().encode(char)].map((byte) => byte.toString(16).padStart(2, '0'));
      source += `(?:${char.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')}|%${hex.join('%')}|%25${hex.join('%25')})`;
    }
    // Case-insensitive: the letters of the secret and the hex digits of its encodings alike.
    pattern = new RegExp(source, 'gi');
    if (patterns.size >= MAX_PATTERNS) patterns.clear();
    patterns.set(secret, pattern);
  }
  return pattern;
}

/** A copy of an unknown thrown value that is safe to keep as an error's `cause`. */
export function redactedCause(error: unknown, secret: string): { name: string; code?: string; message: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      ...(typeof code === 'string' ? { code } : {}),
      message: redact(error.message, secret),
    };
  }
  return { name: 'Error', message: redact(String(error), secret) };
}
