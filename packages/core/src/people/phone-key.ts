import { createHmac, randomBytes } from 'node:crypto';
import { ValidationError } from '../errors.js';

/**
 * People: what the notifier keeps about a person (contacts, suppressions, the phone index) is keyed
 * by an HMAC of the phone with the notifier's `secret`, never by the digits, so a copy of the
 * store names no one and a forgotten phone leaves nothing readable behind.
 */

/** Shorter secrets are refused: an HMAC key that can be guessed protects nothing. */
export const MIN_SECRET_LENGTH = 16;

/** A phone (normalized, `7…`) → its stored key: base64url of the first 16 bytes of HMAC-SHA256. */
export type PhoneKey = (phone: string) => string;

/**
 * The notifier's secret, checked. A queue shared by several processes (Redis) needs one given by
 * the app, so every process computes the same keys; a process-local queue makes a random one.
 */
export function resolveSecret(secret: unknown, shared: boolean): string {
  if (secret === undefined) {
    if (shared) {
      throw new ValidationError(
        'secret is required with a shared queue: every process must hash phones with the same key',
        [{ path: 'secret', message: `Expected a string of at least ${MIN_SECRET_LENGTH} characters` }],
      );
    }
    return randomBytes(32).toString('base64url');
  }
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new ValidationError(`secret must be a string of at least ${MIN_SECRET_LENGTH} characters`, [
      { path: 'secret', message: `Expected a string of at least ${MIN_SECRET_LENGTH} characters` },
    ]);
  }
  return secret;
}

export function phoneKeyer(secret: string): PhoneKey {
  return (phone) => createHmac('sha256', secret).update(phone).digest().subarray(0, 16).toString('base64url');
}
