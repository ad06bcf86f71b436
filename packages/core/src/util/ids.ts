import { randomFillSync } from 'node:crypto';

/** Random bytes taken from a pool refilled 4 KiB at a time: one system call per 341 ids. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** `count` fresh random bytes, valid until the next call. */
function randomBytesAt(count: number): number {
  if (poolOffset + count > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += count;
  return at;
}

/** 48 random bits as a whole number (exact in a double). */
export function random48(): number {
  return pool.readUIntBE(randomBytesAt(6), 6);
}

/** The length of every job id: 16 characters of base64url, 96 bits. */
export const ID_LENGTH = 16;
const ID_PATTERN = /^[A-Za-z0-9_-]{16}$/;

/**
 * A random id shaped like a job id of the memory queue (16 characters of base64url), for answers
 * that must look like a queued job without being one. Base64url of a Buffer is a flat string of
 * 16 one-byte characters: 32 bytes of heap, where a UUID took 56 flat or ~500 as the rope
 * `randomUUID()` returns.
 */
export function newId(): string {
  const at = randomBytesAt(12);
  return pool.toString('base64url', at, at + 12);
}

const scratch = Buffer.alloc(12);

/** Four 24-bit numbers as an id (12 bytes, base64url). */
export function encodeId(a: number, b: number, c: number, d: number): string {
  scratch.writeUIntBE(a, 0, 3);
  scratch.writeUIntBE(b, 3, 3);
  scratch.writeUIntBE(c, 6, 3);
  scratch.writeUIntBE(d, 9, 3);
  return scratch.toString('base64url');
}

/**
 * The four 24-bit numbers of an id made by `encodeId`, or undefined for anything else. Only the
 * exact 16-character form decodes: 96 bits in 16 characters of 6 bits leave no spare bits, so no
 * two strings decode to one id.
 */
export function decodeId(id: unknown): [number, number, number, number] | undefined {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) return undefined;
  scratch.write(id, 'base64url');
  return [scratch.readUIntBE(0, 3), scratch.readUIntBE(3, 3), scratch.readUIntBE(6, 3), scratch.readUIntBE(9, 3)];
}
