#!/bin/bash
# Fair scheduling of guest CPU: the well-behaved walker's latency solo and with hostile
# neighbours (calls that loop), in the same run.
#
# usage: bench/fairness.sh BIN MISBEHAVE_WASM PORT [SPINNERS] [SECONDS]
#   BIN             the jac-scale binary
#   MISBEHAVE_WASM  examples/misbehave built for wasm32-wasip2
#                   (cargo build --release --target wasm32-wasip2 -p misbehave)
#   SPINNERS        hostile calls kept in flight (default 4)
#   SECONDS         length of each wrk run (default 10)
# Prints one line per phase: `Fine` p50/p90/p99 from `wrk -t1 -c1 --latency` (one
# client, so the figures are per-call latency, not queueing in the client).
set -eu
BIN=$1; WASM=$2; PORT=$3; SPINNERS=${4:-4}; SECONDS_PER_RUN=${5:-10}
D=$(mktemp -d)
cp "$WASM" "$D/misbehave.wasm"
# Spins end by their CPU quota (2 s), then the spinner posts the next one.
printf '[plugins.scale.quotas]\ncpu_time_per_call_ms = 2000\n' > "$D/jac.toml"
JAC_DATA_PATH=$D/data "$BIN" start "$D/misbehave.wasm" --host 127.0.0.1 --port "$PORT" \
  > "$D/out" 2> "$D/err" &
PID=$!
B=127.0.0.1:$PORT
for _ in $(seq 1 200); do curl -s -o /dev/null -X POST "$B/walker/Fine" && break; sleep 0.1; done
L="$(dirname "$0")/post.lua"

measure() {
  wrk -t1 -c1 -d"${SECONDS_PER_RUN}s" --latency -s "$L" "http://$B/walker/Fine" -- '{}' |
    awk -v phase="$1" '
      /Requests\/sec/ { rps = $2 }
      /^ +50%/ { p50 = $2 } /^ +90%/ { p90 = $2 } /^ +99%/ { p99 = $2 }
      END { printf "%-22s p50 %-9s p90 %-9s p99 %-9s req/s %s\n", phase, p50, p90, p99, rps }'
}

measure "solo" > /dev/null # warm-up
measure "solo"
SPIN_PIDS=()
for _ in $(seq 1 "$SPINNERS"); do
  (while true; do curl -s -o /dev/null -X POST "$B/walker/Spin"; done) &
  SPIN_PIDS+=($!)
done
sleep 1
measure "with $SPINNERS spinning"
kill "${SPIN_PIDS[@]}"
wait "${SPIN_PIDS[@]}" 2>/dev/null || true
kill $PID; wait $PID 2>/dev/null || true
rm -rf "$D"
