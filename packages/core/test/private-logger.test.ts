import { describe, expect, it } from 'vitest';
import { maskPhones, privateLogger } from '../src/logger.js';

describe('log lines never hold a whole phone', () => {
  it('masks a phone in every common spelling, as the dashboard shows it', () => {
    for (const spelling of [
      '79123456789',
      '+79123456789',
      '89123456789',
      '9123456789',
      '+7 912 345-67-89',
      '8 (912) 345-67-89',
      '+7 (912) 345 67 89',
      '912.345.67.89',
    ]) {
      const masked = maskPhones(`to ${spelling}: refused`);
      expect(masked, spelling).not.toMatch(/345|67-89|6789/);
      expect(masked, spelling).toMatch(/\*\*\*-\*\*-89/);
    }
    expect(maskPhones('Номер 79123456789 не найден, 77011234567 тоже')).toBe(
      'Номер +7 912 ***-**-89 не найден, +7 701 ***-**-67 тоже',
    );
  });

  it('leaves other numbers alone: timestamps, ids, counts, dates', () => {
    for (const text of [
      'at 1796621244870',
      'job Q8Y8n4fZp4MwOHxr',
      'HTTP 502 after 3 attempts',
      '2026-11-29T10:00:00.000Z',
      'attempt 12345',
      'message_id 123456789012',
    ]) {
      expect(maskPhones(text)).toBe(text);
    }
  });

  it('a wrapped logger masks the message and every string of the object, errors included; wrapping twice is once', () => {
    const lines: unknown[][] = [];
    const sink = {
      debug: (...args: unknown[]) => lines.push(['debug', ...args]),
      info: (...args: unknown[]) => lines.push(['info', ...args]),
      warn: (...args: unknown[]) => lines.push(['warn', ...args]),
      error: (...args: unknown[]) => lines.push(['error', ...args]),
    };
    const logger = privateLogger(sink);
    expect(privateLogger(logger)).toBe(logger);
    const error = new Error('vendor said: 79123456789 is not on WhatsApp');
    logger.error({ err: error, nested: { list: ['+7 912 345-67-89'] }, count: 3 }, 'send to 89123456789 failed');
    logger.debug({});
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/3456789|345-67/);
    expect(lines[0]?.[2]).toBe('send to +7 912 ***-**-89 failed');
    const [, first] = lines[0] as [string, { err: { message: string }; count: number }];
    expect(first.err.message).toBe('vendor said: +7 912 ***-**-89 is not on WhatsApp');
    expect(first.count).toBe(3);
    expect(lines[1]).toEqual(['debug', {}]);
    // A handler's logger may have error() only.
    const errorsOnly = privateLogger({ error: sink.error });
    errorsOnly.error({ phone: '79123456789' });
    expect(JSON.stringify(lines[2])).not.toContain('79123456789');
  });
});
