-- wrk script: every request carries a token. With TOKENS_FILE set, each thread walks its own
-- disjoint slice of the pool and never reuses a token; it counts how often it had to wrap.
-- With TOKEN set, every request repeats that one token. With ZIPF_N and ZIPF_S set too, every
-- thread draws each request's token from the pool's first ZIPF_N tokens, the k-th with weight
-- 1/k^s: many clients, each reusing its own token, some far more often than others.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file = os.getenv("TOKENS_FILE")
  local single = os.getenv("TOKEN")
  local total = tonumber(os.getenv("THREADS") or "1")
  tokens = {}
  zipf_n = tonumber(os.getenv("ZIPF_N") or "0")
  if zipf_n > 0 and file and file ~= "" then
    local s = tonumber(os.getenv("ZIPF_S"))
    for line in io.lines(file) do
      tokens[#tokens + 1] = line
      if #tokens == zipf_n then break end
    end
    cdf = {}
    local total = 0
    for k = 1, #tokens do
      total = total + 1 / k ^ s
      cdf[k] = total
    end
    for k = 1, #tokens do cdf[k] = cdf[k] / total end
    math.randomseed(index + 1)
  elseif file and file ~= "" then
    local i = 0
    for line in io.lines(file) do
      if i % total == index then tokens[#tokens + 1] = line end
      i = i + 1
    end
  elseif single and single ~= "" then
    tokens[1] = single
  end
  position = 0
  wraps = 0
end

-- The first k whose cumulative weight reaches u, by bisection.
local function zipf_pick()
  local u = math.random()
  local low, high = 1, #cdf
  while low < high do
    local mid = math.floor((low + high) / 2)
    if cdf[mid] < u then low = mid + 1 else high = mid end
  end
  return low
end

function request()
  if zipf_n > 0 then
    return wrk.format("GET", "/resource", { ["Authorization"] = "Bearer " .. tokens[zipf_pick()] })
  end
  position = position + 1
  if position > #tokens then
    position = 1
    if #tokens > 1 then wraps = wraps + 1 end
  end
  local headers = {}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[position] end
  return wrk.format("GET", "/resource", headers)
end

function done(summary, latency, requests)
  local total_wraps = 0
  for _, thread in ipairs(threads) do total_wraps = total_wraps + (thread:get("wraps") or 0) end
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    total_wraps))
end
