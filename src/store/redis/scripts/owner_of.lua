-- Shared by the scripts that need a record's owner (scripts.ts puts it before their text).
-- The upstream that owns a record: its `inflight:owner` entry where a release up to layout 5 wrote one, else the
-- record's header (layout 6 keeps none): an array's second entry from layout 4, an object's `upstream` before.
local function ownerOf (ownerHash, key, record)
  local owner = redis.call('HGET', ownerHash, key)
  if owner or not record then return owner end
  local newline = string.find(record, '\n', 1, true)
  local meta = cjson.decode(newline and string.sub(record, 1, newline - 1) or record)
  if meta[1] then return meta[2] end
  return meta.upstream
end
