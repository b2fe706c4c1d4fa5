-- The inflight record bound to an intent id, in one round trip (status reads route by it).
-- KEYS: 1 inflight  2 inflight:phase  3 inflight:ids
-- ARGV: 1 intent id
-- Returns { record JSON, phase } or an empty array.
local key = redis.call('HGET', KEYS[3], ARGV[1])
if not key then return {} end
local record = redis.call('HGET', KEYS[1], key)
if not record then return {} end
return { record, redis.call('HGET', KEYS[2], key) or '' }
