-- Appends a batch of envelopes to an event log, atomically.
--
-- KEYS[1]  hemostat:events:<type>, the log as the protocol defines it: a
--          JSON array string of the newest envelopes.
-- KEYS[2]  the same envelopes as a list of raw strings, newest last.
-- KEYS[3]  how many envelopes were ever appended through this script: a
--          subscriber cut off by Redis compares it with what it received
--          to count what fell out of the log before it could replay it.
-- ARGV[1]  how many envelopes the log keeps.
-- ARGV[2]  the TTL of the three keys, in seconds.
-- ARGV[3]  how many envelopes were published in this batch: those below,
--          and older ones the newer made pointless to send.
-- ARGV[4…] the envelopes to append, oldest first, exactly as published.
--
-- Returns {envelopes in the log now, 1 if KEYS[1] had been written by
-- someone else and was re-read (else 0), envelopes re-read from it}.
--
-- The array is never decoded: joining the raw strings keeps every
-- envelope byte-identical to what subscribers received (cjson would
-- reformat numbers and turn [] into {}), and is far cheaper.

local max = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])

-- split returns the top-level elements of a JSON array as the text they
-- are written in, or nil when s is not a JSON array.
local function split(s)
  local pos = string.find(s, '%S')
  if not pos or string.sub(s, pos, pos) ~= '[' then return nil end
  pos = pos + 1
  local items, depth, start = {}, 0, pos
  while true do
    local i = string.find(s, '[%[%]{}",]', pos)
    if not i then return nil end
    local c = string.sub(s, i, i)
    if c == '"' then
      local j = i + 1 -- skip the string, honouring backslash escapes
      while true do
        local k = string.find(s, '[\\"]', j)
        if not k then return nil end
        if string.sub(s, k, k) == '"' then
          j = k + 1
          break
        end
        j = k + 2
      end
      pos = j
    elseif c == '{' or c == '[' then
      depth = depth + 1
      pos = i + 1
    elseif depth > 0 then -- a closing bracket or a comma inside an element
      if c ~= ',' then depth = depth - 1 end
      pos = i + 1
    else -- a comma or the closing bracket of the array itself
      if c == '}' then return nil end
      local item = string.match(string.sub(s, start, i - 1), '^%s*(.-)%s*$')
      if item ~= '' then items[#items + 1] = item end
      if c == ']' then return items end
      start = i + 1
      pos = i + 1
    end
  end
end

local current = ''
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'string' then
  current = redis.call('GET', KEYS[1])
elseif kind ~= 'none' then
  redis.call('DEL', KEYS[1]) -- not a log at all; a valid one replaces it
end

-- This script last wrote the list, joined. If KEYS[1] holds anything else,
-- another publisher rewrote (or deleted) it since: start from what it
-- holds, so that nobody's events are dropped. (Comparing is cheap: Lua
-- interns strings, so equal ones are found equal by one memcmp.)
local entries = redis.call('LRANGE', KEYS[2], 0, -1)
local foreign, reread = 0, 0
if current ~= '[' .. table.concat(entries, ',') .. ']' and (current ~= '' or #entries > 0) then
  foreign = 1
  local items = split(current) or {}
  entries = {}
  for i = math.max(1, #items - max + 1), #items do entries[#entries + 1] = items[i] end
  reread = #entries
  redis.call('DEL', KEYS[2])
  if reread > 0 then redis.call('RPUSH', KEYS[2], unpack(entries)) end
end

for i = 4, #ARGV do entries[#entries + 1] = ARGV[i] end
local first = math.max(1, #entries - max + 1)
redis.call('RPUSH', KEYS[2], unpack(ARGV, 4))
redis.call('LTRIM', KEYS[2], -max, -1)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('SET', KEYS[1], '[' .. table.concat(entries, ',', first) .. ']', 'EX', ttl)
redis.call('INCRBY', KEYS[3], tonumber(ARGV[3]))
redis.call('EXPIRE', KEYS[3], ttl)
return {#entries - first + 1, foreign, reread}
