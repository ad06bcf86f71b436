/*
 * The job record is one Redis hash per job, the truth `get(id)` answers from any process. BullMQ
 * only schedules: it hands a job to one worker, brings it back when that worker dies, and delays
 * it until it is due. Every change of a record is one of these Lua scripts, so each is atomic and
 * none can undo another process's change.
 *
 * A waiting reminder is mostly its record, so the record is kept small: Redis stores a hash whose
 * fields are few (≤ 128) and short (≤ 64 bytes) as one compact block (a listpack), about a third of
 * a hash table's memory. So field names are one or two letters, defaults are not stored, and the
 * message's body is kept in pieces of 64 bytes. The fields (record.ts `F` spells the same names):
 *   s status · p priority (absent: normal) · ct category (absent: the priority's default)
 *   rs why a skipped job was skipped (absent: when) · a attempts (absent: 0) · c createdAt · u updatedAt
 *   d deadline · q '1' when it keeps quiet hours · r ruleId · t sendAt · n notAfter · x replaceKey
 *   m meta (JSON) · ph phone · cg category (absent: its priority's default) · rs why a skipped job
 *   was skipped · tr the trigger's trace context (JSON) · k '1' when the body is a file (JSON),
 *   absent: a text
 *   i '1' when sendToImol · 1, 2, 3… the body in pieces (dropped once sent or cancelled; a failed
 *   or expired job keeps it for requeue())
 *   K idempotency keys (JSON array) · ku keysUntil · kf '1' when its keys were freed
 *   ec, em, es the error's code, message and HTTP status · mi messageId
 *   dv delivery · dc deliveryCheckedAt · dr the vendor's word at the delivery check
 *   f '1' while a request may be on the wire (in flight) · o owner (the lock token of the pickup
 *   working it) · am '1' while a pickup that holds the job's limit slot works it (armed) · sl how
 *   many such pickups died (stalls) · ra retryAt (a retry's backoff) · b the id of its BullMQ job
 *   (absent: the job's id) · g how often it was requeued · pk the phone's key (HMAC with the
 *   notifier's secret: the phone index's name) · nt '1' when the text is not kept once the job is
 *   finished (storeText: false) · F '1' when its phone was forgotten while a worker held it (erased
 *   once that worker is done with it, never announced).
 *
 * The phone index: `ph:<pk>`, a sorted set of a phone's job ids in the order they were added
 * (scored by the counter `phseq`), for `find()`. It lives as long as the phone's longest-lived
 * record; an id whose record expired (retention) is dropped by the next `find()` or the next job of
 * the phone, whichever comes first.
 *
 * Retention: a finished record expires KEEP ms after it ended. One whose idempotency keys live
 * longer stays for them (a late duplicate must get the first job's answer), but only as what a
 * replay needs: `ret` holds those ids by when KEEP ends, and the sweep then drops their text and
 * meta and marks them `X` ('1': past retention; `get()`, `list()` and `find()` no longer show it).
 * The record's id is its key's last part; the scripts add it to every record they answer (`view`).
 *
 * A job scheduled far ahead has no BullMQ job at all until its time nears: it waits in `later`,
 * and the sweep hands it to BullMQ (into `due` and `adding`) when it comes within the hand-off
 * horizon. Until then it is its record, its key, and an entry in `st:scheduled` and `later`.
 *
 * The lifecycle is core's transition table (`queue/transitions.ts`): the sets of statuses each
 * event is allowed from are generated from it below, and which endings free a job's keys is decided
 * in TypeScript by its `freesKeys` and passed in ('1' | '0'). The rules live in one place.
 *
 * Every script gets the same first arguments: ARGV[1] the queue's key base (`<prefix>:<name>:~`),
 * ARGV[2] now (ms), ARGV[3] how long a finished record is kept, ARGV[4] how much longer a record
 * lives than its keys. Its own arguments start at ARGV[5].
 */

import { PENDING_STATUSES, statusesFor } from '@olchat-kit/core/queue';

