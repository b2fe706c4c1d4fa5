-- A terminal status: end the intent's inflight record, log the ending (a capped list, newest first) and keep the
-- intent's owner and versions by id for the retention, so later status reads still find and translate it.
-- KEYS: 1 inflight  2 inflight:owner  3 inflight:phase  4 inflight:bound  5 inflight:ids  6 ended
--       7 ended:ids:<bucket of now>  8 inflight:since  9 inflight:count
-- ARGV: 1 intent id  2 terminal status  3 via  4 now (ms)  5 ended-log cap  6 how long the bucket lives (s)
--       7 the key layout this instance writes
-- Returns 1 when it was inflight, 0 otherwise.
-- Up to layout 8 the route is a field of the bucket; from layout 9 of one of the bucket's shards
-- (`<bucket>:<index>`, their number in `<bucket>:n`, linear_shards.lua), each small enough for a listpack.
-- recordHeader, headerBoundId and headerOwner are record_header.lua's, keepRoute route_shards.lua's, put before
-- this text by scripts.ts.
local ROUTE_SHARDS_LAYOUT = 9
local id = ARGV[1]
local key = redis.call('HGET', KEYS[5], id)
if not key then return 0 end
redis.call('HDEL', KEYS[5], id)
local record = redis.call('HGET', KEYS[1], key)
-- The header is decoded once: for the bound id and the owner (where no entry names them), the versions and the
-- scope below.
local meta = record and recordHeader(record)
if (redis.call('HGET', KEYS[4], key) or headerBoundId(meta)) ~= id then return 0 end
local upstream = redis.call('HGET', KEYS[2], key) or (meta and headerOwner(meta)) or ''
redis.call('HDEL', KEYS[1], key)
redis.call('HDEL', KEYS[2], key)
redis.call('HDEL', KEYS[3], key)
redis.call('HDEL', KEYS[4], key)
redis.call('ZREM', KEYS[8], key)
if upstream ~= '' then redis.call('HINCRBY', KEYS[9], upstream, -1) end
-- Only the two version strings and the scope are read back, from the record's header line (before the forwarded
-- bytes): an object up to layout 3 (a first-layout record is one JSON document), an array from layout 4, whose
-- field is the scope's handle and whose header holds the scope (records.ts).
local versions, scope = nil, key
if meta then
  if meta[1] then
    versions, scope = meta[3] .. ' ' .. meta[4], meta[1]
  else
    versions, scope = meta.version .. ' ' .. meta.upstream_version, meta.key or key
  end
end
-- The log entry, compact: `<ended at ms> <upstream> <status> <via> <id> <key>` (the key last: it may hold spaces).
redis.call('LPUSH', KEYS[6], ARGV[4] .. ' ' .. upstream .. ' ' .. ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. id .. ' ' .. scope)
redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[5]) - 1)
if record then
  local route = upstream .. ' ' .. versions .. ' ' .. ARGV[2] .. ' ' .. math.floor(tonumber(ARGV[4]) / 1000)
  if tonumber(ARGV[7]) >= ROUTE_SHARDS_LAYOUT then
    keepRoute(KEYS[7], id, route, tonumber(ARGV[6]))
  elseif redis.call('HSET', KEYS[7], id, route) == 1 and redis.call('HLEN', KEYS[7]) == 1 then
    redis.call('EXPIRE', KEYS[7], tonumber(ARGV[6]))
  end
end
return 1
