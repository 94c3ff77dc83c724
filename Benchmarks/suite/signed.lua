-- wrk script: sends the pre-signed requests of $REQUESTS (each a line with its length in bytes,
-- then the raw request), each once from $OFFSET on; the two threads take alternate ones and each
-- keeps only its own. Prints "next-offset N", the first index no thread used, for the next round
-- (threads do not send equally). With $PACE_MS, every connection waits a random time with that
-- mean before each request (exponentially distributed: arrivals as independent clients make
-- them, not the synchronized bursts a fixed delay gives): a paced load instead of as fast as possible.
local requests = {}
local total = 0
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("id", #threads - 1)
end

function init(args)
  local file = assert(io.open(os.getenv("REQUESTS"), "rb"))
  while true do
    local length = file:read("*l")
    if not length then break end
    local raw = file:read(tonumber(length))
    if total % 2 == id then requests[total] = raw end
    total = total + 1
  end
  file:close()
  index = tonumber(os.getenv("OFFSET") or "0") + id
  math.randomseed(os.time() + id)
end

function request()
  local raw = requests[index % (total - total % 2)]
  index = index + 2
  return raw
end

local pace = tonumber(os.getenv("PACE_MS") or "")
if pace then
  function delay() return math.floor(-math.log(1 - math.random()) * pace) end
end

function done(summary, latency, requests)
  local next = 0
  for _, thread in ipairs(threads) do
    next = math.max(next, thread:get("index"))
  end
  io.write(string.format("next-offset %d\n", next))
end
