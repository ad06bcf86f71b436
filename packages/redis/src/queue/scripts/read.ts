import { LuaScript } from '../../lua.js';
import { PRELUDE } from './prelude.js';

/**
 * The counts behind stats(), in one consistent read: the pending ones from the status sets (kept
 * exact by the scripts), the finished ones from the totals. A schedule that came due but was not
 * yet moved by a sweep (or not even handed to BullMQ, when no process swept for a while) counts as
 * queued.
 * Returns { scheduled, queued, sending, dueNow, sent, failed, cancelled, expired }.
 */
export const STATS = new LuaScript(`${PRELUDE}
local dueNow = rcall('ZCOUNT', B .. 'due', '-inf', NOW) + rcall('ZCOUNT', B .. 'later', '-inf', NOW)
local totals = rcall('HMGET', B .. 'stats', 'sent', 'failed', 'cancelled', 'expired')
return { rcall('ZCARD', skey('scheduled')), rcall('ZCARD', skey('queued')), rcall('ZCARD', skey('sending')), dueNow,
  totals[1] or '0', totals[2] or '0', totals[3] or '0', totals[4] or '0' }`);

/**
 * Recent jobs, newest first: of one status, or of all (merged by updatedAt). Ids whose record is
 * gone are skipped. ARGV[5..]: status or '', limit. Returns a list of field lists.
 */
export const LIST = new LuaScript(`${PRELUDE}
local limit = tonumber(ARGV[6])
local statuses = { 'scheduled', 'queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled', 'expired' }
if ARGV[5] ~= '' then statuses = { ARGV[5] } end
local entries = {}
for _, status in ipairs(statuses) do
  local found = rcall('ZREVRANGE', skey(status), 0, limit - 1, 'WITHSCORES')
  for i = 1, #found, 2 do table.insert(entries, { found[i], tonumber(found[i + 1]) }) end
end
table.sort(entries, function(a, b) return a[2] > b[2] end)
local out = {}
for _, entry in ipairs(entries) do
  if #out >= limit then break end
  local fields = view(entry[1], rkey(entry[1]))
  if #fields > 0 and rcall('HGET', rkey(entry[1]), 'X') ~= '1' then table.insert(out, fields) end
end
return out`);

/** The job the first set key points at. ARGV[5]: keys (JSON array). Returns its fields, or {}. */
export const FIND = new LuaScript(`${PRELUDE}
for _, key in ipairs(cjson.decode(ARGV[5])) do
  local hit = rcall('GET', B .. 'key:' .. key)
  if hit then
    local fields = view(hit, rkey(hit))
    if #fields > 0 then return fields end
  end
end
return {}`);

/**
 * One record, its body joined (in Lua: the pieces are cut at byte 64, maybe inside a character, so
 * they are joined as bytes before anything decodes them). ARGV[5]: id. Returns its fields, or {}.
 */
export const GET = new LuaScript(`${PRELUDE}
if rcall('HGET', rkey(ARGV[5]), 'X') == '1' then return {} end
return view(ARGV[5], rkey(ARGV[5]))`);
