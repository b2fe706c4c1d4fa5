-- Shared by the scripts that keep or read answered idempotency records in shards (key layout 9; scripts.ts puts
-- it before their text; docs/store.md, "Answered records in shards").
-- From layout 9 a bind keeps the answer a replay gets as a field of a small hash instead of a key of its own
-- (with its expiry, a key costs about 130 bytes before its value; a field of a hash under 128 fields, Redis'
-- listpack encoding, about 20). The field is the idempotency key's 22-character hash; the value is
-- `<expiry><fingerprint><answer>`: the expiry in whole minutes since 1970, 5 base-36 digits (it is rounded up:
-- a record is kept up to a minute longer than the TTL), the first 20 characters of the fingerprint (120 bits;
-- 20 `-` where it is not known), then the answer as the key form keeps it (`#<ref><id>` or the whole answer).
-- The shards are `<replays>:<index>`, their number in `<replays>` (field `n`) with the records' `count`, grown by
-- linear hashing: one shard split at a time once there are more than SPLIT_AT records a shard, so every record is
-- found by its hash and the shard count alone. The shard names are built here from the `replays` key, which
-- carries the namespace's hash tag: they share the script's slot (what Redis Cluster requires of a script's keys).
-- Expired records are dropped when read and by replay_sweep.lua.
local SPLIT_AT = 40
-- Redis' hash-max-listpack-value default: the longest field or value a small hash keeps in a listpack.
local LISTPACK_VALUE = 64
local FP_CHARS = 20
local NOFP_SHORT = string.rep('-', FP_CHARS)
local B36 = '0123456789abcdefghijklmnopqrstuvwxyz'

-- The minute `ms` falls in, as 5 base-36 digits (fixed width: the texts compare as the numbers do).
local function minute36 (minute)
  local text = ''
  for _ = 1, 5 do
    local digit = minute % 36
    text = string.sub(B36, digit + 1, digit + 1) .. text
    minute = math.floor(minute / 36)
  end
  return text
end

local function nowMinute36 (nowMs)
  return minute36(math.floor(nowMs / 60000))
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

-- The largest power of two not above n.
local function levelOf (n)
  local p = 1
  while p * 2 <= n do p = p * 2 end
  return p
end

-- The shard a hash lives in among n (linear hashing: shards below n - p are split already).
local function shardOf (bits, n)
  local p = levelOf(n)
  local index = bits % (2 * p)
  if index >= n then index = bits % p end
  return index
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

local function shardKey (metaKey, index)
  return metaKey .. ':' .. index
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
  if string.sub(value, 1, 5) <= nowMinute36(nowMs) then
    redis.call('HDEL', shard, field)
    redis.call('HINCRBY', metaKey, 'count', -1)
    return nil
  end
  return { string.sub(value, 6, 5 + FP_CHARS), string.sub(value, 6 + FP_CHARS) }
end

-- Moves the fields of shard `from` whose hash now belongs to shard `to` (a split) or all of them (a merge).
local function moveFields (metaKey, from, to, belongs)
  local entries = redis.call('HGETALL', shardKey(metaKey, from))
  local moved, gone = {}, {}
  for i = 1, #entries, 2 do
    if belongs == nil or belongs(entries[i]) then
      moved[#moved + 1] = entries[i]
      moved[#moved + 1] = entries[i + 1]
      gone[#gone + 1] = entries[i]
    end
  end
  if #moved == 0 then return end
  redis.call('HSET', shardKey(metaKey, to), unpack(moved))
  redis.call('HDEL', shardKey(metaKey, from), unpack(gone))
end

-- One split: shard n takes from shard n - p the records whose hash says n at the next level.
local function splitOne (metaKey, n)
  local p = levelOf(n)
  local wide = 2 * p
  moveFields(metaKey, n - p, n, function (field) return hashBits(field) % wide == n end)
  redis.call('HSET', metaKey, 'n', n + 1)
  shardCount = n + 1
end

-- Keeps (or replaces) the answered record of an idempotency key, expiring `ttl` seconds from now. A value longer
-- than a listpack's entry (LISTPACK_VALUE) would turn its whole shard into a hashtable, whose fields cost about
-- 65 bytes more each: such an answer is not kept (false; the caller keeps it in the key) unless `always`.
local function keepReplay (metaKey, idemKey, nowMs, ttl, fp, answer, always)
  local expiry = minute36(math.ceil((nowMs + tonumber(ttl) * 1000) / 60000))
  local value = expiry .. string.sub(fp, 1, FP_CHARS) .. answer
  if not always and string.len(value) > LISTPACK_VALUE then return false end
  local field = replayField(idemKey)
  local n = shards(metaKey)
  if n == 0 then
    redis.call('HSET', metaKey, 'n', 1)
    shardCount, n = 1, 1
  end
  if redis.call('HSET', shardKey(metaKey, shardOf(hashBits(field), n)), field, value) == 1 then
    if redis.call('HINCRBY', metaKey, 'count', 1) > n * SPLIT_AT then splitOne(metaKey, n) end
  end
  return true
end

-- Forgets the idempotency key's answered record in a shard, if there is one.
local function forgetReplay (metaKey, idemKey)
  local field = replayField(idemKey)
  local shard = replayShard(metaKey, field)
  if shard and redis.call('HDEL', shard, field) == 1 then redis.call('HINCRBY', metaKey, 'count', -1) end
end
