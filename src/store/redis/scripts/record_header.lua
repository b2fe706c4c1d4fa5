-- Shared by the scripts that need a record's owner or bound id (scripts.ts puts it before their text).
-- A record's header line, decoded: an array from layout 4, an object before (a first-layout record is one JSON
-- document). Only the header is decoded, never the forwarded bytes after it.
local function recordHeader (record)
  local newline = string.find(record, '\n', 1, true)
  return cjson.decode(newline and string.sub(record, 1, newline - 1) or record)
end

-- The owner a decoded header names: an array's second entry, an object's `upstream`.
local function headerOwner (meta)
  if meta[1] then return meta[2] end
  return meta.upstream
end

-- The intent id a decoded header names (from layout 7 a bind writes it there, after the nine entries a record is
-- admitted with; the tenth), or nil: not bound, or bound in an `inflight:bound` entry (layouts up to 6).
local function headerBoundId (meta)
  if meta and meta[1] and type(meta[10]) == 'string' then return meta[10] end
  return nil
end

-- The upstream that owns a record: its `inflight:owner` entry where a release up to layout 5 wrote one, else the
-- record's header (layout 6 keeps none).
local function ownerOf (ownerHash, key, record)
  local owner = redis.call('HGET', ownerHash, key)
  if owner or not record then return owner end
  return headerOwner(recordHeader(record))
end
