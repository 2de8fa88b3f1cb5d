-- wrk script: POST /v1/login for LOAD_USERS users, each on its own phone; LOAD_NEW_PERCENT
-- of the requests come from a phone never seen before (a registration or an approval
-- request, which writes the user's state). Any answer but 200 is counted and reported.
local users = tonumber(os.getenv("LOAD_USERS") or "1000")
local new_percent = tonumber(os.getenv("LOAD_NEW_PERCENT") or "0")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("MDM_GATEWAY_TOKEN")

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local n = 0
bad = 0 -- a global: done() reads it from each thread
function request()
  n = n + 1
  local u = (n * 7919 + id) % users
  local device = "d" .. u
  if (n % 100) < new_percent then device = "n" .. id .. "-" .. n end
  return wrk.format(nil, "/v1/login", nil, string.format(
    '{"user":"u%d","groups":["sales"],"device":{"device_id":"%s","os_type":"ios","os_version":"17.2","pin_length":6,"encrypted":true}}',
    u, device))
end

function response(status)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + t:get("bad") end
  io.write(string.format("LOAD rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d non200=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, failed, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
