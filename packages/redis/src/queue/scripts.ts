import { LuaScript } from '../lua.js';

/*
 * The job record is one Redis hash per job (`…:~rec:<id>`), the truth `get(id)` answers from any
 * process. BullMQ only schedules: it hands a job to one worker and brings it back when that
 * worker dies. Every state change of a record is one of these scripts, so each is atomic and
 * none can undo another process's change.
 *
 * Fields: id, ruleId, status, attempts, messageId, errCode, errMessage, errStatus, createdAt,
 * updatedAt, inflight ('1' while a request may be on the wire), owner (the BullMQ lock token of
 * the pickup working it), keysUntil (when its idempotency keys expire).
 */

// Ends a record: shared by every script that finishes a job. A finished record lives
// `finishedTtlMs`, and always a little longer than its idempotency keys, so a key never points at
// a record that is gone (a late duplicate gets the first job's outcome, not a second send).
const FINALIZE = `
local function finalize(rec, stats, status, now, code, message, httpStatus, messageId, finishedTtl, grace)
  redis.call('HSET', rec, 'status', status, 'updatedAt', now, 'inflight', '0')
  redis.call('HDEL', rec, 'owner')
  if code ~= '' then
    redis.call('HSET', rec, 'errCode', code, 'errMessage', message)
    if httpStatus ~= '' then redis.call('HSET', rec, 'errStatus', httpStatus) end
  end
  if messageId ~= '' then redis.call('HSET', rec, 'messageId', messageId) end
  if status ~= 'skipped' then redis.call('HINCRBY', stats, status, 1) end
  local ttl = tonumber(finishedTtl)
  local keysUntil = tonumber(redis.call('HGET', rec, 'keysUntil') or '0')
  if keysUntil - tonumber(now) + tonumber(grace) > ttl then ttl = keysUntil - tonumber(now) + tonumber(grace) end
  redis.call('PEXPIRE', rec, ttl)
end
local function isFinal(status)
  return status == 'sent' or status == 'failed' or status == 'skipped'
end
`;

/**
 * add(): the first of the job's keys that is set returns its job; otherwise the keys are set to
 * the new id and the record is created, in one step, so two processes adding one key get one job.
 * KEYS: rec(new id), stats, key… ARGV: id, now, keyTtlMs, status, ruleId, pendingTtlMs,
 * finishedTtlMs, graceMs, recPrefix. Returns { created (0|1), id, record fields… }.
 */
export const CLAIM = new LuaScript(`${FINALIZE}
for i = 3, #KEYS do
  local hit = redis.call('GET', KEYS[i])
  if hit then
    return { 0, hit, redis.call('HGETALL', ARGV[9] .. hit) }
  end
end
local rec, now = KEYS[1], ARGV[2]
redis.call('HSET', rec, 'id', ARGV[1], 'status', 'queued', 'attempts', 0, 'createdAt', now, 'updatedAt', now,
  'inflight', '0')
if ARGV[5] ~= '' then redis.call('HSET', rec, 'ruleId', ARGV[5]) end
if #KEYS > 2 then
  redis.call('HSET', rec, 'keysUntil', tonumber(now) + tonumber(ARGV[3]))
  for i = 3, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[3]) end
end
if ARGV[4] == 'skipped' then
  finalize(rec, KEYS[2], 'skipped', now, '', '', '', '', ARGV[7], ARGV[8])
else
  -- A queued record outlives its keys too; it only expires on its own if never worked for that long.
  local ttl = tonumber(ARGV[6])
  if #KEYS > 2 and tonumber(ARGV[3]) + tonumber(ARGV[8]) > ttl then ttl = tonumber(ARGV[3]) + tonumber(ARGV[8]) end
  redis.call('PEXPIRE', rec, ttl)
end
return { 1, ARGV[1], redis.call('HGETALL', rec) }`);

/**
 * A worker picked the job up. Decides, from the record, whether it may be worked:
 * - already finished (e.g. its process died after recording the outcome): 'final', nothing to do;
 * - marked in flight (its process died mid-request): 'ambiguous', ended AMBIGUOUS unless retrying
 *   those was opted in;
 * - stalled (its worker died) more than maxStalledCount times: 'stalled', ended STALLED;
 * - otherwise 'work', owned by this pickup's token.
 * KEYS: rec, stats. ARGV: id, token, now, stalledCount, maxStalledCount, retryAmbiguous ('1'|'0'),
 * ruleId, createdAt, finishedTtlMs, graceMs, ambiguousMessage, stalledMessage.
 */
