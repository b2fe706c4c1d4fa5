-- Drops expired answered records from the shards (key layout 9, replay_shards.lua), and merges shards back while
-- there are fewer than MERGE_BELOW records a shard. Every instance calls it now and then; the work is shared, not
-- repeated: each call sweeps the shards due since the last sweep, at a pace that passes every shard once a
-- period (a 24th of the idempotency TTL: a record outlives its expiry by about that much at most), and at most
-- ARGV[3] shards in one call (a script holds Redis while it runs).
-- KEYS: 1 replays
-- ARGV: 1 now (ms)  2 the period (ms)  3 the most shards to sweep in this call
-- Returns { records dropped, shards swept, shards now }.
-- linear_shards.lua's and replay_shards.lua's functions are put before this text by scripts.ts.
local MERGE_BELOW = 10
local MAX_MERGES = 8
local metaKey = KEYS[1]
local now, period, most = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local meta = redis.call('HMGET', metaKey, 'n', 'cursor', 'swept')
local n = tonumber(meta[1] or '0')
if n == 0 then return { 0, 0, 0 } end
local swept = tonumber(meta[3] or '')
if swept == nil or swept > now then
  redis.call('HSET', metaKey, 'swept', now)
  return { 0, 0, n }
end
local due = math.floor(n * (now - swept) / period)
if due < 1 then return { 0, 0, n } end
local take = math.min(due, most, n)
local cursor = tonumber(meta[2] or '0') % n
local expiredBefore = now36(now)
local dropped = 0
for j = 0, take - 1 do
  local shard = shardKey(metaKey, (cursor + j) % n)
  local entries = redis.call('HGETALL', shard)
  local expired = {}
  for i = 1, #entries, 2 do
    if string.sub(entries[i + 1], 1, TIME_CHARS) <= expiredBefore then expired[#expired + 1] = entries[i] end
  end
  if #expired > 0 then dropped = dropped + redis.call('HDEL', shard, unpack(expired)) end
end
local count = tonumber(redis.call('HINCRBY', metaKey, 'count', -dropped))
-- Caught up: the next call counts from now. Behind (more were due than one call may sweep): from where it got.
if take == due or take == n then swept = now else swept = swept + math.floor(take * period / n) end
-- A merge is a split undone: the last shard goes back into the one it was split from.
local merges = 0
while n > 1 and count < n * MERGE_BELOW and merges < MAX_MERGES do
  local last = n - 1
  moveFields(metaKey, last, last - levelOf(last), nil)
  n = last
  merges = merges + 1
end
if merges > 0 then redis.call('HSET', metaKey, 'n', n) end
redis.call('HSET', metaKey, 'cursor', (cursor + take) % n, 'swept', swept)
return { dropped, take, n }
