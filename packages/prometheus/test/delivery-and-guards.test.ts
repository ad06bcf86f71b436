import {
  type AnyNotifier,
  createNotifier,
  type JobRecord,
  MemoryLimiterStore,
  type NotifierEvent,
  type NotifierStats,
  OlchatClient,
} from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { collectMetrics, type MetricsSource } from '../src/index.js';
import { parseExposition, sampleValue } from './helpers/exposition.js';

/**
 * Emits what it is told and, unlike the notifier's own emitter, lets a listener's error through:
 * what the metrics do with payloads and failures the real notifier does not produce.
 */
class EventSource implements MetricsSource {
  readonly #listeners = new Map<string, Set<(payload: unknown) => void>>();
  line: AnyNotifier['line'] = 'unknown';

  on(event: NotifierEvent, listener: (payload: never) => void): this {
    const set = this.#listeners.get(event) ?? new Set();
    set.add(listener as (payload: unknown) => void);
    this.#listeners.set(event, set);
    return this;
  }
  off(event: NotifierEvent, listener: (payload: never) => void): this {
    this.#listeners.get(event)?.delete(listener as (payload: unknown) => void);
    return this;
  }
  emit(event: NotifierEvent, payload: unknown): void {
    for (const listener of this.#listeners.get(event) ?? []) listener(payload);
  }
  listenerCount(): number {
    return [...this.#listeners.values()].reduce((n, set) => n + set.size, 0);
  }
  stats(): NotifierStats {
    return {
      scheduled: 0,
      queued: 0,
      sending: 0,
      sent: 0,
      failed: 0,
      cancelled: 0,
      expired: 0,
      etaMs: 0,
    } as NotifierStats;
  }
}

describe('delivery reports and broken input', () => {
  it('never throws into the notifier, whatever the payload, and keeps counting after', async () => {
    const events = new EventSource();
    const registry = new Registry();
    const collector = collectMetrics(events, { registry });
    const junk = [undefined, null, 42, 'text', {}, { method: 'sendText', durationMs: Number.NaN, waitMs: -5 }];
    for (const payload of junk) {
      for (const event of ['sent', 'failed', 'attempt', 'delivered', 'line'] as const) {
        expect(() => events.emit(event, payload)).not.toThrow();
      }
    }
    events.emit('attempt', { method: 'sendText', ruleId: 'order-received', waitMs: 1500, durationMs: 120 });
    events.emit('attempt', { method: 'checkStatus', waitMs: 0, durationMs: 30, code: 'RATE_LIMITED' });

    const m = parseExposition(await registry.metrics());
    expect(sampleValue(m, 'olchat_send_duration_seconds_count')).toBe(1);
    expect(sampleValue(m, 'olchat_send_duration_seconds_sum')).toBeCloseTo(0.12);
    expect(sampleValue(m, 'olchat_limiter_wait_seconds_sum')).toBeCloseTo(1.5);
    expect(sampleValue(m, 'olchat_vendor_rate_limited_total')).toBe(1);
    expect(sampleValue(m, 'olchat_messages_total', { rule: 'order-received', status: 'sent' })).toBe(0);

    expect(events.listenerCount()).toBeGreaterThan(0);
    collector.stop();
    expect(events.listenerCount()).toBe(0);
  });

  it('a scrape still answers when the notifier cannot say its stats', async () => {
    const events = new EventSource();
    events.stats = () => {
      throw new Error('queue store unreachable');
    };
    events.line = 'bogus' as AnyNotifier['line'];
    const registry = new Registry();
    collectMetrics(events, { registry });
    const m = parseExposition(await registry.metrics());
    expect(sampleValue(m, 'olchat_queue_jobs', { state: 'queued' })).toBeNaN();
    expect(sampleValue(m, 'olchat_queue_eta_seconds')).toBeNaN();
    expect(sampleValue(m, 'olchat_line_up')).toBeNaN();
  });

  it('counts what the vendor reports of real sends (delivered, read, undelivered) with deliveryChecks', async () => {
    const emu = await startEmulator({ limits: { checkMessageStatus: { points: 5, durationMs: 500 } } });
    const client = new OlchatClient({
      token: emu.token,
      baseUrl: emu.baseUrl,
      limits: { sendText: { points: 5, durationMs: 500 }, checkMessageStatus: { points: 5, durationMs: 500 } },
      limiterStore: new MemoryLimiterStore(),
    });
    const notifier = createNotifier({ client, deliveryChecks: { afterMs: [1000] } });
    const registry = new Registry();
    collectMetrics(notifier, { registry });
    try {
      const verdicts = ['delivered', 'read', 'failed'] as const;
      const reported = new Promise<void>((resolve) => {
        let left = verdicts.length;
        for (const event of ['delivered', 'read', 'undelivered'] as const)
          notifier.on(event, () => --left === 0 && resolve());
      });
      // Each message's status is set by hand as soon as it is sent, well before its check.
      const byPhone = new Map<string, (typeof verdicts)[number]>();
      notifier.on('sent', (record: JobRecord) => {
        const verdict = byPhone.get(record.phone ?? '');
        if (verdict && record.messageId) emu.setDelivery(record.messageId, verdict);
      });
      for (const [i, verdict] of verdicts.entries()) {
        const phone = `7912345670${i}`;
        byPhone.set(phone, verdict);
        await notifier.send({ phone, text: `Проверка доставки ${i}` });
      }
      await reported;
      const m = parseExposition(await registry.metrics());
      expect(sampleValue(m, 'olchat_delivery_total', { status: 'delivered' })).toBe(1);
      expect(sampleValue(m, 'olchat_delivery_total', { status: 'read' })).toBe(1);
      expect(sampleValue(m, 'olchat_delivery_total', { status: 'undelivered' })).toBe(1);
      const text = await registry.metrics();
      for (const [phone] of byPhone) expect(text).not.toContain(phone);
      for (const message of emu.messages) expect(text).not.toContain(message.id);
    } finally {
      await notifier.close({ timeoutMs: 5000 });
      await client.close();
      await emu.close();
    }
  });
});
