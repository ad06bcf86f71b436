import { LuaScript } from '../../lua.js';
import { PRELUDE } from './prelude.js';

/**
 * add(), in one step so that two processes adding at once can never both win:
 * 1. the first of the job's idempotency keys that is set returns its job ('hit');
 * 2. past `maxQueued` unfinished jobs (a job it replaces does not count) nothing is added ('full');
 * 3. a scheduled or queued job holding the replace key is cancelled (even one a worker holds but
 *    has not marked in flight: its markAttempt is then refused); a job being sent or finished is
 *    left alone, and the new job simply takes the key;
 * 4. the record is created, its keys set, it joins its phone's index, its status set and, when scheduled for
 *    later than the hand-off horizon, `later` (no BullMQ job yet; `deadlines` too only when its
 *    deadline comes before its time); otherwise `deadlines`, `due` (when scheduled) and `adding`
 *    (until a worker or the sweep sees its BullMQ job, which the caller adds now); a job added past
 *    its deadline ('expired', not counted against `maxQueued`) is finished at once instead, its
 *    body kept for a retry.
 *
 * ARGV[5..]: id, status ('queued' | 'scheduled' | 'skipped' | 'expired'), keys (JSON array), keyTtlMs,
 * maxQueued, replaceKey or '', freeKeysOnCancel ('1'|'0'), pendingTtlMs, deadline, sendAt or '',
 * body ('' when skipped), later ('1'|'0'), freeKeysOnExpiry ('1'|'0'), then the record's fields as
 * field, value, …
 * Returns { 'hit', id, fields } | { 'full', pending } | { 'new', id, fields, replacedFields }.
 */
export const ADD = new LuaScript(`${PRELUDE}
local id, status, keys, keyTtl = ARGV[5], ARGV[6], cjson.decode(ARGV[7]), tonumber(ARGV[8])
local replaceKey, pendingTtl = ARGV[10], tonumber(ARGV[12])
for _, key in ipairs(keys) do
  local hit = rcall('GET', B .. 'key:' .. key)
  if hit then
    local fields = view(hit, rkey(hit))
    if #fields > 0 then return { 'hit', hit, fields } end
  end
end

local replaced = {}
if status ~= 'skipped' then
  local target = false
  if replaceKey ~= '' then
    target = rcall('GET', B .. 'rk:' .. replaceKey)
    if target then
      local s = rcall('HGET', rkey(target), 's')
      if not CAN_CANCEL[s] then target = false end
    end
  end
  local pending = rcall('ZCARD', skey('scheduled')) + rcall('ZCARD', skey('queued')) + rcall('ZCARD', skey('sending'))
  if target then pending = pending - 1 end
  if status ~= 'expired' and pending >= tonumber(ARGV[9]) then return { 'full', pending } end
  if target then
    finalize(target, rkey(target), 'cancelled', '', '', '', '', ARGV[11])
    replaced = view(target, rkey(target))
  end
end

local rec = rkey(id)
rcall('HSET', rec, unpack(ARGV, 18, #ARGV))
indexPhone(id, rec)
if #keys > 0 then
  rcall('HSET', rec, 'K', ARGV[7], 'ku', tonumber(NOW) + keyTtl)
  for _, key in ipairs(keys) do rcall('SET', B .. 'key:' .. key, id, 'PX', keyTtl) end
end
if status == 'skipped' then
  finalize(id, rec, 'skipped', '', '', '', '', '0')
elseif status == 'expired' then
  setBody(rec, ARGV[15])
  finalize(id, rec, 'expired', '', '', '', '', ARGV[17])
else
  setBody(rec, ARGV[15])
  setStatus(id, rec, false, status)
  if ARGV[16] == '1' then
    rcall('ZADD', B .. 'later', ARGV[14], id)
    if tonumber(ARGV[13]) <= tonumber(ARGV[14]) then rcall('ZADD', B .. 'deadlines', ARGV[13], id) end
  else
    rcall('ZADD', B .. 'deadlines', ARGV[13], id)
    if status == 'scheduled' then rcall('ZADD', B .. 'due', ARGV[14], id) end
    rcall('ZADD', B .. 'adding', NOW, id)
  end
  if replaceKey ~= '' then rcall('SET', B .. 'rk:' .. replaceKey, id, 'PX', pendingTtl) end
  rcall('PEXPIRE', rec, pendingTtl)
  keepIndex(rec)
end
return { 'new', id, view(id, rec), replaced }`);
