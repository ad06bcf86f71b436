import type { Logger } from './client.js';
import { DeliveryTracker, resolveDeliveryChecks } from './delivery.js';
import { ClosedError, JobStateError, UnknownRuleError, ValidationError } from './errors.js';
import { toKey, toMeta, toPriority, toTime } from './job-options.js';
import { createJobWorker } from './job-worker.js';
import { type Backoff, DEFAULT_BACKOFF, DEFAULT_MAX_AGE_MS, deadlineFor, retryRefusal } from './lifecycle.js';
import { LineMonitor, type LineOptions } from './line.js';
import { type MessageInput, type OutgoingMessage, toOutgoingMessage } from './message.js';
import type {
  LineEvent,
  Notifier,
  NotifierOptions,
  NotifierStats,
  TriggerOptions,
  TriggerResult,
} from './notifier-types.js';
import { ownCopy } from './own-string.js';
import { MemoryQueue } from './queue/memory-queue.js';
import { JOB_STATUSES, type JobMeta, type JobQueue, type NewJob, type Priority } from './queue/types.js';
import { createQuietHours, defaultTimeZone, type QuietHours } from './quiet-hours.js';
import type { AnyRule, Rule } from './rules.js';
import { SafeEmitter } from './safe-emitter.js';
import { guardTelemetry } from './telemetry/guard.js';
import { traceWorker } from './telemetry/send-span.js';
import { isTelemetry, type TelemetrySpan } from './telemetry/telemetry.js';
import { describeTrigger, traceTrigger } from './telemetry/trigger-span.js';
import { createWebhookDispatcher, lineWebhookData, type WebhookDispatcher, webhookData } from './webhooks/index.js';

/** Fine-tuning of the outage behaviour; the defaults suit the vendor. */
export interface NotifierInternalOptions {
  /** The line breaker (see `LineOptions`). */
  line?: LineOptions;
  /** Waits between attempts of a job that was not accepted. Default 1 s doubling up to 5 min. */
  backoff?: Partial<Backoff>;
}

const DAY_MS = 24 * 3600_000;
const ALL_STATUSES = JOB_STATUSES;

/** What a job is to be, before the queue gives it an id. */
interface JobSpec {
  ruleId: string | undefined;
  message: OutgoingMessage;
  keys: string[];
  priority: Priority;
  sendAt: number | undefined;
  notAfter: number | undefined;
  replaceKey: string | undefined;
  meta: JobMeta | undefined;
  quiet: boolean;
}

const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

