import { LuaScript } from '../../lua.js';
import { PRELUDE } from './prelude.js';

/**
 * Cancels a 'scheduled' or 'queued' job, by id or by its replace key. A job a worker holds but
 * has not marked in flight is still 'queued', so it is cancelled too (the owner is dropped, so
 * that worker's markAttempt is refused); a job being sent or finished is not.
 * ARGV[5..]: id or '', replaceKey or '', freeKeys. Returns { 1, fields } or { 0 }.
 */
export const CANCEL = new LuaScript(`${PRELUDE}
local id = ARGV[5]
if id == '' then
  id = rcall('GET', B .. 'rk:' .. ARGV[6])
  if not id then return { 0 } end
end
local rec = rkey(id)
local status = rcall('HGET', rec, 's')
if not CAN_CANCEL[status] then return { 0 } end
finalize(id, rec, 'cancelled', '', '', '', '', ARGV[7])
return { 1, view(id, rec) }`);

/**
 * Puts a 'failed' or 'expired' job back in its lane with a new deadline, under a new BullMQ job
 * id (`<id>.<round>`), so a finished BullMQ job of an earlier round can never block it. Attempts
 * and the last error are kept; keys it freed when it failed are taken back where still free. Past
 * `maxQueued` unfinished jobs nothing changes. The job no longer counts as failed (or expired).
 * ARGV[5..]: id, deadline, pendingTtlMs, maxQueued.
 * Returns { 1, fields, previous status } | { 0 } | { 2, pending } (full).
 */
export const REQUEUE = new LuaScript(`${PRELUDE}
local id = ARGV[5]
local rec = rkey(id)
local status = rcall('HGET', rec, 's')
if not CAN_REQUEUE[status] or rcall('HEXISTS', rec, 1) == 0 or rcall('HGET', rec, 'X') then return { 0 } end
local pending = rcall('ZCARD', skey('scheduled')) + rcall('ZCARD', skey('queued')) + rcall('ZCARD', skey('sending'))
if pending >= tonumber(ARGV[8]) then return { 2, pending } end
if tonumber(rcall('HGET', B .. 'stats', status) or '0') > 0 then rcall('HINCRBY', B .. 'stats', status, -1) end
local round = rcall('HINCRBY', rec, 'g', 1)
setStatus(id, rec, status, 'queued')
rcall('HSET', rec, 'b', id .. '.' .. round, 'd', ARGV[6])
rcall('HDEL', rec, 'f', 'o', 'ra', 'am', 'sl')
rcall('ZADD', B .. 'deadlines', ARGV[6], id)
rcall('ZADD', B .. 'adding', NOW, id)
rcall('ZREM', B .. 'ret', id)
rcall('PEXPIRE', rec, ARGV[7])
keepIndex(rec)
if rcall('HGET', rec, 'kf') == '1' then
  local left = tonumber(rcall('HGET', rec, 'ku') or '0') - tonumber(NOW)
  if left > 0 then
    for _, key in ipairs(cjson.decode(rcall('HGET', rec, 'K') or '[]')) do
      rcall('SET', B .. 'key:' .. key, id, 'PX', left, 'NX')
    end
  end
  rcall('HDEL', rec, 'kf')
end
takeReplaceKey(id, rec)
return { 1, view(id, rec), status }`);

/**
 * What the vendor said of a sent job's delivery (no delivery: only the check is recorded); a job
 * that was not sent is left as it is. ARGV[5..]: id, delivery or '', checkedAt, raw word or ''.
 * Returns { 1, fields } or { 0 }.
 */
export const SET_DELIVERY = new LuaScript(`${PRELUDE}
local id = ARGV[5]
local rec = rkey(id)
if rcall('EXISTS', rec) == 0 then return { 0 } end
if rcall('HGET', rec, 's') == 'sent' then
  if ARGV[6] ~= '' then rcall('HSET', rec, 'dv', ARGV[6]) end
  if ARGV[8] ~= '' then rcall('HSET', rec, 'dr', ARGV[8]) end
  rcall('HSET', rec, 'dc', ARGV[7])
end
return { 1, view(id, rec) }`);

/**
 * One page of `cancelMany`: looks at up to `batch` ids of one stored status set from rank
 * `offset`, and cancels those that match (as CANCEL does each). A stored 'scheduled' job whose
 * time came reads as 'queued' (as `get()` says): `when` picks 'due', 'future' or 'any' of them.
 * ARGV[5..]: stored status, when, ruleId or '', priority or '', freeKeys, offset, batch.
 * Returns { scanned, kept, { fields… } }.
 */
export const CANCEL_MANY = new LuaScript(`${PRELUDE}
local stored, when, ruleId, priority, free = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local offset, batch = tonumber(ARGV[10]), tonumber(ARGV[11])
local now = tonumber(NOW)
local ids = rcall('ZRANGE', skey(stored), offset, offset + batch - 1)
local kept, cancelled = 0, {}
for _, id in ipairs(ids) do
  local rec = rkey(id)
  local f = rcall('HMGET', rec, 's', 'r', 'p', 't')
  local match = f[1] == stored
  if match and ruleId ~= '' then match = f[2] == ruleId end
  if match and priority ~= '' then match = (f[3] or 'normal') == priority end
  if match and stored == 'scheduled' and when ~= 'any' then
    local due = tonumber(f[4] or '0') <= now
    match = (when == 'due') == due
  end
  if match then
    finalize(id, rec, 'cancelled', '', '', '', '', free)
    table.insert(cancelled, view(id, rec))
  else
    kept = kept + 1
  end
end
return { #ids, kept, cancelled }`);
