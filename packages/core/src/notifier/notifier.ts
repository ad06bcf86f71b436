/**
 * The notifier: the front an app talks to. It turns triggers into jobs on a queue, runs the queue
 * engine's worker, delivery checks and webhooks, and emits events; it holds no state of its own.
 */

import { type MessageInput, type OutgoingMessage, toOutgoingMessage } from '../client/message.js';
import { DeliveryTracker, resolveDeliveryChecks } from '../delivery/delivery.js';
import { ClosedError, JobStateError, OlchatError, UnknownRuleError, ValidationError } from '../errors.js';
import { GuardBudget } from '../guard/budget.js';
import { type ResolvedGuard, resolveGuard } from '../guard/options.js';
import { Pacer } from '../guard/pacing.js';
import { type Category, defaultCategory, JOB_STATUSES, type JobMeta, PRIORITIES, type Priority } from '../job.js';
import { type Logger, privateLogger } from '../logger.js';
import { MemoryPeopleStore } from '../people/memory-store.js';
import { inScope, People } from '../people/people.js';
import { phoneKeyer, resolveSecret } from '../people/phone-key.js';
import { normalizePhone } from '../phone.js';
import { createJobWorker } from '../queue/job-worker.js';
import { type LaneGateChange, LaneGates } from '../queue/lane-gates.js';
import {
  type Backoff,
  DEFAULT_BACKOFF,
  DEFAULT_MAX_AGE_MS,
  deadlineFor,
  expiredError,
  retryRefusal,
} from '../queue/lifecycle.js';
import { LineMonitor, type LineOptions } from '../queue/line.js';
import { MemoryQueue } from '../queue/memory-queue.js';
import { createQuietHours, defaultTimeZone, type QuietHours } from '../queue/quiet-hours.js';
import { createClaimer } from '../queue/slot-claim.js';
import type { ActiveJob, CancelFilter, JobOutcome, JobQueue, NewJob } from '../queue/types.js';
import { toCategory, toKey, toMeta, toPriority, toTime } from '../rules/job-options.js';
import { type AnyRule, type Rule, shortLinkError } from '../rules/rules.js';
import { findShortLink } from '../rules/short-links.js';
import { guardTelemetry } from '../telemetry/guard.js';
import { traceWorker } from '../telemetry/send-span.js';
import { isTelemetry, type TelemetrySpan } from '../telemetry/telemetry.js';
import { describeTrigger, traceTrigger } from '../telemetry/trigger-span.js';
import { ownCopy } from '../util/own-string.js';
import { SafeEmitter } from '../util/safe-emitter.js';
import { checkInteger, checkOneOf } from '../util/validate.js';
import { createWebhookDispatcher, lineWebhookData, type WebhookDispatcher, webhookData } from '../webhooks/index.js';
import type {
  ForgetResult,
  LaneInfo,
  LineEvent,
  LineInfo,
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
  /** The rule lets short links through. */
  shortLinksAllowed: boolean;
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
  const guard: ResolvedGuard | undefined = resolveGuard(options.guard);
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
        ...(telemetry ? { telemetry } : {}),
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

  // `line.up` is news only after `line.down` (or a flag): a process seeing its first success says nothing.
  let announcedDown = false;
  const line = new LineMonitor(
    client,
    (event: LineEvent) => {
      const log = event.state === 'down' ? logger.warn : logger.info;
      log.call(logger, { line: event }, `olchat-kit: the WhatsApp line is ${event.state}`);
      if (event.state === 'up' || event.state === 'down') pacer?.lineChanged(event.state, Date.now());
      // While flagged, the line's own ups and downs are logged, but what the app hears is the flag.
      if (gates.flag) return;
      events.emit('line', event);
      if (event.state === 'down' || (event.state === 'up' && announcedDown)) {
        announcedDown = event.state === 'down';
        publish(`line.${event.state}`, lineWebhookData(event) as never, Date.now());
      }
    },
    options.line,
    guard && {
      checkEveryMs: guard.flagged.checkEveryMs,
      onFlag: (words) => raiseFlag(words, guard),
    },
  );

  /**
   * Lane pauses and the flag: on a shared queue stored for every process (it keeps these gates in
   * step), else here.
   */
  const gates = new LaneGates();

  // Pacing and the ramp after downtime: a gap after each send of a lane, held in the gates.
  const sendLimit = client.limits.sendText;
  const pacer = guard && new Pacer(guard, sendLimit.durationMs / sendLimit.points);
  const pacing = pacer?.active ? pacer : undefined;

  /**
   * Takes the lane's pacing gap for a send about to be written: its end (ms) when taken, undefined
   * when the lane is not paced, 'wait' when a gap runs (the job goes back to the head of its lane,
   * queued, holding no worker, until the gap ends). On a shared queue the gap is checked and taken
   * in Redis, so every process paces one line.
   */
  async function pace(lane: Priority): Promise<number | 'wait' | undefined> {
    if (!pacing) return undefined;
    const now = Date.now();
    if (gates.notBefore(lane) > now) return 'wait';
    const gap = pacing.gapMs(lane, now);
    if (gap <= 0) return undefined;
    const until = now + gap;
    return (await changeGates({ op: 'pace', lane, at: now, until })) ? until : 'wait';
  }

  /** The guard's look at the recipient: suppressed, over the per-recipient cap, or over the budget. */
  async function admit(job: ActiveJob): Promise<JobOutcome | undefined> {
    if (!budget) {
      const person = await people.lookup(job.message.phone);
      return inScope(person.suppression, job.category) ? { status: 'skipped', reason: 'suppressed' } : undefined;
    }
    const now = Date.now();
    const admission = await people.admit(job.message.phone, now, budget.request(job.priority, job.category, now));
    if (inScope(admission.suppression, job.category)) return { status: 'skipped', reason: 'suppressed' };
    if (admission.overCap) return { status: 'skipped', reason: 'per_recipient' };
    if (admission.heldUntil === undefined) return undefined;
    // Held, holding no worker: back to `scheduled` until the budget frees; past its deadline it expires.
    if (admission.heldUntil >= job.deadline) return { status: 'expired', error: expiredError(job.lastError) };
    return { status: 'deferred', until: admission.heldUntil, heldBy: 'new_recipients' };
  }

  // The new-recipient budget and the reply ratio; its warning is said once per crossing.
  const budget =
    guard &&
    new GuardBudget(guard, people.store, (low) => {
      if (!low) return;
      const event: LineEvent = { ...lineEventNow(), warning: 'low_reply_ratio' };
      logger.warn(
        { line: event },
        'olchat-kit: replies are under 30 % of the messages sent in 7 days: the new-recipient budget is halved',
      );
      events.emit('line', event);
    });
  function changeGates(change: LaneGateChange): Promise<boolean> {
    return queue.updateGates ? queue.updateGates(change) : Promise.resolve(gates.apply(change));
  }

  // The flag's rise and fall as this process last saw them; the webhook goes from the process that
  // raised it (or lifted it), events from every process.
  let flagSeen = false;
  let flagRaisedHere = false;
  gates.onChange(() => {
    const flag = gates.flag;
    if ((flag !== undefined) === flagSeen) return;
    flagSeen = flag !== undefined;
    if (flag) {
      events.emit('line', { state: 'flagged', until: flag.until });
      return;
    }
    const event = lineEventNow();
    logger.info({ line: event }, 'olchat-kit: the line is no longer held as flagged');
    events.emit('line', event);
    if (flagRaisedHere && event.state === 'up') publish('line.up', lineWebhookData(event) as never, Date.now());
    flagRaisedHere = false;
    announcedDown = event.state === 'down';
  });

  async function raiseFlag(words: string, resolved: ResolvedGuard): Promise<void> {
    const at = Date.now();
    const { pauseMs, pauseHigh } = resolved.flagged;
    try {
      const raised = await changeGates({ op: 'flag', at, until: at + pauseMs, high: pauseHigh });
      if (!raised) return;
      flagRaisedHere = true;
      logger.warn(
        { line: { state: 'flagged', until: at + pauseMs }, words },
        'olchat-kit: the vendor suspects the WhatsApp number of spam: normal and low messages wait (notifier.resume() lifts it)',
      );
      publish('line.flagged', lineWebhookData({ state: 'flagged', until: at + pauseMs }) as never, at);
    } catch (error) {
      logger.error({ err: String(error) }, 'olchat-kit: could not hold the lanes of a flagged line');
    }
  }

  function lineEventNow(): LineEvent {
    const info = line.info();
    return info.reason === undefined ? { state: info.state } : { state: info.state, reason: info.reason };
  }

  function lineInfoNow(): LineInfo {
    const info = line.info();
    const flag = gates.flag;
    if (!flag) return info;
    return { ...info, state: 'flagged', since: flag.at, until: flag.until };
  }

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
    // One look at the recipient before the request is written: a phone suppressed after its job
    // was queued ends it skipped, never sent.
    // With the guard, the same look also decides the per-recipient cap and the new-recipient
    // budget, counted in the same step: one round trip on Redis, as without it.
    beforeSend: async (job) => {
      // The pacing gap first (one send per gap, however many workers hold jobs of the lane)…
      const paced = await pace(job.priority);
      if (paced === 'wait') return { status: 'released' };
      const outcome = await admit(job);
      // …given back when the job is not sent after all (held by the budget, skipped), so a
      // held backlog does not spend the lane's gaps on sends that never happen.
      if (outcome && paced !== undefined) {
        await changeGates({ op: 'unpace', lane: job.priority, until: paced }).catch((error: unknown) => {
          logger.warn({ err: String(error) }, 'olchat-kit: could not give a pacing gap back');
        });
      }
      return outcome;
    },
  });
  queue.start({
    concurrency,
    worker: telemetry ? traceWorker(worker, telemetry, client) : worker,
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
    gates,
    ...(maxQueued === undefined ? {} : { maxQueued }),
    ...(keepFinishedMs === undefined ? {} : { keepFinishedMs }),
    storeText,
    phoneKey: (phone) => people.keyOf(phone),
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
    if (guard?.shortLinks === 'refuse' && !spec.shortLinksAllowed) refuseShortLinks(message, spec.ruleId);
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
      return addSkipped(spec, 'suppressed', span);
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
      trace: span === undefined ? undefined : span.carrier(),
    };
    const { record, created } = await queue.add(job);
    if (span) describeTrigger(span, created ? record.status : 'duplicate', record.priority);
    return { id: record.id, status: record.status };
  }

  /** A job recorded as finished at once and never worked: `when()` said no, or the phone opted out. */
  async function addSkipped(
    spec: JobSpec,
    reason: 'when' | 'suppressed',
    span: TelemetrySpan | undefined,
  ): Promise<TriggerResult> {
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
    const { record, created } = await queue.add(skipped);
    if (span) describeTrigger(span, created ? record.status : 'duplicate', undefined);
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
          shortLinksAllowed: false,
        },
        'when',
        span,
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
        shortLinksAllowed: prepared.shortLinks === 'allow',
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
        category: given.category ?? defaultCategory(priority),
        sendAt: given.sendAt,
        notAfter: given.notAfter,
        replaceKey: given.replaceKey,
        meta: given.meta,
        quiet: priority !== 'high',
        shortLinksAllowed: false,
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
      return gates.flag ? 'flagged' : line.state;
    },
    lineInfo: lineInfoNow,
    refreshLine: (maxAgeMs = 0) => line.refresh(maxAgeMs),
    hasRule: (ruleId) => byId.has(ruleId),
    contacts: people.contacts,
    suppress: (phone, suppressOptions) => people.suppress(phone, suppressOptions),
    unsuppress: (phone) => people.unsuppress(phone),
    suppressed: (phone) => people.suppressed(phone),

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

    async cancelMany(filter) {
      return queue.cancelMany(readCancelFilter(filter));
    },

    async pause(lane) {
      ensureOpen();
      const lanes = lane === undefined ? PRIORITIES : [checkOneOf(lane, PRIORITIES, 'lane')];
      if (await changeGates({ op: 'pause', lanes })) {
        logger.info({ lanes }, 'olchat-kit: lanes paused by an operator');
      }
    },

    async resume(lane) {
      ensureOpen();
      const change: LaneGateChange =
        lane === undefined ? { op: 'resume' } : { op: 'resume', lane: checkOneOf(lane, PRIORITIES, 'lane') };
      if (await changeGates(change)) {
        logger.info({ lane: lane ?? 'all' }, 'olchat-kit: lanes resumed by an operator');
      }
    },

    lanes() {
      const out = {} as Record<Priority, LaneInfo>;
      for (const lane of PRIORITIES) {
        const hold = gates.holdOf(lane);
        // A pacing gap of a few seconds is the lane's pace, not a hold an operator should see.
        const held = hold !== undefined && (hold.paused || hold.flaggedUntil !== undefined);
        const info: LaneInfo = { open: !held, paused: hold?.paused === true };
        if (hold?.flaggedUntil !== undefined) info.flaggedUntil = hold.flaggedUntil;
        out[lane] = info;
      }
      return out;
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
      const result: NotifierStats = { ...stats, etaMs: windows * (limit.durationMs + limit.marginMs) };
      if (budget) result.guard = budget.stats(Date.now());
      return result;
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
        gates.close();
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

/** A short link in what the recipient would read: refused, naming the rule when there is one. */
function refuseShortLinks(message: OutgoingMessage, ruleId: string | undefined): void {
  const where = ruleId === undefined ? 'The message' : `rule ${ruleId}`;
  if ('text' in message) {
    const host = findShortLink(message.text);
    if (host !== undefined) throw shortLinkError(`${where}: text`, 'text', host);
  } else if (message.file.caption !== undefined) {
    const host = findShortLink(message.file.caption);
    if (host !== undefined) throw shortLinkError(`${where}: file.caption`, 'file.caption', host);
  }
}

const CANCEL_STATUSES = ['scheduled', 'queued'] as const;

/** `cancelMany`'s filter, checked: only the fields it knows, each of its kind. */
function readCancelFilter(filter: unknown): CancelFilter {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw new ValidationError('cancelMany() takes a filter: { ruleId?, priority?, status? }', [
      { path: '', message: 'Expected an object' },
    ]);
  }
  const given = filter as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (key !== 'ruleId' && key !== 'priority' && key !== 'status' && given[key] !== undefined) {
      throw new ValidationError(`cancelMany() filters by ruleId, priority and status, not ${JSON.stringify(key)}`, [
        { path: key, message: 'Unknown filter' },
      ]);
    }
  }
  const out: CancelFilter = {};
  if (given.ruleId !== undefined) {
    if (typeof given.ruleId !== 'string' || given.ruleId === '' || given.ruleId.length > 128) {
      throw new ValidationError('ruleId must be a rule id', [{ path: 'ruleId', message: 'Expected a rule id' }]);
    }
    out.ruleId = given.ruleId;
  }
  if (given.priority !== undefined) out.priority = checkOneOf(given.priority, PRIORITIES, 'priority');
  if (given.status !== undefined) out.status = checkOneOf(given.status, CANCEL_STATUSES, 'status');
  return out;
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
