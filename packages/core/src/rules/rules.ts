/**
 * Rules: `defineRule` checks a rule once, and turns a trigger's data into a message (templates in
 * template.ts, any Standard Schema for input, the trigger's timing and keys in job-options.ts).
 */

import { checkFileUrl, MESSAGE_LIMITS, type OutgoingMessage } from '../client/message.js';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { CATEGORIES, type Category, type Priority } from '../job.js';
import { defaultTimeZone, normalizePhone } from '../phone.js';
import { russianOf, withRussian } from '../util/russian-issues.js';
import { checkOneOf } from '../util/validate.js';
import { MAX_KEY_LENGTH, toPriority, toTime } from './job-options.js';
import { russianSchemaIssue } from './schema-issues-ru.js';
import { findShortLink, SHORT_LINKS_POLICIES, type ShortLinksPolicy } from './short-links.js';
import { isStandardSchema, issuePath, type StandardSchemaV1 } from './standard-schema.js';
import { type CompiledTemplate, compileTemplate, isSafeFieldPath, lookup, type RenderContext } from './template.js';
import type { CheckedTemplates } from './template-types.js';

type Output<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : Record<string, unknown>;
type Input<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : Record<string, unknown>;

/** A time a rule derives from its data: a `Date`, ms since the epoch, or undefined (none). */
export type RuleTime = Date | number | undefined;

export interface RuleDefinition<Id extends string = string, S extends StandardSchemaV1 | undefined = undefined> {
  id: Id;
  /** Any Standard Schema (zod, valibot, arktype…); templates render from its validated output. */
  input?: S;
  /** The recipient: a field name (`'phone'`, `'customer.phone'`) or a function of the validated data. */
  to: string | ((data: Output<S>) => unknown);
  /** A `{{field}}` template for a text message… */
  text?: string;
  /** …or a file: a direct link and an optional caption, both templates. */
  file?: { url: string; caption?: string };
  /** Also post the message into the Bitrix24 open line chat. Default false. */
  sendToImol?: boolean;
  /** Send only when this returns true; otherwise the trigger answers `skipped`. */
  when?: (data: Output<S>) => boolean;
  /** The same key within the notifier's `dedupeTtlMs` sends one message. */
  dedupeKey?: (data: Output<S>) => string;
  /** Send no earlier than this (past or undefined: now). */
  sendAt?: (data: Output<S>) => RuleTime;
  /** Never send after this: past it the job ends `expired`. */
  notAfter?: (data: Output<S>) => RuleTime;
  /** One pending job per key: a later trigger with the key cancels and replaces a scheduled or queued one. */
  replaceKey?: (data: Output<S>) => string;
  /** Default `'normal'`. */
  priority?: Priority;
  /** Whether the notifier's quiet hours hold its messages back. Default: true for normal and low, false for high. */
  quietHours?: boolean;
  /**
   * Shortened links (bit.ly, clck.ru, vk.cc…) get a WhatsApp number banned: a template naming one
   * is refused here, a text rendering one is refused at trigger. `'allow'` lets this rule's through
   * (a link the app does not control). Default `'refuse'`.
   */
  shortLinks?: ShortLinksPolicy;
  /**
   * What its messages are for: an opt-out of `marketing` holds back only marketing. Default:
   * `marketing` when the job's priority is `low`, else `transactional`.
   */
  category?: Category;
}

export interface Rule<
  Id extends string = string,
  S extends StandardSchemaV1 | undefined = StandardSchemaV1 | undefined,
> {
  readonly id: Id;
  readonly definition: RuleDefinition<Id, S>;
  /** Type-only: the input `trigger()` accepts for this rule. */
  readonly '~input'?: Input<S>;
  /** Validates and renders; throws ValidationError. Resolves undefined when `when` says no. */
  prepare(data: unknown, context?: PrepareContext): Promise<PreparedMessage | undefined>;
}

export interface PrepareContext {
  /** The recipient's time zone, for dates in templates. Default: the quiet-hours zone rule. */
  timeZoneOf?: (phone: string) => string;
  /** Picks the template's variants (`{a|b}`); default `Math.random`. */
  random?: () => number;
}

export interface PreparedMessage {
  message: OutgoingMessage;
  dedupeKey?: string;
  sendAt?: number;
  notAfter?: number;
  replaceKey?: string;
  priority?: Priority;
  /** What the rule says of quiet hours; undefined: the default for its priority. */
  quietHours?: boolean;
  /** The rule lets short links through (`shortLinks: 'allow'`). */
  shortLinks?: 'allow';
  /** The rule's category; undefined: the default for the job's priority. */
  category?: Category;
}

/** A rule of any input schema, as a notifier holds them. */
// biome-ignore lint/suspicious/noExplicitAny: the notifier accepts rules of every input type
export type AnyRule = Rule<string, any>;

