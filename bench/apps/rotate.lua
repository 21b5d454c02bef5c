-- wrk script: POST one body to a rotating list of paths, each with its own bearer token,
-- so one load spreads over many apps of one `jac-scale serve`.
-- usage: wrk -s rotate.lua URL -- BODY PATH[|TOKEN] [PATH[|TOKEN] ...]
local targets = {}
local position = 0

function init(args)
  wrk.body = args[1]
  for i = 2, #args do
    local path, token = args[i]:match("^([^|]+)|?(.*)$")
    targets[#targets + 1] = { path = path, token = token }
  end
  -- every connection of every thread shares this position; start threads apart
  position = math.random(#targets) - 1
end

function request()
  position = position % #targets + 1
  local target = targets[position]
  local headers = { ["Content-Type"] = "application/json" }
  if target.token ~= "" then
    headers["Authorization"] = "Bearer " .. target.token
  end
  return wrk.format("POST", target.path, headers, wrk.body)
end
