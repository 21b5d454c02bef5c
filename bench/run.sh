#!/usr/bin/env bash
# Build what the benchmark needs, then run every server side by side in one run.
#
#   bench/run.sh [--no-build] [suite.py options, e.g. --rounds 9 --secs 10]
#
# Results: bench/results/<date>-<host>.{md,json}. See bench/README.md for the
# prerequisites (wrk, the Python reference, the wasmtime CLI) and the environment below.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REFERENCE=${REFERENCE:-$ROOT/../shared/reference}      # app.jac, wasmtime-serve-hello/
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=${BENCH_WORK:-/tmp/jac-scale-bench}               # data dirs, logs, built hello component
REFJAC=${REFJAC:-$HOME/refjac/bin/jac}                 # the reference's `jac` (a venv)
WASMTIME=${WASMTIME:-$(command -v wasmtime || true)}   # wasmtime CLI 48.0.8
TOOLCHAIN=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$ROOT/rust-toolchain.toml")

build=1
if [[ ${1:-} == --no-build ]]; then build=0; shift; fi

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
mkdir -p "$WORK"

ours=$TARGET_DIR/release/jac-scale
todo=$TARGET_DIR/wasm32-wasip2/release/todo.wasm
axum=$TARGET_DIR/release/axum-baseline
hello_dir=$WORK/hello-http
hello=$hello_dir/target/wasm32-wasip2/release/hello_http.wasm

if ((build)); then
  (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -p jac-scale -p axum-baseline)
  (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release --target wasm32-wasip2 -p todo)
  # The hello component is reference material: build a copy, outside any workspace.
  mkdir -p "$hello_dir"
  cp -r --no-preserve=mode "$REFERENCE/wasmtime-serve-hello/." "$hello_dir/"
  (cd "$hello_dir" && cargo "+$TOOLCHAIN" build --release --target wasm32-wasip2)
fi

args=(--work-dir "$WORK" --ours "$ours" --ours-wasm "$todo" --axum "$axum")
if [[ -x $REFJAC ]]; then
  # A writable copy of the reference app; its compile cache survives between runs here.
  app=$WORK/reference-app
  mkdir -p "$app"
  install -m 644 "$REFERENCE/app.jac" "$app/app.jac"
  install -m 644 "$REFERENCE/bench/jac.toml.default" "$app/jac.toml"
  args+=(--reference-jac "$REFJAC" --reference-app-dir "$app")
else
  echo "warning: no reference at $REFJAC (see bench/README.md); running without it" >&2
fi
if [[ -n $WASMTIME && -f $hello ]]; then
  args+=(--wasmtime "$WASMTIME" --wasmtime-hello "$hello")
else
  echo "warning: no wasmtime CLI or hello component; running without wasmtime serve" >&2
fi

mkdir -p "$ROOT/bench/results"
out=$ROOT/bench/results/$(date -u +%Y-%m-%d-%H%M)-$(hostname -s)
python3 "$ROOT/bench/suite.py" "${args[@]}" --out "$out" "$@"
echo "results: $out.md"
