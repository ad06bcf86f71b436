import { LuaScript } from '../../lua.js';
import { PRELUDE } from './prelude.js';

/**
 * The periodic sweep (run by every process that works the queue), at most `limit` of each:
 * 1. schedules that came within the hand-off horizon (sendAt before `handBefore`) leave `later`
 *    for `due`, `deadlines` and `adding`, and are answered with those to revive: the caller adds
 *    their BullMQ jobs, delayed until due (should that fail, step 4 tries again);
 * 2. schedules whose time came join their lane ('scheduled' → 'queued');
 * 3. jobs past their deadline that no live worker holds are claimed for this sweep's token, and
 *    answered with what the sweep needs to end them (TypeScript decides how, then OUTCOME does);
 *    a job held by a live worker (its BullMQ lock still carries the record's owner) is left to
 *    that worker and looked at again at `recheckAt`; ids of records that are gone are forgotten;
 * 4. jobs added before `reviveBefore` whose BullMQ job never arrived (its add failed after the
 *    record was written) are answered, to be added again;
 * 5. retention: finished records kept past KEEP only for their keys lose their text and meta (see
 *    prelude.ts), the finished status sets lose their ids older than KEEP, and BullMQ's event stream
 *    its entries older than KEEP (they name job ids): retention covers BullMQ's own data too (Redis
 *    6.2 or later; older ones keep its cap).
 * ARGV[5..]: bullBase, token, limit, reviveBefore, recheckAt, handBefore.
 * Returns { promoted, { { id, status, errCode, errMessage, errStatus, inflight, bull }… },
 * { { id, bull, priority, dueAt }… } }.
 */
export const SWEEP = new LuaScript(`${PRELUDE}
local bullBase, token, limit = ARGV[5], ARGV[6], tonumber(ARGV[7])
local revive = {}

for _, id in ipairs(rcall('ZRANGEBYSCORE', B .. 'later', '-inf', ARGV[10], 'LIMIT', 0, limit)) do
  local rec = rkey(id)
  rcall('ZREM', B .. 'later', id)
  local f = rcall('HMGET', rec, 's', 'b', 'p', 't', 'd')
  if f[1] == 'scheduled' then
    local at = f[4] or NOW
    rcall('ZADD', B .. 'due', at, id)
    rcall('ZADD', B .. 'deadlines', f[5] or NOW, id)
    rcall('ZADD', B .. 'adding', NOW, id)
    table.insert(revive, { id, f[2] or id, f[3] or 'normal', at })
  elseif not f[1] then
    rcall('ZREM', skey('scheduled'), id) -- its record is gone (no process swept for that long)
  end
end

local due = rcall('ZRANGEBYSCORE', B .. 'due', '-inf', NOW, 'LIMIT', 0, limit)
for _, id in ipairs(due) do
  local rec = rkey(id)
  if rcall('HGET', rec, 's') == 'scheduled' then setStatus(id, rec, 'scheduled', 'queued') end
  rcall('ZREM', B .. 'due', id)
end

local expiring = {}
for _, id in ipairs(rcall('ZRANGEBYSCORE', B .. 'deadlines', '-inf', NOW, 'LIMIT', 0, limit)) do
  local rec = rkey(id)
  local status = rcall('HGET', rec, 's')
  if not status then
    for _, set in ipairs({ 'deadlines', 'due', 'later', 'adding', 'st:scheduled', 'st:queued', 'st:sending' }) do
      rcall('ZREM', B .. set, id)
    end
  elseif not PENDING[status] then
    rcall('ZREM', B .. 'deadlines', id)
  else
    local owner = rcall('HGET', rec, 'o')
    local bull = rcall('HGET', rec, 'b') or id
    if owner and rcall('GET', bullBase .. bull .. ':lock') == owner then
      rcall('ZADD', B .. 'deadlines', ARGV[9], id)
    else
      rcall('HSET', rec, 'o', token)
      local f = rcall('HMGET', rec, 'ec', 'em', 'es', 'f')
      table.insert(expiring, { id, status, f[1] or '', f[2] or '', f[3] or '', f[4] or '0', bull })
    end
  end
end

for _, id in ipairs(rcall('ZRANGEBYSCORE', B .. 'adding', '-inf', ARGV[8], 'LIMIT', 0, limit)) do
  local rec = rkey(id)
  local f = rcall('HMGET', rec, 's', 'o', 'b', 'p', 't', 'ra')
  local bull = f[3] or id
  if (f[1] ~= 'scheduled' and f[1] ~= 'queued') or f[2] or rcall('EXISTS', bullBase .. bull) == 1 then
    rcall('ZREM', B .. 'adding', id)
  else
    local dueAt = f[6] or '0'
    if f[1] == 'scheduled' then dueAt = f[5] or '0' end
    table.insert(revive, { id, bull, f[4] or 'normal', dueAt })
  end
end

for _, id in ipairs(rcall('ZRANGEBYSCORE', B .. 'ret', '-inf', NOW, 'LIMIT', 0, limit)) do
  local rec = rkey(id)
  rcall('ZREM', B .. 'ret', id)
  local status = rcall('HGET', rec, 's')
  if status and not PENDING[status] then
    dropBody(rec)
    rcall('HDEL', rec, 'm', 'dr')
    rcall('HSET', rec, 'X', '1')
  end
end
for _, status in ipairs({ 'sent', 'failed', 'skipped', 'cancelled', 'expired' }) do
  rcall('ZREMRANGEBYSCORE', skey(status), '-inf', tonumber(NOW) - KEEP)
end
redis.pcall('XTRIM', bullBase .. 'events', 'MINID', string.format('%d', tonumber(NOW) - KEEP))

return { #due, expiring, revive }`);
