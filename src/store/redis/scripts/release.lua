-- The submission created no intent: remove its inflight record. With a response the key keeps it for replays;
-- without one the key is forgotten so a retry goes through.
-- With an expected marker (ARGV[4]) it only acts while the key still holds that marker: the clean-up of an
-- admission whose answer was lost with the connection must never undo another instance's admission.
-- KEYS: 1 idem:<key>  2 inflight  3 inflight:owner  4 inflight:phase  5 inflight:bound  6 inflight:ids
-- ARGV: 1 admission key  2 response JSON or ''  3 idempotency TTL (s)  4 expected marker or ''
-- Returns 1 when a record was removed, 0 when there was none, -1 when the marker did not match.
local key = ARGV[1]
if ARGV[4] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[4] then return -1 end
local id = redis.call('HGET', KEYS[5], key)
if id and redis.call('HGET', KEYS[6], id) == key then redis.call('HDEL', KEYS[6], id) end
local removed = redis.call('HDEL', KEYS[2], key)
redis.call('HDEL', KEYS[3], key)
redis.call('HDEL', KEYS[4], key)
redis.call('HDEL', KEYS[5], key)
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return removed
