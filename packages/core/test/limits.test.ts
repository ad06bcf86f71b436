import { describe, expect, it } from 'vitest';
import { OlchatClient, ValidationError, VENDOR_LIMITS } from '../src/index.js';

const token = 'limits-test-token';

describe('limits', () => {
  it('defaults to the vendor limits with a 50 ms margin', () => {
    const client = new OlchatClient({ token });
    expect(client.limits.sendText).toEqual({ points: 5, durationMs: 3000, marginMs: 50 });
    expect(client.limits.checkPhone).toEqual({ points: 3, durationMs: 1000, marginMs: 50 });
    expect(VENDOR_LIMITS.checkStatus).toEqual({ points: 5, durationMs: 3000 });
  });

  it('accepts stricter limits against the vendor URL', () => {
    const client = new OlchatClient({ token, limits: { sendText: { points: 3, durationMs: 5000, marginMs: 200 } } });
    expect(client.limits.sendText).toEqual({ points: 3, durationMs: 5000, marginMs: 200 });
  });

  it.each([
    [{ sendText: { points: 6 } }],
    [{ sendFile: { durationMs: 2999 } }],
    [{ checkPhone: { points: 4 } }],
    [{ checkPhone: { durationMs: 500 } }],
    [{ checkPhone: { points: 2, durationMs: 500 } }],
  ])('refuses looser limits %j against the vendor URL', (limits) => {
    expect(() => new OlchatClient({ token, limits })).toThrow(ValidationError);
  });

  it('allows any limits against another server (an emulator or a proxy)', () => {
    const client = new OlchatClient({
      token,
      baseUrl: 'http://127.0.0.1:9/wa',
      limits: { sendText: { points: 50, durationMs: 100 } },
    });
    expect(client.limits.sendText.points).toBe(50);
  });

  it.each([
    [{ sendText: { points: 0 } }],
    [{ sendText: { points: 2.5 } }],
    [{ sendText: { marginMs: -1 } }],
    [{ sendTxt: { points: 1 } }],
  ])('refuses malformed limits %j', (limits) => {
    expect(() => new OlchatClient({ token, limits: limits as never })).toThrow(ValidationError);
  });
});
