#!/bin/bash
# Soak: mixed load on the Rust todo app, the Jac todo app and the Jac data app (kvstore,
# uploads) for SECS seconds (default 600), sampling each server's RSS, open fds, threads
# and the p99 of the calls every 10 s (bench/soak.py does the load and the report).
#
# usage: bench/soak.sh [SECS] [WARMUP_SECS]
# needs: python3, curl, and
#   JAC_SCALE_BIN  the binary to soak (default: $CARGO_TARGET_DIR/release/jac-scale, else
#                  $CARGO_TARGET_DIR/debug/jac-scale; CARGO_TARGET_DIR defaults to target)
#   TODO_WASM      examples/todo built for wasm32-wasip2 (default: the release build in
#                  $CARGO_TARGET_DIR, else the one the black-box tests build in
#                  target/guests); build it with
#                  cargo build --release --target wasm32-wasip2 -p todo
# The Jac apps are built by the server at start (`jac-scale start app.jac`).
# Output: one line per sample, then the report (also in $SOAK_REPORT if set); exit
# status 1 when a goal is missed. Server logs stay in $SOAK_WORK (default: a temp dir,
# kept when a goal is missed).
set -euo pipefail
SECS=${1:-600}
WARMUP=${2:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
T=${CARGO_TARGET_DIR:-$ROOT/target}
pick() { for f in "$@"; do [ -f "$f" ] && { echo "$f"; return; }; done; echo "$1"; }
BIN=${JAC_SCALE_BIN:-$(pick "$T/release/jac-scale" "$T/debug/jac-scale")}
TODO_WASM=${TODO_WASM:-$(pick "$T/wasm32-wasip2/release/todo.wasm" \
  "$ROOT/target/guests/wasm32-wasip2/release/todo.wasm")}
for f in "$BIN" "$TODO_WASM"; do
  [ -f "$f" ] || { echo "missing $f (see the usage at the top of $0)" >&2; exit 2; }
done
PORT_BASE=${SOAK_PORT_BASE:-18400}
WORK=${SOAK_WORK:-$(mktemp -d)}
mkdir -p "$WORK"
PIDS=()
STATUS=0
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$STATUS" = 0 ] && [ -z "${SOAK_WORK:-}" ]; then rm -rf "$WORK"; else echo "logs in $WORK" >&2; fi
}
trap cleanup EXIT
ulimit -n 20000 2>/dev/null || true

# start NAME APP PORT: a server of APP with its own data dir; waits for /healthz.
start() {
  local name=$1 app=$2 port=$3
  mkdir -p "$WORK/$name"
  JAC_DATA_PATH=$WORK/$name/data JAC_STORAGE_PATH=$WORK/$name/storage RUST_LOG=warn \
    "$BIN" start "$app" --host 127.0.0.1 --port "$port" > "$WORK/$name/server.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 1200); do  # a Jac app is built at its first start (minutes on debug)
    curl -s -o /dev/null "127.0.0.1:$port/healthz" && return 0
    kill -0 "${PIDS[-1]}" 2>/dev/null || break
    sleep 0.25
  done
  echo "$name did not start:" >&2; cat "$WORK/$name/server.log" >&2; exit 1
}
mkdir -p "$WORK/apps"
cp "$TODO_WASM" "$WORK/apps/todo.wasm"
start rust "$WORK/apps/todo.wasm" "$PORT_BASE"
start jac "$ROOT/examples/todo-jac/app.jac" $((PORT_BASE + 1))
start data "$ROOT/examples/data-jac/app.jac" $((PORT_BASE + 2))
echo "soaking $BIN for $SECS s (warm-up $WARMUP s)" >&2
python3 "$HERE/soak.py" --secs "$SECS" --warmup "$WARMUP" \
  --rust "$PORT_BASE:${PIDS[0]}" --jac "$((PORT_BASE + 1)):${PIDS[1]}" \
  --data "$((PORT_BASE + 2)):${PIDS[2]}" ${SOAK_REPORT:+--report "$SOAK_REPORT"} || STATUS=$?
exit $STATUS
