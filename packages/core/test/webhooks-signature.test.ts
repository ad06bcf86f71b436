import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../src/queue/types.js';
import { resolveEndpoints } from '../src/webhooks/endpoints.js';
import {
  generateWebhookSecret,
  lineWebhookData,
  parseWebhookSecret,
  signWebhook,
  WEBHOOK_SECRET_MIN_BYTES,
  webhookBody,
  webhookData,
} from '../src/webhooks/index.js';
import { thrownValidation } from './helpers/rejection.js';

const secretOf = (bytes: number, fill = 7) => `whsec_${Buffer.alloc(bytes, fill).toString('base64')}`;

describe('webhook secrets', () => {
  it('accepts whsec_ + canonical base64 of 24 to 64 bytes and returns the decoded key', () => {
    expect(parseWebhookSecret(secretOf(24, 1))).toEqual(Buffer.alloc(24, 1));
    expect(parseWebhookSecret(secretOf(64, 2))).toEqual(Buffer.alloc(64, 2));
    const generated = generateWebhookSecret();
    expect(parseWebhookSecret(generated)).toHaveLength(32);
    expect(generated).not.toBe(generateWebhookSecret());
  });

  it.each([
    ['no prefix', Buffer.alloc(32, 1).toString('base64'), "must start with 'whsec_'"],
    ['empty key', 'whsec_', 'standard base64'],
    ['too short', secretOf(WEBHOOK_SECRET_MIN_BYTES - 1), 'at least 24 bytes (got 23)'],
    ['too long', secretOf(65), 'at most 64 bytes'],
    ['a character base64 lacks', `${secretOf(32).slice(0, 20)}!${secretOf(32).slice(21)}`, 'standard base64'],
    ['base64url', `whsec_${Buffer.alloc(33, 0xfb).toString('base64url')}`, 'standard base64'],
    ['missing padding', `whsec_${Buffer.alloc(25, 1).toString('base64').replace(/=+$/, '')}`, 'standard base64'],
    [
      'non-canonical last character',
      `whsec_${Buffer.alloc(25, 1).toString('base64').replace(/Q==$/, 'R==')}`,
      'canonical',
    ],
    ['not a string', 12345, 'must be a string'],
  ])('rejects %s with a ValidationError at its path, without the secret', (_, secret, why) => {
    const error = thrownValidation(() => parseWebhookSecret(secret, 'webhooks[3].secret'));
    expect(error.issues).toEqual([{ path: 'webhooks[3].secret', message: expect.stringContaining(why) }]);
    if (typeof secret === 'string' && secret.length > 8) {
      expect(JSON.stringify(error.issues) + error.message).not.toContain(secret.slice(6));
    }
  });

  it('the signature is the one the standardwebhooks package computes, and only that key verifies it', () => {
    const secret = generateWebhookSecret();
    const body = '{"type":"message.sent","timestamp":"2025-01-01T00:00:00.000Z","data":{"id":"j1"}}';
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signWebhook(parseWebhookSecret(secret), 'msg_abc', timestamp, body);
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(signature).toBe(new Webhook(secret).sign('msg_abc', new Date(timestamp * 1000), body));
    const headers = { 'webhook-id': 'msg_abc', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow(/No matching signature/);
  });
});

describe('webhook endpoints option', () => {
  const good = { url: 'https://crm.example/hooks?key=abc', secret: generateWebhookSecret() };

  it('reports every bad field at webhooks[i].<field> in one ValidationError', () => {
    const error = thrownValidation(() =>
      resolveEndpoints([
        good,
        { url: 'ftp://x.example/', secret: 'whsec_short', events: ['message.sent', 'message.bounced'] },
        { url: 'https://crm.example/hooks?key=abc', secret: good.secret, events: [] },
        'nope',
      ]),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'webhooks[1].url',
      'webhooks[1].secret',
      'webhooks[1].events',
      'webhooks[2].url',
      'webhooks[2].events',
      'webhooks[3]',
    ]);
    expect(error.issues[2]?.message).toContain('"message.bounced"');
    expect(error.message).not.toContain(good.secret.slice(6));
  });

  it('keeps the origin for logs and sends URL credentials as basic auth', () => {
    const [endpoint] = resolveEndpoints([{ url: 'http://user:p%40ss@127.0.0.1:8080/in?token=t', secret: good.secret }]);
    expect(endpoint).toMatchObject({ origin: 'http://127.0.0.1:8080', path: '/in?token=t', events: undefined });
    expect(endpoint?.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });
});

describe('webhook bodies', () => {
  const failed: JobRecord = {
    id: 'job-1',
    ruleId: 'order-paid',
    phone: '79123456789',
    priority: 'normal',
    category: 'transactional',
    attempts: 3,
    status: 'failed',
    error: { code: 'HTTP', message: 'The vendor answered 400', status: 400, extra: 'kept out' } as never,
    meta: { orderId: 42, tags: ['a'] },
    createdAt: 1,
    updatedAt: 2,
  };

  it('data of a message event is the record’s public fields with meta passed through', () => {
    expect(webhookData(failed)).toEqual({
      id: 'job-1',
      ruleId: 'order-paid',
      status: 'failed',
      phone: '79123456789',
      error: { code: 'HTTP', message: 'The vendor answered 400', status: 400 },
      meta: { orderId: 42, tags: ['a'] },
    });
    const sent: JobRecord = { ...failed, status: 'sent', messageId: 'wamid.1', delivery: 'read', error: undefined };
    delete (sent as { error?: unknown }).error;
    expect(webhookData(sent)).toEqual({
      id: 'job-1',
      ruleId: 'order-paid',
      status: 'sent',
      phone: '79123456789',
      messageId: 'wamid.1',
      delivery: 'read',
      meta: { orderId: 42, tags: ['a'] },
    });
  });

  it('the body is { type, timestamp (ISO 8601), data }', () => {
    const at = new Date('2025-03-01T10:00:00.000Z');
    expect(JSON.parse(webhookBody('line.down', lineWebhookData({ state: 'down', reason: 'line_down' }), at))).toEqual({
      type: 'line.down',
      timestamp: '2025-03-01T10:00:00.000Z',
      data: { state: 'down', reason: 'line_down' },
    });
    expect(lineWebhookData({ state: 'up' })).toEqual({ state: 'up' });
  });
});
