-- A terminal status: end the intent's inflight record, log the ending (a capped list, newest first) and keep the
-- intent's owner and versions by id for the retention, so later status reads still find and translate it.
-- KEYS: 1 inflight  2 inflight:owner  3 inflight:phase  4 inflight:bound  5 inflight:ids  6 ended  7 ended:id:<id>
--       8 inflight:since  9 inflight:count
-- ARGV: 1 intent id  2 terminal status  3 via  4 now (ms)  5 ended-log cap  6 retention (s)
-- Returns 1 when it was inflight, 0 otherwise.
local id = ARGV[1]
local key = redis.call('HGET', KEYS[5], id)
if not key then return 0 end
redis.call('HDEL', KEYS[5], id)
if redis.call('HGET', KEYS[4], key) ~= id then return 0 end
local upstream = redis.call('HGET', KEYS[2], key) or ''
local record = redis.call('HGET', KEYS[1], key)
redis.call('HDEL', KEYS[1], key)
redis.call('HDEL', KEYS[2], key)
redis.call('HDEL', KEYS[3], key)
redis.call('HDEL', KEYS[4], key)
redis.call('ZREM', KEYS[8], key)
if upstream ~= '' then redis.call('HINCRBY', KEYS[9], upstream, -1) end
redis.call('LPUSH', KEYS[6], cjson.encode({
  id = id, key = key, upstream = upstream, status = ARGV[2], via = ARGV[3], ended_at_ms = tonumber(ARGV[4])
}))
redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[5]) - 1)
if record then
  -- Only the two version strings are read back, from the record's header line (before the forwarded bytes);
  -- a first-layout record is one JSON document.
  local newline = string.find(record, '\n', 1, true)
  local meta = cjson.decode(newline and string.sub(record, 1, newline - 1) or record)
  redis.call('SET', KEYS[7], upstream .. ' ' .. meta.version .. ' ' .. meta.upstream_version .. ' ' .. ARGV[2], 'EX', tonumber(ARGV[6]))
end
return 1
