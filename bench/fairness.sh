#!/bin/bash
# Fair scheduling of guest CPU: the well-behaved walker's latency solo and with hostile
# neighbours, in the same run.
#
# usage: bench/fairness.sh [--cross-app] BIN MISBEHAVE_WASM PORT [SPINNERS] [SECONDS]
#   --cross-app     `jac-scale serve` with two apps of the same component, `healthy` and
#                   `hostile`: the neighbours are another app's calls (SPINNERS spinning,
#                   plus a memory hog and a host-call flood), and the last line is the
#                   healthy p99 beside them over its p99 solo (goal: at most 1.5).
#                   Without it, one app (`start`): SPINNERS spinning calls of the same app.
#   BIN             the jac-scale binary
#   MISBEHAVE_WASM  examples/misbehave built for wasm32-wasip2
#                   (cargo build --release --target wasm32-wasip2 -p misbehave)
#   SPINNERS        hostile calls kept in flight (default 4)
#   SECONDS         length of each wrk run (default 10)
# Prints one line per phase: `Fine` p50/p90/p99 from `wrk -t1 -c1 --latency` (one
# client, so the figures are per-call latency, not queueing in the client).
set -eu
CROSS_APP=0
if [ "${1:-}" = --cross-app ]; then CROSS_APP=1; shift; fi
BIN=$1; WASM=$2; PORT=$3; SPINNERS=${4:-4}; SECONDS_PER_RUN=${5:-10}
D=$(mktemp -d)
# Spins end by their CPU quota (2 s), then the spinner posts the next one.
QUOTAS='cpu_time_per_call_ms = 2000'
if [ "$CROSS_APP" = 1 ]; then
  mkdir -p "$D/apps/healthy" "$D/apps/hostile"
  cp "$WASM" "$D/apps/healthy/app.wasm"
  cp "$WASM" "$D/apps/hostile/app.wasm"
  printf '[apps.hostile.settings.plugins.scale.quotas]\n%s\nmemory_per_instance_mib = 32\n' \
    "$QUOTAS" > "$D/apps.toml"
  JAC_DATA_PATH=$D/data "$BIN" serve --apps "$D/apps" --config "$D/apps.toml" \
    --host 127.0.0.1 --port "$PORT" --admin 127.0.0.1:0 > "$D/out" 2> "$D/err" &
  HEALTHY=127.0.0.1:$PORT/apps/healthy
  HOSTILE=127.0.0.1:$PORT/apps/hostile
else
  cp "$WASM" "$D/misbehave.wasm"
  printf '[plugins.scale.quotas]\n%s\n' "$QUOTAS" > "$D/jac.toml"
  JAC_DATA_PATH=$D/data "$BIN" start "$D/misbehave.wasm" --host 127.0.0.1 --port "$PORT" \
    > "$D/out" 2> "$D/err" &
  HEALTHY=127.0.0.1:$PORT
  HOSTILE=$HEALTHY
fi
PID=$!
for _ in $(seq 1 200); do curl -sf -o /dev/null -X POST "$HEALTHY/walker/Fine" && break; sleep 0.1; done
L="$(dirname "$0")/post.lua"

measure() {
  wrk -t1 -c1 -d"${SECONDS_PER_RUN}s" --latency -s "$L" "http://$HEALTHY/walker/Fine" -- '{}' |
    awk -v phase="$1" '
      /Requests\/sec/ { rps = $2 }
      /^ +50%/ { p50 = $2 } /^ +90%/ { p90 = $2 } /^ +99%/ { p99 = $2 }
      END { printf "%-22s p50 %-9s p90 %-9s p99 %-9s req/s %s\n", phase, p50, p90, p99, rps }'
}

# A wrk duration (850.00us, 1.20ms, 2.00s) in microseconds.
micros() {
  awk -v d="$1" 'BEGIN {
    n = d + 0
    if (d ~ /us$/) print n; else if (d ~ /ms$/) print n * 1000; else if (d ~ /m$/) print n * 60e6;
    else print n * 1e6 }'
}

p99_of() { awk '{ for (i = 1; i < NF; i++) if ($i == "p99") print $(i + 1) }' <<< "$1"; }

hostile() {
  (while true; do curl -s -o /dev/null -X POST "$HOSTILE/walker/$1"; done) &
  HOSTILE_PIDS+=($!)
}

measure "solo" > /dev/null # warm-up
SOLO=$(measure "solo")
echo "$SOLO"
HOSTILE_PIDS=()
for _ in $(seq 1 "$SPINNERS"); do hostile Spin; done
NEIGHBOURS="with $SPINNERS spinning"
if [ "$CROSS_APP" = 1 ]; then
  hostile Hog
  hostile Flood
  NEIGHBOURS="beside app: $SPINNERS spin, hog, flood"
fi
sleep 1
BESIDE=$(measure "$NEIGHBOURS")
echo "$BESIDE"
kill "${HOSTILE_PIDS[@]}"
wait "${HOSTILE_PIDS[@]}" 2>/dev/null || true
if [ "$CROSS_APP" = 1 ]; then
  awk -v solo="$(micros "$(p99_of "$SOLO")")" -v beside="$(micros "$(p99_of "$BESIDE")")" \
    -v who="$NEIGHBOURS" \
    'BEGIN { printf "p99 %s / solo: %.2fx (goal <= 1.5x)\n", who, beside / solo }'
fi
kill $PID; wait $PID 2>/dev/null || true
rm -rf "$D"
