#!/bin/bash
# The host's memory footprint, what the Kubernetes memory request is derived from
# (README "Deploy to Kubernetes"): resident memory idle after start, after a warm-up
# call, and the peak during a wrk load of the todo app's Ping walker.
#
# usage: bench/footprint.sh BIN TODO_WASM PORT [CONNECTIONS] [SECONDS]
#   BIN          the jac-scale binary (the release one is what images ship)
#   TODO_WASM    examples/todo built for wasm32-wasip2
#   CONNECTIONS  wrk connections (default 16), SECONDS the load's length (default 10)
set -eu
BIN=$1; WASM=$2; PORT=$3; CONNECTIONS=${4:-16}; SECONDS_PER_RUN=${5:-10}
D=$(mktemp -d)
cp "$WASM" "$D/todo.wasm"
JAC_DATA_PATH=$D/data "$BIN" start "$D/todo.wasm" --host 127.0.0.1 --port "$PORT" \
  > "$D/out" 2> "$D/err" &
PID=$!
B=127.0.0.1:$PORT
for _ in $(seq 1 300); do curl -s -o /dev/null -X POST "$B/walker/Ping" && break; sleep 0.1; done
rss() { awk -v k="$1:" '$1 == k { printf "%d MiB\n", $2 / 1024 }' "/proc/$PID/status"; }
sleep 2
echo "idle after start:   $(rss VmRSS)"
wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s "$(dirname "$0")/post.lua" "http://$B/walker/Ping" -- '{}' |
  awk '/Requests\/sec/ { print "load:               " $2 " req/s" }'
echo "after the load:     $(rss VmRSS)"
echo "peak (VmHWM):       $(rss VmHWM)"
kill $PID; wait $PID 2>/dev/null || true
rm -rf "$D"
