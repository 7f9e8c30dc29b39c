package lease

import "github.com/redis/go-redis/v9"

// acquireScript takes the lease if nobody holds it, and only then draws a
// new generation: SET NX and INCR in one script, so that a standby polling
// a held lease does not burn a generation on each try, and the value names
// the generation it was taken with.
// A held lease answers minus its milliseconds left, so that a standby
// tries again the moment it runs out: a handover takes the ttl at most,
// not the ttl and a polling period.
// KEYS[1] lease, KEYS[2] generation counter; ARGV[1] holder, ARGV[2] ttl ms.
var acquireScript = redis.NewScript(`
local left = redis.call('PTTL', KEYS[1])
if left ~= -2 then return -math.max(left, 1) end
local gen = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. gen, 'NX', 'PX', ARGV[2])
return gen
`)

// renewScript extends the lease only while it still holds our value: a
// lease that lapsed and was taken by another daemon is never extended.
// KEYS[1] lease; ARGV[1] value, ARGV[2] ttl ms.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseScript deletes the lease only if it is still ours.
// KEYS[1] lease; ARGV[1] value.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)
