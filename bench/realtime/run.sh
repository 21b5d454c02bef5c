#!/bin/bash
# Realtime targets of issue 5, measured in one run:
#   1. a signed webhook call vs a plain public walker call (wrk, interleaved rounds):
#      PaymentReceived at /webhook/ (API key + HMAC of a fixed body, signed once here)
#      vs the same walker body as PaymentPreview at /walker/ (same server), and the todo
#      app's public Ping (second server). Reports req/s and server CPU per request.
#   2. WebSocket echo round trips with 100 clients (one at a time, and all at once).
#   3. broadcast fan-out: time until 1,000 connected clients have a ChatRoom message.
#
# usage: bench/realtime/run.sh [ROUNDS]   (default 3; builds nothing, see below)
# needs: wrk, curl, openssl, and release builds in $CARGO_TARGET_DIR (default
# /work/target-release):
#   cargo build --release -p jac-scale -p realtime-bench
#   cargo build --release --target wasm32-wasip2 -p realtime -p todo
set -euo pipefail
ROUNDS=${1:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
T=${CARGO_TARGET_DIR:-/work/target-release}
BIN=${JAC_SCALE_BIN:-$T/release/jac-scale}
WS_BENCH=${WS_BENCH:-$T/release/ws-bench}
REALTIME_WASM=${REALTIME_WASM:-$T/wasm32-wasip2/release/realtime.wasm}
TODO_WASM=${TODO_WASM:-$T/wasm32-wasip2/release/todo.wasm}
DURATION=${DURATION:-5s}
PORT_RT=${PORT_RT:-18200}
PORT_TODO=${PORT_TODO:-18201}
ulimit -n 20000

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The realtime app with the rate limit out of the way (a limit this high still runs the
# limiter's bookkeeping on every call).
mkdir -p "$WORK/rt" "$WORK/todo"
cp "$REALTIME_WASM" "$WORK/rt/realtime.wasm"
cat > "$WORK/rt/jac.toml" <<'TOML'
[plugins.scale.webhook]
rate_limit_per_minute = 1000000000
TOML
cp "$TODO_WASM" "$WORK/todo/todo.wasm"

start() { # DIR WASM PORT
  JAC_DATA_PATH=$1/data RUST_LOG=warn "$BIN" start "$1/$2" --host 127.0.0.1 --port "$3" \
    > "$1/out.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "127.0.0.1:$3/healthz" && return 0
    sleep 0.05
  done
  echo "server on port $3 did not start" >&2; cat "$1/out.log" >&2; exit 1
}
start "$WORK/rt" realtime.wasm "$PORT_RT"
RT_PID=${PIDS[0]}
start "$WORK/todo" todo.wasm "$PORT_TODO"
TODO_PID=${PIDS[1]}

RT=127.0.0.1:$PORT_RT
curl -s -X POST "$RT/user/register" -H 'Content-Type: application/json' \
  -d '{"email": "bench@example.com", "password": "bench-pass"}' > /dev/null
TOKEN=$(curl -s -X POST "$RT/user/login" -H 'Content-Type: application/json' \
  -d '{"email": "bench@example.com", "password": "bench-pass"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
API_KEY=$(curl -s -X POST "$RT/api-key/create" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"name": "bench"}' | sed 's/.*"api_key":"\([^"]*\)".*/\1/')
PAYLOAD='{"payment_id":"PAY-12345","amount":99.99,"currency":"USD"}'
SIGNATURE=$(echo -n "$PAYLOAD" | openssl dgst -sha256 -hmac "$API_KEY" | cut -d' ' -f2)
check=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RT/webhook/PaymentReceived" \
  -H "X-API-Key: $API_KEY" -H "X-Webhook-Signature: $SIGNATURE" -d "$PAYLOAD")
[ "$check" = 200 ] || { echo "signed webhook call answered $check" >&2; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# SCENARIO PID URL LUA ARGS... -> "scenario req/s cpu_us_per_req non2xx p50 p99"
measure() {
  local name=$1 pid=$2 url=$3 lua=$4; shift 4
  local before after out
  before=$(cpu_ticks "$pid")
  out=$(wrk -t1 -c16 -d"$DURATION" --latency -s "$lua" "$url" -- "$@")
  after=$(cpu_ticks "$pid")
  echo "$out" | awk -v name="$name" -v ticks=$((after - before)) -v hz="$TICK" -v d="${DURATION%s}" '
    /Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad = $NF }
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    END { printf "%-16s %10.0f req/s %8.1f us CPU/req  non-2xx %s  p50 %s p99 %s\n",
          name, rps, ticks / hz / (rps * d) * 1e6, (bad == "" ? 0 : bad), p50, p99 }'
}

echo "== load before: $(uptime)"
echo "== webhook vs plain (wrk -t1 -c16 -d$DURATION, $ROUNDS rounds)"
for round in $(seq 1 "$ROUNDS"); do
  echo "-- round $round"
  measure todo-Ping "$TODO_PID" "http://127.0.0.1:$PORT_TODO/walker/Ping" "$HERE/../post.lua" '{}'
  measure PaymentPreview "$RT_PID" "http://$RT/walker/PaymentPreview" "$HERE/../post.lua" "$PAYLOAD"
  measure webhook "$RT_PID" "http://$RT/webhook/PaymentReceived" "$HERE/webhook.lua" \
    "$PAYLOAD" "$API_KEY" "$SIGNATURE"
done

echo "== WebSocket (ws-bench)"
WS=ws://$RT/ws
"$WS_BENCH" echo-seq "$WS/EchoMessage" 100 3000
"$WS_BENCH" echo-burst "$WS/EchoMessage" 100 50
"$WS_BENCH" broadcast "$WS/ChatRoom" 1000 30
echo "== load after: $(uptime)"
