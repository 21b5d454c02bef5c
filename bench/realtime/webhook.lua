-- wrk script for signed webhook calls: a fixed body, signed once by run.sh.
-- usage: wrk -s webhook.lua URL -- BODY API_KEY SIGNATURE
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  wrk.body = args[1]
  wrk.headers["X-API-Key"] = args[2]
  wrk.headers["X-Webhook-Signature"] = args[3]
end
