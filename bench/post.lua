-- wrk script for JSON POSTs.
-- usage: wrk -s post.lua URL -- BODY [TOKEN]
-- wrk itself counts non-2xx answers ("Non-2xx or 3xx responses"); suite.py reads that line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  if args[1] then wrk.body = args[1] end
  if args[2] then wrk.headers["Authorization"] = "Bearer " .. args[2] end
end
