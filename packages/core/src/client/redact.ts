const MASK = '***';

/** Replaces every occurrence of the secret (raw and URL-encoded) in a text. */
export function redact(text: string, secret: string): string {
  if (secret.length === 0) return text;
  let out = text.split(secret).join(MASK);
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out = out.split(encoded).join(MASK);
  return out;
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
