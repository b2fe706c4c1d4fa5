-- Replaces one inflight record in place (stored-intent migration, deadline extension); 0 when it is gone.
-- KEYS: 1 inflight  2 inflight:owner  3 inflight:phase  4 inflight:bound  5 inflight:ids  6 inflight:count
-- ARGV: 1 admission key  2 record  3 upstream  4 phase  5 intent id or ''  6 handle
-- The record is found under its scope (layouts 2 and 3) or its handle (layout 4), whichever release wrote it.
-- recordHeader, headerBoundId and headerOwner are record_header.lua's, put before this text by scripts.ts.
local key = ARGV[1]
if redis.call('HEXISTS', KEYS[1], key) == 0 then key = ARGV[6] end
if redis.call('HEXISTS', KEYS[1], key) == 0 then return 0 end
-- The owner entry is kept in the form the record has: rewritten where a release up to layout 5 wrote one, not
-- made where a layout-6 writer kept the owner in the header alone (the new record's header names the new one).
local meta = recordHeader(redis.call('HGET', KEYS[1], key))
local entry = redis.call('HGET', KEYS[2], key)
local owner = entry or headerOwner(meta)
if owner ~= ARGV[3] then
  if owner then redis.call('HINCRBY', KEYS[6], owner, -1) end
  redis.call('HINCRBY', KEYS[6], ARGV[3], 1)
end
redis.call('HSET', KEYS[1], key, ARGV[2])
if entry then redis.call('HSET', KEYS[2], key, ARGV[3]) end
if ARGV[4] == 'submitting' then redis.call('HDEL', KEYS[3], key) else redis.call('HSET', KEYS[3], key, ARGV[4]) end
-- The new record's header is the admission's nine entries (records.ts): a bound id and phase are kept in entries,
-- whichever layout this instance writes, and one a layout-7 bind put in the header is read from it.
local previous = redis.call('HGET', KEYS[4], key) or headerBoundId(meta)
if previous and previous ~= ARGV[5] and redis.call('HGET', KEYS[5], previous) == key then
  redis.call('HDEL', KEYS[5], previous)
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[4], key, ARGV[5])
  redis.call('HSET', KEYS[5], ARGV[5], key)
else
  redis.call('HDEL', KEYS[4], key)
end
return 1
