import type { JobError, JobRecord, JobStatus } from '@olchat-kit/core';

const STATUSES: readonly JobStatus[] = ['queued', 'sending', 'sent', 'failed', 'skipped'];

/** A flat HGETALL reply (as Lua returns it) as an object. */
export function fieldsOf(flat: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/** The public record from the stored hash; undefined when there is none. */
export function toRecord(fields: Record<string, string>, fallbackId?: string): JobRecord | undefined {
  const id = fields.id ?? fallbackId;
  if (id === undefined) return undefined;
  const status = STATUSES.includes(fields.status as JobStatus) ? (fields.status as JobStatus) : 'queued';
  const now = Date.now();
  const record: JobRecord = {
    id,
    status,
    attempts: toInt(fields.attempts, 0),
    createdAt: toInt(fields.createdAt, now),
    updatedAt: toInt(fields.updatedAt, now),
  };
  if (fields.ruleId !== undefined) record.ruleId = fields.ruleId;
  if (fields.messageId !== undefined) record.messageId = fields.messageId;
  if (fields.errCode !== undefined) {
    const error: JobError = { code: fields.errCode, message: fields.errMessage ?? '' };
    if (fields.errStatus !== undefined) error.status = toInt(fields.errStatus, 0);
    record.error = error;
  }
  return record;
}

function toInt(value: string | undefined, fallback: number): number {
  const n = value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(n) ? n : fallback;
}
