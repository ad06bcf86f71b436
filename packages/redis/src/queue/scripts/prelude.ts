/*
 * The job record is one Redis hash per job, the truth `get(id)` answers from any process. BullMQ
 * only schedules: it hands a job to one worker, brings it back when that worker dies, and delays
 * it until it is due. Every change of a record is one of these Lua scripts, so each is atomic and
 * none can undo another process's change.
 *
 * Record fields: id, status, priority, category, attempts, createdAt, updatedAt, ruleId, phone, kind
 * ('text' | 'file'), meta (JSON), quiet ('1'|'0'), reason (why a skipped job was skipped),
 * sendAt, notAfter, deadline, replaceKey, keys (JSON array of idempotency keys), keysUntil,
 * keysFreed, errCode, errMessage, errStatus, messageId, delivery, deliveryCheckedAt,
 * inflight ('1' while a request may be on the wire), owner (the lock token of the pickup working
 * it), retryAt (a retry's backoff), bull (the id of its BullMQ job), gen (how often it was requeued).
 * The message itself (JSON) is a string beside the record (`msg:<id>`), with the same lifetime until it
 * is sent or cancelled: kept out of the hash, the record stays small (Redis stores a hash whose values
 * are all short in one compact block, about a third of the memory).
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
local function mkey(id) return B .. 'msg:' .. id end

-- Moves the id between the per-status sets and stamps the record.
local function setStatus(id, rec, from, to)
  if from then rcall('ZREM', skey(from), id) end
  rcall('ZADD', skey(to), NOW, id)
  rcall('HSET', rec, 'status', to, 'updatedAt', NOW)
end

local function setError(rec, code, message, httpStatus)
  rcall('HSET', rec, 'errCode', code, 'errMessage', message)
  if httpStatus ~= '' then rcall('HSET', rec, 'errStatus', httpStatus) else rcall('HDEL', rec, 'errStatus') end
end

-- A replace key names one pending job: it is released when the job leaves scheduled/queued…
local function dropReplaceKey(id, rec)
  local key = rcall('HGET', rec, 'replaceKey')
  if key and rcall('GET', B .. 'rk:' .. key) == id then rcall('DEL', B .. 'rk:' .. key) end
end

-- …and taken back when it waits again, unless a newer job has it.
local function takeReplaceKey(id, rec)
  local key = rcall('HGET', rec, 'replaceKey')
  if not key then return end
  local ttl = rcall('PTTL', rec)
  if ttl > 0 then rcall('SET', B .. 'rk:' .. key, id, 'PX', ttl, 'NX') else rcall('SET', B .. 'rk:' .. key, id, 'NX') end
end

-- Idempotency keys are deleted only where they still point at this job.
local function freeKeys(id, rec)
  local list = rcall('HGET', rec, 'keys')
  if not list then return end
  for _, key in ipairs(cjson.decode(list)) do
    if rcall('GET', B .. 'key:' .. key) == id then rcall('DEL', B .. 'key:' .. key) end
  end
  rcall('HSET', rec, 'keysFreed', '1')
end

-- Ends a job. A finished record lives KEEP ms, and always a little longer than keys that still
-- point at it, so a key never points at nothing (a late duplicate gets the first job's outcome).
local function finalize(id, rec, status, code, message, httpStatus, messageId, free)
  setStatus(id, rec, rcall('HGET', rec, 'status'), status)
  rcall('HSET', rec, 'inflight', '0')
  rcall('HDEL', rec, 'owner', 'retryAt')
  if code ~= '' then
    setError(rec, code, message, httpStatus)
  elseif status ~= 'failed' and status ~= 'expired' then
    rcall('HDEL', rec, 'errCode', 'errMessage', 'errStatus')
  end
  if messageId ~= '' then rcall('HSET', rec, 'messageId', messageId) end
  rcall('HINCRBY', B .. 'stats', status, 1)
  rcall('ZREM', B .. 'due', id)
  rcall('ZREM', B .. 'deadlines', id)
  rcall('ZREM', B .. 'adding', id)
  dropReplaceKey(id, rec)
  if free == '1' then freeKeys(id, rec) end
  local now = tonumber(NOW)
  rcall('ZREMRANGEBYSCORE', skey(status), '-inf', now - KEEP)
  rcall('ZREMRANGEBYRANK', skey(status), 0, -${FINISHED_LIST_CAP + 1})
  local ttl = KEEP
  if rcall('HGET', rec, 'keysFreed') ~= '1' then
    local keysUntil = tonumber(rcall('HGET', rec, 'keysUntil') or '0')
    if keysUntil - now + GRACE > ttl then ttl = keysUntil - now + GRACE end
  end
  rcall('PEXPIRE', rec, ttl)
  -- A job that may be requeued (failed, expired) keeps its message: requeue() sends it again.
  if CAN_REQUEUE[status] then rcall('PEXPIRE', mkey(id), ttl) else rcall('DEL', mkey(id)) end
end
`;

/** A Lua set literal (`{ queued = true, … }`) of statuses. */
function luaSet(statuses: readonly string[]): string {
  return `{ ${statuses.map((status) => `${status} = true`).join(', ')} }`;
}
