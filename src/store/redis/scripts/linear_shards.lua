-- Shared by the scripts that keep records in shards (key layout 9; scripts.ts puts it before their text): small
-- hashes `<base>:<index>`, each under Redis' listpack limits (128 fields: a field then costs about 20 bytes of
-- overhead where a hashtable's costs about 85, and a key of its own with an expiry about 130). Their number `n`
-- and the records' `count` are fields of a meta hash; they grow by linear hashing: one shard split at a time,
-- once there are more than SPLIT_AT records a shard, so a record is found from its hash and `n` alone, and no
-- shard is ever rewritten whole. Shard names are built here from a key the script was given, with the same hash
-- tag: they share the script's slot, which is what Redis Cluster asks of a script's keys.
local SPLIT_AT = 40
-- The longest field or value a small hash keeps in a listpack: Redis' hash-max-listpack-value, its default here;
-- bind.lua takes the server's (read at every connection: listpack-limit.ts).
local LISTPACK_VALUE = 64

-- The largest power of two not above n.
local function levelOf (n)
  local p = 1
  while p * 2 <= n do p = p * 2 end
  return p
end

-- The shard a record's hash bits live in among n (shards below n - p are split already).
local function shardOf (bits, n)
  local p = levelOf(n)
  local index = bits % (2 * p)
  if index >= n then index = bits % p end
  return index
end

local function shardKey (base, index)
  return base .. ':' .. index
end

-- Moves the fields of shard `from` that `belongs` says (all of them when it is nil) to shard `to`.
local function moveFields (base, from, to, belongs)
  local entries = redis.call('HGETALL', shardKey(base, from))
  local moved, gone = {}, {}
  for i = 1, #entries, 2 do
    if belongs == nil or belongs(entries[i]) then
      moved[#moved + 1] = entries[i]
      moved[#moved + 1] = entries[i + 1]
      gone[#gone + 1] = entries[i]
    end
  end
  if #moved == 0 then return end
  redis.call('HSET', shardKey(base, to), unpack(moved))
  redis.call('HDEL', shardKey(base, from), unpack(gone))
end

-- Counts a record just added to one of n shards, and splits one shard when they hold too many: shard n takes
-- from shard n - p the records whose bits say n at the next level. A new shard expires with the meta hash (if
-- that expires). Returns the shard count now.
local function countAdded (metaKey, base, n, bitsOf)
  if redis.call('HINCRBY', metaKey, 'count', 1) <= n * SPLIT_AT then return n end
  local p = levelOf(n)
  local wide = 2 * p
  moveFields(base, n - p, n, function (field) return bitsOf(field) % wide == n end)
  local expires = redis.call('PEXPIRETIME', metaKey)
  if expires > 0 then redis.call('PEXPIREAT', shardKey(base, n), expires) end
  redis.call('HSET', metaKey, 'n', n + 1)
  return n + 1
end
