-- Binds of a group of answered intents (group commit, in the order asked for), each as if alone: a 2xx
-- arrived, so keep the response for replays and bind the inflight record to the intent id.
-- KEYS: 1 inflight  2 inflight:owner  3 inflight:phase  4 inflight:bound  5 inflight:ids  6 inflight:since
--       7 inflight:count  8 replays, then idem:<scope> and a:<template ref> (or a:-) of each bind in turn
-- ARGV: 1 the key layout this instance writes, 2 now (ms), 3 Redis' hash-max-listpack-value, then 12 per bind:
--       scope, its handle, intent id, response, idempotency TTL (s), phase, record or '', owning upstream or '',
--       fingerprint, admitted at (ms) or '', the answer's template ref or '', the template's text to write or ''
-- The record is found under its handle (layout 4) or its scope (layouts 2 and 3), whichever release wrote it.
-- The record is only sent again when a first call found it missing (lost in a failover before it replicated,
-- or with a Redis that forgot): the intent exists upstream, so it is registered again.
-- Returns one integer per bind: 1 bound, 0 no such record (and none given), 2 the id was already tracked under
-- another key (counted once: this record is removed, the other one stays).
-- A bound record without a phase is `accepted` (records.ts): the common bind writes no phase, one command and
-- one hash field per inflight intent fewer. A phase left by an outcome that was unknown is removed.
-- Layout 3 keeps a bound record's header line only: the owner answered 2xx, so nothing resends the forwarded
-- bytes (a replay is answered from the idempotency record), and they were half of an inflight intent's memory.
-- Layout 7 writes the id and the answer's phase into that header line (the record is rewritten here anyway)
-- instead of `inflight:bound` and `inflight:phase` entries, and removes any entry the record had; below 7 the
-- entries are written as before. Every reader takes an entry where one exists and the header's where none does.
-- Layout 9 keeps the answer in a shard (replay_shards.lua) and removes the key; a record found in a shard stays
-- there whichever layout this instance writes (a key beside it would be read first).
-- recordHeader, headerBoundId and ownerOf are record_header.lua's, readReplay and keepReplay replay_shards.lua's,
-- put before this text by scripts.ts.
local NOFP = string.rep('-', 32)
local SHARED = 8
local PER = 12
local LAYOUT = tonumber(ARGV[1])
local NOW = tonumber(ARGV[2])
LISTPACK_VALUE = tonumber(ARGV[3])
local REPLAY_SHARDS_LAYOUT = 9

-- Takes an id bound before (a rebind: rare) out of inflight:ids when it is not this one.
local function unbindPrevious (previous, id)
  if previous and previous ~= id then redis.call('HDEL', KEYS[5], previous) end
end

-- A compact header's nine admission entries, re-encoded without a bound tail (they are strings and integers
-- below 10^14, which cjson writes back exactly).
local function admissionHeader (meta)
  local admitted = {}
  for i = 1, 9 do admitted[i] = meta[i] end
  return cjson.encode(admitted)
end

-- Up to layout 6: the id in inflight:bound, a phase other than `accepted` in inflight:phase.
local function bindEntries (key, stored, newline, id, phase, state)
  -- Bound once in the common case: HSETNX answers that in one command; a rebind moves the id.
  if redis.call('HSETNX', KEYS[4], key, id) == 0 then
    local previous = redis.call('HGET', KEYS[4], key)
    if previous ~= id then
      unbindPrevious(previous, id)
      redis.call('HSET', KEYS[4], key, id)
    end
  end
  -- Only a fresh admission (`p`) is known to carry no phase yet.
  if phase ~= 'accepted' then
    redis.call('HSET', KEYS[3], key, phase)
  elseif state ~= 'p' then
    redis.call('HDEL', KEYS[3], key)
  end
  -- A record a layout-7 writer bound has its id and phase in the header (never beside entries): they go, the
  -- entries above say it now. A fresh admission's header has the nine admission entries only.
  local meta = state ~= 'p' and newline and string.sub(stored, 1, 1) == '[' and recordHeader(stored)
  if meta and #meta > 9 then
    unbindPrevious(headerBoundId(meta), id)
    redis.call('HSET', KEYS[1], key, admissionHeader(meta) .. '\n')
  elseif LAYOUT >= 3 and newline and newline < string.len(stored) then
    redis.call('HSET', KEYS[1], key, string.sub(stored, 1, newline))
  end
end

-- Layout 7: `[<the nine admission entries>, id]`, or `[..., id, phase]` for a phase other than `accepted`, and
-- the forwarded bytes dropped. A fresh admission's header (`p`: never bound) has the nine entries only, so the
-- id is appended to its text; any other is decoded, and re-encoded with the new tail.
local function writeBoundHeader (key, stored, newline, id, phase, state)
  local header = string.sub(stored, 1, newline - 1)
  local tail = cjson.encode(id)
  if phase ~= 'accepted' then tail = tail .. ',' .. cjson.encode(phase) end
  if state == 'p' then
    header = string.sub(header, 1, -2) .. ',' .. tail .. ']'
  else
    local meta = cjson.decode(header)
    unbindPrevious(redis.call('HGET', KEYS[4], key) or headerBoundId(meta), id)
    header = string.sub(admissionHeader(meta), 1, -2) .. ',' .. tail .. ']'
    redis.call('HDEL', KEYS[3], key)
    redis.call('HDEL', KEYS[4], key)
  end
  redis.call('HSET', KEYS[1], key, header .. '\n')
