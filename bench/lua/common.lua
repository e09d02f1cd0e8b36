-- Shared by the benchmark's wrk scripts: per-thread counters gathered in done(),
-- printed as one "BENCH key=value ..." line that bench/driver.py reads.
threads = {}
counter, stored, limited, other = 0, 0, 0, 0
sample = ""

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function read_keys(path)
  local keys = {}
  for line in io.lines(path) do
    if line ~= "" then keys[#keys + 1] = line end
  end
  return keys
end

function note_other(status, body)
  other = other + 1
  if sample == "" then sample = status .. " " .. string.sub(body, 1, 160) end
end

function done(summary, latency, requests)
  local totals = {stored = 0, limited = 0, other = 0}
  local first_sample = ""
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do totals[name] = totals[name] + thread:get(name) end
    if first_sample == "" then first_sample = thread:get("sample") end
  end
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d stored=%d limited=%d other=%d" ..
    " p50_us=%d p95_us=%d p99_us=%d connect_errors=%d read_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, totals.stored, totals.limited, totals.other,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    errors.connect, errors.read, errors.timeout))
  if first_sample ~= "" then
    io.write("BENCH_SAMPLE " .. string.gsub(first_sample, "\n", " ") .. "\n")
  end
end
