import { randomBytes } from 'node:crypto';
import {
  type Admission,
  type AdmitRequest,
  BUDGET_WINDOW_MS,
  type ForgottenPerson,
  type NewRecipientCounts,
  PEOPLE_WINDOW_MS,
  type PeopleCounts,
  type PeopleStore,
  type PersonState,
  SUPPRESSION_SCOPES,
  type Suppression,
  type SuppressionScope,
} from '@olchat-kit/core/queue';
import type { Redis } from 'ioredis';
import { LuaScript } from '../lua.js';

/*
 * Contact memory, suppressions and reply counts in Redis, beside the queue's jobs and shared by
 * every process on it. Phones arrive keyed (HMAC with the notifier's secret): no digits are stored.
 *
 * Keys, below the queue's base `<prefix>:<name>:~`:
 * - `pp:known`    hash: phone key → '0', or '1' once a reply was counted since it was last written to
 * - `pp:sup`      hash: phone key → the suppression as JSON ({ scope, reason?, at })
 * - `pp:sent`     hash: hour (ms / 3 600 000) → sends that may have reached a phone in that hour
 * - `pp:replies`  hash: hour → replies counted in that hour
 * - `pp:nr`       sorted set: phone key → when it was first written to as a new recipient (24 h)
 * - `pp:nb`       sorted set: the same, for those that spent the new-recipient budget
 * - `pp:mk:<key>` sorted set: one phone's marketing sends in the per-recipient window (expires with it)
 * Each change is one script (one round trip), so two processes never count one reply twice.
 */

const HOUR_MS = 3600_000;
const WINDOW_HOURS = PEOPLE_WINDOW_MS / HOUR_MS;

/** Every script gets the base first (ARGV[1]) and builds its key names from it. */
const PRELUDE = `
local B = ARGV[1]
local rcall = redis.call
local KNOWN, SUP = B .. 'pp:known', B .. 'pp:sup'
-- One more in this hour's bucket; buckets that left the window go once there are more than it holds.
local function bump(counts, hour, oldest)
  rcall('HINCRBY', counts, hour, 1)
  if rcall('HLEN', counts) > ${WINDOW_HOURS} then
    for _, field in ipairs(rcall('HKEYS', counts)) do
      if tonumber(field) <= tonumber(oldest) then rcall('HDEL', counts, field) end
    end
  end
end
`;

/** ARGV: base, key, hour, oldest hour. Returns 1 when the phone was new. */
const RECORD_SENT = new LuaScript(`${PRELUDE}
local was = rcall('HGET', KNOWN, ARGV[2])
rcall('HSET', KNOWN, ARGV[2], '0')
bump(B .. 'pp:sent', ARGV[3], ARGV[4])
if was then return 0 end
return 1`);

/** ARGV: base, key, hour, oldest hour. Returns 1 when the reply counted. */
const RECORD_REPLY = new LuaScript(`${PRELUDE}
if rcall('HGET', KNOWN, ARGV[2]) == '1' then return 0 end
rcall('HSET', KNOWN, ARGV[2], '1')
bump(B .. 'pp:replies', ARGV[3], ARGV[4])
return 1`);

/** ARGV: base, keys… Returns how many were new. */
const MARK_KNOWN = new LuaScript(`${PRELUDE}
local added = 0
for i = 2, #ARGV do added = added + rcall('HSETNX', KNOWN, ARGV[i], '0') end
return added`);

/** ARGV: base, key. Returns { known (1|0), suppression JSON or '' }. */
const LOOKUP = new LuaScript(`${PRELUDE}
return { rcall('HEXISTS', KNOWN, ARGV[2]), rcall('HGET', SUP, ARGV[2]) or '' }`);

/**
 * The guard's look before a send: the person, then the per-recipient cap and the new-recipient
 * budget, counted when the send may go, all in one step (two processes never both take the
 * budget's last place). ARGV: base, key, now, marketing ('1'|'0'), budget ('' none), force
 * ('1'|'0'), cap max ('' none), cap window ms, a unique member for this send.
 * Returns { known, suppression JSON or '', verdict ('ok' | 'sup' | 'cap' | 'held'), held until }.
 */
