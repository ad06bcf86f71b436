import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { phoneKeyer, resolveSecret } from '../src/people/phone-key.js';

describe('phone keys', () => {
  it('are the same for one secret and phone, differ across secrets and phones, and hold no digits', () => {
    const key = phoneKeyer('a secret of sixteen+');
    expect(key('79123456789')).toBe(key('79123456789'));
    expect(key('79123456789')).not.toBe(key('79123456788'));
    expect(phoneKeyer('another secret, long')('79123456789')).not.toBe(key('79123456789'));
    expect(key('79123456789')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(key('79123456789')).not.toContain('3456789');
  });

  it('need a secret given by the app on a shared queue; a local queue makes a random one', () => {
    expect(() => resolveSecret(undefined, true)).toThrow(ValidationError);
    expect(() => resolveSecret('short', false)).toThrow(/at least 16/);
    expect(() => resolveSecret(42, false)).toThrow(ValidationError);
    expect(resolveSecret('0123456789abcdef', true)).toBe('0123456789abcdef');
    const a = resolveSecret(undefined, false);
    expect(a).not.toBe(resolveSecret(undefined, false));
    expect(a.length).toBeGreaterThanOrEqual(16);
  });
});
