-- How an intent ended, for a status read after its record is gone: the newest bucket holding its id (in either
-- form: readRoute is route_shards.lua's, put before this text by scripts.ts), then the first layouts' key per id.
-- KEYS: the buckets, newest first, then ended:id:<id>
-- ARGV: 1 intent id
-- Returns the stored route, or false.
local n = #KEYS
for i = 1, n - 1 do
  local route = readRoute(KEYS[i], ARGV[1])
  if route then return route end
end
return redis.call('GET', KEYS[n])
