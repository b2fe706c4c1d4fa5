-- Admission, one atomic step: idempotency first (a replay, a duplicate or a retry of an intent whose outcome is
-- unknown never counts as a new intent and is answered even while draining), then the upgrade and drain flags,
-- then registration as inflight.
-- An idempotency value is `<state><fingerprint><rest>`: state `p` in progress (rest: this admission's marker),
-- `u` outcome unknown, `r` answered (rest: the stored response); the fingerprint is the first 24 bytes of the
-- SHA-256 of the client's canonical intent in base64url (32 characters), or 32 `-` where it is not known (then
-- any intent matches). Values of the first layout (`in_progress:...`, or a response's JSON) are still read.
-- KEYS: 1 idem:<scope>  2 inflight  3 inflight:owner  4 drain  5 drain:started  6 upgrade  7 inflight:phase
--       8 inflight:since  9 inflight:count
-- ARGV: 1 scope  2 record  3 owning upstream  4 idempotency TTL (s)  5 now (ms)  6 marker  7 fingerprint
-- Returns { 'admitted' } | { 'in_progress' } | { 'mismatch' } | { 'replay', response } |
--   { 'unknown', record, owner, phase } | { 'upgrading' | 'draining', upgrade, drain, drain:started }
local NOFP = string.rep('-', 32)
local scope = ARGV[1]
local idem = redis.call('GET', KEYS[1])
if idem then
  local state = string.sub(idem, 1, 1)
  if state == 'i' then return { 'in_progress' } end
  if state == '{' then return { 'replay', idem } end
  local fp = string.sub(idem, 2, 33)
  if fp ~= ARGV[7] and fp ~= NOFP and ARGV[7] ~= NOFP then return { 'mismatch' } end
  if state == 'r' then return { 'replay', string.sub(idem, 34) } end
  if state == 'u' then
    local record = redis.call('HGET', KEYS[2], scope)
    if record then
      return { 'unknown', record, redis.call('HGET', KEYS[3], scope) or '', redis.call('HGET', KEYS[7], scope) or '' }
    end
  end
  return { 'in_progress' }
end
-- An inflight record whose idempotency record expired is still the same signed order: never admit it twice.
local record = redis.call('HGET', KEYS[2], scope)
if record then
  local phase = redis.call('HGET', KEYS[7], scope) or ''
  if string.sub(phase, 1, 7) == 'unknown' then
    return { 'unknown', record, redis.call('HGET', KEYS[3], scope) or '', phase }
  end
  return { 'in_progress' }
end

local flags = redis.call('MGET', KEYS[6], KEYS[4])
local upgrade, drain = flags[1], flags[2]
if drain then
  -- The first refusal (or the first poll) to see the switch records when it was set: Retry-After counts from it.
  redis.call('SET', KEYS[5], ARGV[5], 'NX')
end
-- Refusals carry { reason, upgrade, drain, drain:started }; an unset key is a nil (false) entry.
if upgrade then
  return { 'upgrading', upgrade, drain, redis.call('GET', KEYS[5]) }
end
if drain then
  return { 'draining', false, drain, redis.call('GET', KEYS[5]) }
end

redis.call('HSET', KEYS[2], scope, ARGV[2])
redis.call('HSET', KEYS[3], scope, ARGV[3])
redis.call('ZADD', KEYS[8], ARGV[5], scope)
redis.call('HINCRBY', KEYS[9], ARGV[3], 1)
redis.call('SET', KEYS[1], 'p' .. ARGV[7] .. ARGV[6], 'EX', ARGV[4])
return { 'admitted' }
