#!/usr/bin/env bash
# (Re)write the committed seed corpus of every target from examples/ and the
# error catalogue (tests/inputs/invalid/). libFuzzer adds what it finds beside
# them (ignored by git); only seed-* files are committed.
set -euo pipefail
cd "$(dirname "$0")"
for target in pipeline_bytes pipeline_structured file_name_and_output; do
  dir=corpus/$target
  mkdir -p "$dir"
  rm -f "$dir"/seed-*
  for f in ../examples/*.yaml; do cp "$f" "$dir/seed-example-$(basename "$f" .yaml)"; done
  for f in ../tests/inputs/invalid/*.yaml; do cp "$f" "$dir/seed-invalid-$(basename "$f" .yaml)"; done
done
