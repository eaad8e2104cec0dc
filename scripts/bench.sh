#!/usr/bin/env bash
# Whole-process timings of the release binary: `plan`, `render` (into a fresh
# directory) and `check` (an up-to-date directory) for every example.
# Uses hyperfine when it is on PATH, else the mean of N runs timed here.
# Usage: scripts/bench.sh [runs]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}

cargo build --release --locked --quiet
bin=$PWD/target/release/coder-gen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Mean wall time of "$@" over $runs runs, in milliseconds.
mean_ms() {
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  echo "scale=1; ($end - $start) / $runs / 1000000" | bc
}

if command -v hyperfine >/dev/null 2>&1; then
  for spec in examples/*.yaml; do
    name=$(basename "$spec" .yaml)
    "$bin" render "$spec" -o "$work/$name" >/dev/null 2>&1
    hyperfine --warmup 3 --runs "$runs" --style basic \
      -n "plan $name" "$bin plan $spec" \
      -n "render $name" --prepare "rm -rf $work/fresh" "$bin render $spec -o $work/fresh" \
      -n "check $name" "$bin check $spec -o $work/$name"
  done
  exit 0
fi

printf '%-22s %8s %8s %8s   (ms, mean of %s runs)\n' example plan render check "$runs"
for spec in examples/*.yaml; do
  name=$(basename "$spec" .yaml)
  "$bin" render "$spec" -o "$work/$name" >/dev/null 2>&1
  plan=$(mean_ms "$bin" plan "$spec")
  # render into a fresh directory each time (removing it is timed too, and is small)
  render=$(mean_ms bash -c "rm -rf '$work/fresh' && '$bin' render '$spec' -o '$work/fresh'")
  check=$(mean_ms "$bin" check "$spec" -o "$work/$name")
  printf '%-22s %8s %8s %8s\n' "$name" "$plan" "$render" "$check"
done
