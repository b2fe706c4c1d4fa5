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
--       8 inflight:count, then idem:<scope> and ok:<owner> of each admission in turn
-- ARGV, 9 per admission: scope, record, owning upstream, idempotency TTL (s), now (ms), marker, fingerprint,
--       the most keys the owner may hold (0: no cap), the scope's member in the owner's set (layout 3: a short
--       hash of the scope, kept for the whole retention; layout 2: the scope itself)
-- Returns one reply per admission: { 'admitted' } | { 'in_progress' } | { 'mismatch' } | { 'replay', response } |
--   { 'unknown', record, owner, phase } | { 'upgrading' | 'draining', upgrade, drain, drain:started } |
--   { 'owner_limit', when the owner's oldest key expires (ms) }
local NOFP = string.rep('-', 32)
local SHARED = 8
local PER = 9
local flags = nil

local function admitOne (idemKey, ownerKey, scope, record, upstream, ttl, now, marker, fp, maxKeys, member)
  local idem = redis.call('GET', idemKey)
  if idem then
    local state = string.sub(idem, 1, 1)
    if state == 'i' then return { 'in_progress' } end
    if state == '{' then return { 'replay', idem } end
    local known = string.sub(idem, 2, 33)
    if known ~= fp and known ~= NOFP and fp ~= NOFP then return { 'mismatch' } end
    if state == 'r' then return { 'replay', string.sub(idem, 34) } end
    if state == 'u' then
      local stored = redis.call('HGET', KEYS[1], scope)
      if stored then
        return { 'unknown', stored, redis.call('HGET', KEYS[2], scope) or '', redis.call('HGET', KEYS[6], scope) or '' }
      end
    end
    return { 'in_progress' }
  end
  -- An inflight record whose idempotency record expired is still the same signed order: never admit it twice.
  local stored = redis.call('HGET', KEYS[1], scope)
  if stored then
    local phase = redis.call('HGET', KEYS[6], scope) or ''
    if string.sub(phase, 1, 7) == 'unknown' then
      return { 'unknown', stored, redis.call('HGET', KEYS[2], scope) or '', phase }
    end
    return { 'in_progress' }
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
  if flags.upgrade then return { 'upgrading', flags.upgrade, flags.drain, flags.started } end
  if flags.drain then return { 'draining', false, flags.drain, flags.started } end

  -- One owner, many keys: each kept for the TTL. Past the cap a new key is refused; keys the owner holds (the
  -- idempotency check above) are still answered. Expired members are dropped first.
  local cap = tonumber(maxKeys)
  if cap > 0 then
    redis.call('ZREMRANGEBYSCORE', ownerKey, '-inf', now)
    if redis.call('ZCARD', ownerKey) >= cap then
      return { 'owner_limit', redis.call('ZRANGE', ownerKey, 0, 0, 'WITHSCORES')[2] }
    end
    local expires = tonumber(now) + tonumber(ttl) * 1000
    redis.call('ZADD', ownerKey, expires, member)
    redis.call('PEXPIREAT', ownerKey, expires)
  end

  redis.call('HSET', KEYS[1], scope, record)
  redis.call('HSET', KEYS[2], scope, upstream)
  redis.call('ZADD', KEYS[7], now, scope)
  redis.call('HINCRBY', KEYS[8], upstream, 1)
  redis.call('SET', idemKey, 'p' .. fp .. marker, 'EX', ttl)
  return { 'admitted' }
end

local replies = {}
for i = 1, (#KEYS - SHARED) / 2 do
  local a = (i - 1) * PER
  local k = SHARED + (i - 1) * 2
  replies[i] = admitOne(KEYS[k + 1], KEYS[k + 2], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9])
end
return replies
