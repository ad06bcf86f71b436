import { describe, expect, it } from 'vitest';
import { failureReason, parseBody, pickConnected, pickMessageId, pickStatus } from '../src/client/response.js';

describe('reading undocumented answers tolerantly', () => {
  it.each([
    [{ message_id: 'a1' }, 'a1'],
    [{ messageId: 'a2' }, 'a2'],
    [{ id: 17 }, '17'],
    [{ result: { message_id: 'a3' } }, 'a3'],
    [{ data: { id: 'a4' } }, 'a4'],
    [{ result: true }, undefined],
    ['plain text', undefined],
    [[1, 2], undefined],
    [null, undefined],
  ])('message id of %j is %j', (raw, id) => {
    expect(pickMessageId(raw)).toBe(id);
  });

  it.each([
    [{ result: false }, true],
    [{ success: false }, true],
    [{ error: 'invalid phone' }, true],
    [{ error: { code: 3 } }, true],
    [{ result: true, error: null }, false],
    [{ result: true, message_id: 'x' }, false],
    [{ error: '' }, false],
    ['OK', false],
  ])('%j is a failure: %s', (raw, failed) => {
    expect(failureReason(raw) !== undefined).toBe(failed);
  });

  it('keeps non-JSON bodies as text and never throws', () => {
    expect(parseBody('<html>oops</html>')).toBe('<html>oops</html>');
    expect(parseBody('{"a":')).toBe('{"a":');
    expect(parseBody('')).toBe('');
    expect(parseBody('{"a":1}')).toEqual({ a: 1 });
  });

  it('reads the line status and message status in several spellings', () => {
    expect(pickConnected({ connected: true })).toBe(true);
    expect(pickConnected({ result: { status: 'CONNECTED' } })).toBe(true);
    expect(pickConnected({ status: 'disconnected' })).toBe(false);
    expect(pickConnected({ status: 'weird' })).toBeUndefined();
    expect(pickStatus({ data: { message_status: 'read' } })).toBe('read');
  });
});
