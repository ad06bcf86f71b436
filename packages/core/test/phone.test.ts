import { describe, expect, it } from 'vitest';
import { normalizePhone, OlchatError, ValidationError } from '../src/index.js';

describe('normalizePhone', () => {
  it.each([
    ['+7 (912) 345-67-89', '79123456789'],
    ['+79123456789', '79123456789'],
    ['79123456789', '79123456789'],
    ['7 912 345 67 89', '79123456789'],
    ['8 912 345 67 89', '79123456789'],
    ['8(912)345-67-89', '79123456789'],
    ['89123456789', '79123456789'],
    ['9123456789', '79123456789'],
    ['912 345-67-89', '79123456789'],
    ['  +7 912 345.67.89  ', '79123456789'],
    ['+7 (495) 123-45-67', '74951234567'],
    ['8 800 555-35-35', '78005553535'],
    // Kazakhstan shares +7: mobile 70x/77x, Almaty landline 727
    ['+7 701 234 5678', '77012345678'],
    ['8 (727) 123-45-67', '77271234567'],
    ['87771234567', '77771234567'],
    [79123456789, '79123456789'],
  ])('%s → %s', (input, expected) => {
    expect(normalizePhone(input)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['+1 202 555 0143', 'USA'],
    ['+380 50 123 4567', 'Ukraine'],
    ['+8 912 345 67 89', 'wrong country code'],
    ['912345678', 'too short'],
    ['+7 912 345 67 8', 'too short with code'],
    ['+7 912 345 67 890', 'too long'],
    ['89123456789123', 'far too long'],
    ['+7 000 000 00 00', 'no such range'],
    ['call me: 89123456789', 'free text'],
    ['8912345678a', 'letters'],
    ['+7 912 345 67 89 доб. 12', 'extension'],
  ])('rejects %j (%s) with a ValidationError', (input) => {
    expect(() => normalizePhone(input)).toThrow(ValidationError);
  });

  it.each([null, undefined, {}, [], 7.5, true])('rejects %j that is not a string', (input) => {
    try {
      normalizePhone(input);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(OlchatError);
      expect((error as OlchatError).code).toBe('VALIDATION');
    }
  });
});
