/** HTTP: the framework-free request handler both adapters translate to and from. */

import { UnknownRuleError, ValidationError } from '../errors.js';
import type { AnyNotifier as Notifier, TriggerResult } from '../notifier/types.js';
import { newId } from '../util/ids.js';
import { errorAnswer, headerValue, isBrowserForm, json, redirectAnswer } from './answers.js';
import { readBody } from './body.js';
import { clientIp, ipLimitKey } from './client-ip.js';
import { preflightHeaders } from './cors.js';
import { closedError, InboundError, toInboundError } from './errors.js';
import { healthAnswer } from './health.js';
import type { InboundCheck } from './inbound-limits.js';
import { inLocale } from './locale.js';
import { cancelMessage, notFound, retryMessage, splitSendBody } from './messages.js';
import { cancelManyAnswer, laneAction, lanesAnswer } from './operators.js';
import { resolveOptions } from './options.js';
import { forgetAnswer, replyAnswer, suppressionAnswer } from './people.js';
import { queryOf, readTriggerQuery } from './query.js';
import { matchRoute, ROUTE_PATHS, type Route, routeMethods } from './routes.js';
import type {
  HandlerOptions,
  HandlerRequest,
  HandlerResponse,
  NotifyHandlerOptions,
  NotifyHooks,
  NotifyOutcome,
} from './types.js';

export interface OlchatHandler {
  /** The answer for a request to one of the handler's routes; undefined for any other path. */
  handle(request: HandlerRequest): Promise<HandlerResponse | undefined>;
  /** Reads the body and triggers `ruleId` from it (or from `hooks.from()`), as `notify()` middleware does. */
  notify(ruleId: string, request: HandlerRequest, hooks?: NotifyHooks): Promise<NotifyOutcome>;
  /**
   * The paths to register with a router: `/forms/:ruleId`, `/messages…`, `/lanes…`,
   * `/suppressions/:phone`, `/people/:phone`, `/replies`, `/health` (`ROUTE_PATHS`).
   */
  readonly routes: readonly string[];
}

/**
 * All of the HTTP behaviour both adapters share: routing, body reading and limits, auth, inbound
 * limits, honeypot, CORS, health and every answer. Options are checked here, once.
 */