/** How many finished ids `list()` can see per status; older ones are trimmed. */
export const FINISHED_LIST_CAP = 10_000;

/** The longest piece of a body: Redis keeps a hash compact while every value is at most 64 bytes. */
export const BODY_PIECE = 64;

export const PRELUDE = `
local B, NOW, KEEP, GRACE = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local rcall = redis.call
local PENDING = ${luaSet(PENDING_STATUSES)}
-- From the transition table: the statuses cancel(), requeue() and markAttempt() are allowed from.
local CAN_CANCEL = ${luaSet(statusesFor('cancel'))}
local CAN_REQUEUE = ${luaSet(statusesFor('requeue'))}
local CAN_ATTEMPT = ${luaSet(statusesFor('attempt'))}

local function rkey(id) return B .. 'rec:' .. id end
local function skey(status) return B .. 'st:' .. status end

-- The record as its fields, with its id, and its body's pieces (fields named by numbers) joined
-- again as the field '_' when it keeps one: {} when gone.
local function view(id, rec)
  local all = rcall('HGETALL', rec)
  if #all == 0 then return all end
  local out = { 'id', id }
  local pieces = {}
  for i = 1, #all, 2 do
    local n = tonumber(all[i])
    if n then
      pieces[n] = all[i + 1]
    else
      out[#out + 1] = all[i]
      out[#out + 1] = all[i + 1]
    end
  end
  if #pieces > 0 then
    out[#out + 1] = '_'
    out[#out + 1] = table.concat(pieces)
  end
  return out
end

-- The body in pieces of at most ${BODY_PIECE} bytes, fields 1, 2, 3… (an empty body is one empty piece).
local function setBody(rec, body)
  local n = 0
  for at = 1, math.max(#body, 1), ${BODY_PIECE} do
    n = n + 1
    rcall('HSET', rec, n, string.sub(body, at, at + ${BODY_PIECE - 1}))
  end
end

-- The body joined again; nil when the record keeps none.
local function getBody(rec)
  local parts = {}
  while true do
    local part = rcall('HGET', rec, #parts + 1)
    if not part then break end
    parts[#parts + 1] = part
  end
  if #parts == 0 then return nil end
  return table.concat(parts)
end

local function dropBody(rec)
  local n = 1
  while rcall('HDEL', rec, n) == 1 do n = n + 1 end
end

-- Moves the id between the per-status sets and stamps the record.
local function setStatus(id, rec, from, to)
  if from then rcall('ZREM', skey(from), id) end
  rcall('ZADD', skey(to), NOW, id)
  rcall('HSET', rec, 's', to, 'u', NOW)
end

local function setError(rec, code, message, httpStatus)
  rcall('HSET', rec, 'ec', code, 'em', message)
  if httpStatus ~= '' then rcall('HSET', rec, 'es', httpStatus) else rcall('HDEL', rec, 'es') end
end

-- A replace key names one pending job: it is released when the job leaves scheduled/queued…
local function dropReplaceKey(id, rec)
  local key = rcall('HGET', rec, 'x')
  if key and rcall('GET', B .. 'rk:' .. key) == id then rcall('DEL', B .. 'rk:' .. key) end
end

-- …and taken back when it waits again, unless a newer job has it.
local function takeReplaceKey(id, rec)
  local key = rcall('HGET', rec, 'x')
  if not key then return end
  local ttl = rcall('PTTL', rec)
  if ttl > 0 then rcall('SET', B .. 'rk:' .. key, id, 'PX', ttl, 'NX') else rcall('SET', B .. 'rk:' .. key, id, 'NX') end
end

-- Idempotency keys are deleted only where they still point at this job.
local function freeKeys(id, rec)
  local list = rcall('HGET', rec, 'K')
  if not list then return end
  for _, key in ipairs(cjson.decode(list)) do
    if rcall('GET', B .. 'key:' .. key) == id then rcall('DEL', B .. 'key:' .. key) end
  end
  rcall('HSET', rec, 'kf', '1')
end

-- The phone index's sorted set lives at least as long as the record (a safety net: the sweep
-- erases what retention is due for).
local function keepIndex(rec)
  local pk = rcall('HGET', rec, 'pk')
  if not pk then return end
  local ttl = rcall('PTTL', rec)
  if ttl > 0 and rcall('PTTL', B .. 'ph:' .. pk) < ttl then rcall('PEXPIRE', B .. 'ph:' .. pk, ttl) end
end

-- A new job of the phone joins its index; the two oldest entries are looked at on the way, and
-- dropped if their records expired since, so a phone written to every week keeps no old ids.
local function indexPhone(id, rec)
  local pk = rcall('HGET', rec, 'pk')
  if not pk then return end
  local index = B .. 'ph:' .. pk
  for _, old in ipairs(rcall('ZRANGE', index, 0, 1)) do
    if rcall('EXISTS', rkey(old)) == 0 then rcall('ZREM', index, old) end
  end
  -- Scored by a counter, not the time: jobs added in one millisecond keep the order they came in.
  rcall('ZADD', index, rcall('INCR', B .. 'phseq'), id)
end

-- Erases a job and everything that names it: the record (phone, text and all), the keys and the
-- replace key still pointing at it, its places in every set and in the phone index. BullMQ's own
-- data is the caller's (a script cannot safely unpick BullMQ's structures).
local function erase(id, rec)
  local f = rcall('HMGET', rec, 's', 'pk', 'K')
  if f[3] then
    for _, key in ipairs(cjson.decode(f[3])) do
      if rcall('GET', B .. 'key:' .. key) == id then rcall('DEL', B .. 'key:' .. key) end
    end
  end
  dropReplaceKey(id, rec)
  if f[1] then rcall('ZREM', skey(f[1]), id) end
  for _, set in ipairs({ 'due', 'later', 'deadlines', 'adding', 'ret' }) do rcall('ZREM', B .. set, id) end
  if f[2] then rcall('ZREM', B .. 'ph:' .. f[2], id) end
  rcall('DEL', rec)
end

-- Ends a job. A finished record lives KEEP ms, and always a little longer than keys that still
-- point at it, so a key never points at nothing (a late duplicate gets the first job's outcome).
local function finalize(id, rec, status, code, message, httpStatus, messageId, free)
  setStatus(id, rec, rcall('HGET', rec, 's'), status)
  rcall('HDEL', rec, 'f', 'o', 'ra', 'am')
  if code ~= '' then
    setError(rec, code, message, httpStatus)
  elseif status ~= 'failed' and status ~= 'expired' then
    rcall('HDEL', rec, 'ec', 'em', 'es')
  end
  if messageId ~= '' then rcall('HSET', rec, 'mi', messageId) end
  rcall('HINCRBY', B .. 'stats', status, 1)
  for _, set in ipairs({ 'due', 'later', 'deadlines', 'adding' }) do rcall('ZREM', B .. set, id) end
  dropReplaceKey(id, rec)
  if free == '1' then freeKeys(id, rec) end
  local now = tonumber(NOW)
  rcall('ZREMRANGEBYSCORE', skey(status), '-inf', now - KEEP)
  rcall('ZREMRANGEBYRANK', skey(status), 0, -${FINISHED_LIST_CAP + 1})
  local ttl = KEEP
  if rcall('HGET', rec, 'kf') ~= '1' then
    local keysUntil = tonumber(rcall('HGET', rec, 'ku') or '0')
    if keysUntil - now + GRACE > ttl then ttl = keysUntil - now + GRACE end
  end
  rcall('PEXPIRE', rec, ttl)
  keepIndex(rec)
  if ttl > KEEP then rcall('ZADD', B .. 'ret', now + KEEP, id) end
  -- The record shows what was sent, unless the app keeps no texts (then retry() cannot resend it).
  if rcall('HGET', rec, 'nt') == '1' then dropBody(rec) end
end
`;

/** A Lua set literal (`{ queued = true, … }`) of statuses. */
function luaSet(statuses: readonly string[]): string {
  return `{ ${statuses.map((status) => `${status} = true`).join(', ')} }`;
}