/** The data `trigger()` accepts for a rule: its schema's input type. */
export type RuleInput<R> = R extends Rule<string, infer S> ? Input<S> : never;

const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A rule. With a schema, its templates are read against the schema's output type when the rule
 * compiles: `{{nmae}}` is a type error, as it is a `ValidationError` here at run time.
 */
export function defineRule<
  const Id extends string,
  S extends StandardSchemaV1 | undefined = undefined,
  Text extends string = string,
  Url extends string = string,
  Caption extends string = string,
>(definition: RuleDefinition<Id, S> & CheckedTemplates<Output<S>, Text, Url, Caption>): Rule<Id, S> {
  if (typeof definition !== 'object' || definition === null)
    throw new ValidationError('defineRule needs a rule definition object');
  const { id, input, to, text, file, sendToImol = false, when, dedupeKey, sendAt, notAfter, replaceKey } = definition;
  const { priority, quietHours, category, shortLinks = 'refuse' } = definition;
  if (typeof id !== 'string' || !RULE_ID.test(id)) {
    throw new ValidationError(`Rule id must be 1–128 letters, digits, ".", "_" or "-" (got ${JSON.stringify(id)})`, [
      { path: 'id', message: 'Bad rule id' },
    ]);
  }
  const where = `rule ${id}`;
  if (input !== undefined && !isStandardSchema(input)) {
    throw new ValidationError(`${where}: input must be a Standard Schema (zod, valibot, arktype…)`, [
      { path: 'input', message: 'Not a Standard Schema' },
    ]);
  }
  if ((text === undefined) === (file === undefined)) {
    throw new ValidationError(`${where}: give either text or file`, [{ path: 'text', message: 'Either text or file' }]);
  }
  const recipientPath = typeof to === 'string' ? to.split('.') : undefined;
  if (typeof to !== 'function' && (!recipientPath || !isSafeFieldPath(recipientPath))) {
    throw new ValidationError(`${where}: to must be a field name or a function`, [
      { path: 'to', message: 'Bad recipient' },
    ]);
  }
  for (const [name, fn] of [
    ['when', when],
    ['dedupeKey', dedupeKey],
    ['sendAt', sendAt],
    ['notAfter', notAfter],
    ['replaceKey', replaceKey],
  ] as const) {
    if (fn !== undefined && typeof fn !== 'function')
      throw new ValidationError(`${where}: ${name} must be a function`, [
        { path: name, message: 'Expected a function' },
      ]);
  }
  toPriority(priority, `${where}: priority`);
  if (category !== undefined) checkOneOf(category, CATEGORIES, `${where}: category`);
  if (quietHours !== undefined && typeof quietHours !== 'boolean')
    throw new ValidationError(`${where}: quietHours must be a boolean`, [
      { path: 'quietHours', message: 'Expected a boolean' },
    ]);
  if (typeof sendToImol !== 'boolean')
    throw new ValidationError(`${where}: sendToImol must be a boolean`, [
      { path: 'sendToImol', message: 'Expected a boolean' },
    ]);

  const textTemplate = text === undefined ? undefined : compileTemplate(text, `${where} text`);
  const urlTemplate = file === undefined ? undefined : compileTemplate(file.url, `${where} file.url`);
  const captionTemplate =
    file?.caption === undefined ? undefined : compileTemplate(file.caption, `${where} file.caption`);
  const usesDates = [textTemplate, urlTemplate, captionTemplate].some((t) => t?.usesDates === true);
  checkOneOf(shortLinks, SHORT_LINKS_POLICIES, `${where}: shortLinks`);
  // The file's own link is fetched by the vendor, never shown: only what the recipient reads counts.
  for (const [path, template] of [
    ['text', textTemplate],
    ['file.caption', captionTemplate],
  ] as const) {
    const host = template && shortLinks === 'refuse' ? findShortLink(template.source) : undefined;
    if (host !== undefined) throw shortLinkError(`${where}: ${path}`, path, host);
  }

  async function validate(data: unknown): Promise<Output<S>> {
    if (input === undefined) {
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw new ValidationError(`${where}: data must be an object`, [
          withRussian({ path: '', message: 'Expected an object' }, 'Заполните форму'),
        ]);
      }
      return data as Output<S>;
    }
    const result = await (input as StandardSchemaV1)['~standard'].validate(data);
    if (result.issues) {
      const issues: ValidationIssue[] = result.issues.map((issue) =>
        withRussian({ path: issuePath(issue), message: issue.message }, russianSchemaIssue(issue, data)),
      );
      throw new ValidationError(
        `${where}: invalid input: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
        issues,
      );
    }
    return result.value as Output<S>;
  }

  function recipient(data: Output<S>): string {
    const raw = typeof to === 'function' ? to(data) : lookup(data, recipientPath as string[]);
    const path = typeof to === 'string' ? to : 'to';
    if (raw === undefined || raw === null || raw === '') {
      throw new ValidationError(`${where}: no recipient phone`, [
        withRussian({ path, message: 'Required' }, 'Укажите номер телефона'),
      ]);
    }
    try {
      return normalizePhone(raw);
    } catch (error) {
      const cause = (error as ValidationError).issues[0];
      const issue = { path, message: cause?.message ?? 'Invalid phone' };
      throw new ValidationError(`${where}: ${(error as Error).message}`, [
        withRussian(issue, (cause && russianOf(cause)) ?? 'Введите номер телефона'),
      ]);
    }
  }

  function render(
    template: CompiledTemplate,
    data: Output<S>,
    max: number,
    path: string,
    timeZone: string | undefined,
    random: (() => number) | undefined,
  ): string {
    const out = template.render(data, where, renderContext(timeZone, random));
    if (out.trim() === '')
      throw new ValidationError(`${where}: ${path} renders empty`, [{ path, message: 'Empty message' }]);
    if (out.length > max)
      throw new ValidationError(`${where}: ${path} renders longer than ${max} characters`, [
        withRussian(
          { path, message: `At most ${max} characters` },
          `Сообщение длиннее ${max} символов: сократите текст`,
        ),
      ]);
    return out;
  }

  function derivedKey(key: unknown, name: 'dedupeKey' | 'replaceKey'): string {
    if (typeof key !== 'string' || key === '' || key.length > MAX_KEY_LENGTH)
      throw new ValidationError(`${where}: ${name} must return a string of 1–${MAX_KEY_LENGTH} characters`, [
        { path: name, message: 'Expected a string' },
      ]);
    return key;
  }

  return {
    id,
    definition,
    async prepare(data: unknown, context: PrepareContext = {}): Promise<PreparedMessage | undefined> {
      const valid = await validate(data);
      if (when && !when(valid)) return undefined;
      const phone = recipient(valid);
      // Only a template with dates needs the recipient's zone.
      const timeZone = usesDates ? (context.timeZoneOf ?? defaultTimeZone)(phone) : undefined;
      const { random } = context;
      let message: OutgoingMessage;
      if (textTemplate) {
        const text = render(textTemplate, valid, MESSAGE_LIMITS.MAX_TEXT, 'text', timeZone, random);
        message = { phone, text, sendToImol };
      } else {
        const url = render(
          urlTemplate as CompiledTemplate,
          valid,
          MESSAGE_LIMITS.MAX_URL,
          'file.url',
          timeZone,
          random,
        );
        const issues: ValidationIssue[] = [];
        checkFileUrl(url, 'file.url', issues);
        if (issues.length > 0)
          throw new ValidationError(`${where}: file.url does not render to an http(s) link`, issues);
        const caption = captionTemplate
          ? render(captionTemplate, valid, MESSAGE_LIMITS.MAX_CAPTION, 'file.caption', timeZone, random)
          : undefined;
        message = { phone, file: caption === undefined ? { url } : { url, caption }, sendToImol };
      }
      // One object shape for every prepared message: optional fields are set, not spread.
      const prepared: PreparedMessage = { message };
      if (dedupeKey) prepared.dedupeKey = derivedKey(dedupeKey(valid), 'dedupeKey');
      if (replaceKey) prepared.replaceKey = derivedKey(replaceKey(valid), 'replaceKey');
      if (sendAt) prepared.sendAt = toTime(sendAt(valid), `${where}: sendAt`);
      if (notAfter) prepared.notAfter = toTime(notAfter(valid), `${where}: notAfter`);
      if (priority !== undefined) prepared.priority = priority;
      if (quietHours !== undefined) prepared.quietHours = quietHours;
      if (shortLinks === 'allow') prepared.shortLinks = 'allow';
      if (category !== undefined) prepared.category = category;
      return prepared;
    },
  };
}

/** Only what a render needs: no object at all for a plain template without dates or variants. */
function renderContext(timeZone: string | undefined, random: (() => number) | undefined): RenderContext | undefined {
  if (timeZone === undefined && random === undefined) return undefined;
  const context: RenderContext = {};
  if (timeZone !== undefined) context.timeZone = timeZone;
  if (random !== undefined) context.random = random;
  return context;
}

/** A short link where the guard refuses one: what it is, and how to let it through. */
export function shortLinkError(where: string, path: string, host: string): ValidationError {
  return new ValidationError(
    `${where} has a shortened link (${host}): WhatsApp bans numbers that send them. Write the full link, or set shortLinks: 'allow'`,
    [{ path, message: `Shortened link (${host})` }],
  );
}
