/**
 * The notifier: the front an app talks to. It turns triggers into jobs on a queue, runs the queue
 * engine's worker, delivery checks and webhooks, and emits events; it holds no state of its own.
 */

import { type OutgoingMessage, toOutgoingMessage } from '../client/message.js';
import { DeliveryTracker, resolveDeliveryChecks } from '../delivery/delivery.js';
import { ClosedError, JobStateError, OlchatError, UnknownRuleError, ValidationError } from '../errors.js';
import { type Category, defaultCategory } from '../job.js';
import { type Logger, privateLogger } from '../logger.js';
import { MemoryPeopleStore } from '../people/memory-store.js';
import { inScope, People } from '../people/people.js';
import { phoneKeyer, resolveSecret } from '../people/phone-key.js';
import { normalizePhone } from '../phone.js';
import { createJobWorker } from '../queue/job-worker.js';
import { type Backoff, DEFAULT_BACKOFF, DEFAULT_MAX_AGE_MS, deadlineFor, retryRefusal } from '../queue/lifecycle.js';
import { LineMonitor, type LineOptions } from '../queue/line.js';
import { MemoryQueue } from '../queue/memory-queue.js';
import { createQuietHours, defaultTimeZone, type QuietHours } from '../queue/quiet-hours.js';
import { createClaimer } from '../queue/slot-claim.js';
import { JOB_STATUSES, type JobMeta, type JobQueue, type NewJob, type Priority } from '../queue/types.js';
import { toCategory, toKey, toMeta, toPriority, toTime } from '../rules/job-options.js';
import type { AnyRule, Rule } from '../rules/rules.js';
import { ownCopy } from '../util/own-string.js';
import { SafeEmitter } from '../util/safe-emitter.js';
import { checkInteger } from '../util/validate.js';
import { createWebhookDispatcher, lineWebhookData, type WebhookDispatcher, webhookData } from '../webhooks/index.js';
import type {
  ForgetResult,
  LineEvent,
  Notifier,
  NotifierOptions,
  NotifierStats,
  TriggerOptions,
  TriggerResult,
} from './types.js';

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
  category: Category;
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
  const { maxAgeMs = DEFAULT_MAX_AGE_MS, maxQueued, keepFinishedMs } = options;
  const given = options.logger ?? consoleLogger;
  const storeText = options.storeText ?? true;
  if (typeof storeText !== 'boolean') throw new ValidationError('storeText must be true or false');
  if (keepFinishedMs !== undefined) checkInteger(keepFinishedMs, 'keepFinishedMs');
  checkInteger(concurrency, 'concurrency');
  checkInteger(dedupeTtlMs, 'dedupeTtlMs');
  checkInteger(maxAgeMs, 'maxAgeMs');
  if (maxQueued !== undefined) checkInteger(maxQueued, 'maxQueued');
  if (typeof given?.error !== 'function' || typeof given.warn !== 'function')
    throw new ValidationError('logger must be pino-compatible: { debug, info, warn, error }');
  const logger = privateLogger(given);
  const quietHours: QuietHours | undefined =
    options.quietHours === undefined ? undefined : createQuietHours(options.quietHours);
  const timeZoneOf = quietHours ? (phone: string) => quietHours.zoneOf(phone) : defaultTimeZone;
  const prepareContext = { timeZoneOf };
  const byId = indexRules(rules);
  // Contact memory and opt-outs live with the queue when it keeps them (Redis: shared by every
  // process, so every process must hash phones with the app's secret), else in this process.
  const people = new People(
    queue.peopleStore?.() ?? new MemoryPeopleStore(),
    phoneKeyer(resolveSecret(options.secret, queue.shared === true)),
  );
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  checkInteger(backoff.minMs, 'backoff.minMs');
  checkInteger(backoff.maxMs, 'backoff.maxMs');

  const deliveryChecks = resolveDeliveryChecks(options.deliveryChecks);
  const wantsWebhooks = options.webhooks !== undefined && options.webhooks.length > 0;
  // A durable queue keeps undelivered webhooks too; the notifier closes that outbox after its dispatcher.
  const queueOutbox = wantsWebhooks ? queue.webhookOutbox?.() : undefined;
  const webhooks: WebhookDispatcher | undefined = wantsWebhooks
    ? createWebhookDispatcher({
        endpoints: options.webhooks ?? [],
        logger,
        ...(queueOutbox ? { outbox: queueOutbox } : {}),
      })
    : undefined;

  const events = new SafeEmitter(logger);
  let closed = false;
  let closing: Promise<void> | undefined;

  /**
   * What a finished job sets going in the background (its webhook, its contact memory): `forget()`
   * waits for those already under way before it erases, so none lands after it.
   */
  const underway = new Set<Promise<unknown>>();
  function inBackground(work: Promise<unknown>): void {
    const tracked = work.finally(() => underway.delete(tracked));
    underway.add(tracked);
  }

  /** Webhooks go out in the background: a failing outbox is logged, never felt by a send. */
  function publish(type: Parameters<WebhookDispatcher['publish']>[0], data: never, at: number): void {
    if (!webhooks) return;
    inBackground(
      webhooks.publish(type, data, { at }).catch((error: unknown) => {
        logger.error({ type, err: String(error) }, 'olchat-kit: could not store a webhook');
      }),
    );
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
    );

  queue.start({
    concurrency,
    worker: createJobWorker({
      client,
      line,
      quietHours,
      backoff,
      onAttempt: (event) => events.emit('attempt', event),
      // One look at the recipient before the request is written: a phone suppressed after its job
      // was queued ends it skipped, never sent.
      beforeSend: async (job) => {
        const person = await people.lookup(job.message.phone);
        return inScope(person.suppression, job.category) ? { status: 'skipped', reason: 'suppressed' } : undefined;
      },
    }),
    // Slot first: a queue that can takes a limit slot, then its best job for it.
    claim: createClaimer(client, line),
    onFinished: (record) => {
      const remembered = people.finished(record);
      if (remembered) {
        inBackground(
          remembered.catch((error: unknown) => {
            logger.error({ err: String(error) }, 'olchat-kit: could not remember a contact');
          }),
        );
      }
      const status = record.status as 'sent' | 'failed' | 'expired' | 'cancelled' | 'skipped';
      if (status === 'skipped') return;
      events.emit(status, record);
      publish(`message.${status}`, webhookData(record) as never, record.updatedAt);
      if (record.status === 'sent') delivery?.track(record);
    },
    ...(maxQueued === undefined ? {} : { maxQueued }),
    ...(keepFinishedMs === undefined ? {} : { keepFinishedMs }),
    storeText,
    phoneKey: (phone) => people.keyOf(phone),
  });

  function ensureOpen(): void {
    if (closed) throw new ClosedError();
  }

  async function enqueue(spec: JobSpec, beforeEnqueue: TriggerOptions['beforeEnqueue']): Promise<TriggerResult> {
    // A replay of a key answers with its first job before anything is spent on it.
    if (spec.keys.length > 0) {
      const existing = await queue.find(spec.keys);
      if (existing) return { id: existing.id, status: existing.status };
    }
    const { notAfter, message } = spec;
    // A message the vendor's server would refuse for its size is refused now, not after queueing.
    client.assertSendable(message);
    const now = Date.now();
    let sendAt = spec.sendAt !== undefined && spec.sendAt > now ? spec.sendAt : undefined;
    // A deadline already past, or a sendAt at or after it, comes from the data (a visit booked 30 min
    // ahead of a reminder due 1 h before it), not from bad input: the trigger succeeds and the job
    // ends 'expired' at once (a deadline already past when it is added), its keys freed.
    const tooLate = notAfter !== undefined && (notAfter <= now || (sendAt !== undefined && sendAt >= notAfter));
    const deadline = tooLate ? now : deadlineFor(sendAt ?? now, notAfter, maxAgeMs);
    // An opted-out phone: recorded as skipped, so get() says why nothing was sent.
    const blocked = people.blocks(message.phone, spec.category);
    if (blocked === true || (blocked !== false && (await nothingQueuedIfRejects(blocked))))
      return addSkipped(spec, 'suppressed');
    if (spec.quiet && quietHours && !tooLate) {
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
      category: spec.category,
      sendAt,
      notAfter,
      deadline,
      replaceKey: spec.replaceKey === undefined ? undefined : ownCopy(spec.replaceKey),
      meta: spec.meta,
      quiet: spec.quiet,
    };
    const { record } = await queue.add(job);
    return { id: record.id, status: record.status };
  }

  /** A job recorded as finished at once and never worked: `when()` said no, or the phone opted out. */
  async function addSkipped(spec: JobSpec, reason: 'when' | 'suppressed'): Promise<TriggerResult> {
    ensureOpen();
    const { phone } = spec.message;
    const skipped: NewJob = {
      ruleId: spec.ruleId,
      // Only the recipient is kept (when it is known): never the text of a message not sent.
      message: { phone, text: '', sendToImol: false },
      skipped: true,
      reason,
      keys: spec.keys,
      keyTtlMs: dedupeTtlMs,
      priority: spec.priority,
      category: spec.category,
      sendAt: undefined,
      notAfter: undefined,
      deadline: Date.now(),
      replaceKey: undefined,
      meta: spec.meta,
      quiet: false,
    };
    const { record } = await queue.add(skipped);
    return { id: record.id, status: record.status };
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
    contacts: people.contacts,
    suppress: (phone, suppressOptions) => people.suppress(phone, suppressOptions),
    unsuppress: (phone) => people.unsuppress(phone),
    suppressed: (phone) => people.suppressed(phone),

    async trigger(ruleId, data, triggerOptions = {}) {
      ensureOpen();
      const rule = typeof ruleId === 'string' ? byId.get(ruleId) : undefined;
      if (!rule) throw new UnknownRuleError(String(ruleId));
      const given = readOptions(triggerOptions);
      const prepared = await rule.prepare(data, prepareContext);
      if (!prepared) {
        // when() said no: recorded so get() can say why nothing was sent.
        const priority = given.priority ?? rule.definition.priority ?? 'normal';
        return addSkipped(
          {
            ruleId: rule.id,
            message: { phone: '', text: '', sendToImol: false },
            keys: given.keys,
            priority,
            category: given.category ?? rule.definition.category ?? defaultCategory(priority),
            sendAt: undefined,
            notAfter: undefined,
            replaceKey: undefined,
            meta: given.meta,
            quiet: false,
          },
          'when',
        );
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
          category: given.category ?? prepared.category ?? defaultCategory(priority),
          sendAt: given.sendAt ?? prepared.sendAt,
          notAfter: given.notAfter ?? prepared.notAfter,
          replaceKey: given.replaceKey ?? prepared.replaceKey,
          meta: given.meta,
          quiet: prepared.quietHours ?? priority !== 'high',
        },
        triggerOptions.beforeEnqueue,
      );
    },

    async send(message, sendOptions = {}) {
      ensureOpen();
      const given = readOptions(sendOptions);
      const priority = given.priority ?? 'normal';
      return enqueue(
        {
          ruleId: undefined,
          message: ownMessage(toOutgoingMessage(message)),
          keys: given.keys,
          priority,
          category: given.category ?? defaultCategory(priority),
          sendAt: given.sendAt,
          notAfter: given.notAfter,
          replaceKey: given.replaceKey,
          meta: given.meta,
          quiet: priority !== 'high',
        },
        undefined,
      );
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

    async find(findOptions) {
      if (typeof findOptions !== 'object' || findOptions === null) {
        throw new ValidationError('find() takes { phone, limit? }', [{ path: 'phone', message: 'Required' }]);
      }
      const phone = normalizePhone(findOptions.phone);
      const { limit = 50 } = findOptions;
      checkInteger(limit, 'limit');
      return queue.findByPhone(phone, Math.min(limit, 500));
    },

    async forget(phone, forgetOptions = {}) {
      const normalized = normalizePhone(phone);
      if (typeof forgetOptions !== 'object' || forgetOptions === null) {
        throw new ValidationError('forget() options must be { suppression? }');
      }
      const suppression = forgetOptions.suppression ?? false;
      if (typeof suppression !== 'boolean') {
        throw new ValidationError('suppression must be true or false', [
          { path: 'suppression', message: 'Expected a boolean' },
        ]);
      }
      // The queue first: after it no job of the phone is pending, and none will finish (so nothing
      // new will be published about them). Then what finished jobs set going before that.
      const { jobs, ids } = await queue.forget(normalized);
      await Promise.allSettled([...underway]);
      delivery?.forget(ids);
      const erasedWebhooks = webhooks ? await webhooks.forget(ids) : 0;
      const person = await people.forget(normalized, suppression);
      const result: ForgetResult = {
        jobs,
        contacts: person.contacts,
        webhooks: erasedWebhooks,
        suppressions: person.suppressions,
        at: Date.now(),
      };
      return result;
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
      if (!storeText && record.text === undefined && record.file === undefined) {
        throw new JobStateError('This job cannot be retried: its message was not kept (storeText: false)');
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
      if (limit !== undefined) checkInteger(limit, 'limit');
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
  category: Category | undefined;
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
    category: toCategory(options.category, 'category'),
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

/** A store that cannot be asked at trigger (Redis unreachable): its error says that nothing was queued. */
async function nothingQueuedIfRejects<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof OlchatError && !error.message.includes('nothing was queued'))
      error.message = `${error.message}; nothing was queued`;
    throw error;
  }
}

/** An ad-hoc message whose strings are the notifier's own (see `ownCopy`). */
function ownMessage(message: OutgoingMessage): OutgoingMessage {
  const { phone, sendToImol } = message;
  if ('text' in message) return { phone, text: ownCopy(message.text), sendToImol };
  const { url, caption } = message.file;
  const file = caption === undefined ? { url: ownCopy(url) } : { url: ownCopy(url), caption: ownCopy(caption) };
  return { phone, file, sendToImol };
}
