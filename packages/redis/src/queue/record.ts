import type {
  DeliveryStatus,
  JobError,
  JobRecord,
  JobStatus,
  OutgoingMessage,
  Priority,
  TraceCarrier,
} from '@olchat-kit/core';
import {
  CATEGORIES,
  type Category,
  DELIVERY_STATUSES as DELIVERIES,
  defaultCategory,
  type NewJob,
  PRIORITIES,
  SKIP_REASONS,
  type SkipReason,
  JOB_STATUSES as STATUSES,
} from '@olchat-kit/core/queue';

export type Fields = Record<string, string>;

/**
 * The record's field names (see scripts/prelude.ts for what each holds). One or two letters: a
 * waiting reminder is mostly its record, and every name is stored once per job. The scripts spell
 * the same names.
 */
export const F = {
  status: 's',
  priority: 'p', // absent: 'normal'
  attempts: 'a', // absent: 0
  createdAt: 'c',
  updatedAt: 'u',
  deadline: 'd',
  quiet: 'q', // '1', absent: not quiet
  ruleId: 'r',
  sendAt: 't',
  notAfter: 'n',
  replaceKey: 'x',
  meta: 'm',
  phone: 'ph',
  file: 'k', // '1': the body is a file's JSON; absent: the body is the text
  sendToImol: 'i', // '1', absent: false
  keys: 'K',
  keysUntil: 'ku',
  errCode: 'ec',
  errMessage: 'em',
  errStatus: 'es',
  messageId: 'mi',
  delivery: 'dv',
  deliveryCheckedAt: 'dc',
  deliveryRaw: 'dr',
  bull: 'b', // absent: the record's id
  category: 'cg', // absent: its priority's default
  reason: 'rs', // why a skipped job was skipped
  trace: 'tr', // the trigger's trace context (JSON), when there is telemetry
  heldBy: 'hb', // why a scheduled job waits ('new_recipients'); read only while it is scheduled
  phoneKey: 'pk', // the phone's HMAC key: the name of its index
  noText: 'nt', // '1': the body is dropped once the job is finished (storeText: false)
  forgotten: 'F', // '1': its phone was forgotten while a worker held it
  pastRetention: 'X', // '1': kept past keepFinishedMs only for its keys (no text, no meta)
  body: '_', // not stored: the scripts' answers carry the body's pieces joined under this name
} as const;

/** What a worker needs of a stored job beyond its public record. */
export interface StoredJob {
  record: JobRecord;
  message: OutgoingMessage | undefined;
  deadline: number;
  quiet: boolean;
  /** The id of its current BullMQ job. */
  bull: string;
  /** The trigger span's context (with telemetry). */
  trace: TraceCarrier | undefined;
}

