-- Shared by the scripts that keep or read ended routes (scripts.ts puts it before their text). From key layout 9
-- a bucket's routes are fields of its shards (`<bucket>:<index>`, linear_shards.lua, put before this text), their
-- number and count in `<bucket>:n`, every key expiring with the bucket; up to layout 8 they are fields of the
-- bucket itself, one hashtable (about 120 bytes a route where a listpack's field costs about 60).

-- 28 bits of an intent id's SHA-1 (ids are the service's: any text).
local function routeBits (id)
  return tonumber(string.sub(redis.sha1hex(id), 1, 7), 16)
end

-- Keeps an ended intent's route in its bucket's shards; the bucket's keys expire `ttl` seconds after its first.
-- An id or route longer than a listpack's entry (LISTPACK_VALUE) goes into the bucket's own hash, the old form,
-- so that it never turns a shard into a hashtable.
local function keepRoute (bucket, id, route, ttl)
  if string.len(id) > LISTPACK_VALUE or string.len(route) > LISTPACK_VALUE then
    if redis.call('HSET', bucket, id, route) == 1 and redis.call('HLEN', bucket) == 1 then redis.call('EXPIRE', bucket, ttl) end
    return
  end
  local meta = bucket .. ':n'
  local n = tonumber(redis.call('HGET', meta, 'n') or '0')
  if n == 0 then
    redis.call('HSET', meta, 'n', 1)
    redis.call('EXPIRE', meta, ttl)
    n = 1
  end
  local shard = shardKey(bucket, shardOf(routeBits(id), n))
  if redis.call('HSET', shard, id, route) == 1 then
    if redis.call('HLEN', shard) == 1 then redis.call('PEXPIREAT', shard, redis.call('PEXPIRETIME', meta)) end
    countAdded(meta, bucket, n, routeBits)
  end
end

-- The route kept for an id in a bucket, in either form; false when there is none.
local function readRoute (bucket, id)
  local route = redis.call('HGET', bucket, id)
  if route then return route end
  local n = tonumber(redis.call('HGET', bucket .. ':n', 'n') or '0')
  if n == 0 then return false end
  return redis.call('HGET', shardKey(bucket, shardOf(routeBits(id), n)), id)
end
