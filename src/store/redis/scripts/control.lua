-- One poll of the operator keys. Also keeps `drain:started` honest: set the first time the switch is seen,
-- removed once it is gone, so Retry-After can count from when the drain began.
-- KEYS: 1 drain  2 drain:started  3 upgrade  4 active  5 epoch
-- ARGV: 1 now (ms)
-- Returns { drain, drain:started, upgrade, active, epoch }, each nil when unset (a missing or changed epoch tells
-- the store that Redis lost its data, even without a reconnection: a namespace flushed).
local drain = redis.call('GET', KEYS[1])
if drain then
  redis.call('SET', KEYS[2], ARGV[1], 'NX')
else
  redis.call('DEL', KEYS[2])
end
return { drain, redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3]), redis.call('GET', KEYS[4]), redis.call('GET', KEYS[5]) }
