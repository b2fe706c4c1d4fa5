-- Registers a record again after Redis lost its data (restarted empty, failed over to an empty replica, the
-- namespace flushed), from what the admitting instance kept. Nothing that exists is overwritten: a record some
-- instance registered meanwhile stays as it is.
-- KEYS: 1 idem:<scope>  2 inflight  3 inflight:owner  4 inflight:phase  5 inflight:bound  6 inflight:ids
--       7 inflight:since  8 inflight:count
-- ARGV: 1 scope  2 record  3 owner  4 admitted at (ms)  5 phase or ''  6 intent id or ''  7 idempotency value
--       8 idempotency TTL (s)  9 handle  10 the key layout this instance writes (4 and above: kept under the handle)
-- Returns 1 when registered, 0 when it was there already.
local key = ARGV[1]
if redis.call('HEXISTS', KEYS[2], key) == 1 or redis.call('HEXISTS', KEYS[2], ARGV[9]) == 1 then return 0 end
if tonumber(ARGV[10]) >= 4 then key = ARGV[9] end
redis.call('HSET', KEYS[2], key, ARGV[2])
if tonumber(ARGV[10]) < 6 then redis.call('HSET', KEYS[3], key, ARGV[3]) end
redis.call('ZADD', KEYS[7], ARGV[4], key)
redis.call('HINCRBY', KEYS[8], ARGV[3], 1)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[4], key, ARGV[5]) end
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[5], key, ARGV[6])
  redis.call('HSET', KEYS[6], ARGV[6], key)
end
redis.call('SET', KEYS[1], ARGV[7], 'EX', ARGV[8], 'NX')
return 1
