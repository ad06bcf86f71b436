import { ValidationError } from './errors.js';

/**
 * `{{field}}` and `{{nested.field}}` templates. Plain text only: a template is split once into
 * literal parts and field paths, values are looked up on own properties only, and a value
 * is inserted as it is — never read as a template again.
 */
export interface CompiledTemplate {
  readonly source: string;
  readonly fields: readonly string[];
  render(data: unknown, where: string): string;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const SEGMENT = /^[\p{L}\p{N}_$-]+$/u;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether a dotted field path stays on the data's own fields (no empty or prototype segments). */
export function isSafeFieldPath(path: readonly string[]): boolean {
  return path.every((segment) => segment !== '' && !FORBIDDEN.has(segment));
}

export function compileTemplate(source: string, where: string): CompiledTemplate {
  if (typeof source !== 'string')
    throw new ValidationError(`${where} must be a string template`, [{ path: where, message: 'Expected a string' }]);
  const literals: string[] = [];
  const paths: string[][] = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    const path = (match[1] ?? '').split('.');
    if (!path.every((segment) => SEGMENT.test(segment))) {
      throw new ValidationError(`${where}: ${JSON.stringify(match[0])} is not a field reference`, [
        { path: where, message: 'Bad placeholder' },
      ]);
    }
    const forbidden = path.find((segment) => FORBIDDEN.has(segment));
    if (forbidden) {
      throw new ValidationError(`${where}: ${JSON.stringify(match[0])} reaches into ${forbidden}`, [
        { path: where, message: 'Forbidden field name' },
      ]);
    }
    literals.push(source.slice(last, match.index));
    paths.push(path);
    last = (match.index ?? 0) + match[0].length;
  }
  literals.push(source.slice(last));
  const fields = paths.map((p) => p.join('.'));

  return {
    source,
    fields,
    render(data: unknown, renderWhere: string): string {
      if (paths.length === 0) return source;
      const parts: string[] = [];
      const missing: string[] = [];
      for (let i = 0; i < paths.length; i++) {
        parts.push(literals[i] as string);
        const value = lookup(data, paths[i] as string[]);
        if (value === undefined) missing.push(fields[i] as string);
        else parts.push(value);
      }
      if (missing.length > 0) {
        throw new ValidationError(
          `${renderWhere}: no value for ${missing.map((f) => `{{${f}}}`).join(', ')}`,
          missing.map((field) => ({ path: field, message: `Required by the ${renderWhere} template` })),
        );
      }
      parts.push(literals[paths.length] as string);
      // join() builds a flat string: a queued job then keeps one compact copy, not a rope of parts.
      return parts.join('');
    },
  };
}

/** A field's text, or undefined when it is missing, empty or not a plain value. */
export function lookup(data: unknown, path: readonly string[]): string | undefined {
  let current: unknown = data;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  if (typeof current === 'string') return current.trim() === '' ? undefined : current;
  if (typeof current === 'number' && Number.isFinite(current)) return String(current);
  if (typeof current === 'bigint' || typeof current === 'boolean') return String(current);
  return undefined;
}