end

-- Layout 8 (answer-templates.ts): the answer as `#<ref><id>` while its template outlives the record, written
-- first when its text is given; otherwise whole. A template's expiry is the TTL and a twelfth more (the gateway
-- writes it again after a 24th), so the TTL check here fails only when no instance wrote it lately.
local function answerOf (response, id, ttl, ref, text, templateKey)
  if LAYOUT < 8 or ref == '' then return response end
  ttl = tonumber(ttl)
  if text ~= '' then
    redis.call('SET', templateKey, text, 'EX', ttl + math.ceil(ttl / 12))
  elseif redis.call('TTL', templateKey) < ttl then
    return response
  end
  return '#' .. ref .. id
end

-- The fingerprint a key's value keeps, or `fp` where it keeps none.
local function knownFingerprint (current, fp)
  if current and string.len(current) >= 33 and string.find('pur', string.sub(current, 1, 1), 1, true) and string.sub(current, 2, 33) ~= NOFP then
    return string.sub(current, 2, 33)
  end
  return fp
end

-- Keeps the answer for replays (a fingerprint already known, the one this instance admitted with, is kept; the
-- binder's only replaces a known one it did not have: NOFP) and returns the state the key had, or 'r' for a
-- record found in a shard, or nil.
local function keepAnswer (idemKey, response, ttl, fp)
  local current
  if LAYOUT >= REPLAY_SHARDS_LAYOUT then
    current = redis.call('GETDEL', idemKey)
  elseif fp ~= NOFP then
    -- With the binder's own fingerprint the read and the write are one command.
    current = redis.call('SET', idemKey, 'r' .. fp .. response, 'EX', ttl, 'GET')
  else
    current = redis.call('GET', idemKey)
  end
  if not current then
    local replay = readReplay(KEYS[8], idemKey, NOW)
    if replay then
      if LAYOUT < REPLAY_SHARDS_LAYOUT then redis.call('DEL', idemKey) end
      local known = fp
      if replay[1] ~= NOFP_SHORT then known = replay[1] end
      keepReplay(KEYS[8], idemKey, NOW, ttl, known, response, true)
      return 'r'
    end
  end
  local known = knownFingerprint(current, fp)
  if LAYOUT >= REPLAY_SHARDS_LAYOUT then
    if not keepReplay(KEYS[8], idemKey, NOW, ttl, known, response) then
      redis.call('SET', idemKey, 'r' .. known .. response, 'EX', ttl)
    end
  elseif fp == NOFP or known ~= fp then
    redis.call('SET', idemKey, 'r' .. known .. response, 'EX', ttl)
  end
  return current and string.sub(current, 1, 1)
end

local function bindOne (idemKey, scope, handle, id, response, ttl, phase, record, upstream, fp, admittedAt)
  local state = keepAnswer(idemKey, response, ttl, fp)
  -- Either form: this release's, or the other release's beside it.
  local key, alt = scope, handle
  if LAYOUT >= 4 then key, alt = handle, scope end
  local both = redis.call('HMGET', KEYS[1], key, alt)
  local stored = both[1]
  if not stored and both[2] then key, stored = alt, both[2] end
  if not stored then
    if record == '' then return 0 end
    stored = record
    redis.call('HSET', KEYS[1], key, record)
    if LAYOUT < 6 then redis.call('HSET', KEYS[2], key, upstream) end
    redis.call('ZADD', KEYS[6], admittedAt, key)
    redis.call('HINCRBY', KEYS[7], upstream, 1)
  end
  -- The id is new in the common case: HSETNX tracks it in one command; only when it was tracked already is the
  -- key it names read (no longer inflight: taken over below).
  local other = key
  if redis.call('HSETNX', KEYS[5], id, key) == 0 then other = redis.call('HGET', KEYS[5], id) end
  if other ~= key and redis.call('HEXISTS', KEYS[1], other) == 1 then
    local owner = ownerOf(KEYS[2], key, stored)
    redis.call('HDEL', KEYS[1], key)
    redis.call('HDEL', KEYS[2], key)
    redis.call('HDEL', KEYS[3], key)
    redis.call('HDEL', KEYS[4], key)
    redis.call('ZREM', KEYS[6], key)
    if owner then redis.call('HINCRBY', KEYS[7], owner, -1) end
    return 2
  end
  local newline = string.find(stored, '\n', 1, true)
  if LAYOUT >= 7 and newline and string.sub(stored, 1, 1) == '[' then
    writeBoundHeader(key, stored, newline, id, phase, state)
  else
    bindEntries(key, stored, newline, id, phase, state)
  end
  if other ~= key then redis.call('HSET', KEYS[5], id, key) end
  return 1
end

local replies = {}
for i = 1, (#KEYS - SHARED) / 2 do
  local a = 3 + (i - 1) * PER
  local k = SHARED + 2 * i - 1
  local answer = answerOf(ARGV[a + 4], ARGV[a + 3], ARGV[a + 5], ARGV[a + 11], ARGV[a + 12], KEYS[k + 1])
  replies[i] = bindOne(KEYS[k], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], answer, ARGV[a + 5], ARGV[a + 6],
    ARGV[a + 7], ARGV[a + 8], ARGV[a + 9], ARGV[a + 10])
end
return replies
