-- wrk script: POST the JSON body read from a file (first script argument) to the URL's path.
--   wrk -t2 -c8 -d15s --latency -s post.lua http://127.0.0.1:PORT/score -- body.json
-- wrk itself counts responses outside 2xx/3xx ("Non-2xx or 3xx responses") and socket
-- errors; `done` adds one machine-readable line with exact latencies (microseconds).

function init(args)
   local file = assert(io.open(args[1], "rb"))
   wrk.method = "POST"
   wrk.body = file:read("*a")
   wrk.headers["Content-Type"] = "application/json"
   file:close()
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT {\"requests\": %d, \"duration_us\": %d, \"bytes\": %d, \"non2xx\": %d, " ..
      "\"connect\": %d, \"read\": %d, \"write\": %d, \"timeout\": %d, " ..
      "\"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"p999_us\": %d, \"max_us\": %d, \"mean_us\": %.1f}\n",
      summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
      latency.max, latency.mean))
end