const ADMIT = new LuaScript(`${PRELUDE}
local key, now = ARGV[2], tonumber(ARGV[3])
local marketing = ARGV[4] == '1'
local known = rcall('HEXISTS', KNOWN, key)
local sup = rcall('HGET', SUP, key) or ''
if sup ~= '' and (marketing or string.find(sup, '"scope":"all"', 1, true)) then return { known, sup, 'sup', 0 } end
local capKey
if marketing and ARGV[7] ~= '' then
  capKey = B .. 'pp:mk:' .. key
  rcall('ZREMRANGEBYSCORE', capKey, '-inf', now - tonumber(ARGV[8]))
  if rcall('ZCARD', capKey) >= tonumber(ARGV[7]) then return { known, sup, 'cap', 0 } end
end
if known == 0 then
  local all, spent = B .. 'pp:nr', B .. 'pp:nb'
  local edge = now - ${BUDGET_WINDOW_MS}
  rcall('ZREMRANGEBYSCORE', all, '-inf', edge)
  if not rcall('ZSCORE', all, key) then
    if ARGV[5] ~= '' then
      rcall('ZREMRANGEBYSCORE', spent, '-inf', edge)
      if ARGV[6] ~= '1' and rcall('ZCARD', spent) >= tonumber(ARGV[5]) then
        local oldest = rcall('ZRANGE', spent, 0, 0, 'WITHSCORES')
        local frees = now + 1
        if oldest[2] then frees = math.max(frees, tonumber(oldest[2]) + ${BUDGET_WINDOW_MS}) end
        return { known, sup, 'held', frees }
      end
      rcall('ZADD', spent, now, key)
    end
    rcall('ZADD', all, now, key)
  end
end
if capKey then
  rcall('ZADD', capKey, now, ARGV[9])
  rcall('PEXPIRE', capKey, ARGV[8])
end
return { known, sup, 'ok', 0 }`);

/** ARGV: base, now. Returns { all, budget }: new recipients of the last 24 h. */
const NEW_RECIPIENTS = new LuaScript(`${PRELUDE}
local edge = tonumber(ARGV[2]) - ${BUDGET_WINDOW_MS}
return { rcall('ZCOUNT', B .. 'pp:nr', '(' .. edge, '+inf'), rcall('ZCOUNT', B .. 'pp:nb', '(' .. edge, '+inf') }`);

/** ARGV: base, oldest hour. Returns { sent, replies } over the hours after it. */
const COUNTS = new LuaScript(`${PRELUDE}
local function total(counts)
  local flat, sum = rcall('HGETALL', counts), 0
  for i = 1, #flat, 2 do
    if tonumber(flat[i]) > tonumber(ARGV[2]) then sum = sum + tonumber(flat[i + 1]) end
  end
  return sum
end
return { total(B .. 'pp:sent'), total(B .. 'pp:replies') }`);

/** ARGV: base, key, suppression JSON, keepExisting ('1'|'0'). Returns the suppression the phone has now. */
const SUPPRESS = new LuaScript(`${PRELUDE}
if ARGV[4] == '1' then
  local existing = rcall('HGET', SUP, ARGV[2])
  if existing then return existing end
end
rcall('HSET', SUP, ARGV[2], ARGV[3])
return ARGV[3]`);

/** ARGV: base, key, suppression too ('1'|'0'). Returns { contacts erased, suppressions erased }. */
/**
 * forget(): the phone's contact memory goes, and its marketing sends; in the new-recipient counts
 * its place is kept under a random name (so a budget is not refilled by forgetting people), no
 * longer its key. ARGV: base, key, suppression too ('1'|'0'), a random name.
 * Returns { contacts erased, suppressions erased }.
 */
const FORGET = new LuaScript(`${PRELUDE}
local suppressions = 0
if ARGV[3] == '1' then suppressions = rcall('HDEL', SUP, ARGV[2]) end
for _, set in ipairs({ B .. 'pp:nr', B .. 'pp:nb' }) do
  local at = rcall('ZSCORE', set, ARGV[2])
  if at then
    rcall('ZREM', set, ARGV[2])
    rcall('ZADD', set, at, ARGV[4])
  end
end
rcall('DEL', B .. 'pp:mk:' .. ARGV[2])
return { rcall('HDEL', KNOWN, ARGV[2]), suppressions }`);

/** Runs a Redis call, turning Redis trouble into the queue's errors. */
export type RunRedis = <T>(what: string, call: () => Promise<T>) => Promise<T>;

export class RedisPeopleStore implements PeopleStore {
  readonly #client: Redis;
  readonly #base: string;
  readonly #run: RunRedis;

  constructor(client: Redis, base: string, run: RunRedis) {
    this.#client = client;
    this.#base = base;
    this.#run = run;
  }

  async isKnown(key: string): Promise<boolean> {
    return this.#run('read contact memory', async () => (await this.#client.hexists(this.#name('known'), key)) === 1);
  }