export const PICKUP = new LuaScript(`${FINALIZE}
local rec, now = KEYS[1], ARGV[3]
if redis.call('EXISTS', rec) == 0 then
  -- Expired while waiting (or removed by hand): the job is still owed, so start a new record.
  redis.call('HSET', rec, 'id', ARGV[1], 'status', 'queued', 'attempts', 0, 'createdAt', ARGV[8],
    'updatedAt', now, 'inflight', '0')
  if ARGV[7] ~= '' then redis.call('HSET', rec, 'ruleId', ARGV[7]) end
end
local status = redis.call('HGET', rec, 'status')
if isFinal(status) then return { 'final', redis.call('HGETALL', rec) } end
if redis.call('HGET', rec, 'inflight') == '1' then
  if ARGV[6] ~= '1' then
    finalize(rec, KEYS[2], 'failed', now, 'AMBIGUOUS', ARGV[11], '', '', ARGV[9], ARGV[10])
    return { 'ambiguous', redis.call('HGETALL', rec) }
  end
  redis.call('HSET', rec, 'inflight', '0')
end
if tonumber(ARGV[4]) > tonumber(ARGV[5]) then
  finalize(rec, KEYS[2], 'failed', now, 'STALLED', ARGV[12], '', '', ARGV[9], ARGV[10])
  return { 'stalled', redis.call('HGETALL', rec) }
end
redis.call('HSET', rec, 'owner', ARGV[2], 'updatedAt', now)
return { 'work', redis.call('HGETALL', rec) }`);

/**
 * Just before a request is written: in flight, one more attempt. Refused (0) unless this pickup
 * still owns the job, so a worker that lost its job to another never sends it too.
 * KEYS: rec. ARGV: token, now.
 */
export const MARK_ATTEMPT = new LuaScript(`
local rec = KEYS[1]
if redis.call('HGET', rec, 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', rec, 'status', 'sending', 'inflight', '1', 'updatedAt', ARGV[2])
redis.call('HINCRBY', rec, 'attempts', 1)
return 1`);

/** The attempt certainly did not deliver: no longer in flight. KEYS: rec. ARGV: token, now. */
export const MARK_NOT_ACCEPTED = new LuaScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'inflight', '0', 'updatedAt', ARGV[2])
return 1`);

/**
 * Records the outcome, if this pickup still owns the job. Returns { done (1|0), record fields… }.
 * KEYS: rec, stats. ARGV: token, now, status, code, message, httpStatus, messageId, finishedTtlMs, graceMs.
 */
export const FINISH = new LuaScript(`${FINALIZE}
local rec = KEYS[1]
if redis.call('HGET', rec, 'owner') ~= ARGV[1] or isFinal(redis.call('HGET', rec, 'status')) then
  return { 0, redis.call('HGETALL', rec) }
end
finalize(rec, KEYS[2], ARGV[3], ARGV[2], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
return { 1, redis.call('HGETALL', rec) }`);

/**
 * Gives a job that was not sent back to the queue (closing, or Redis failed before the attempt):
 * queued again and owned by nobody. Refused while a request may be in flight.
 * KEYS: rec. ARGV: token, now.
 */
export const PUT_BACK = new LuaScript(`${FINALIZE}
local rec = KEYS[1]
if redis.call('HGET', rec, 'owner') ~= ARGV[1] or redis.call('HGET', rec, 'inflight') == '1' then return 0 end
if isFinal(redis.call('HGET', rec, 'status')) then return 0 end
redis.call('HSET', rec, 'status', 'queued', 'updatedAt', ARGV[2])
redis.call('HDEL', rec, 'owner')
return 1`);

/**
 * BullMQ gave up on a job (its processor kept failing on Redis errors): end the record unless it
 * has ended already, AMBIGUOUS if a request may have left.
 * KEYS: rec, stats. ARGV: now, code, message, ambiguousMessage, finishedTtlMs, graceMs.
 */
export const GIVE_UP = new LuaScript(`${FINALIZE}
local rec = KEYS[1]
if redis.call('EXISTS', rec) == 0 or isFinal(redis.call('HGET', rec, 'status')) then return 0 end
if redis.call('HGET', rec, 'inflight') == '1' then
  finalize(rec, KEYS[2], 'failed', ARGV[1], 'AMBIGUOUS', ARGV[4], '', '', ARGV[5], ARGV[6])
else
  finalize(rec, KEYS[2], 'failed', ARGV[1], ARGV[2], ARGV[3], '', '', ARGV[5], ARGV[6])
end
return 1`);
