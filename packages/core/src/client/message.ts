import { ValidationError, type ValidationIssue } from '../errors.js';
import { normalizePhone } from '../phone.js';

/** One WhatsApp message ready to queue: the phone already normalised, the text already rendered. */
export type OutgoingMessage =
  | { phone: string; text: string; sendToImol: boolean }
  | { phone: string; file: { url: string; caption?: string }; sendToImol: boolean };

/** What `notifier.send()` and `POST /messages` accept. */
export type MessageInput =
  | { phone: string; text: string; sendToImol?: boolean }
  | { phone: string; file: { url: string; caption?: string }; sendToImol?: boolean };

const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
const MAX_URL = 2048;

/** Checks an ad-hoc message fully before anything is queued. */
export function toOutgoingMessage(input: unknown): OutgoingMessage {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('A message must be an object: { phone, text } or { phone, file: { url, caption? } }');
  }
  const m = input as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  let phone = '';
  try {
    phone = normalizePhone(m.phone);
  } catch (error) {
    issues.push(...(error as ValidationError).issues);
  }
  const sendToImol = m.sendToImol ?? false;
  if (typeof sendToImol !== 'boolean') issues.push({ path: 'sendToImol', message: 'Expected a boolean' });
  const hasText = m.text !== undefined;
  const hasFile = m.file !== undefined;
  if (hasText === hasFile)
    issues.push({ path: hasText ? 'file' : 'text', message: 'Give either text or file, not both' });
  if (hasText) checkText(m.text, 'text', MAX_TEXT, issues);
  let file: { url: string; caption?: string } | undefined;
  if (hasFile) file = checkFile(m.file, issues);
  if (issues.length > 0)
    throw new ValidationError(`Invalid message: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  return file
    ? { phone, file, sendToImol: sendToImol as boolean }
    : { phone, text: m.text as string, sendToImol: sendToImol as boolean };
}

export function checkText(value: unknown, path: string, max: number, issues: ValidationIssue[]): void {
  if (typeof value !== 'string' || value.trim() === '') issues.push({ path, message: 'Expected non-empty text' });
  else if (value.length > max) issues.push({ path, message: `At most ${max} characters` });
}

export function checkFileUrl(value: unknown, path: string, issues: ValidationIssue[]): void {
  let ok = false;
  if (typeof value === 'string' && value.length <= MAX_URL) {
    try {
      const url = new URL(value);
      ok = url.protocol === 'https:' || url.protocol === 'http:';
    } catch {}
  }
  if (!ok) issues.push({ path, message: 'Expected a direct http(s) link to the file' });
}

function checkFile(value: unknown, issues: ValidationIssue[]): { url: string; caption?: string } | undefined {
  if (typeof value !== 'object' || value === null) {
    issues.push({ path: 'file', message: 'Expected { url, caption? }' });
    return undefined;
  }
  const f = value as Record<string, unknown>;
  checkFileUrl(f.url, 'file.url', issues);
  if (f.caption !== undefined) checkText(f.caption, 'file.caption', MAX_CAPTION, issues);
  return f.caption === undefined ? { url: f.url as string } : { url: f.url as string, caption: f.caption as string };
}

export const MESSAGE_LIMITS = { MAX_TEXT, MAX_CAPTION, MAX_URL };
