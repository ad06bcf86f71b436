import { LuaScript } from '../../lua.js';
import { PRELUDE } from './prelude.js';

/**
 * A phone's records, newest first, from its index `ph:<pk>` (pk: the phone's HMAC key, never its
 * digits). Ids whose records expired are dropped from the index on the way.
 * ARGV[5..]: pk, limit. Returns the records' fields (each with its body as '_').
 */
export const FIND_BY_PHONE = new LuaScript(`${PRELUDE}
local index, limit = B .. 'ph:' .. ARGV[5], tonumber(ARGV[6])
local out, offset = {}, 0
while #out < limit do
  local ids = rcall('ZREVRANGE', index, offset, offset + limit - 1)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local fields = view(id, rkey(id))
    if #fields == 0 then
      rcall('ZREM', index, id)
    elseif rcall('HGET', rkey(id), 'X') == '1' then
      offset = offset + 1 -- past retention, kept for its keys only: not shown
    else
      out[#out + 1] = fields
      offset = offset + 1
      if #out >= limit then break end
    end
  end
end
return out`);

/**
 * forget(), the records' part: every job of the phone is erased at once (its record, keys, replace
 * key, places in every set and in the index), except one a worker holds (being sent, or picked up
 * and about to be): that one is marked, and erased, unannounced, the moment its worker is done
 * (OUTCOME), or at its next pickup should that worker die (PICKUP).
 * ARGV[5..]: pk. Returns { { id, bullId }… erased, { id, bullId, status }… left to their workers }.
 */
export const FORGET = new LuaScript(`${PRELUDE}
local index = B .. 'ph:' .. ARGV[5]
local erased, held = {}, {}
for _, id in ipairs(rcall('ZRANGE', index, 0, -1)) do
  local rec = rkey(id)
  local f = rcall('HMGET', rec, 's', 'o', 'b')
  if not f[1] then
    rcall('ZREM', index, id)
  elseif PENDING[f[1]] and (f[1] == 'sending' or f[2]) then
    rcall('HSET', rec, 'F', '1')
    held[#held + 1] = { id, f[3] or id, f[1] }
  else
    erase(id, rec)
    erased[#erased + 1] = { id, f[3] or id }
  end
end
if #held == 0 then rcall('DEL', index) end
return { erased, held }`);

/**
 * Whether forget() is done with these jobs: how many still have a record, or a BullMQ job hash.
 * ARGV[5..]: bullBase, then id, bullId pairs.
 */
export const FORGOTTEN_LEFT = new LuaScript(`${PRELUDE}
local bullBase, left = ARGV[5], 0
for i = 6, #ARGV, 2 do
  if rcall('EXISTS', rkey(ARGV[i])) == 1 or rcall('EXISTS', bullBase .. ARGV[i + 1]) == 1 then left = left + 1 end
end
return left`);

/**
 * forget(), BullMQ's part once its jobs are gone: the entries of its event stream that name them
 * (added, waiting, active, completed, removed…). ARGV[5..]: the stream's key, then the job ids
 * (record ids and BullMQ ids). Returns how many entries were deleted.
 */
export const FORGET_EVENTS = new LuaScript(`${PRELUDE}
local stream = ARGV[5]
local names = {}
for i = 6, #ARGV do names[ARGV[i]] = true end
local deleted = 0
for _, entry in ipairs(rcall('XRANGE', stream, '-', '+')) do
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if names[fields[i + 1]] then
      deleted = deleted + rcall('XDEL', stream, entry[1])
      break
    end
  end
end
return deleted`);
