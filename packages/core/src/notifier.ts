import { EventEmitter } from 'node:events';
import type { CallOptions, OlchatClient } from './client.js';
import { ClosedError, OlchatError, UnknownRuleError, ValidationError } from './errors.js';
import { type MessageInput, type OutgoingMessage, toOutgoingMessage } from './message.js';
import { MemoryQueue } from './queue/memory-queue.js';
import type {
  ActiveJob,
  JobError,
  JobOutcome,
  JobQueue,
  JobRecord,
  JobStats,
  JobStatus,
  NewJob,
} from './queue/types.js';
import type { AnyRule, Rule } from './rules.js';

export interface NotifierOptions {
  client: OlchatClient;
  rules?: AnyRule[];
  /** Where jobs wait. Default: an in-memory queue (lost if the process dies; see @olchat-kit/redis). */
  queue?: JobQueue;
  /** Jobs worked at once. The limiter paces the requests; this only bounds waiting sends. Default 10. */
  concurrency?: number;
  /** How long an idempotency or dedupe key keeps returning the first job. Default 24 h. */
  dedupeTtlMs?: number;
}

export interface TriggerOptions {
  /** The same key within `dedupeTtlMs` returns the first job and sends nothing more. */
  idempotencyKey?: string;
  /**
   * `trigger()` only: awaited once the input is valid and the message rendered, just before the job
   * is queued (not when `when()` says no). If it throws, `trigger()` rejects with that error and
   * nothing is queued. The HTTP handler's per-recipient inbound limit uses it.
   */
  beforeEnqueue?: (message: OutgoingMessage) => void | Promise<void>;
}

export interface TriggerResult {
  id: string;
  status: JobStatus;
}

export type NotifierEvent = 'sent' | 'failed';

export interface Notifier {
  trigger(ruleId: string, data: unknown, options?: TriggerOptions): Promise<TriggerResult>;
  send(message: MessageInput, options?: TriggerOptions): Promise<TriggerResult>;
  get(id: string): Promise<JobRecord | undefined>;
  on(event: NotifierEvent, listener: (record: JobRecord) => void): this;
  off(event: NotifierEvent, listener: (record: JobRecord) => void): this;
  stats(): JobStats;
  /** Has a rule with this id. */
  hasRule(ruleId: string): boolean;
  readonly client: OlchatClient;
  readonly closed: boolean;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

const DAY_MS = 24 * 3600_000;
const MAX_KEY_LENGTH = 256;

export function createNotifier(options: NotifierOptions): Notifier {
  if (typeof options !== 'object' || options === null || typeof options.client?.sendText !== 'function') {
    throw new ValidationError('createNotifier needs { client: OlchatClient, rules?, queue? }');
  }
  const { client, rules = [], queue = new MemoryQueue(), concurrency = 10, dedupeTtlMs = DAY_MS } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ValidationError('concurrency must be a positive integer');
  if (!Number.isInteger(dedupeTtlMs) || dedupeTtlMs < 1)
    throw new ValidationError('dedupeTtlMs must be a positive integer');
  const byId = new Map<string, Rule>();
  for (const rule of rules) {
    if (typeof rule?.prepare !== 'function') throw new ValidationError('rules must be made with defineRule()');
    if (byId.has(rule.id))
      throw new ValidationError(`Two rules have the id ${JSON.stringify(rule.id)}`, [
        { path: 'rules', message: 'Duplicate rule id' },
      ]);
    byId.set(rule.id, rule);
  }

  const events = new EventEmitter();
  let closed = false;
  let closing: Promise<void> | undefined;

  queue.start({
    concurrency,
    worker: (job) => deliver(client, job),
    onFinished: (record) => events.emit(record.status === 'sent' ? 'sent' : 'failed', record),
  });

  async function enqueue(ruleId: string | undefined, message: OutgoingMessage, keys: string[], skipped: boolean) {
    if (closed) throw new ClosedError();
    // One object shape for every add: a conditional spread here cost microseconds per request.
    const job: NewJob = { message, keys, keyTtlMs: dedupeTtlMs, skipped };
    if (ruleId !== undefined) job.ruleId = ruleId;
    const { record } = await queue.add(job);
    return { id: record.id, status: record.status };
  }

  const notifier: Notifier = {
    client,
    get closed() {
      return closed;
    },
    hasRule: (ruleId) => byId.has(ruleId),

    async trigger(ruleId, data, triggerOptions = {}) {
      if (closed) throw new ClosedError();
      const rule = typeof ruleId === 'string' ? byId.get(ruleId) : undefined;
      if (!rule) throw new UnknownRuleError(String(ruleId));
      const keys = idempotencyKeys(triggerOptions);
      const prepared = await rule.prepare(data);
      if (!prepared) {
        // when() said no: recorded so get() can say why nothing was sent.
        return enqueue(rule.id, { phone: '', text: '', sendToImol: false }, keys, true);
      }
      if (prepared.dedupeKey !== undefined) keys.push(`dedupe:${rule.id}:${prepared.dedupeKey}`);
      await triggerOptions.beforeEnqueue?.(prepared.message);
      return enqueue(rule.id, prepared.message, keys, false);
    },

    async send(message, sendOptions = {}) {
      if (closed) throw new ClosedError();
      const keys = idempotencyKeys(sendOptions);
      return enqueue(undefined, toOutgoingMessage(message), keys, false);
    },

    get: (id) => (typeof id === 'string' ? queue.get(id) : Promise.resolve(undefined)),
    stats: () => queue.stats(),
    on(event, listener) {
      events.on(event, listener);
      return notifier;
    },
    off(event, listener) {
      events.off(event, listener);
      return notifier;
    },

    close(closeOptions = {}) {
      closed = true;
      closing ??= queue.close({ timeoutMs: closeOptions.timeoutMs ?? 30_000 });
      return closing;
    },
  };
  return notifier;
}

function idempotencyKeys(options: TriggerOptions): string[] {
  const key = options?.idempotencyKey;
  if (key === undefined) return [];
  if (typeof key !== 'string' || key === '' || key.length > MAX_KEY_LENGTH) {
    throw new ValidationError(`idempotencyKey must be a string of 1–${MAX_KEY_LENGTH} characters`, [
      { path: 'idempotencyKey', message: 'Invalid key' },
    ]);
  }
  return [`idem:${key}`];
}

/** One job through the client: the client's limiter paces it and its retry policy applies. */
async function deliver(client: OlchatClient, job: ActiveJob): Promise<JobOutcome> {
  const hooks: CallOptions = {
    signal: job.signal,
    beforeAttempt: () => job.markAttempt(),
    onNotAccepted: () => job.markNotAccepted(),
  };
  const m = job.message;
  try {
    const result =
      'text' in m
        ? await client.sendText({ phone: m.phone, text: m.text, sendToImol: m.sendToImol }, hooks)
        : await client.sendFile(
            {
              phone: m.phone,
              url: m.file.url,
              ...(m.file.caption === undefined ? {} : { caption: m.file.caption }),
              sendToImol: m.sendToImol,
            },
            hooks,
          );
    return result.messageId === undefined ? { status: 'sent' } : { status: 'sent', messageId: result.messageId };
  } catch (error) {
    return { status: 'failed', error: toJobError(error) };
  }
}

export function toJobError(error: unknown): JobError {
  if (error instanceof OlchatError) {
    return error.status === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, status: error.status };
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
