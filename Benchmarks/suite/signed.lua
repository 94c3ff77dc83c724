-- wrk script: sends the pre-signed requests of $REQUESTS (each a line with its length in bytes,
-- then the raw request), each once from $OFFSET on; the two threads take alternate ones.
local requests = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("id", count - 1)
end

function init(args)
  local file = assert(io.open(os.getenv("REQUESTS"), "rb"))
  while true do
    local length = file:read("*l")
    if not length then break end
    requests[#requests + 1] = file:read(tonumber(length))
  end
  file:close()
  index = tonumber(os.getenv("OFFSET") or "0") + id
end

function request()
  local raw = requests[(index % #requests) + 1]
  index = index + 2
  return raw
end
