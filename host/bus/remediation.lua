-- Records one remediation, atomically.
--
-- KEYS[1]  hemostat:remediation:<name>: {"last_action": ..., "count": n}.
-- KEYS[2]  the container's decision history, a list of JSON
--          remediations, newest last; its hash tag puts it in KEYS[1]'s
--          slot on a Cluster.
-- ARGV[1]  last_action, "2006-01-02T15:04:05" UTC.
-- ARGV[2]  the record's TTL in seconds.
-- ARGV[3]  the remediation as JSON; ARGV[4] how many the history keeps;
-- ARGV[5]  the history's TTL in seconds.
-- KEYS[3]  optional: the container's safety-gate state, same hash tag;
--          ARGV[6] the state as JSON, ARGV[7] its TTL in milliseconds.
--
-- Returns the new count.

local count = 0
local current = redis.call('GET', KEYS[1])
if current then
  -- A record another writer left unreadable restarts the count.
  local ok, record = pcall(cjson.decode, current)
  if ok and type(record) == 'table' and tonumber(record.count) then
    count = math.floor(tonumber(record.count))
  end
end
count = count + 1
local record = '{"last_action":' .. cjson.encode(ARGV[1]) .. ',"count":' .. tostring(count) .. '}'
redis.call('SET', KEYS[1], record, 'EX', ARGV[2])

redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[5])
if KEYS[3] then
  redis.call('SET', KEYS[3], ARGV[6], 'PX', ARGV[7])
end
return count
