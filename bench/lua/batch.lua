-- Batch posts: args keys_file base_ms threads batch_size. Each request carries
-- batch_size events of the next device, stepping back one second per event from
-- base_ms, so no two events of a device share a ts; counts the events answered stored.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
require("common")

function init(args)
  keys = read_keys(args[1])
  base = tonumber(args[2])
  nthreads = tonumber(args[3])
  size = tonumber(args[4])
end

function request()
  local n = counter * nthreads + id
  counter = counter + 1
  local round = math.floor(n / #keys)
  local events = {}
  for i = 0, size - 1 do
    events[#events + 1] = string.format('{"channel":"temperature","value":%.2f,"ts":%d}',
      18 + ((n + i) % 97) / 10, base - (round * size + i) * 1000)
  end
  return wrk.format("POST", nil,
    {["x-api-key"] = keys[(n % #keys) + 1], ["Content-Type"] = "application/json"},
    '{"events":[' .. table.concat(events, ",") .. ']}')
end

function response(status, headers, body)
  if status == 200 then
    local count = string.match(body, '"stored":%s*(%d+)')
    if count then stored = stored + tonumber(count) else note_other(status, body) end
  elseif status == 429 then
    limited = limited + 1
  else
    note_other(status, body)
  end
end
