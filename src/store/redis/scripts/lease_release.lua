-- Gives a lease up, only for the holder with the same token.
-- KEYS: 1 lease:<name>
-- ARGV: 1 '<token> <holder>'
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