  async markKnown(keys: readonly string[], _now: number): Promise<number> {
    if (keys.length === 0) return 0;
    return this.#run('store contacts', async () => Number(await this.#script(MARK_KNOWN, [...keys])));
  }

  async recordSent(key: string, now: number): Promise<boolean> {
    return this.#run(
      'store a contact',
      async () => Number(await this.#script(RECORD_SENT, [key, ...hours(now)])) === 1,
    );
  }

  async recordReply(key: string, now: number): Promise<boolean> {
    return this.#run('store a reply', async () => Number(await this.#script(RECORD_REPLY, [key, ...hours(now)])) === 1);
  }

  async counts(now: number): Promise<PeopleCounts> {
    return this.#run('read reply counts', async () => {
      const [sent, replies] = (await this.#script(COUNTS, [hours(now)[1]])) as [number, number];
      return { sent7d: Number(sent) || 0, replies7d: Number(replies) || 0 };
    });
  }

  async lookup(key: string): Promise<PersonState> {
    return this.#run('read contact memory', async () => {
      const [known, json] = (await this.#script(LOOKUP, [key])) as [number, string];
      return { known: Number(known) === 1, suppression: parseSuppression(json) };
    });
  }

  async admit(key: string, now: number, request: AdmitRequest): Promise<Admission> {
    const cap = request.perRecipient;
    return this.#run('read contact memory', async () => {
      const [known, json, verdict, until] = (await this.#script(ADMIT, [
        key,
        now,
        request.marketing ? '1' : '0',
        request.budget ?? '',
        request.force ? '1' : '0',
        cap?.max ?? '',
        cap?.windowMs ?? 0,
        `${now}:${Math.random().toString(36).slice(2)}`,
      ])) as [number, string, string, number];
      const admission: Admission = { known: Number(known) === 1, suppression: parseSuppression(json) };
      if (verdict === 'held') admission.heldUntil = Number(until);
      else if (verdict === 'cap') admission.overCap = true;
      return admission;
    });
  }

  async newRecipients(now: number): Promise<NewRecipientCounts> {
    return this.#run('read new-recipient counts', async () => {
      const [all, budget] = (await this.#script(NEW_RECIPIENTS, [now])) as [number, number];
      return { all: Number(all) || 0, budget: Number(budget) || 0 };
    });
  }

  async suppression(key: string): Promise<Suppression | undefined> {
    return this.#run('read a suppression', async () =>
      parseSuppression(await this.#client.hget(this.#name('sup'), key)),
    );
  }

  async suppress(key: string, suppression: Suppression, keepExisting = false): Promise<Suppression> {
    const json = JSON.stringify(suppression);
    return this.#run('store a suppression', async () => {
      const now = await this.#script(SUPPRESS, [key, json, keepExisting ? '1' : '0']);
      return parseSuppression(String(now)) ?? suppression;
    });
  }

  async unsuppress(key: string): Promise<boolean> {
    return this.#run('remove a suppression', async () => (await this.#client.hdel(this.#name('sup'), key)) === 1);
  }

  async forget(key: string, suppression: boolean): Promise<ForgottenPerson> {
    return this.#run('forget a contact', async () => {
      const anonymous = `~${randomBytes(12).toString('base64url')}`;
      const [contacts, suppressions] = (await this.#script(FORGET, [key, suppression ? '1' : '0', anonymous])) as [
        number,
        number,
      ];
      return { contacts: Number(contacts) || 0, suppressions: Number(suppressions) || 0 };
    });
  }

  #name(part: string): string {
    return `${this.#base}pp:${part}`;
  }

  /** A script with the base first; the contact hash routes it (all keys share the queue's prefix). */
  #script(script: LuaScript, args: (string | number)[]): Promise<unknown> {
    return script.run(this.#client, [this.#name('known')], [this.#base, ...args]);
  }
}

/** This hour, and the last hour outside the 7-day window. */
function hours(now: number): [number, number] {
  const hour = Math.floor(now / HOUR_MS);
  return [hour, hour - WINDOW_HOURS];
}

function parseSuppression(json: string | null | undefined): Suppression | undefined {
  if (!json) return undefined;
  try {
    const { scope, reason, at } = JSON.parse(json) as { scope?: unknown; reason?: unknown; at?: unknown };
    if (!SUPPRESSION_SCOPES.includes(scope as SuppressionScope)) return undefined;
    const suppression: Suppression = { scope: scope as SuppressionScope, at: typeof at === 'number' ? at : 0 };
    if (typeof reason === 'string') suppression.reason = reason;
    return suppression;
  } catch {
    return undefined;
  }
}
