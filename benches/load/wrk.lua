-- wrk -s benches/load/wrk.lua URL -- TOKEN_FILE
-- Sends each request with the next token of the file (one token per line), in turn.
local tokens = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
end

function request()
  i = i + 1
  if i > #tokens then
    i = 1
  end
  return wrk.format("GET", nil, { Authorization = "Bearer " .. tokens[i] })
end
