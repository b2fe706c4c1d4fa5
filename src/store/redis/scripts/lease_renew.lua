-- Extends a lease only for the holder with the same token; 0 when it was lost.
-- KEYS: 1 lease:<name>
-- ARGV: 1 '<token> <holder>'  2 TTL (ms)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
