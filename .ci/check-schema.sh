#!/usr/bin/env bash
# The committed JSON Schema (schema/coder-gen.schema.json, which `cargo test`
# proved equal to `coder-gen schema`) checked by a real JSON Schema validator,
# check-jsonschema (pinned, in .ci/.venv-schema):
#   - every example spec is valid (examples/ and the override examples in
#     overlays/);
#   - every tests/data/schema/bad-*.yaml is invalid, for the reasons it names;
#   - the CI examples (examples/ci/, examples/gitops/github-workflow.yml) are
#     valid GitHub Actions and GitLab CI files (the vendored schemas).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
need_cmd python3 "install Python 3; check-jsonschema is a pip package" || exit 0

CHECK_JSONSCHEMA_VERSION=0.35.0
venv=.ci/.venv-schema
if ! "$venv/bin/check-jsonschema" --version 2>/dev/null | grep -q "$CHECK_JSONSCHEMA_VERSION"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "check-jsonschema==$CHECK_JSONSCHEMA_VERSION"
fi
schema=schema/coder-gen.schema.json

echo "-- check-jsonschema $CHECK_JSONSCHEMA_VERSION: every example is valid"
"$venv/bin/check-jsonschema" --schemafile "$schema" examples/*.yaml overlays/*.yaml

echo "-- the CI examples are valid workflow files (check-jsonschema's vendored schemas)"
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows examples/ci/github-actions.yml examples/gitops/github-workflow.yml
"$venv/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci examples/ci/gitlab-ci.yml

echo "-- every tests/data/schema/bad-*.yaml is refused"
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for bad in tests/data/schema/bad-*.yaml; do
  if "$venv/bin/check-jsonschema" --schemafile "$schema" "$bad" >"$out" 2>&1; then
    echo "FAIL: $bad passed the schema"; fail=1; continue
  fi
  # The validator must object to what the file's comment says, not to
  # something else (a broken schema also fails).
  case "$bad" in
    *typos*) want=("userz" "regoin" "1,800" "yes") ;;
    *region*) want=("us-central1") ;;
    *) want=() ;;
  esac
  for w in "${want[@]}"; do
    grep -q -- "$w" "$out" || { echo "FAIL: $bad: the validator did not mention $w:"; cat "$out"; fail=1; }
  done
  echo "   $bad: refused"
done
[ "$fail" = 0 ] || { echo "check-schema: FAILED"; exit 1; }
echo "check-schema: ok"
