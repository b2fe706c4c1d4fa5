-- Takes a free lease with a new fencing token (strictly increasing across holders); the holder that already
-- has it keeps its token and gets a fresh TTL.
-- KEYS: 1 lease:<name>  2 lease:<name>:fence
-- ARGV: 1 holder  2 TTL (ms)
local current = redis.call('GET', KEYS[1])
if current then
  local token, holder = string.match(current, '^(%d+) (.*)$')
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(token)
  end
  return false
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ' ' .. ARGV[1], 'PX', ARGV[2])
return token
