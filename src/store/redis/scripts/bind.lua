-- A 2xx arrived: keep the response for replays and bind the inflight record to the intent id.
-- KEYS: 1 idem:<scope>  2 inflight  3 inflight:owner  4 inflight:phase  5 inflight:bound  6 inflight:ids
--       7 inflight:since  8 inflight:count
-- ARGV: 1 scope  2 intent id  3 response JSON  4 idempotency TTL (s)  5 phase  6 record or ''
--       7 owning upstream or ''  8 fingerprint  9 admitted at (ms) or ''
-- The record is only sent again when a first call found it missing (lost in a failover before it replicated,
-- or with a Redis that forgot): the intent exists upstream, so it is registered again.
-- Returns 1 bound, 0 no such record (and none given), 2 the id was already tracked under another key (counted
-- once: this record is removed, the other one stays).
-- A bound record without a phase is `accepted` (records.ts): the common bind writes no phase, one command and
-- one hash field per inflight intent fewer. A phase left by an outcome that was unknown is removed.
local NOFP = string.rep('-', 32)
local key = ARGV[1]
local fp = ARGV[8]
local current = redis.call('GET', KEYS[1])
local state = current and string.sub(current, 1, 1)
if current and string.len(current) >= 33 and string.find('pur', state, 1, true) then
  local known = string.sub(current, 2, 33)
  if known ~= NOFP then fp = known end
end
redis.call('SET', KEYS[1], 'r' .. fp .. ARGV[3], 'EX', ARGV[4])
if redis.call('HEXISTS', KEYS[2], key) == 0 then
  if ARGV[6] == '' then return 0 end
  redis.call('HSET', KEYS[2], key, ARGV[6])
  redis.call('HSET', KEYS[3], key, ARGV[7])
  redis.call('ZADD', KEYS[7], ARGV[9], key)
  redis.call('HINCRBY', KEYS[8], ARGV[7], 1)
end
local other = redis.call('HGET', KEYS[6], ARGV[2])
if other and other ~= key and redis.call('HEXISTS', KEYS[2], other) == 1 then
  local owner = redis.call('HGET', KEYS[3], key)
  redis.call('HDEL', KEYS[2], key)
  redis.call('HDEL', KEYS[3], key)
  redis.call('HDEL', KEYS[4], key)
  redis.call('HDEL', KEYS[5], key)
  redis.call('ZREM', KEYS[7], key)
  if owner then redis.call('HINCRBY', KEYS[8], owner, -1) end
  return 2
end
-- Bound once in the common case: HSETNX answers that in one command; a rebind moves the id.
if redis.call('HSETNX', KEYS[5], key, ARGV[2]) == 0 then
  local previous = redis.call('HGET', KEYS[5], key)
  if previous ~= ARGV[2] then
    redis.call('HDEL', KEYS[6], previous)
    redis.call('HSET', KEYS[5], key, ARGV[2])
  end
end
if other ~= key then redis.call('HSET', KEYS[6], ARGV[2], key) end
-- Only a fresh admission (`p`) is known to carry no phase yet.
if ARGV[5] ~= 'accepted' then
  redis.call('HSET', KEYS[4], key, ARGV[5])
elseif state ~= 'p' then
  redis.call('HDEL', KEYS[4], key)
end
return 1
