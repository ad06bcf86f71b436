/**
 * The vendor does not document its answers, so they are read tolerantly: JSON when it parses,
 * the raw text otherwise, fields looked up at the top level and under `result` / `data`.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function parseBody(text: string): Json | string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  try {
    return JSON.parse(trimmed) as Json;
  } catch {
    return text;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The objects a field may live in: the answer itself, then its `result` and `data` objects. */
function containers(raw: unknown): Record<string, unknown>[] {
  if (!isRecord(raw)) return [];
  const out = [raw];
  for (const key of ['result', 'data']) {
    const inner = raw[key];
    if (isRecord(inner)) out.push(inner);
  }
  return out;
}

export function pickField(raw: unknown, names: readonly string[]): unknown {
  for (const container of containers(raw)) {
    for (const name of names) {
      if (Object.hasOwn(container, name) && container[name] !== undefined && container[name] !== null) {
        return container[name];
      }
    }
  }
  return undefined;
}

/** A 2xx answer that still says failure; returns the vendor's reason, or undefined on success. */
export function failureReason(raw: unknown): string | undefined {
  if (!isRecord(raw)) return undefined;
  const error = raw.error ?? raw.error_description ?? raw.errors;
  const saysFalse = raw.result === false || raw.success === false || raw.ok === false;
  const hasError = error !== undefined && error !== null && error !== false && error !== '';
  if (!saysFalse && !hasError) return undefined;
  const text =
    typeof error === 'string' ? error : hasError ? JSON.stringify(error) : String(raw.message ?? 'no reason given');
  return text.slice(0, 500);
}

export function pickMessageId(raw: unknown): string | undefined {
  const id = pickField(raw, ['message_id', 'messageId', 'id']);
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

export function pickBoolean(raw: unknown, names: readonly string[]): boolean | undefined {
  const value = pickField(raw, names);
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 'Y' || value === 'true' || value === 'yes') return true;
  if (value === 0 || value === 'N' || value === 'false' || value === 'no') return false;
  return undefined;
}

const CONNECTED = new Set(['connected', 'active', 'online', 'ok', 'authorized', 'working', 'ready']);
const DISCONNECTED = new Set(['disconnected', 'inactive', 'offline', 'unauthorized', 'not_authorized', 'error']);

export function pickConnected(raw: unknown): boolean | undefined {
  const flag = pickBoolean(raw, ['connected', 'is_connected', 'isConnected', 'active']);
  if (flag !== undefined) return flag;
  const status = pickField(raw, ['status', 'state']);
  if (typeof status !== 'string') return undefined;
  const normalized = status.toLowerCase();
  if (CONNECTED.has(normalized)) return true;
  if (DISCONNECTED.has(normalized)) return false;
  return undefined;
}

export function pickStatus(raw: unknown): string | undefined {
  const status = pickField(raw, ['status', 'message_status', 'messageStatus', 'state']);
  return typeof status === 'string' ? status : undefined;
}
