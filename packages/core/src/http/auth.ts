import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A check of `Authorization: Bearer <key>` that takes the same time whatever the guess:
 * both sides are hashed to equal lengths before a constant-time comparison.
 */
export function bearerCheck(apiKey: string): (authorization: string) => boolean {
  const same = secretCheck(apiKey);
  return (authorization) => {
    const match = /^bearer[ \t]+(.+)$/i.exec(authorization.trim());
    const matches = same(match?.[1]?.trim() ?? '');
    return matches && match !== null;
  };
}

/** Whether `given` is `secret`, compared in constant time (hashed to equal lengths first). */
export function secretCheck(secret: string): (given: string) => boolean {
  const expected = digest(secret);
  return (given) => timingSafeEqual(digest(given), expected);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
