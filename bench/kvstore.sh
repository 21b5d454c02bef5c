#!/bin/bash
# usage: bench/kvstore.sh BIN KV_WASM [PAIRS] [ROUNDS]
# kvstore get+set pairs from a guest (examples/kv, walker GetSetPairs), embedded and Redis
# (127.0.0.1:6379), interleaved per round. Prints the time per pair measured inside the
# guest (Instant around the loop) and, from outside, (t(N pairs) - t(0 pairs)) / N.
set -e
BIN=$1; WASM=$2; N=${3:-5000}; ROUNDS=${4:-5}
D=$(mktemp -d)
start() { # name port [env...]
  local name=$1 port=$2; shift 2
  mkdir -p $D/$name
  env JAC_DATA_PATH=$D/$name "$@" $BIN start $WASM --host 127.0.0.1 --port $port > $D/$name.out 2> $D/$name.err &
  echo $! > $D/$name.pid
  for i in $(seq 1 200); do curl -s -o /dev/null -X POST 127.0.0.1:$port/walker/GetSetPairs -d '{"n":1}' && return; sleep 0.1; done
}
call() { # port n -> "per_pair_us wall_seconds"
  local out
  out=$(curl -s -w ' %{time_total}' -X POST 127.0.0.1:$1/walker/GetSetPairs -H 'Content-Type: application/json' -d "{\"n\": $2}")
  echo "$(echo "$out" | sed 's/.*"per_pair_us":\([0-9.e-]*\).*/\1/') ${out##* }"
}
start embedded 18601
start redis 18602 REDIS_URL=redis://127.0.0.1:6379
for port in 18601 18602; do call $port 1000 > /dev/null; done  # warm-up
for r in $(seq 1 $ROUNDS); do
  for b in "embedded 18601" "redis 18602"; do
    set -- $b
    read guest wall < <(call $2 $N)
    read _ wall0 < <(call $2 0)
    outside=$(python3 -c "print(round(($wall - $wall0) * 1e6 / $N, 1))")
    echo "round=$r backend=$1 pairs=$N guest_us_per_pair=$(printf %.1f $guest) http_us_per_pair=$outside"
  done
done
for name in embedded redis; do kill $(cat $D/$name.pid); done
wait 2>/dev/null; rm -rf $D
