"""The Redis frontier's Lua scripts: each step that must not be cut in two by a kill is one script.

Redis runs a script atomically, so "seen" and "queued", or "popped" and "in flight", cannot
be separated by a process dying in between (crawler/distributed/redis.py says why that
matters). Kept apart from the Scrapy components that call them, which are about when to call.
"""

# In-flight entries are "<score>|<serialized request>" (from the request queue)
# or "s|<start URL data>" (from the start list), so a reclaim knows where each goes back.

NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# KEYS: queue, inflight hash, token counter, workers; ARGV: worker
POP_REQUEST = NOW_MS + """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local token = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], token, r[2] .. '|' .. r[1])
redis.call('ZADD', KEYS[4], now, ARGV[1])
return {token, r[1]}
"""
# KEYS: dupefilter, queue; ARGV: fingerprint ('' = do not filter), score, data → 1 queued, 0 duplicate.
# One script, so a process killed between "seen" and "queued" cannot lose the request.
ENQUEUE = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# KEYS: start list, inflight hash, token counter, workers; ARGV: worker
POP_START = NOW_MS + """
local v = redis.call('RPOP', KEYS[1])
if not v then return false end
local token = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], token, 's|' .. v)
redis.call('ZADD', KEYS[4], now, ARGV[1])
return {token, v}
"""
# KEYS: workers; ARGV: worker
HEARTBEAT = NOW_MS + "redis.call('ZADD', KEYS[1], now, ARGV[1]) return now"
# KEYS: workers, queue, start list; ARGV: inflight prefix, timeout ms, worker to requeue (or '')
# Requeues the in-flight entries of every worker silent for longer than the timeout
# (and of ARGV[3], a worker closing before its requests were done); returns {requests, workers}.
REQUEUE = NOW_MS + """
local workers = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if ARGV[3] ~= '' then table.insert(workers, ARGV[3]) end
local n = 0
for _, w in ipairs(workers) do
  local key = ARGV[1] .. w
  for _, v in ipairs(redis.call('HVALS', key)) do
    local sep = string.find(v, '|', 1, true)
    local mark, data = string.sub(v, 1, sep - 1), string.sub(v, sep + 1)
    if mark == 's' then redis.call('RPUSH', KEYS[3], data)
    else redis.call('ZADD', KEYS[2], tonumber(mark), data) end
    n = n + 1
  end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], w)
end
return {n, #workers}
"""
# KEYS: workers, queue, start list; ARGV: inflight prefix → {queued, start URLs, in flight anywhere}
FRONTIER = """
local total = 0
for _, w in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  total = total + redis.call('HLEN', ARGV[1] .. w)
end
return {redis.call('ZCARD', KEYS[2]), redis.call('LLEN', KEYS[3]), total}
"""
