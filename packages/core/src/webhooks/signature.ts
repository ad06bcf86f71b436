import { createHmac, randomBytes } from 'node:crypto';
import { ValidationError } from '../errors.js';

/** How a Standard Webhooks symmetric secret is written: this prefix, then the key in base64. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/**
 * The spec's bounds for an HMAC-SHA256 signing key: at least 24 random bytes (192 bits), at most
 * 64 (512 bits, SHA-256's block: a longer key is hashed down first and gains nothing).
 */
export const WEBHOOK_SECRET_MIN_BYTES = 24;
export const WEBHOOK_SECRET_MAX_BYTES = 64;

// Canonical, padded base64 only: Node's decoder skips characters it does not know, so a typo
// would silently give a different key than the receiver's `standardwebhooks` (a strict decoder)
// derives from the same text, and every signature would fail to verify.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The signing key of a `whsec_<base64>` secret. Throws a `ValidationError` at `path` when the text
 * is not one, or its key is shorter than 24 or longer than 64 bytes. The secret itself is never
 * put in the error.
 */
export function parseWebhookSecret(secret: unknown, path = 'secret'): Buffer {
  const fail = (why: string): never => {
    throw new ValidationError(`${path} ${why}`, [{ path, message: why }]);
  };
  if (typeof secret !== 'string') return fail(`must be a string: '${WEBHOOK_SECRET_PREFIX}' followed by a base64 key`);
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) return fail(`must start with '${WEBHOOK_SECRET_PREFIX}'`);
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  if (encoded === '' || !BASE64.test(encoded)) {
    return fail(`must be '${WEBHOOK_SECRET_PREFIX}' followed by standard base64 (A–Z, a–z, 0–9, +, /, '=' padding)`);
  }
  const key = Buffer.from(encoded, 'base64');
  // The pattern admits a last character with stray low bits, which decoders may round differently.
  if (key.toString('base64') !== encoded) return fail('is not canonical base64');
  if (key.length < WEBHOOK_SECRET_MIN_BYTES) {
    return fail(`is too short: its key must be at least ${WEBHOOK_SECRET_MIN_BYTES} bytes (got ${key.length})`);
  }
  if (key.length > WEBHOOK_SECRET_MAX_BYTES) {
    return fail(`is too long: its key must be at most ${WEBHOOK_SECRET_MAX_BYTES} bytes (got ${key.length})`);
  }
  return key;
}

/** A new random secret (32-byte key) for an endpoint, in the `whsec_` form. */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** A webhook id: `msg_` and 128 random bits, URL-safe and free of '.' (the signed text's separator). */
export function newWebhookId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`;
}

/**
 * The `webhook-signature` value of one attempt: `v1,` and the base64 HMAC-SHA256 of
 * `<id>.<timestamp>.<body>` under the endpoint's key (Standard Webhooks, symmetric).
 */
export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${mac}`;
}
