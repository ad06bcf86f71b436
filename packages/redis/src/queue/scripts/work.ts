import { LuaScript } from '../../lua.js';
import { PRELUDE } from './prelude.js';

/**
 * The job BullMQ would hand out next, left where it is: its kind ('text' | 'file') and lane, so a
 * worker can take the limit slot it needs first (slot first); nothing when no job waits.
 * ARGV[5]: BullMQ's key base. Returns { kind, priority } or {}.
 */
export const PEEK = new LuaScript(`${PRELUDE}
local bullBase = ARGV[5]
local bullId = rcall('LINDEX', bullBase .. 'wait', -1)
if not bullId or string.sub(bullId, 1, 2) == '0:' then bullId = rcall('ZRANGE', bullBase .. 'prioritized', 0, 0)[1] end
if not bullId then return {} end
local id = bullId
local ok, data = pcall(cjson.decode, rcall('HGET', bullBase .. bullId, 'data') or '')
if ok and type(data) == 'table' and type(data.id) == 'string' then id = data.id end
local f = rcall('HMGET', rkey(id), 'k', 'p')
local kind = 'text'
if f[1] == '1' then kind = 'file' end
return { kind, f[2] or 'normal' }`);

/**
 * A worker picked a BullMQ job up. Decides, from the record, whether it may be worked:
 * - 'gone': no record (it expired long ago); 'stale': the BullMQ job of an earlier round (the job
 *   was requeued since, under a new BullMQ id); 'final': already finished (cancelled, expired, or
 *   its process died after recording the outcome). Nothing to do for any of these.
 * - 'ended': its last process died with the request in flight (AMBIGUOUS, unless retrying those
 *   was opted in), or more than maxStalledCount of its processes died holding its limit slot
 *   (STALLED). A process that died while the job only waited (for a slot, or the line) is not
 *   counted: that job was never about to be sent.
 * - 'early': not due yet (a schedule or a backoff); answers when it is.
 * - 'work': owned by this pickup's token; a due schedule joins its lane ('queued'). Answers the
 *   record's fields and the message. A pickup that holds a limit slot of the job's kind (its
 *   claim) arms the record: until its outcome is stored, its death counts as a stall.
 * ARGV[5..]: id, bullId, token, claimKind ('text' | 'file' | '' without one), maxStalledCount,
 * retryAmbiguous ('1'|'0'), ambiguousMessage, stalledMessage, freeKeysIfAmbiguous,
 * freeKeysIfStalled, earlyToleranceMs.
 */
export const PICKUP = new LuaScript(`${PRELUDE}
local id = ARGV[5]
local rec = rkey(id)
if rcall('EXISTS', rec) == 0 then return { 'gone' } end
if (rcall('HGET', rec, 'b') or id) ~= ARGV[6] then return { 'stale' } end
-- Its phone was forgotten while a worker held it, and that worker died: erased now, never sent.
if rcall('HGET', rec, 'F') == '1' then
  erase(id, rec)
  return { 'gone' }
end
rcall('ZREM', B .. 'adding', id)
local status = rcall('HGET', rec, 's')
if not PENDING[status] then return { 'final' } end
if rcall('HGET', rec, 'f') == '1' then
  if ARGV[10] ~= '1' then
    finalize(id, rec, 'failed', 'AMBIGUOUS', ARGV[11], '', '', ARGV[13])
    return { 'ended', view(id, rec) }
  end
  rcall('HDEL', rec, 'f')
end
-- Armed and no outcome stored since: the pickup that held its slot never finished.
if rcall('HGET', rec, 'am') == '1' then
  rcall('HDEL', rec, 'am')
  if rcall('HINCRBY', rec, 'sl', 1) > tonumber(ARGV[9]) then
    finalize(id, rec, 'failed', 'STALLED', ARGV[12], '', '', ARGV[14])
    return { 'ended', view(id, rec) }
  end
end
local latest = tonumber(NOW) + tonumber(ARGV[15])
if status == 'scheduled' then
  local at = tonumber(rcall('HGET', rec, 't') or '0')
  if at > latest then return { 'early', tostring(at) } end
  setStatus(id, rec, 'scheduled', 'queued')
  rcall('ZREM', B .. 'due', id)
elseif status == 'queued' then
  local at = tonumber(rcall('HGET', rec, 'ra') or '0')
  if at > latest then return { 'early', tostring(at) } end
else
  -- 'sending' without a request in flight: its last worker stopped between attempts.
  setStatus(id, rec, 'sending', 'queued')
  takeReplaceKey(id, rec)
end
rcall('HDEL', rec, 'ra')
rcall('HSET', rec, 'o', ARGV[7])
local kind = 'text'
if rcall('HGET', rec, 'k') == '1' then kind = 'file' end
if ARGV[8] ~= '' and ARGV[8] == kind then rcall('HSET', rec, 'am', '1') end
return { 'work', view(id, rec), getBody(rec) }`);

