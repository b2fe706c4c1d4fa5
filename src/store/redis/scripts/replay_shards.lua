-- Shared by the scripts that keep or read answered idempotency records in shards (key layout 9; scripts.ts puts
-- it before their text; docs/store.md, "Records in shards").
-- From layout 9 a bind keeps the answer a replay gets as a field of a small hash instead of a key of its own
-- (with its expiry, a key costs about 130 bytes before its value; a field of a hash under 128 fields, Redis'
-- listpack encoding, about 20). The field is the idempotency key's 22-character hash; the value is
-- `<expiry><fingerprint><answer>`: the expiry in seconds since 2025, 6 base-36 digits (as exact as a key's
-- expiry, to the second), the first 20 characters of the fingerprint (120 bits;
-- 20 `-` where it is not known), then the answer as the key form keeps it (`#<ref><id>` or the whole answer).
-- The shards are `<replays>:<index>`, their number and the records' count in `<replays>` (linear_shards.lua, put
-- before this text). Expired records are dropped when read and by replay_sweep.lua.
local FP_CHARS = 20
local NOFP_SHORT = string.rep('-', FP_CHARS)
local B36 = '0123456789abcdefghijklmnopqrstuvwxyz'
-- 2025-01-01T00:00:00Z: a record's expiry is kept in seconds from then.
local EPOCH_S = 1735689600
local TIME_CHARS = 6

-- Seconds since EPOCH_S, as TIME_CHARS base-36 digits (fixed width: the texts compare as the numbers do; they
-- last until 2094).
local function time36 (seconds)
  local left, text = seconds - EPOCH_S, ''
  for _ = 1, TIME_CHARS do
    local digit = left % 36
    text = string.sub(B36, digit + 1, digit + 1) .. text
    left = math.floor(left / 36)
  end
  return text
end

local function now36 (nowMs)
  return time36(math.floor(nowMs / 1000))
end

-- A base64url character's value.
local function b64 (byte)
  if byte >= 97 then return byte - 71 end -- a-z: 26..51
  if byte >= 65 then
    if byte == 95 then return 63 end -- _
    return byte - 65 -- A-Z
  end
  if byte >= 48 then return byte + 4 end -- 0-9: 52..61
  return 62 -- -
end

-- 30 bits of a record's hash (its first 5 characters).
local function hashBits (field)
  local bits = 0
  for i = 1, 5 do bits = bits * 64 + b64(string.byte(field, i)) end
  return bits
end

-- The field of an idempotency key (`...i:<22 characters>`).
local function replayField (idemKey)
  return string.sub(idemKey, -22)
end

-- The shard count, read once per script run; 0 while no record was ever kept in a shard.
local shardCount = nil
local function shards (metaKey)
  if shardCount == nil then shardCount = tonumber(redis.call('HGET', metaKey, 'n') or '0') end
  return shardCount
end

-- The shard key a field is kept in now, or nil when there are no shards.
local function replayShard (metaKey, field)
  local n = shards(metaKey)
  if n == 0 then return nil end
  return shardKey(metaKey, shardOf(hashBits(field), n))
end

-- { short fingerprint, answer } of the idempotency key's answered record in a shard, or nil. An expired one is
-- removed on the way (as Redis does with a key).
local function readReplay (metaKey, idemKey, nowMs)
  local field = replayField(idemKey)
  local shard = replayShard(metaKey, field)
  if not shard then return nil end
  local value = redis.call('HGET', shard, field)
  if not value then return nil end
  if string.sub(value, 1, TIME_CHARS) <= now36(nowMs) then
    redis.call('HDEL', shard, field)
    redis.call('HINCRBY', metaKey, 'count', -1)
    return nil
  end
  return { string.sub(value, TIME_CHARS + 1, TIME_CHARS + FP_CHARS), string.sub(value, TIME_CHARS + FP_CHARS + 1) }
end

-- Keeps (or replaces) the answered record of an idempotency key, expiring `ttl` seconds from now. A value longer
-- than a listpack's entry (LISTPACK_VALUE) would turn its whole shard into a hashtable, whose fields cost about
-- 65 bytes more each: such an answer is not kept (false; the caller keeps it in the key) unless `always`.
local function keepReplay (metaKey, idemKey, nowMs, ttl, fp, answer, always)
  local expiry = time36(math.ceil((nowMs + tonumber(ttl) * 1000) / 1000))
  local value = expiry .. string.sub(fp, 1, FP_CHARS) .. answer
  if not always and string.len(value) > LISTPACK_VALUE then return false end
  local field = replayField(idemKey)
  local n = shards(metaKey)
  if n == 0 then
    redis.call('HSET', metaKey, 'n', 1)
    shardCount, n = 1, 1
  end
  if redis.call('HSET', shardKey(metaKey, shardOf(hashBits(field), n)), field, value) == 1 then
    shardCount = countAdded(metaKey, metaKey, n, hashBits)
  end
  return true
end

-- Forgets the idempotency key's answered record in a shard, if there is one.
local function forgetReplay (metaKey, idemKey)
  local field = replayField(idemKey)
  local shard = replayShard(metaKey, field)
  if shard and redis.call('HDEL', shard, field) == 1 then redis.call('HINCRBY', metaKey, 'count', -1) end
end
