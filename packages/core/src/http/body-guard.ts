import { InboundError } from './errors.js';

/**
 * How deep a body may nest. A form or a webhook needs a few levels; anything deeper is an attack
 * on whatever walks it next (a recursive check, a schema, a template) and is refused first.
 */
export const MAX_BODY_DEPTH = 32;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Refuses JSON text nested deeper than `MAX_BODY_DEPTH`, reading the text once without recursion
 * and before `JSON.parse`. Brackets inside strings (escaped quotes included) do not count.
 * Unbalanced text is left for `JSON.parse` to refuse.
 */
export function checkJsonDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      if (++depth > MAX_BODY_DEPTH) throw tooDeep();
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      depth--;
    }
  }
}

// Any key that spells `__proto__` or `constructor` has those letters as they are, or some of them
// as `\u00XX` escapes (`_` is 5f, the letters are 6x and 7x): ordinary bodies match neither and skip the walk.
const PROTOTYPE_KEY_HINT = /__proto__|constructor|\\u00[5-7][0-9a-fA-F]/;

/**
 * Refuses parsed JSON that holds a `__proto__` key, or a `constructor` key whose object holds
 * `prototype`, as fastify's secure-json-parse does: such a body is an attempt, never a form.
 * `text` is the JSON it was parsed from: the walk runs only when the text could spell such a key.
 */
export function checkJsonKeys(value: unknown, text: string): void {
  if (PROTOTYPE_KEY_HINT.test(text)) checkParsed(value);
}

/**
 * Refuses a body someone else parsed (the app's body parser) when it nests deeper than
 * `MAX_BODY_DEPTH` or holds prototype keys. Walks it with a stack, never recursion, and stops at
 * the first level too deep; only arrays and plain objects are entered.
 */
export function checkParsed(value: unknown): void {
  const stack: { value: object; depth: number }[] = [];
  if (isWalkable(value)) stack.push({ value, depth: 1 });
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (next.depth > MAX_BODY_DEPTH) throw tooDeep();
    const children = Array.isArray(next.value) ? next.value : ownValues(next.value as Record<string, unknown>);
    for (const child of children) if (isWalkable(child)) stack.push({ value: child, depth: next.depth + 1 });
  }
}

function ownValues(object: Record<string, unknown>): unknown[] {
  if (Object.hasOwn(object, '__proto__')) throw prototypeKey();
  const ctor = Object.hasOwn(object, 'constructor') ? object.constructor : undefined;
  if (typeof ctor === 'object' && ctor !== null && Object.hasOwn(ctor, 'prototype')) {
    throw prototypeKey();
  }
  return Object.values(object);
}

function isWalkable(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

const FORM_KEY_HINT = /proto|constructor/;
const FORM_PROTOTYPE_SEGMENT = /^(?:__proto__|constructor|prototype)$/;

/**
 * Refuses an urlencoded key naming `__proto__`, `constructor` or `prototype`, alone or as a part of
 * a bracketed or dotted name (`a[__proto__][x]`, `constructor.prototype`) that a nested parser
 * further on would follow. Only keys that contain such a word are split.
 */
export function checkFormKey(key: string): void {
  if (!FORM_KEY_HINT.test(key)) return;
  for (const segment of key.split(/[[\].]/)) {
    if (FORM_PROTOTYPE_SEGMENT.test(segment)) throw prototypeKey();
  }
}

function tooDeep(): InboundError {
  return new InboundError('malformed_body', `The body is nested deeper than ${MAX_BODY_DEPTH} levels`);
}

function prototypeKey(): InboundError {
  return new InboundError('malformed_body', 'The body has a __proto__, constructor or prototype key');
}
