-- GETs of one URL with a device key: args key. Counts 200 answers as "stored" (ok).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
require("common")

function init(args)
  wrk.headers["x-api-key"] = args[1]
end

function response(status, headers, body)
  if status == 200 then stored = stored + 1 else note_other(status, body) end
end
