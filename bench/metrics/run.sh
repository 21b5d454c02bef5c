#!/bin/bash
# The cost of the Prometheus metrics on a Ping load: two servers of the same binary and
# todo.wasm, metrics off and on ([plugins.scale.metrics] enabled, walker_metrics), loaded
# alternately in the same run (wrk -t1 -c16 -d5s POST /walker/Ping, ROUNDS rounds, the
# order swapped every round); the "on" server is scraped every second during its runs.
# Prints req/s and server CPU per request of each run, then the medians and their ratio.
#
# usage: JAC_SCALE_BIN=target/release/jac-scale TODO_WASM=.../todo.wasm bench/metrics/run.sh [ROUNDS]
set -euo pipefail
ROUNDS=${1:-5}
BIN=${JAC_SCALE_BIN:?set JAC_SCALE_BIN to a release jac-scale}
WASM=${TODO_WASM:?set TODO_WASM to a release todo.wasm}
LUA="$(cd "$(dirname "$0")/.." && pwd)/post.lua"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT

start() { # name port [jac.toml text]
  mkdir -p "$WORK/$1"
  cp "$WASM" "$WORK/$1/todo.wasm"
  [ -n "${3:-}" ] && printf '%s' "$3" > "$WORK/$1/jac.toml"
  JAC_DATA_PATH="$WORK/$1/data" "$BIN" start "$WORK/$1/todo.wasm" --host 127.0.0.1 --port "$2" \
    > "$WORK/$1/out" 2> "$WORK/$1/err" &
  echo $! > "$WORK/$1/pid"
  for _ in $(seq 1 300); do
    curl -s -o /dev/null -X POST "127.0.0.1:$2/walker/Ping" && return; sleep 0.1
  done
  echo "$1 did not start" >&2; cat "$WORK/$1/err" >&2; exit 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$(cat "$WORK/$1/pid")/stat"; }

start off 18301
start on 18302 $'[plugins.scale.metrics]\nenabled = true\nwalker_metrics = true\n'
# Warm both (optimised code, connection setup).
for port in 18301 18302; do wrk -t1 -c16 -d2s -s "$LUA" "http://127.0.0.1:$port/walker/Ping" -- '{}' > /dev/null; done

run() { # name port
  local before after rps reqs
  before=$(cpu_ticks "$1")
  if [ "$1" = on ]; then
    ( while sleep 1; do curl -s -o /dev/null 127.0.0.1:18302/metrics; done ) & local scraper=$!
  fi
  out=$(wrk -t1 -c16 -d5s -s "$LUA" "http://127.0.0.1:$2/walker/Ping" -- '{}')
  [ "$1" = on ] && kill "$scraper"
  after=$(cpu_ticks "$1")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  # CPU per request in microseconds (clock ticks are 1/100 s).
  echo "$1 $rps $(awk -v t=$((after - before)) -v n="$reqs" 'BEGIN {printf "%.1f", t * 10000 / n}')"
}

echo "round server req/s cpu_us/req"
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order="off on"; else order="on off"; fi
  for name in $order; do
    port=18301; [ "$name" = on ] && port=18302
    echo "$r $(run "$name" $port)"
  done
done | tee "$WORK/runs"
awk '{rps[$2] = rps[$2] " " $3; cpu[$2] = cpu[$2] " " $4}
  END {
    for (s in rps) {
      n = split(rps[s], a, " "); asort(a); m[s] = a[int((n + 1) / 2)]
      n = split(cpu[s], c, " "); asort(c); k[s] = c[int((n + 1) / 2)]
    }
    printf "median req/s: off %s, on %s (on/off %.3f); median CPU/req: off %s us, on %s us (on/off %.3f)\n",
      m["off"], m["on"], m["on"] / m["off"], k["off"], k["on"], k["on"] / k["off"]
  }' "$WORK/runs"
