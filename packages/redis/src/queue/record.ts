import {
  DELIVERY_STATUSES as DELIVERIES,
  type DeliveryStatus,
  type JobError,
  type JobRecord,
  type JobStatus,
  type NewJob,
  type OutgoingMessage,
  PRIORITIES,
  type Priority,
  JOB_STATUSES as STATUSES,
  type TraceCarrier,
} from '@olchat-kit/core';

export type Fields = Record<string, string>;

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

/** A flat HGETALL reply (as Lua returns it) as an object. */
export function fieldsOf(flat: unknown): Fields {
  const out: Fields = Object.create(null);
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/** The fields `add()` stores for a new job (its status, keys and sets are the script's). */
export function newJobFields(id: string, job: NewJob, now: number, deadline: number, sendAt: number | undefined) {
  const fields: (string | number)[] = [
    'id',
    id,
    'priority',
    job.priority,
    'attempts',
    0,
    'createdAt',
    now,
    'updatedAt',
    now,
    'deadline',
    deadline,
    'quiet',
    job.quiet ? '1' : '0',
    'inflight',
    '0',
    'bull',
    id,
  ];
  const optional = (name: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') fields.push(name, value);
  };
  optional('ruleId', job.ruleId);
  optional('sendAt', sendAt);
  optional('notAfter', job.notAfter);
  optional('replaceKey', job.replaceKey);
  optional('meta', job.meta === undefined ? undefined : JSON.stringify(job.meta));
  optional('trace', job.trace === undefined ? undefined : JSON.stringify(job.trace));
  if (!job.skipped) {
    optional('phone', job.message.phone);
    optional('kind', 'file' in job.message ? 'file' : 'text');
  }
  return fields;
}

/**
 * The public record from the stored hash; undefined when there is none. A schedule whose time
 * came is 'queued' from that moment, whether or not a sweep or a worker has moved it yet.
 */
export function toRecord(fields: Fields, now = Date.now()): JobRecord | undefined {
  const id = fields.id;
  if (id === undefined) return undefined;
  let status = STATUSES.includes(fields.status as JobStatus) ? (fields.status as JobStatus) : 'queued';
  const sendAt = toNumber(fields.sendAt);
  if (status === 'scheduled' && (sendAt === undefined || sendAt <= now)) status = 'queued';
  const record = {
    id,
    status,
    priority: PRIORITIES.includes(fields.priority as Priority) ? (fields.priority as Priority) : 'normal',
    attempts: toNumber(fields.attempts) ?? 0,
    createdAt: toNumber(fields.createdAt) ?? now,
    updatedAt: toNumber(fields.updatedAt) ?? now,
  } as JobRecord;
  if (fields.ruleId !== undefined) record.ruleId = fields.ruleId;
  if (fields.phone !== undefined) record.phone = fields.phone;
  if (fields.messageId !== undefined) record.messageId = fields.messageId;
  if (sendAt !== undefined) record.sendAt = sendAt;
  const notAfter = toNumber(fields.notAfter);
  if (notAfter !== undefined) record.notAfter = notAfter;
  if (fields.replaceKey !== undefined) record.replaceKey = fields.replaceKey;
  const meta = parseJson(fields.meta);
  if (meta !== null && typeof meta === 'object' && !Array.isArray(meta)) record.meta = meta as JobRecord['meta'];
  const error = errorOf(fields);
  if (error) record.error = error;
  else if (status === 'failed' || status === 'expired') record.error = { code: 'INTERNAL', message: 'Unknown error' };
  if (DELIVERIES.includes(fields.delivery as DeliveryStatus)) record.delivery = fields.delivery as DeliveryStatus;
  const checkedAt = toNumber(fields.deliveryCheckedAt);
  if (checkedAt !== undefined) record.deliveryCheckedAt = checkedAt;
  if (fields.deliveryRaw !== undefined) record.deliveryRaw = fields.deliveryRaw;
  return record;
}

/** The record and the parts a worker needs, from a pickup's fields and stored message. */
export function toStoredJob(fields: Fields, messageJson: string, now = Date.now()): StoredJob | undefined {
  const record = toRecord(fields, now);
  if (!record) return undefined;
  const message = parseJson(messageJson);
  return {
    record,
    message: message !== null && typeof message === 'object' ? (message as OutgoingMessage) : undefined,
    deadline: toNumber(fields.deadline) ?? record.createdAt + 24 * 3600_000,
    quiet: fields.quiet === '1',
    bull: fields.bull ?? record.id,
    trace: traceOf(fields.trace),
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
  if (fields.errCode === undefined) return undefined;
  const error: JobError = { code: fields.errCode, message: fields.errMessage ?? '' };
  const status = toNumber(fields.errStatus);
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
