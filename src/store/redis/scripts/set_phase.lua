-- The last status seen for a bound, still inflight intent.
-- KEYS: 1 inflight  2 inflight:phase  3 inflight:ids
-- ARGV: 1 intent id  2 phase
local key = redis.call('HGET', KEYS[3], ARGV[1])
if not key or redis.call('HEXISTS', KEYS[1], key) == 0 then return 0 end
redis.call('HSET', KEYS[2], key, ARGV[2])
return 1