export function createHandler(notifier: Notifier, options: HandlerOptions = {}): OlchatHandler {
  if (typeof notifier?.trigger !== 'function' || typeof notifier.hasRule !== 'function') {
    throw new ValidationError('createHandler needs a notifier made with createNotifier()');
  }
  const config = resolveOptions(notifier, options);

  /**
   * The answer for `route`. Not an async function: every level of async function costs a form
   * submission a few more ticks. Throws synchronously or rejects alike: `handle` awaits it in a `try`.
   */
  function answer(route: Route, request: HandlerRequest): HandlerResponse | Promise<HandlerResponse> {
    const method = request.method.toUpperCase();
    const allowed = routeMethods(route.name, config.queryTrigger !== undefined);
    if (method === 'OPTIONS' || !allowed.includes(method)) {
      const allow = [...allowed, 'OPTIONS'].join(', ');
      if (method !== 'OPTIONS') {
        throw new InboundError('method_not_allowed', `Use ${allowed.join(' or ')}`, { headers: { allow } });
      }
      const preflight = config.cors && headerValue(request.headers['access-control-request-method']) !== '';
      return { status: 204, headers: { allow, ...(preflight ? preflightHeaders(allow) : {}) } };
    }
    if (route.name === 'form') return method === 'GET' ? queryForm(route.ruleId, request) : form(route.ruleId, request);
    if (route.name === 'health') return healthAnswer(notifier, config.healthCacheMs, config.logger);
    // Bitrix24's outgoing webhook cannot send a header: a reply by GET carries the query secret instead.
    if (route.name === 'replies' && method === 'GET') return queryReply(request);
    authorize(request);
    switch (route.name) {
      case 'messages':
        return sendMessage(request);
      case 'retry':
        return readBody(request, config.maxBodyBytes).then((body) => retryMessage(notifier, route.id, body));
      case 'message':
        return method === 'DELETE' ? cancelMessage(notifier, route.id) : messageRecord(route.id);
      case 'cancelMany':
        return readBody(request, config.maxBodyBytes).then((body) => cancelManyAnswer(notifier, body));
      case 'lanes':
        return lanesAnswer(notifier);
      case 'lane':
        return laneAction(notifier, route.lane, route.action);
      case 'suppression':
        return suppressionAnswer(notifier, method, route.phone, () => readBody(request, config.maxBodyBytes));
      case 'person':
        return forgetAnswer(notifier, route.phone, queryOf(request));
      case 'replies':
        return readBody(request, config.maxBodyBytes).then((body) => replyAnswer(notifier, body));
    }
  }

  /** `GET /replies?secret=…&phone=…&text=…`: a reply forwarded by a Bitrix24 robot. */
  async function queryReply(request: HandlerRequest): Promise<HandlerResponse> {
    const authorized = config.queryTrigger as (secret: string) => boolean;
    return replyAnswer(notifier, readTriggerQuery(queryOf(request), config.maxBodyBytes, authorized));
  }

  /** `POST /messages`: an ad-hoc message, with the caller's schedule, deadline, lane, replace key and meta. */
  async function sendMessage(request: HandlerRequest): Promise<HandlerResponse> {
    const body = await readBody(request, config.maxBodyBytes);
    const { message, options } = splitSendBody(body, headerValue(request.headers['idempotency-key']));
    return json(202, await notifier.send(message as never, options));
  }

  async function messageRecord(id: string): Promise<HandlerResponse> {
    const record = await notifier.get(id);
    if (!record) throw notFound();
    return json(200, record);
  }

  async function form(ruleId: string, request: HandlerRequest): Promise<HandlerResponse> {
    checkRule(ruleId);
    const job = await submit(ruleId, request, () => readBody(request, config.maxBodyBytes));
    return config.redirect !== undefined && isBrowserForm(request.headers)
      ? redirectAnswer(config.redirect)
      : json(202, job);
  }

  /** `GET /forms/:ruleId?secret=…&…`: the POST route's checks on the query; always JSON, never a redirect. */
  async function queryForm(ruleId: string, request: HandlerRequest): Promise<HandlerResponse> {
    checkRule(ruleId);
    const authorized = config.queryTrigger as (secret: string) => boolean;
    const job = await submit(ruleId, request, async () =>
      readTriggerQuery(queryOf(request), config.maxBodyBytes, authorized),
    );
    return json(202, job);
  }

  function checkRule(ruleId: string): void {
    if (notifier.closed) throw closedError();
    if (!notifier.hasRule(ruleId)) {
      throw new InboundError('unknown_rule', `No form ${JSON.stringify(ruleId.slice(0, 100))}`);
    }
  }

  /**
   * One submission of a form route or `notify()`: the per-IP point, then the data (`read`); a filled
   * honeypot field means a bot. Input the rule refuses (a customer's typo) and a full queue give the
   * point back: the limit counts accepted submissions, and requests that are no form at all
   * (malformed, oversized, of the wrong type, without the secret).
   */
  async function submit(
    ruleId: string,
    request: HandlerRequest,
    read: () => Promise<unknown>,
    hooks: NotifyHooks = {},
  ): Promise<TriggerResult> {
    const ipKey = config.perIp ? await takeIpPoint(request, config.perIp) : undefined;
    try {
      const body = await read();
      hooks.onBody?.(body);
      const { data, trapped } = withoutHoneypot(body);
      if (trapped) return decoy();
      return await trigger(ruleId, hooks.from ? await hooks.from() : data);
    } catch (error) {
      const code = toInboundError(error).code;
      if (ipKey !== undefined && (code === 'invalid_input' || code === 'queue_full'))
        await config.perIp?.giveBack(ipKey);
      throw error;
    }
  }

  async function takeIpPoint(request: HandlerRequest, perIp: InboundCheck): Promise<string> {
    const ip = clientIp(request.ip, headerValue(request.headers['x-forwarded-for']), config.trustProxy);
    const key = ipLimitKey(ip);
    await perIp.take(key);
    return key;
  }

  function withoutHoneypot(body: unknown): { data: unknown; trapped: boolean } {
    const field = config.honeypot;
    if (field === undefined || typeof body !== 'object' || body === null || !Object.hasOwn(body, field)) {
      return { data: body, trapped: false };
    }
    const { [field]: bait, ...data } = body as Record<string, unknown>;
    return { data, trapped: isFilled(bait) };
  }

  /** Triggers the rule with the rule's own options: a form never chooses its schedule, lane or keys. */
  function trigger(ruleId: string, data: unknown): Promise<TriggerResult> {
    const perPhone = config.perPhone;
    return perPhone ? triggerCounted(ruleId, data, perPhone) : notifier.trigger(ruleId, data, {});
  }

  /** `trigger` with the per-recipient inbound limit: a point per phone, given back if the queue refuses the job. */
  async function triggerCounted(ruleId: string, data: unknown, perPhone: InboundCheck): Promise<TriggerResult> {
    let counted: string | undefined;
    try {
      return await notifier.trigger(ruleId, data, {
        beforeEnqueue: async (message) => {
          await perPhone.take(message.phone);
          counted = message.phone;
        },
      });
    } catch (error) {
      // The phone's point was taken, then the queue refused the job: nothing will reach that phone.
      if (counted !== undefined && toInboundError(error).code === 'queue_full') await perPhone.giveBack(counted);
      throw error;
    }
  }

  function authorize(request: HandlerRequest): void {
    if (!config.authorized) {
      throw new InboundError('disabled', 'The messages API is off: the router has no apiKey');
    }
    if (!config.authorized(headerValue(request.headers.authorization))) {
      throw new InboundError('unauthorized', 'A valid "Authorization: Bearer <apiKey>" header is required', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
  }

  function failure(error: unknown): InboundError {
    const refused = toInboundError(error);
    if (refused.code === 'internal')
      config.logger.error({ err: error }, 'olchat-kit: unexpected error in the HTTP handler');
    return refused;
  }

  return {
    routes: ROUTE_PATHS,

    async handle(request) {
      const route = matchRoute(request.path, config.prefix);
      if (!route) return undefined;
      let result: HandlerResponse;
      try {
        result = await answer(route, request);
      } catch (error) {
        // A form's refusal may reach its customer: in the locale. The messages API's callers are programs.
        const refused = failure(error);
        result = errorAnswer(route.name === 'form' ? inLocale(refused, config.locale) : refused);
      }
      if (!config.cors) return result;
      return { ...result, headers: { ...result.headers, ...config.cors(headerValue(request.headers.origin)) } };
    },

    async notify(ruleId, request, hooks = {}) {
      try {
        checkRule(ruleId);
        const job = await submit(ruleId, request, () => readBody(request, config.maxBodyBytes), hooks);
        return { ok: true, job };
      } catch (error) {
        const refused = inLocale(failure(error), config.locale);
        return { ok: false, error: refused, response: errorAnswer(refused) };
      }
    },
  };
}

/**
 * The `notify()` middleware's core: checks the rule exists now (a typo fails at startup), then
 * runs `handler.notify` for it on each request.
 */
export function createNotify(
  notifier: Notifier,
  ruleId: string,
  options: NotifyHandlerOptions = {},
): (request: HandlerRequest, hooks?: NotifyHooks) => Promise<NotifyOutcome> {
  const handler = createHandler(notifier, options);
  if (!notifier.hasRule(ruleId)) throw new UnknownRuleError(String(ruleId));
  return (request, hooks) => handler.notify(ruleId, request, hooks);
}

/** What a honeypot hit answers: shaped like a queued job, but nothing was queued. */
function decoy(): TriggerResult {
  return { id: newId(), status: 'queued' };
}

/**
 * Whether a honeypot field holds anything: a non-blank string, or any value but null, looked for
 * through arrays (a repeated form field) with a stack of its own, so no nesting can overflow ours.
 */
function isFilled(bait: unknown): boolean {
  const pending: unknown[] = [bait];
  while (pending.length > 0) {
    const value = pending.pop();
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') {
      if (value.trim() !== '') return true;
    } else if (Array.isArray(value)) {
      for (const item of value) pending.push(item);
    } else {
      return true;
    }
  }
  return false;
}
