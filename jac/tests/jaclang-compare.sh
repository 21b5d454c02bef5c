#!/usr/bin/env bash
# Compare the conformance transcripts with jaclang itself: runs `jac run NAME.jac` (jaclang
# 0.16.7, e.g. the reference's venv: see ../shared/reference/README.md) on every case that
# has no NAME.calls.json (calls need the embedder API, which `jac run` has not), each in a
# fresh folder (jaclang keeps a graph database in the working directory), and prints
# SAME or DIFF per case; DIFF cases print the diff with --verbose.
#
#   jac/tests/jaclang-compare.sh [--verbose]      (JAC=path/to/jac, default ~/refjac/bin/jac)
set -euo pipefail
JAC=${JAC:-$HOME/refjac/bin/jac}
cases=$(cd "$(dirname "$0")/conformance" && pwd)
verbose=${1:-}
[[ -x $JAC ]] || { echo "no jaclang at $JAC (set JAC)" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for source in "$cases"/*.jac; do
  name=$(basename "$source" .jac)
  [[ -f $cases/$name.calls.json ]] && continue
  mkdir "$scratch/$name" && cp "$source" "$scratch/$name/"
  (cd "$scratch/$name" && timeout 120 "$JAC" run "$name.jac" > ../"$name.out" 2>&1 || true)
  if cmp -s "$scratch/$name.out" "$cases/$name.out"; then
    echo "SAME $name"
  else
    echo "DIFF $name"
    [[ $verbose == --verbose ]] && diff "$scratch/$name.out" "$cases/$name.out" || true
  fi
done