/** A flat field list (as the scripts return it) as an object. */
export function fieldsOf(flat: unknown): Fields {
  const out: Fields = Object.create(null);
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/** The id of the job's current BullMQ job. */
export function bullOf(fields: Fields, id: string): string {
  return fields[F.bull] ?? id;
}

/**
 * The fields `add()` stores for a new job (its status, keys, body and sets are the script's).
 * Defaults are left out: every field is stored once per waiting job.
 */
export function newJobFields(
  job: NewJob,
  now: number,
  deadline: number,
  sendAt: number | undefined,
  people: { phoneKey: string | undefined; storeText: boolean } = { phoneKey: undefined, storeText: true },
) {
  const fields: (string | number)[] = [F.createdAt, now, F.updatedAt, now, F.deadline, deadline];
  const optional = (name: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') fields.push(name, value);
  };
  if (job.priority !== 'normal') fields.push(F.priority, job.priority);
  if (job.category !== undefined && job.category !== defaultCategory(job.priority))
    fields.push(F.category, job.category);
  if (job.quiet) fields.push(F.quiet, '1');
  optional(F.ruleId, job.ruleId);
  optional(F.sendAt, sendAt);
  optional(F.notAfter, job.notAfter);
  optional(F.replaceKey, job.replaceKey);
  optional(F.meta, job.meta === undefined ? undefined : JSON.stringify(job.meta));
  optional(F.trace, job.trace === undefined ? undefined : JSON.stringify(job.trace));
  // A skipped job keeps its recipient when it had one (a suppressed phone), never its text.
  optional(F.phone, job.message.phone);
  optional(F.phoneKey, job.message.phone === '' ? undefined : people.phoneKey);
  if (job.skipped) optional(F.reason, job.reason ?? 'when');
  else {
    if ('file' in job.message) fields.push(F.file, '1');
    if (job.message.sendToImol) fields.push(F.sendToImol, '1');
    if (!people.storeText) fields.push(F.noText, '1');
  }
  return fields;
}

/**
 * What the record keeps of the message beside its phone and flags: the text, or the file as JSON.
 * The script stores it in pieces short enough for Redis's compact hash encoding.
 */
export function messageBody(message: OutgoingMessage): string {
  return 'file' in message ? JSON.stringify(message.file) : message.text;
}

/**
 * The public record from the stored fields (with `id`, which the scripts add); undefined when there
 * is none. A schedule whose time came is 'queued' from that moment, whether or not a sweep or a
 * worker has moved it yet.
 */
export function toRecord(fields: Fields, now = Date.now()): JobRecord | undefined {
  const id = fields.id;
  if (id === undefined) return undefined;
  const stored = fields[F.status];
  let status = STATUSES.includes(stored as JobStatus) ? (stored as JobStatus) : 'queued';
  const sendAt = toNumber(fields[F.sendAt]);
  if (status === 'scheduled' && (sendAt === undefined || sendAt <= now)) status = 'queued';
  const storedPriority = fields[F.priority];
  const priority = PRIORITIES.includes(storedPriority as Priority) ? (storedPriority as Priority) : 'normal';
  const category = fields[F.category];
  const record = {
    id,
    status,
    priority,
    category: CATEGORIES.includes(category as Category) ? (category as Category) : defaultCategory(priority),
    attempts: toNumber(fields[F.attempts]) ?? 0,
    createdAt: toNumber(fields[F.createdAt]) ?? now,
    updatedAt: toNumber(fields[F.updatedAt]) ?? now,
  } as JobRecord;
  const ruleId = fields[F.ruleId];
  if (ruleId !== undefined) record.ruleId = ruleId;
  if (status === 'skipped') {
    const reason = fields[F.reason];
    record.reason = SKIP_REASONS.includes(reason as SkipReason) ? (reason as SkipReason) : 'when';
  }
  if (status === 'scheduled' && fields[F.heldBy] === 'new_recipients') record.heldBy = 'new_recipients';
  const phone = fields[F.phone];
  if (phone !== undefined) record.phone = phone;
  const messageId = fields[F.messageId];
  if (messageId !== undefined) record.messageId = messageId;
  if (sendAt !== undefined) record.sendAt = sendAt;
  const notAfter = toNumber(fields[F.notAfter]);
  if (notAfter !== undefined) record.notAfter = notAfter;
  const replaceKey = fields[F.replaceKey];
  if (replaceKey !== undefined) record.replaceKey = replaceKey;
  const meta = parseJson(fields[F.meta]);
  if (meta !== null && typeof meta === 'object' && !Array.isArray(meta)) record.meta = meta as JobRecord['meta'];
  const error = errorOf(fields);
  if (error) record.error = error;
  else if (status === 'failed' || status === 'expired') record.error = { code: 'INTERNAL', message: 'Unknown error' };
  const delivery = fields[F.delivery];
  if (DELIVERIES.includes(delivery as DeliveryStatus)) record.delivery = delivery as DeliveryStatus;
  const checkedAt = toNumber(fields[F.deliveryCheckedAt]);
  if (checkedAt !== undefined) record.deliveryCheckedAt = checkedAt;
  const raw = fields[F.deliveryRaw];
  if (raw !== undefined) record.deliveryRaw = raw;
  // What was sent: the scripts answer the body's pieces joined (see `view`).
  const message = messageOf(fields, fields[F.body]);
  if (message && status !== 'skipped') {
    if ('text' in message) record.text = message.text;
    else record.file = message.file;
  }
  return record;
}

/**
 * The record and the parts a worker needs, from a pickup's fields and the message's body
 * (undefined when the record has none).
 */
export function toStoredJob(fields: Fields, body: string | undefined, now = Date.now()): StoredJob | undefined {
  const record = toRecord(fields, now);
  if (!record) return undefined;
  return {
    record,
    message: messageOf(fields, body),
    deadline: toNumber(fields[F.deadline]) ?? record.createdAt + 24 * 3600_000,
    quiet: fields[F.quiet] === '1',
    bull: bullOf(fields, record.id),
    trace: traceOf(fields[F.trace]),
  };
}

function messageOf(fields: Fields, body: string | undefined): OutgoingMessage | undefined {
  const phone = fields[F.phone];
  if (body === undefined || phone === undefined) return undefined;
  const sendToImol = fields[F.sendToImol] === '1';
  if (fields[F.file] !== '1') return { phone, text: body, sendToImol };
  const file = parseJson(body) as { url?: unknown; caption?: unknown } | null;
  if (file === null || typeof file !== 'object' || typeof file.url !== 'string') return undefined;
  return {
    phone,
    file: typeof file.caption === 'string' ? { url: file.url, caption: file.caption } : { url: file.url },
    sendToImol,
  };
}

/** A stored trace context: an object of short strings, or nothing (a field written by hand is not trusted). */
function traceOf(value: string | undefined): TraceCarrier | undefined {
  const carrier = parseJson(value);
  if (carrier === null || typeof carrier !== 'object' || Array.isArray(carrier)) return undefined;
  const entries = Object.entries(carrier);
  if (entries.length > 8 || !entries.every(([, v]) => typeof v === 'string' && v.length <= 512)) return undefined;
  return Object.fromEntries(entries) as TraceCarrier;
}

function errorOf(fields: Fields): JobError | undefined {
  const code = fields[F.errCode];
  if (code === undefined) return undefined;
  const error: JobError = { code, message: fields[F.errMessage] ?? '' };
  const status = toNumber(fields[F.errStatus]);
  if (status !== undefined) error.status = status;
  return error;
}

function toNumber(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function parseJson(value: string | undefined): unknown {
  if (value === undefined) return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}
