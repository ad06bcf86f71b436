import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A check of `Authorization: Bearer <key>` that takes the same time whatever the guess:
 * both sides are hashed to equal lengths before a constant-time comparison.
 */
export function bearerCheck(apiKey: string): (authorization: string) => boolean {
  const expected = digest(apiKey);
  return (authorization) => {
    const match = /^bearer[ \t]+(.+)$/i.exec(authorization.trim());
    const same = timingSafeEqual(digest(match?.[1]?.trim() ?? ''), expected);
    return same && match !== null;
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
