#!/bin/bash
# Reading a 100-node list (the todo app's ListTodos on a root with 100 todos) with and
# without the Redis cache tier, interleaved in one run so machine load hits all alike.
#
# usage: bench/tiers/run.sh BIN TODO_WASM [ROUNDS]
#   BIN        a release jac-scale, e.g. /work/target-release/release/jac-scale
#   TODO_WASM  target/wasm32-wasip2/release/todo.wasm
# Needs wrk and a Redis on 127.0.0.1:6379. Prints req/s and mean latency per round and
# the cost ratio (embedded req/s / tier req/s; <= 1.2 is the target).
set -euo pipefail
BIN=$1; WASM=$2; ROUNDS=${3:-3}
HERE="$(cd "$(dirname "$0")" && pwd)"
LUA="$HERE/../post.lua"
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

# mode -> environment and jac.toml of its server.
start() { # name port redis_url toml
  local name=$1 port=$2 redis=$3 toml=$4
  mkdir -p "$WORK/$name/app"
  ln -s "$(realpath "$WASM")" "$WORK/$name/app/todo.wasm"
  printf '%b' "$toml" > "$WORK/$name/app/jac.toml"
  env JAC_DATA_PATH="$WORK/$name/data" ${redis:+REDIS_URL=$redis} \
    "$BIN" start "$WORK/$name/app/todo.wasm" --host 127.0.0.1 --port "$port" \
    > "$WORK/$name/out" 2> "$WORK/$name/err" &
  PIDS+=($!)
  for _ in $(seq 1 200); do curl -s -o /dev/null -X POST "127.0.0.1:$port/walker/Ping" && break; sleep 0.1; done
  local b=127.0.0.1:$port
  curl -s -X POST "$b/user/register" -H 'Content-Type: application/json' \
    -d '{"email": "bench@example.com", "password": "bench-pass"}' > /dev/null
  local token
  token=$(curl -s -X POST "$b/user/login" -H 'Content-Type: application/json' \
    -d '{"email": "bench@example.com", "password": "bench-pass"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  curl -s -X POST "$b/walker/SeedTodos" -H "Authorization: Bearer $token" -d '{"n": 100}' > /dev/null
  local count
  count=$(curl -s -X POST "$b/walker/CountTodos" -H "Authorization: Bearer $token" -d '{}')
  echo "$name: $count" >&2
  echo "$token" > "$WORK/$name/token"
}

start embedded 18101 "" ""
start tier 18102 redis://127.0.0.1:6379 ""
start l2only 18103 redis://127.0.0.1:6379 '[plugins.scale.database]\nlocal_cache_capacity = 0\n'
grep -h "cache tier" "$WORK"/*/err | sed 's/\x1b\[[0-9;]*m//g' >&2

measure() { # name port -> "rps latency"
  local out
  out=$(wrk -t1 -c8 -d5s -s "$LUA" "http://127.0.0.1:$2/walker/ListTodos" -- '{}' "$(cat "$WORK/$1/token")")
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '/Latency/ {print $2}')"
}

declare -A SUM
for pair in embedded:18101 tier:18102 l2only:18103; do measure "${pair%%:*}" "${pair##*:}" > /dev/null; done # warm-up
for round in $(seq 1 "$ROUNDS"); do
  for pair in embedded:18101 tier:18102 l2only:18103; do
    name=${pair%%:*}; port=${pair##*:}
    read -r rps lat < <(measure "$name" "$port")
    echo "round $round $name: $rps req/s, mean latency $lat"
    SUM[$name]=$(echo "${SUM[$name]:-0} + $rps" | bc -l)
  done
done
for name in tier l2only; do
  printf 'cost ratio %s vs embedded: %.3f (embedded %.0f req/s, %s %.0f req/s, mean of %d rounds)\n' \
    "$name" "$(echo "${SUM[embedded]} / ${SUM[$name]}" | bc -l)" \
    "$(echo "${SUM[embedded]} / $ROUNDS" | bc -l)" "$name" "$(echo "${SUM[$name]} / $ROUNDS" | bc -l)" "$ROUNDS"
done
