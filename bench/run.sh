#!/usr/bin/env bash
# Build what the benchmark needs, then run every server side by side in one run.
#
#   bench/run.sh [--no-build | --worktree] [suite.py options, e.g. --rounds 9 --secs 10]
#
# By default the servers are built from `git archive $BENCH_REV` (HEAD) exported under
# $BENCH_WORK/src, so the numbers belong to one exact commit even while others edit the
# checkout; --worktree builds the checkout as it is instead; --no-build reuses the last build.
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

REV=${BENCH_REV:-HEAD}
mode=export
case ${1:-} in
  --no-build) mode=none; shift ;;
  --worktree) mode=worktree; shift ;;
esac

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
mkdir -p "$WORK"

ours=$TARGET_DIR/release/jac-scale
todo=$TARGET_DIR/wasm32-wasip2/release/todo.wasm
axum=$TARGET_DIR/release/axum-baseline
hello_dir=$WORK/hello-http
hello=$hello_dir/target/wasm32-wasip2/release/hello_http.wasm

commit_file=$WORK/built-commit
# BENCH_BEFORE_REV: also serve the apps on the host as it was at that commit (targets
# `before`, `before-jac`), built into the same target dir (shared dependencies build once)
# and copied out before the revision under test is built, so a change is judged against
# its predecessor in the same run.
before_dir=$WORK/before
if [[ -n ${BENCH_BEFORE_REV:-} && $mode != none ]]; then
  before_src=$WORK/src-before
  rm -rf "$before_src" && mkdir -p "$before_src" "$before_dir"
  # -m: the files get the time of extraction, so cargo never takes an earlier build of
  # other sources (git archive stamps them with the commit's time) for this one.
  git -C "$ROOT" archive "$BENCH_BEFORE_REV" | tar -xm -C "$before_src"
  (cd "$before_src" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -p jac-scale)
  cp "$TARGET_DIR/release/jac-scale" "$before_dir/jac-scale"
  (cd "$before_src" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release --target wasm32-wasip2 -p todo)
  cp "$todo" "$before_dir/todo.wasm"
  git -C "$ROOT" rev-parse --short=12 "$BENCH_BEFORE_REV" > "$before_dir/commit"
fi

if [[ $mode != none ]]; then
  src=$ROOT
  commit=$(git -C "$ROOT" describe --always --dirty --abbrev=12)
  if [[ $mode == export ]]; then
    src=$WORK/src
    rm -rf "$src" && mkdir -p "$src"
    git -C "$ROOT" archive "$REV" | tar -xm -C "$src"
    commit=$(git -C "$ROOT" rev-parse --short=12 "$REV")
  fi
  (cd "$src" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -p jac-scale -p axum-baseline)
  (cd "$src" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release --target wasm32-wasip2 -p todo)
  echo "$commit" > "$commit_file"
  # The hello component is reference material: build a copy, outside any workspace.
  mkdir -p "$hello_dir"
  cp -r --no-preserve=mode "$REFERENCE/wasmtime-serve-hello/." "$hello_dir/"
  (cd "$hello_dir" && cargo "+$TOOLCHAIN" build --release --target wasm32-wasip2)
fi

# A copy of the Jac todo app, so its `.jac` build cache stays out of the checkout.
jac_app=$WORK/todo-jac
mkdir -p "$jac_app"
cp "${src:-$ROOT}/examples/todo-jac/app.jac" "${src:-$ROOT}/examples/todo-jac/jac.toml" "$jac_app/"

args=(--work-dir "$WORK" --ours "$ours" --ours-wasm "$todo" --ours-jac-app "$jac_app/app.jac"
      --axum "$axum")
if [[ -f $commit_file ]]; then args+=(--commit "$(cat "$commit_file")"); fi
if [[ -n ${BENCH_BEFORE_REV:-} && -x $before_dir/jac-scale ]]; then
  args+=(--before "$before_dir/jac-scale" --before-wasm "$before_dir/todo.wasm"
         --before-commit "$(cat "$before_dir/commit")")
fi
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