export function createNotifier<R extends AnyRule>(options: NotifierOptions<R> & NotifierInternalOptions): Notifier<R> {
  if (typeof options !== 'object' || options === null || typeof options.client?.sendText !== 'function') {
    throw new ValidationError('createNotifier needs { client: OlchatClient, rules?, queue? }');
  }
  const { client, rules = [], concurrency = 10, dedupeTtlMs = DAY_MS } = options;
  const queue: JobQueue = options.queue ?? new MemoryQueue();
  const { maxAgeMs = DEFAULT_MAX_AGE_MS, maxQueued, logger = consoleLogger } = options;
  positiveInteger(concurrency, 'concurrency');
  positiveInteger(dedupeTtlMs, 'dedupeTtlMs');
  positiveInteger(maxAgeMs, 'maxAgeMs');
  if (maxQueued !== undefined) positiveInteger(maxQueued, 'maxQueued');
  if (typeof logger?.error !== 'function' || typeof logger.warn !== 'function')
    throw new ValidationError('logger must be pino-compatible: { debug, info, warn, error }');
  if (options.telemetry !== undefined && !isTelemetry(options.telemetry)) {
    throw new ValidationError(
      'telemetry must have startSpan(), as otelTelemetry() from @olchat-kit/opentelemetry does',
    );
  }
  const telemetry = options.telemetry && guardTelemetry(options.telemetry, logger);
  const quietHours: QuietHours | undefined =
    options.quietHours === undefined ? undefined : createQuietHours(options.quietHours);
  const timeZoneOf = quietHours ? (phone: string) => quietHours.zoneOf(phone) : defaultTimeZone;
  const prepareContext = { timeZoneOf };
  const byId = indexRules(rules);
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  positiveInteger(backoff.minMs, 'backoff.minMs');
  positiveInteger(backoff.maxMs, 'backoff.maxMs');

  const deliveryChecks = resolveDeliveryChecks(options.deliveryChecks);
  const wantsWebhooks = options.webhooks !== undefined && options.webhooks.length > 0;
  // A durable queue keeps undelivered webhooks too; the notifier closes that outbox after its dispatcher.
  const queueOutbox = wantsWebhooks ? queue.webhookOutbox?.() : undefined;
  const webhooks: WebhookDispatcher | undefined = wantsWebhooks
    ? createWebhookDispatcher({
        endpoints: options.webhooks ?? [],
        logger,
        ...(queueOutbox ? { outbox: queueOutbox } : {}),
        ...(telemetry ? { telemetry } : {}),
      })
    : undefined;

  const events = new SafeEmitter(logger);
  let closed = false;
  let closing: Promise<void> | undefined;

  /** Webhooks go out in the background: a failing outbox is logged, never felt by a send. */
  function publish(type: Parameters<WebhookDispatcher['publish']>[0], data: never, at: number): void {
    webhooks?.publish(type, data, { at }).catch((error: unknown) => {
      logger.error({ type, err: String(error) }, 'olchat-kit: could not store a webhook');
    });
  }

  // `line.up` is news only after `line.down`: a process seeing its first success says nothing.
  let announcedDown = false;
  const line = new LineMonitor(
    client,
    (event: LineEvent) => {
      const log = event.state === 'down' ? logger.warn : logger.info;
      log.call(logger, { line: event }, `olchat-kit: the WhatsApp line is ${event.state}`);
      events.emit('line', event);
      if (event.state === 'down' || (event.state === 'up' && announcedDown)) {
        announcedDown = event.state === 'down';
        publish(`line.${event.state}`, lineWebhookData(event) as never, Date.now());
      }
    },
    options.line,
  );

  const delivery =
    deliveryChecks &&
    new DeliveryTracker(
      client,
      line,
      deliveryChecks,
      async (update) => {
        const record = await queue.setDelivery(update.id, update.delivery, update.checkedAt, update.raw);
        if (!record || update.delivery === undefined) return;
        events.emit(update.delivery, record);
        publish(`message.${update.delivery}`, webhookData(record) as never, update.checkedAt);
      },
      logger,
      telemetry,
    );

  const worker = createJobWorker({
    client,
    line,
    quietHours,
    backoff,
    onAttempt: (event) => events.emit('attempt', event),
  });
  queue.start({
    concurrency,
    worker: telemetry ? traceWorker(worker, telemetry, client) : worker,
    onFinished: (record) => {
      const status = record.status as 'sent' | 'failed' | 'expired' | 'cancelled' | 'skipped';
      if (status === 'skipped') return;
      events.emit(status, record);
      publish(`message.${status}`, webhookData(record) as never, record.updatedAt);
      if (record.status === 'sent') delivery?.track(record);
    },
    ...(maxQueued === undefined ? {} : { maxQueued }),
  });

  function ensureOpen(): void {
    if (closed) throw new ClosedError();
  }

  /** `span`: the trigger's span, when there is telemetry. */
  async function enqueue(
    spec: JobSpec,
    beforeEnqueue: TriggerOptions['beforeEnqueue'],
    span: TelemetrySpan | undefined,
  ): Promise<TriggerResult> {
    // A replay of a key answers with its first job before anything is spent on it.
    if (spec.keys.length > 0) {
      const existing = await queue.find(spec.keys);
      if (existing) {
        if (span) describeTrigger(span, 'duplicate', existing.priority);
        return { id: existing.id, status: existing.status };
      }
    }
    const { notAfter, message } = spec;
    // A message the vendor's server would refuse for its size is refused now, not after queueing.
    client.assertSendable(message);
    const now = Date.now();
    let sendAt = spec.sendAt !== undefined && spec.sendAt > now ? spec.sendAt : undefined;
    if (notAfter !== undefined && notAfter <= now) {
      throw new ValidationError('notAfter is in the past: the message could never be sent', [
        { path: 'notAfter', message: 'In the past' },
      ]);
    }
    if (sendAt !== undefined && notAfter !== undefined && sendAt >= notAfter) {
      throw new ValidationError('sendAt must be before notAfter', [{ path: 'sendAt', message: 'After notAfter' }]);
    }
    const deadline = deadlineFor(sendAt ?? now, notAfter, maxAgeMs);
    if (spec.quiet && quietHours) {
      const allowed = quietHours.nextAllowed(sendAt ?? now, message.phone);
      if (allowed > (sendAt ?? now)) sendAt = allowed; // past the deadline, it expires then rather than going late
    }
    // Awaited only when given: an `await undefined` still costs every trigger a microtask turn.
    if (beforeEnqueue) await beforeEnqueue(message);
    ensureOpen();
    // One object shape for every add: a conditional spread here cost microseconds per request.
    const job: NewJob = {
      ruleId: spec.ruleId,
      message,
      keys: spec.keys,
      keyTtlMs: dedupeTtlMs,
      priority: spec.priority,
      sendAt,
      notAfter,
      deadline,
      replaceKey: spec.replaceKey === undefined ? undefined : ownCopy(spec.replaceKey),
      meta: spec.meta,
      quiet: spec.quiet,
      trace: span === undefined ? undefined : span.carrier(),
    };
    const { record, created } = await queue.add(job);
    if (span) describeTrigger(span, created ? record.status : 'duplicate', record.priority);
    return { id: record.id, status: record.status };
  }

  /** `trigger()`; `span`: its span, when there is telemetry. */
  async function triggerJob(
    ruleId: unknown,
    data: unknown,
    triggerOptions: TriggerOptions,
    span: TelemetrySpan | undefined,
  ): Promise<TriggerResult> {
    ensureOpen();
    const rule = typeof ruleId === 'string' ? byId.get(ruleId) : undefined;
    if (!rule) throw new UnknownRuleError(String(ruleId));
    const given = readOptions(triggerOptions);
    const prepared = await rule.prepare(data, prepareContext);
    if (!prepared) {
      // when() said no: recorded so get() can say why nothing was sent.
      ensureOpen();
      const skipped: NewJob = {
        ruleId: rule.id,
        message: { phone: '', text: '', sendToImol: false },
        skipped: true,
        keys: given.keys,
        keyTtlMs: dedupeTtlMs,
        priority: 'normal',
        sendAt: undefined,
        notAfter: undefined,
        deadline: Date.now(),
        replaceKey: undefined,
        meta: given.meta,
        quiet: false,
      };
      const { record, created } = await queue.add(skipped);
      if (span) describeTrigger(span, created ? record.status : 'duplicate', undefined);
      return { id: record.id, status: record.status };
    }
    const keys =
      prepared.dedupeKey === undefined
        ? given.keys
        : [...given.keys, namespacedKey('dedupe:', rule.id, ':', prepared.dedupeKey)];
    const priority = given.priority ?? prepared.priority ?? 'normal';
    return enqueue(
      {
        ruleId: rule.id,
        message: prepared.message,
        keys,
        priority,
        sendAt: given.sendAt ?? prepared.sendAt,
        notAfter: given.notAfter ?? prepared.notAfter,
        replaceKey: given.replaceKey ?? prepared.replaceKey,
        meta: given.meta,
        quiet: prepared.quietHours ?? priority !== 'high',
      },
      triggerOptions.beforeEnqueue,
      span,
    );
  }

  /** `send()`; `span`: its span, when there is telemetry. */
  async function sendJob(
    message: MessageInput,
    sendOptions: TriggerOptions,
    span: TelemetrySpan | undefined,
  ): Promise<TriggerResult> {
    ensureOpen();
    const given = readOptions(sendOptions);
    const priority = given.priority ?? 'normal';
    return enqueue(
      {
        ruleId: undefined,
        message: ownMessage(toOutgoingMessage(message)),
        keys: given.keys,
        priority,
        sendAt: given.sendAt,
        notAfter: given.notAfter,
        replaceKey: given.replaceKey,
        meta: given.meta,
        quiet: priority !== 'high',
      },
      undefined,
      span,
    );
  }

  const notifier: Notifier<R> = {
    client,
    get closed() {
      return closed;
    },
    get line() {
      return line.state;
    },
    lineInfo: () => line.info(),
    refreshLine: (maxAgeMs = 0) => line.refresh(maxAgeMs),
    hasRule: (ruleId) => byId.has(ruleId),

    // Not async: without telemetry a trigger pays for no wrapper (see bench/telemetry.mjs).
    trigger(ruleId, data, triggerOptions = {}) {
      if (telemetry === undefined) return triggerJob(ruleId, data, triggerOptions, undefined);
      const known = typeof ruleId === 'string' && byId.has(ruleId) ? ruleId : undefined;
      return traceTrigger(telemetry, known, (span) => triggerJob(ruleId, data, triggerOptions, span));
    },

    send(message, sendOptions = {}) {
      if (telemetry === undefined) return sendJob(message, sendOptions, undefined);
      return traceTrigger(telemetry, undefined, (span) => sendJob(message, sendOptions, span));
    },

    async cancel(target) {
      if (typeof target === 'string') return (await queue.cancel(target)) !== undefined;
      const replaceKey = toKey((target as { replaceKey?: unknown } | null)?.replaceKey, 'replaceKey');
      if (replaceKey === undefined) {
        throw new ValidationError('cancel() takes a job id or { replaceKey }', [
          { path: 'replaceKey', message: 'Required' },
        ]);
      }
      return (await queue.cancel({ replaceKey })) !== undefined;
    },

    async retry(id, retryOptions = {}) {
      if (typeof id !== 'string') return undefined;
      const record = await queue.get(id);
      if (!record) return undefined;
      const refusal = retryRefusal(record, retryOptions.ambiguous === true);
      if (refusal) throw new JobStateError(refusal);
      const now = Date.now();
      if (record.notAfter !== undefined && record.notAfter <= now) {
        throw new JobStateError('This job can no longer be sent: its notAfter has passed');
      }
      const requeued = await queue.requeue(id, deadlineFor(now, record.notAfter, maxAgeMs));
      if (!requeued) throw new JobStateError('This job changed state before it could be retried');
      return { id: requeued.id, status: requeued.status };
    },

    async list(listOptions = {}) {
      const { status, limit } = listOptions;
      if (status !== undefined && !ALL_STATUSES.includes(status)) {
        throw new ValidationError(`status must be one of ${ALL_STATUSES.join(', ')}`, [
          { path: 'status', message: 'Unknown status' },
        ]);
      }
      if (limit !== undefined) positiveInteger(limit, 'limit');
      return queue.list(listOptions);
    },

    get: (id) => (typeof id === 'string' ? queue.get(id) : Promise.resolve(undefined)),

    stats(): NotifierStats {
      const stats = queue.stats();
      const limit = client.limits.sendText;
      const waiting = stats.queued + stats.sending;
      const windows = Math.max(0, Math.ceil(waiting / limit.points) - 1);
      return { ...stats, etaMs: windows * (limit.durationMs + limit.marginMs) };
    },

    on(event, listener) {
      events.on(event, listener as never);
      return notifier;
    },
    off(event, listener) {
      events.off(event, listener as never);
      return notifier;
    },

    close(closeOptions = {}) {
      closed = true;
      closing ??= queue.close({ timeoutMs: closeOptions.timeoutMs ?? 30_000 }).finally(async () => {
        line.close();
        delivery?.close();
        await webhooks?.close();
        await queueOutbox?.close();
      });
      return closing;
    },
  };
  return notifier;
}

