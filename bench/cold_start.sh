#!/bin/bash
# usage: bench/cold_start.sh BIN [APP_DIR] [PORT]
#   `jac-scale start app.jac` to the first 200 of POST /walker/Ping, three ways:
#   fresh machine   empty compile cache (JAC_SCALE_CACHE_DIR) and empty data dir
#   warm machine    the compile cache of the run before, a new data dir, an edited app
#                   (new sources digest: the app is built and its snapshot compiled)
#   warm            the same app and data dir again (the build and .cwasm are reused)
# A cold app answers from baseline (Winch) code while Cranelift compiles in the
# background; the first two runs also wait for the switch to optimised code (so that the
# next start finds it cached) and print when it happened.
# Prints the wall time of each and the build phases the server logged (debug level).
set -euo pipefail
BIN=$(realpath "$1"); APP_DIR=$(realpath "${2:-$(dirname "$0")/../examples/todo-jac}"); PORT=${3:-8790}
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
CACHE=$WORK/compile-cache
cp -r "$APP_DIR" "$WORK/app"

ms() { date +%s%3N; }

# start DATA_DIR LABEL [wait]: start the server, wait for the first 200 of Ping (and with
# `wait`, for its optimised code), stop it.
start() {
  local data=$1 label=$2 t0 t1 t2 pid
  t0=$(ms)
  JAC_SCALE_CACHE_DIR=$CACHE JAC_DATA_PATH=$data RUST_LOG=info,jac_scale=debug \
    "$BIN" start "$WORK/app/app.jac" --host 127.0.0.1 --port "$PORT" >"$WORK/out" 2>"$WORK/err" &
  pid=$!
  until curl -sf -o /dev/null -X POST "127.0.0.1:$PORT/walker/Ping"; do sleep 0.005; done
  t1=$(ms)
  if [ "${3:-}" = wait ] && grep -q "tier=Baseline" "$WORK/err"; then
    until grep -q "running optimised code" "$WORK/err"; do sleep 0.01; done
    t2=$(ms)
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$label: first 200 after $((t1 - t0)) ms${t2:+, optimised code after $((t2 - t0)) ms}"
  grep -E "build:|built Jac app|component ready|cached build|optimised code" "$WORK/err" \
    | sed -E 's/\x1b\[[0-9;]*m//g; s/^[^ ]+ +//; s/^/    /'
}

start "$WORK/data1" "fresh machine" wait
sed -i 's/report {"pong": True};/report {"pong": "edited"};/' "$WORK/app/app.jac"
start "$WORK/data2" "warm machine, cold app" wait
start "$WORK/data2" "warm"
