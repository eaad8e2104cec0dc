#!/usr/bin/env bash
# Every image a tree pulls, found by rendering the real charts with the
# tree's values (plus the tree's own manifests and README commands), equals
# the tree's images.txt: nothing missing, nothing extra; with a registry
# mirror, every image under it with an explicit tag, the mirror rule per
# line, SOURCE registries as the charts publish them, pull secrets on every
# pod that pulls (.ci/check_images.py, whose docstring has the details).
#
# Trees: the restricted-network examples (golden/airgap-*: every chart,
# coder-observability with its sub-charts and the Cluster Autoscaler
# included) and three cheap ones without a mirror. The source check (a
# second render without the mirror's keys) runs on airgap-aws only, which
# holds every chart: a coder-observability render costs 20-30 s here.
#
# MinIO: ../shared's coder-observability lacks loki's minio sub-chart. With
# minio-4.0.15.tgz at .ci/cache/ (git-ignored: third-party code, never
# committed) or in CODER_GEN_CHART_DEPS, the full stack renders; without it
# check_images.py renders with loki.minio disabled and takes MinIO's two
# images from the values keys, and says so loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh

shared="$CODER_GEN_SHARED"
need_path "$shared/charts/coder-observability/Chart.yaml" "the real charts" "put the shared material at ../shared or set CODER_GEN_SHARED" || exit 0

venv=.ci/.venv-images
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import helm_python, yaml' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check helm-python-sdk==0.2.2 PyYAML==6.0.3
fi
py="$venv/bin/python"

deps=()
if [ ! -e "$shared/charts/coder-observability/charts/loki/charts/minio-4.0.15.tgz" ] && [ -z "${CODER_GEN_CHART_DEPS:-}" ]; then
  if [ -f .ci/cache/minio-4.0.15.tgz ]; then
    deps=(--chart-dep .ci/cache/minio-4.0.15.tgz)
  else
    echo "check-images: NOTE: no minio-4.0.15.tgz (shared/, .ci/cache/ or CODER_GEN_CHART_DEPS): MinIO is NOT rendered, see below"
  fi
fi

for t in airgap-gcp airgap-aws airgap-azure; do
  [ -f "golden/$t/images.txt" ] || { echo "check-images: FAILED: golden/$t/images.txt is missing"; exit 1; }
done
fail=0
"$py" .ci/check_images.py --shared "$shared" "${deps[@]}" golden/airgap-aws || fail=1
"$py" .ci/check_images.py --shared "$shared" "${deps[@]}" --no-source-check \
  golden/airgap-gcp golden/airgap-azure golden/quickstart golden/community-gcp golden/1k-aws || fail=1
if [ "$fail" -ne 0 ]; then
  echo "check-images: FAILED"
  exit 1
fi
echo "check-images: ok"
