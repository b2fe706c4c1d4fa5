-- The upstream may have taken the intent but its answer never came: the record stays inflight, owned by that
-- upstream, with phase `unknown:<since ms>`, and its key says so, so a retry goes to the same owner.
-- Only an unbound record is marked (a bound one has its answer already).
-- KEYS: 1 idem:<scope>  2 inflight  3 inflight:phase  4 inflight:bound
-- ARGV: 1 scope  2 now (ms)  3 idempotency TTL (s)  4 fingerprint  5 handle
-- The record is found under its scope (layouts 2 and 3) or its handle (layout 4), whichever release wrote it.
-- Bound: an inflight:bound entry, or (layout 7) an id in the record's header; recordHeader and headerBoundId are
-- record_header.lua's, put before this text by scripts.ts.
-- Returns 1 when marked (or already unknown), 0 when the record is gone or bound.
local NOFP = string.rep('-', 32)
local key = ARGV[1]
if redis.call('HEXISTS', KEYS[2], key) == 0 then key = ARGV[5] end
local record = redis.call('HGET', KEYS[2], key)
if not record or redis.call('HEXISTS', KEYS[4], key) == 1 or headerBoundId(recordHeader(record)) then return 0 end
local phase = redis.call('HGET', KEYS[3], key) or ''
if string.sub(phase, 1, 7) ~= 'unknown' then redis.call('HSET', KEYS[3], key, 'unknown:' .. ARGV[2]) end
local current = redis.call('GET', KEYS[1])
local fp = ARGV[4]
if current and string.len(current) >= 33 and string.find('pu', string.sub(current, 1, 1), 1, true) then
  local known = string.sub(current, 2, 33)
  if known ~= NOFP then fp = known end
end
redis.call('SET', KEYS[1], 'u' .. fp, 'EX', ARGV[3])
return 1
