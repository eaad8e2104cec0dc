# Sourced by .ci/run and .ci/check-*.sh: prerequisites from outside the
# repository. Under CI=true a missing one FAILS the run, naming it; elsewhere
# it is reported as SKIPPED (the checks that need it did not run) and the
# function returns 1 so the caller can skip just those checks.

# The shared reference material: $CODER_GEN_SHARED, default ../shared.
CODER_GEN_SHARED=${CODER_GEN_SHARED:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared}
export CODER_GEN_SHARED

missing() { # what, how
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $1 is missing ($2); under CI=true every check must run" >&2
    exit 1
  fi
  echo "SKIP (CI is not true): $1 is missing ($2); the checks that need it did NOT run" >&2
  return 1
}

need_cmd() { # command, how
  command -v "$1" >/dev/null 2>&1 || missing "\`$1\` on PATH" "$2"
}

need_path() { # path, what, how
  [ -e "$1" ] || missing "$2 ($1)" "$3"
}
