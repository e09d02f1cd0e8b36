-- Single-event posts: args keys_file base_ms threads. Each request goes to the next
-- device (each its own key) with a ts no other request uses, so every answer can be
-- "stored"; only those are counted as stored.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
require("common")

function init(args)
  keys = read_keys(args[1])
  base = tonumber(args[2])
  nthreads = tonumber(args[3])
end

function request()
  local n = counter * nthreads + id
  counter = counter + 1
  local body = string.format('{"channel":"temperature","value":%.2f,"ts":%d}',
    18 + (n % 97) / 10, base + n)
  return wrk.format("POST", nil,
    {["x-api-key"] = keys[(n % #keys) + 1], ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 200 and string.find(body, '"result":%s*"stored"') then
    stored = stored + 1
  elseif status == 429 then
    limited = limited + 1
  else
    note_other(status, body)
  end
end