function indexRules(rules: readonly AnyRule[]): Map<string, Rule> {
  if (!Array.isArray(rules)) throw new ValidationError('rules must be an array of defineRule() rules');
  const byId = new Map<string, Rule>();
  for (const rule of rules) {
    if (typeof rule?.prepare !== 'function') throw new ValidationError('rules must be made with defineRule()');
    if (byId.has(rule.id))
      throw new ValidationError(`Two rules have the id ${JSON.stringify(rule.id)}`, [
        { path: 'rules', message: 'Duplicate rule id' },
      ]);
    byId.set(rule.id, rule);
  }
  return byId;
}

interface GivenOptions {
  keys: string[];
  sendAt: number | undefined;
  notAfter: number | undefined;
  replaceKey: string | undefined;
  priority: Priority | undefined;
  meta: JobMeta | undefined;
}

/** Trigger and send options, checked before any work is done. */
function readOptions(options: TriggerOptions): GivenOptions {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options must be an object');
  const idempotencyKey = toKey(options.idempotencyKey, 'idempotencyKey');
  return {
    keys: idempotencyKey === undefined ? [] : [namespacedKey('idem:', idempotencyKey)],
    sendAt: toTime(options.sendAt, 'sendAt'),
    notAfter: toTime(options.notAfter, 'notAfter'),
    replaceKey: toKey(options.replaceKey, 'replaceKey'),
    priority: toPriority(options.priority, 'priority'),
    meta: toMeta(options.meta),
  };
}

/**
 * A key as one flat string. A template literal would keep it as a rope of its parts (three 32-byte
 * nodes for `dedupe:${ruleId}:${key}`, plus the user's string) for as long as the key is
 * remembered; `join` copies the characters into one string.
 */
function namespacedKey(...parts: string[]): string {
  return parts.join('');
}

/** An ad-hoc message whose strings are the notifier's own (see `ownCopy`). */
function ownMessage(message: OutgoingMessage): OutgoingMessage {
  const { phone, sendToImol } = message;
  if ('text' in message) return { phone, text: ownCopy(message.text), sendToImol };
  const { url, caption } = message.file;
  const file = caption === undefined ? { url: ownCopy(url) } : { url: ownCopy(url), caption: ownCopy(caption) };
  return { phone, file, sendToImol };
}

function positiveInteger(value: unknown, name: string): void {
  if (!Number.isInteger(value) || (value as number) < 1)
    throw new ValidationError(`${name} must be a positive integer`, [
      { path: name, message: 'Expected an integer ≥ 1' },
    ]);
}
