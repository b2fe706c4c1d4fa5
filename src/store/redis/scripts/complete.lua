-- A terminal status: end the intent's inflight record, log the ending (a capped list, newest first) and keep the
-- intent's owner and versions by id for the retention, so later status reads still find and translate it.
-- KEYS: 1 inflight  2 inflight:owner  3 inflight:phase  4 inflight:bound  5 inflight:ids  6 ended  7 ended:id:<id>
-- ARGV: 1 intent id  2 terminal status  3 via  4 now (ms)  5 ended-log cap  6 retention (s)
-- Returns 1 when it was inflight, 0 otherwise.
local id = ARGV[1]
local key = redis.call('HGET', KEYS[5], id)
if not key then return 0 end
redis.call('HDEL', KEYS[5], id)
if redis.call('HGET', KEYS[4], key) ~= id then return 0 end
local upstream = redis.call('HGET', KEYS[2], key) or ''
local json = redis.call('HGET', KEYS[1], key)
redis.call('HDEL', KEYS[1], key)
redis.call('HDEL', KEYS[2], key)
redis.call('HDEL', KEYS[3], key)
redis.call('HDEL', KEYS[4], key)
redis.call('LPUSH', KEYS[6], cjson.encode({
  id = id, key = key, upstream = upstream, status = ARGV[2], via = ARGV[3], ended_at_ms = tonumber(ARGV[4])
}))
redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[5]) - 1)
if json then
  -- Only the two version strings are read back: the record's numbers are never re-encoded.
  local record = cjson.decode(json)
  redis.call('SET', KEYS[7], cjson.encode({
    upstream = upstream, version = record.version, upstream_version = record.upstream_version, status = ARGV[2]
  }), 'EX', tonumber(ARGV[6]))
end
return 1
