-- Admission, one atomic step: idempotency first (a replay or a duplicate never counts as a new intent and is
-- answered even while draining), then the upgrade and drain flags, then registration as inflight.
-- KEYS: 1 idem:<key>  2 inflight  3 inflight:owner  4 drain  5 drain:started  6 upgrade
-- ARGV: 1 admission key  2 record JSON  3 owning upstream  4 idempotency TTL (s)  5 now (ms)
--       6 in-progress marker (`in_progress:<admission nonce>`, so a lost answer can be cleaned up safely)
local idem = redis.call('GET', KEYS[1])
if idem then
  if string.sub(idem, 1, 11) == 'in_progress' then return { 'in_progress' } end
  return { 'replay', idem }
end
-- An inflight record whose idempotency record expired is still the same signed order: never admit it twice.
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return { 'in_progress' } end

local upgrade = redis.call('GET', KEYS[6])
local drain = redis.call('GET', KEYS[4])
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

redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('SET', KEYS[1], ARGV[6], 'EX', ARGV[4])
return { 'admitted' }
