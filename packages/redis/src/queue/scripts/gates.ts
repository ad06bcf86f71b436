import { LuaScript } from '../../lua.js';
import { PRELUDE } from './prelude.js';

/*
 * Lane pauses and the line's flag, shared by every process of the queue: one hash `gates` with
 * `paused` (the paused lanes, comma separated, in lane order), `flaggedUntil`, `flaggedAt` and
 * `flaggedHigh` ('1' when the flag holds high too), and `pace:<lane>` (the lane's next send waits
 * until then: its pacing gap). A flag or a gap whose time passed counts as none.
 */

/** The gates hash as it is. Returns its fields (flat). */
export const GATES_READ = new LuaScript(`${PRELUDE}
return rcall('HGETALL', B .. 'gates')`);

/**
 * One change, atomic: ARGV[5..]: op ('pause' | 'resume' | 'flag'), lanes (comma separated; for
 * resume one lane or '' for all), flaggedAt, flaggedUntil, flaggedHigh ('1'|'0').
 * A flag is raised only when none is up (the first process to see it raises it).
 * 'pace': lanes is one lane, ARGV[8] its gap's end: taken only when no gap of it runs now.
 * 'unpace': gives that gap back (ARGV[8] its end) if it is still the one running.
 * Returns { changed (1|0), fields }.
 */
export const GATES_CHANGE = new LuaScript(`${PRELUDE}
local key = B .. 'gates'
local op, lanes = ARGV[5], ARGV[6]
local now = tonumber(NOW)
local paused = {}
for lane in string.gmatch(rcall('HGET', key, 'paused') or '', '[^,]+') do paused[lane] = true end
local flaggedUntil = tonumber(rcall('HGET', key, 'flaggedUntil') or '0') or 0
local changed = 0
if op == 'pause' then
  for lane in string.gmatch(lanes, '[^,]+') do
    if not paused[lane] then paused[lane] = true; changed = 1 end
  end
elseif op == 'resume' then
  if lanes ~= '' then
    if paused[lanes] then paused[lanes] = nil; changed = 1 end
  else
    if next(paused) ~= nil or flaggedUntil > now then changed = 1 end
    paused = {}
    rcall('HDEL', key, 'flaggedUntil', 'flaggedAt', 'flaggedHigh')
  end
elseif op == 'flag' then
  if flaggedUntil <= now then
    rcall('HSET', key, 'flaggedAt', ARGV[7], 'flaggedUntil', ARGV[8], 'flaggedHigh', ARGV[9])
    changed = 1
  end
elseif op == 'pace' then
  local field = 'pace:' .. lanes
  if (tonumber(rcall('HGET', key, field) or '0') or 0) <= now then
    rcall('HSET', key, field, ARGV[8])
    changed = 1
  end
elseif op == 'unpace' then
  local field = 'pace:' .. lanes
  if rcall('HGET', key, field) == ARGV[8] then
    rcall('HDEL', key, field)
    changed = 1
  end
end
local list = {}
for _, lane in ipairs({ 'high', 'normal', 'low' }) do
  if paused[lane] then table.insert(list, lane) end
end
if #list > 0 then rcall('HSET', key, 'paused', table.concat(list, ',')) else rcall('HDEL', key, 'paused') end
return { changed, rcall('HGETALL', key) }`);
