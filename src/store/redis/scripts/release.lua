-- The submission created no intent: remove its inflight record. With a response the key keeps it for replays;
-- without one the key is forgotten so a retry goes through.
-- With an expected marker (ARGV[4]) it only acts while the key is still that admission in progress: the
-- clean-up of an admission whose answer was lost with the connection must never undo another instance's
-- admission, nor a record whose outcome became unknown meanwhile.
-- KEYS: 1 idem:<scope>  2 inflight  3 inflight:owner  4 inflight:phase  5 inflight:bound  6 inflight:ids
--       7 inflight:since  8 inflight:count  9 replays
-- ARGV: 1 scope  2 response JSON or ''  3 idempotency TTL (s)  4 expected marker or ''  5 fingerprint  6 handle
-- The record is found under its scope (layouts 2 and 3) or its handle (layout 4), whichever release wrote it.
-- Returns 1 when a record was removed, 0 when there was none, -1 when the marker did not match.
-- An answered record a layout-9 bind kept in a shard is forgotten too (the key is what is kept or forgotten).
-- recordHeader, headerBoundId and headerOwner are record_header.lua's, forgetReplay replay_shards.lua's, put
-- before this text by scripts.ts.
local NOFP = string.rep('-', 32)
local key = ARGV[1]
local current = redis.call('GET', KEYS[1])
if ARGV[4] ~= '' then
  if not current then return -1 end
  local legacy = current == ARGV[4]
  local mine = string.sub(current, 1, 1) == 'p' and string.sub(current, 34) == ARGV[4]
  if not legacy and not mine then return -1 end
end
if redis.call('HEXISTS', KEYS[2], key) == 0 and redis.call('HEXISTS', KEYS[2], ARGV[6]) == 1 then key = ARGV[6] end
local fp = ARGV[5]
if current and string.len(current) >= 33 and string.find('pur', string.sub(current, 1, 1), 1, true) then
  local known = string.sub(current, 2, 33)
  if known ~= NOFP then fp = known end
end
local record = redis.call('HGET', KEYS[2], key)
local meta = record and recordHeader(record)
local id = redis.call('HGET', KEYS[5], key) or headerBoundId(meta)
if id and redis.call('HGET', KEYS[6], id) == key then redis.call('HDEL', KEYS[6], id) end
local owner = redis.call('HGET', KEYS[3], key) or (meta and headerOwner(meta))
local removed = redis.call('HDEL', KEYS[2], key)
redis.call('HDEL', KEYS[3], key)
redis.call('HDEL', KEYS[4], key)
redis.call('HDEL', KEYS[5], key)
redis.call('ZREM', KEYS[7], key)
if removed == 1 and owner then redis.call('HINCRBY', KEYS[8], owner, -1) end
forgetReplay(KEYS[9], KEYS[1])
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], 'r' .. fp .. ARGV[2], 'EX', ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return removed
