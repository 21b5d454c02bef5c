#!/bin/bash
# usage: bench/quick.sh BIN WASM PORT  -> Ping, CreateTodo, ListTodos-100 req/s (wrk -t1 -c16 -d5s)
BIN=$1; WASM=$2; PORT=$3
D=$(mktemp -d)
JAC_DATA_PATH=$D $BIN start $WASM --host 127.0.0.1 --port $PORT > $D/out 2> $D/err &
PID=$!
for i in $(seq 1 100); do curl -s -o /dev/null -X POST 127.0.0.1:$PORT/walker/Ping && break; sleep 0.1; done
B=127.0.0.1:$PORT
curl -s -X POST $B/user/register -H 'Content-Type: application/json' -d '{"email": "b@example.com", "password": "pw"}' > /dev/null
T=$(curl -s -X POST $B/user/login -H 'Content-Type: application/json' -d '{"email": "b@example.com", "password": "pw"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
curl -s -X POST $B/walker/SeedTodos -H "Authorization: Bearer $T" -d '{"n": 100}' > /dev/null
L="$(dirname "$0")/post.lua"
p=$(wrk -t1 -c16 -d5s -s $L http://$B/walker/Ping -- '{}' | grep Requests/sec | awk '{print $2}')
l=$(wrk -t1 -c16 -d5s -s $L http://$B/walker/ListTodos -- '{}' $T | grep Requests/sec | awk '{print $2}')
c=$(wrk -t1 -c16 -d5s -s $L http://$B/walker/CreateTodo -- '{"title":"x"}' $T | grep Requests/sec | awk '{print $2}')
echo "$BIN ping=$p list=$l create=$c"
kill $PID; wait $PID 2>/dev/null; rm -rf $D