/**
 * Just before a request is written: 'sending', in flight, one more attempt, and the replace key
 * released (a job being sent can no longer be replaced). Refused unless this pickup still owns
 * the job, so a worker whose job was cancelled, or taken over by another, never sends it.
 * ARGV[5..]: id, token. Returns { 1 } or { 0, status }.
 */
export const MARK_ATTEMPT = new LuaScript(`${PRELUDE}
local id = ARGV[5]
local rec = rkey(id)
local status = rcall('HGET', rec, 's')
if rcall('HGET', rec, 'o') ~= ARGV[6] or not CAN_ATTEMPT[status] or rcall('HGET', rec, 'F') == '1' then
  return { 0, status or '' }
end
if status == 'queued' then
  setStatus(id, rec, 'queued', 'sending')
  dropReplaceKey(id, rec)
end
rcall('HSET', rec, 'f', '1')
rcall('HINCRBY', rec, 'a', 1)
return { 1 }`);

/** The attempt certainly did not deliver: no longer in flight. ARGV[5..]: id, token. */
export const MARK_NOT_ACCEPTED = new LuaScript(`${PRELUDE}
local rec = rkey(ARGV[5])
if rcall('HGET', rec, 'o') ~= ARGV[6] then return 0 end
rcall('HDEL', rec, 'f')
return 1`);

/**
 * Stores what became of a pickup, if this pickup still owns the job:
 * - 'sent' | 'failed' | 'expired' | 'skipped' (with its reason): final;
 * - 'retry': 'queued' with the error kept, due again at `at`;
 * - 'deferred': 'scheduled' with sendAt = `at`;
 * - 'released': 'queued', never attempted.
 * A job that waits again takes its replace key back if no newer job has it.
 * ARGV[5..]: id, token, outcome, code, message, httpStatus, messageId, freeKeys, at, reason (a
 * deferred job's heldBy).
 * Returns { done (1|0), fields }.
 */
export const OUTCOME = new LuaScript(`${PRELUDE}
local id, outcome = ARGV[5], ARGV[7]
local rec = rkey(id)
local status = rcall('HGET', rec, 's')
if rcall('HGET', rec, 'o') ~= ARGV[6] or not PENDING[status] then
  return { 0, view(id, rec) }
end
-- Its phone was forgotten while this worker held it: erased now, and nobody is told.
if rcall('HGET', rec, 'F') == '1' then
  erase(id, rec)
  return { 0, {} }
end
if outcome == 'sent' or outcome == 'failed' or outcome == 'expired' or outcome == 'skipped' then
  if outcome == 'skipped' then rcall('HSET', rec, 'rs', ARGV[14]) end
  finalize(id, rec, outcome, ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12])
  return { 1, view(id, rec) }
end
rcall('HDEL', rec, 'f', 'o', 'ra', 'am')
if outcome == 'deferred' then
  setStatus(id, rec, status, 'scheduled')
  rcall('HSET', rec, 't', ARGV[13])
  if ARGV[14] ~= '' then rcall('HSET', rec, 'hb', ARGV[14]) else rcall('HDEL', rec, 'hb') end
  rcall('ZADD', B .. 'due', ARGV[13], id)
else
  if status ~= 'queued' then setStatus(id, rec, status, 'queued') end
  if outcome == 'retry' then
    setError(rec, ARGV[8], ARGV[9], ARGV[10])
    rcall('HSET', rec, 'ra', ARGV[13])
  end
end
takeReplaceKey(id, rec)
return { 1, view(id, rec) }`);
