-- Admission of a group of intents (group commit: every admission one gateway instance makes in one event-loop
-- turn, in the order they were asked for), each one atomic step as if alone: idempotency first (a replay, a
-- duplicate or a retry of an intent whose outcome is unknown never counts as a new intent and is answered even
-- while draining), then the upgrade and drain flags, then registration as inflight. Nothing here changes the
-- flags, so they are read once, when the first admission gets that far.
-- An idempotency value is `<state><fingerprint><rest>`: state `p` in progress (rest: this admission's marker),
-- `u` outcome unknown, `r` answered (rest: the stored response); the fingerprint is the first 24 bytes of the
-- SHA-256 of the client's canonical intent in base64url (32 characters), or 32 `-` where it is not known (then
-- any intent matches). Values of the first layout (`in_progress:...`, or a response's JSON) are still read.
-- KEYS: 1 inflight  2 inflight:owner  3 drain  4 drain:started  5 upgrade  6 inflight:phase  7 inflight:since
--       8 inflight:count  9 replays, then idem:<scope>, ok:<owner> and oc:<owner> of each admission in turn
-- ARGV: 1 the key layout this instance writes, then 9 per admission: scope, its handle (keys.ts, inflightHandle),
--       record, owning upstream, idempotency TTL (s), now (ms), marker, fingerprint, the most keys the owner may
--       hold (0: no cap)
-- The record's field is the handle from layout 4, the scope before; a record of either form is found (two
-- releases write both). The owner's set holds the handle's first 12 characters from layout 3 (a short hash of
-- the scope, kept for the whole retention), the scope itself in layout 2. From layout 5 an owner's keys are
-- counted per time bucket instead (oc:<owner>, see ownerCounts in keys.ts); a store that writes layout 4 keeps
-- both, and every store caps by the larger of the two counts, so adjacent releases count each other's keys.
-- Returns one reply per admission: { 'admitted' } | { 'in_progress' } | { 'mismatch' } | { 'replay', response } |
--   { 'unknown', record, owner, phase } | { 'upgrading' | 'draining', upgrade, drain, drain:started } |
--   { 'owner_limit', when the owner's oldest key expires (ms) }
-- From layout 9 an answered record may be kept in a shard instead of its key (replay_shards.lua): a key not
-- found is looked for there, whichever layout this instance writes.
-- ownerOf (a record's owner, either form) is record_header.lua's, and readReplay replay_shards.lua's, put before
-- this text by scripts.ts.
local NOFP = string.rep('-', 32)
local SHARED = 9
local PER = 9
local LAYOUT = tonumber(ARGV[1])
local flags = nil

-- The field a record of this scope is kept under, whichever release wrote it, and the record; nil when none.
local function findRecord (scope, handle)
  local found = redis.call('HMGET', KEYS[1], handle, scope)
  if found[1] then return handle, found[1] end
  if found[2] then return scope, found[2] end
  return nil, nil
end

-- How many keys the owner holds by both forms, and when the oldest of the larger count expires (ms; read only
-- for a refusal, which needs it). Spent buckets are dropped on the way.
local function ownerHeld (ownerKey, countKey, now, cap)
  local counted, oldest, spent = 0, nil, {}
  local buckets = redis.call('HGETALL', countKey)
  for j = 1, #buckets, 2 do
    local ends = tonumber(buckets[j]) * 1000
    if ends > now then
      counted = counted + tonumber(buckets[j + 1])
      if oldest == nil or ends < oldest then oldest = ends end
    else
      spent[#spent + 1] = buckets[j]
    end
  end
  if #spent > 0 then redis.call('HDEL', countKey, unpack(spent)) end
  local members = redis.call('ZCOUNT', ownerKey, '(' .. now, '+inf')
  if members > counted then
    if members < cap then return members, nil end
    return members, tonumber(redis.call('ZRANGEBYSCORE', ownerKey, '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)[2])
  end
  return counted, oldest
end

-- Counts a new key in the bucket that ends at or after its expiry: a key is counted until at most one bucket
-- (a 24th of the TTL) after it expires, never less than it is held. The key's expiry moves only when a bucket
-- is opened (once a bucket per owner), and only later (instances configured with another TTL may share it).
local function countOwnerKey (countKey, ttl, now)
  local width = math.max(1, math.ceil(ttl / 24))
  local ends = math.ceil((math.floor(now / 1000) + ttl) / width) * width
  if redis.call('HINCRBY', countKey, ends, 1) == 1 and redis.call('PEXPIRETIME', countKey) < ends * 1000 then
    redis.call('PEXPIREAT', countKey, ends * 1000)
  end
end

local function admitOne (idemKey, ownerKey, countKey, scope, handle, record, upstream, ttl, now, marker, fp, maxKeys)
  -- The common case is a new key: the in-progress value is set at once (one command for the read and the write),
  -- and taken back on every path below that admits nothing.
  local idem = redis.call('SET', idemKey, 'p' .. fp .. marker, 'NX', 'GET', 'EX', ttl)
  local function refuse (reply)
    redis.call('DEL', idemKey)
    return reply
  end
  if idem then
    local state = string.sub(idem, 1, 1)
    if state == 'i' then return { 'in_progress' } end
    if state == '{' then return { 'replay', idem } end
    local known = string.sub(idem, 2, 33)
    if known ~= fp and known ~= NOFP and fp ~= NOFP then return { 'mismatch' } end
    if state == 'r' then return { 'replay', string.sub(idem, 34) } end
    if state == 'u' then
      local field, stored = findRecord(scope, handle)
      if stored then
        return { 'unknown', stored, ownerOf(KEYS[2], field, stored) or '', redis.call('HGET', KEYS[6], field) or '' }
      end
    end
    return { 'in_progress' }
  end
  local replay = readReplay(KEYS[9], idemKey, tonumber(now))
  if replay then
    local known = replay[1]
    if known ~= NOFP_SHORT and fp ~= NOFP and known ~= string.sub(fp, 1, FP_CHARS) then return refuse({ 'mismatch' }) end
    return refuse({ 'replay', replay[2] })
  end
  -- An inflight record whose idempotency record expired is still the same signed order: never admit it twice.
  local field, stored = findRecord(scope, handle)
  if stored then
    local phase = redis.call('HGET', KEYS[6], field) or ''
    if string.sub(phase, 1, 7) == 'unknown' then
      return refuse({ 'unknown', stored, ownerOf(KEYS[2], field, stored) or '', phase })
    end
    return refuse({ 'in_progress' })
  end

  if flags == nil then
    local read = redis.call('MGET', KEYS[5], KEYS[3])
    flags = { upgrade = read[1], drain = read[2], started = false }
    if flags.drain then
      -- The first refusal (or the first poll) to see the switch records when it was set: Retry-After counts from it.
      redis.call('SET', KEYS[4], now, 'NX')
      flags.started = redis.call('GET', KEYS[4])
    end
  end
  -- Refusals carry { reason, upgrade, drain, drain:started }; an unset key is a nil (false) entry.
  if flags.upgrade then return refuse({ 'upgrading', flags.upgrade, flags.drain, flags.started }) end
  if flags.drain then return refuse({ 'draining', false, flags.drain, flags.started }) end

  -- One owner, many keys: each kept for the TTL. Past the cap a new key is refused; keys the owner holds (the
  -- idempotency check above) are still answered.
  local cap = tonumber(maxKeys)
  if cap > 0 then
    local nowMs, ttlSecs = tonumber(now), tonumber(ttl)
    local held, oldest = ownerHeld(ownerKey, countKey, nowMs, cap)
    if held >= cap then return refuse({ 'owner_limit', oldest }) end
    countOwnerKey(countKey, ttlSecs, nowMs)
    if LAYOUT < 5 then
      local expires = nowMs + ttlSecs * 1000
      local member = scope
      if LAYOUT >= 3 then member = string.sub(handle, 1, 12) end
      redis.call('ZREMRANGEBYSCORE', ownerKey, '-inf', now)
      redis.call('ZADD', ownerKey, expires, member)
      redis.call('PEXPIREAT', ownerKey, expires)
    end
  end

  local key = scope
  if LAYOUT >= 4 then key = handle end
  redis.call('HSET', KEYS[1], key, record)
  if LAYOUT < 6 then redis.call('HSET', KEYS[2], key, upstream) end
  redis.call('ZADD', KEYS[7], now, key)
  redis.call('HINCRBY', KEYS[8], upstream, 1)
  return { 'admitted' }
end

local replies = {}
for i = 1, (#KEYS - SHARED) / 3 do
  local a = 1 + (i - 1) * PER
  local k = SHARED + (i - 1) * 3
  replies[i] = admitOne(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4],
    ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9])
end
return replies
