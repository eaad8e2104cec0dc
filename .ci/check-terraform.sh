#!/usr/bin/env bash
# Real tools on the Terraform of every golden tree and of its sites
# (`sites/*/terraform`; `cargo test` proved them equal to what the code
# renders) and of the Terraform variants
# (tests/data/terraform-variants: read replicas on every cloud, HA off):
#   1. terraform fmt -check: the output is byte-identical to terraform's style
#   2. terraform init -backend=false + validate (AWS; the image carries the
#      hashicorp/aws 5.100.0 provider in a filesystem mirror)
#   3. checkov: 0 parsing errors, 0 failed checks (skips are inline, with reasons)
# google and azurerm have no provider binary offline: `cargo test` checks their
# arguments against the published schemas (tests/data/provider-schemas).
# The variants are rendered with target/debug/coder-gen, the binary `cargo
# test` built (no second build: `cargo build` would recompile crates whose
# features differ without dev-dependencies); .ci/run runs cargo test first.
# With CARGO_TARGET_DIR set, the binary is looked for there; CODER_GEN_BIN
# names it outright.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh

CHECKOV_VERSION=3.3.30
AWS_PROVIDER_VERSION=5.100.0

need_cmd terraform "install Terraform >= 1.11; fmt, validate and checkov need it" || exit 0
need_cmd python3 "install Python 3 for checkov" || exit 0
bin=${CODER_GEN_BIN:-${CARGO_TARGET_DIR:-target}/debug/coder-gen}
if [ ! -x "$bin" ]; then
  echo "FAIL: $bin is missing: run \`cargo test\` first (.ci/run does), or set CODER_GEN_BIN" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# An empty CLI config, so a missing ~/.terraformrc does not warn.
: >"$work/empty.tfrc"
export TF_CLI_CONFIG_FILE="$work/empty.tfrc"
export CHECKPOINT_DISABLE=1

# Terraform dirs to check: goldens, plus the variants rendered by the binary
# that `cargo test` just built.
dirs=()
for d in golden/*/terraform; do dirs+=("$d"); done
# Every site's node pools (cloud sites; on-prem sites have no Terraform).
for d in golden/*/sites/*/terraform; do [ -d "$d" ] && dirs+=("$d"); done
for spec in tests/data/terraform-variants/*.yaml; do
  out="$work/variants/$(basename "$spec" .yaml)"
  "$bin" render "$spec" -o "$out" >/dev/null 2>"$work/render.err" || {
    cat "$work/render.err" >&2
    exit 1
  }
  dirs+=("$out/terraform")
  for d in "$out"/sites/*/terraform; do [ -d "$d" ] && dirs+=("$d"); done
done

echo "-- terraform fmt -check ($(terraform version | head -1)) [${SECONDS}s]"
for d in "${dirs[@]}"; do
  terraform fmt -check -diff -recursive "$d"
done

echo "-- terraform validate (hashicorp/aws $AWS_PROVIDER_VERSION from the filesystem mirror) [${SECONDS}s]"
# TF_PROVIDER_MIRROR names the filesystem mirror; else it is searched for.
if [ -n "${TF_PROVIDER_MIRROR:-}" ]; then
  mirror_dir=$TF_PROVIDER_MIRROR/registry.terraform.io/hashicorp/aws
else
  mirror_dir=$(find / -maxdepth 6 -path '*registry.terraform.io/hashicorp/aws' -type d 2>/dev/null | head -1 || true)
fi
if [ -z "$mirror_dir" ] || ! ls "$mirror_dir" 2>/dev/null | grep -q "$AWS_PROVIDER_VERSION"; then
  missing "the hashicorp/aws $AWS_PROVIDER_VERSION provider mirror (${mirror_dir:-none found})" \
    "set TF_PROVIDER_MIRROR to a filesystem mirror holding registry.terraform.io/hashicorp/aws/$AWS_PROVIDER_VERSION" || true
else
  mirror=${mirror_dir%/registry.terraform.io/hashicorp/aws}
  cat >"$work/mirror.tfrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
}
EOF
  # Every copy takes hashicorp/aws at the mirror's version.
  pin_provider() { # dir
    printf 'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n      version = "%s"\n    }\n  }\n}\n' "$AWS_PROVIDER_VERSION" >"$1/zz_override.tf"
  }
  # validate cannot see a name prefix built from `${each.key}` (a variable's
  # zone): write the zone out as the longest the region has (`<region>a`),
  # so the provider checks its length (EKS: 37 characters) as `plan` would.
  literal_zones() { # dir
    local region
    region=$(sed -n 's/^ *region *= *"\([a-z0-9-]*\)".*/\1/p' "$1/versions.tf" | head -1)
    [ -n "$region" ] || { echo "FAIL $1/versions.tf names no provider region" >&2; exit 1; }
    sed -i '/node_group_name_prefix/ s/[$][{]each[.]key[}]/'"${region}a/" "$1/node_pools.tf"
  }
  # A copy of SRC at DEST that validate can judge: the zones written out and
  # the provider pinned to the mirror's version.
  prepare_copy() { # src dest
    cp -r "$1" "$2"
    literal_zones "$2"
    pin_provider "$2"
  }
  # init + validate of DIR into DIR.init, DIR.json (the verdict) and DIR.err;
  # the caller judges them (an invalid tree is an answer, not an error here).
  validate_dir() { # dir
    if TF_CLI_CONFIG_FILE="$work/mirror.tfrc" terraform -chdir="$1" init -backend=false -input=false >"$1.init" 2>&1; then
      TF_CLI_CONFIG_FILE="$work/mirror.tfrc" terraform -chdir="$1" validate -json >"$1.json" 2>"$1.err" || true
    fi
  }
  export -f validate_dir
  export work
  # A copy of each (init writes .terraform/; the provider is linked from the
  # mirror, not copied), then init + validate two at a time (each is mostly
  # the provider's start-up), judged in order.
  mkdir -p "$work/validate"
  aws=()
  for i in "${!dirs[@]}"; do
    [ -d "${dirs[$i]}/aws" ] || continue
    prepare_copy "${dirs[$i]}/aws" "$work/validate/$i"
    aws+=("$i")
  done
  printf '%s\0' "${aws[@]}" | xargs -0 -P 2 -I{} bash -c 'validate_dir "$1"' _ "$work/validate/{}"
  for i in "${aws[@]}"; do
    d=${dirs[$i]}
    if [ ! -s "$work/validate/$i.json" ]; then
      echo "terraform init or validate failed for $d:" >&2
      cat "$work/validate/$i.init" "$work/validate/$i.err" >&2 2>/dev/null || true
      exit 1
    fi
    if ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["valid"] and d["warning_count"] == 0 else 1)' "$work/validate/$i.json"; then
      echo "terraform validate failed for $d:" >&2
      cat "$work/validate/$i.json" >&2
      exit 1
    fi
    echo "   $d: valid"
  done
  # The longest names coder-gen accepts (tests/data/terraform-variants/
  # aws-longest-names.yaml) sit at the limit: one character more must fail,
  # or the check above proves nothing about name lengths.
  copy="$work/validate/longest-plus-one"
  prepare_copy "$work/variants/aws-longest-names/terraform/aws" "$copy"
  sed -i '/node_group_name_prefix/ s/"initech-pe-workspace-/"initech-pex-workspace-/' "$copy/node_pools.tf"
  grep -q '"initech-pex-workspace-ap-southeast-1a-"' "$copy/node_pools.tf" || { echo "FAIL the longest-name variant no longer names its workspace node groups as expected" >&2; exit 1; }
  validate_dir "$copy"
  if grep -q 'expected length of node_group_name_prefix to be in the range (0 - 37)' "$copy.json" 2>/dev/null; then
    echo "   a node group name prefix one character over the longest coder-gen accepts fails validate (EKS allows 37)"
  else
    echo "FAIL a 38-character node group name prefix passed terraform validate: the length check proves nothing" >&2
    cat "$copy.init" "$copy.err" >&2 2>/dev/null || true
    exit 1
  fi
  rm -rf "$work/validate"
fi

echo "-- Terraform CLI configurations (network.terraform_providers) [${SECONDS}s]"
# Each tree's terraform.tfrc and every cli.tfrc a values file's extraTemplates
# mounts into provisioners (or coderd) must be read by Terraform without a
# "problems with the CLI configuration" report.
tfrc_of() { # values.yaml -> the .tfrc of its extraTemplates ConfigMap, if any
  python3 -c '
import sys, yaml
v = yaml.safe_load(open(sys.argv[1])) or {}
for t in v.get("extraTemplates") or []:
    cm = yaml.safe_load(t.replace("{{ .Release.Namespace }}", "ns"))
    for k, body in ((cm or {}).get("data") or {}).items():
        if k.endswith(".tfrc"):
            sys.stdout.write(body)
' "$1"
}
python3 -c 'import yaml' 2>/dev/null || missing "PyYAML for python3" "pip install PyYAML (reads the CLI configurations from the values files)" || true
checked=0
for tree in golden/*/; do
  configs=()
  [ -f "${tree}terraform.tfrc" ] && configs+=("${tree}terraform.tfrc")
  while IFS= read -r values; do
    out="$work/tfrc-$checked-$(echo "$values" | tr '/' '_').tfrc"
    tfrc_of "$values" >"$out"
    [ -s "$out" ] && configs+=("$out")
  done < <(find "${tree}helm" -name values.yaml | sort)
  for c in "${configs[@]}"; do
    if TF_CLI_CONFIG_FILE="$c" terraform version 2>&1 | grep -q "problems with the CLI configuration"; then
      echo "FAIL $c: Terraform reports problems with this CLI configuration:" >&2
      TF_CLI_CONFIG_FILE="$c" terraform version >&2 || true
      exit 1
    fi
    checked=$((checked + 1))
  done
done
[ "$checked" -gt 0 ] || { echo "FAIL no golden tree has a Terraform CLI configuration (examples/airgap-*)" >&2; exit 1; }
echo "   $checked CLI configurations read without problems"
# The mirror-only form really installs: the filesystem-mirror configuration
# coder-gen writes for provisioners, pointed at this machine's AWS provider
# mirror, lets `terraform init` install with nothing else (no direct).
if [ -n "${mirror:-}" ]; then
  sed "s|mirror_url: .*|mirror_path: $mirror|" examples/airgap-aws.yaml >"$work/airgap-fs.yaml"
  "$bin" render "$work/airgap-fs.yaml" -o "$work/airgap-fs" >/dev/null 2>"$work/render.err" || { cat "$work/render.err" >&2; exit 1; }
  tfrc_of "$work/airgap-fs/helm/coder-provisioner/coder-provisioners/values.yaml" >"$work/provisioner.tfrc"
  grep -q "filesystem_mirror" "$work/provisioner.tfrc" || { echo "FAIL no filesystem_mirror in the rendered provisioner CLI configuration" >&2; exit 1; }
  copy="$work/fs-init"
  rm -rf "$copy"
  cp -r golden/airgap-aws/terraform/aws "$copy"
  pin_provider "$copy"
  TF_CLI_CONFIG_FILE="$work/provisioner.tfrc" terraform -chdir="$copy" init -backend=false -input=false >"$work/init.log" 2>&1 || {
    cat "$work/init.log"
    exit 1
  }
  echo "   the provisioners' filesystem-mirror configuration installs hashicorp/aws from the mirror alone"
  rm -rf "$copy"
fi

echo "-- checkov $CHECKOV_VERSION [${SECONDS}s]"
venv=.ci/.venv-checkov
if ! "$venv/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi
# Two at a time (each run is mostly checkov's start-up, on one core), each
# into its own JSON file; then judged in order. rc 1 on failed checks, but a
# syntax error gives rc 0 with parsing_errors: the JSON decides.
mkdir -p "$work/checkov"
for i in "${!dirs[@]}"; do printf '%s\0%s\0' "$i" "${dirs[$i]}"; done \
  | xargs -0 -n 2 -P 2 sh -c '"$0" -d "$3" --framework terraform --compact --quiet -o json --skip-download >"$1$2.json" 2>"$1$2.err" || true' \
    "$venv/bin/checkov" "$work/checkov/" 2>/dev/null || true
for i in "${!dirs[@]}"; do
  d=${dirs[$i]}
  python3 - "$d" "$work/checkov/$i.json" <<'EOF'
import json, sys
name, path = sys.argv[1], sys.argv[2]
try:
    data = json.load(open(path))
except OSError:
    sys.exit(f"{name}: checkov wrote no report ({path})")
except ValueError:
    sys.exit(f"{name}: checkov produced no JSON: {open(path).read()[:500]}")
reports = data if isinstance(data, list) else [data]
bad = []
for r in reports:
    s = r.get("summary", {})
    if s.get("parsing_errors", 0) != 0:
        bad.append(f"parsing errors: {s.get('parsing_errors')}")
    for f in r.get("results", {}).get("failed_checks", []):
        bad.append(f"{f['check_id']} {f['resource']} ({f['file_path']}): {f['check_name']}")
    if s.get("resource_count", 0) == 0:
        bad.append("no resources scanned")
if bad:
    sys.exit(f"checkov failed for {name}:\n  " + "\n  ".join(bad))
s = reports[0]["summary"]
print(f"   {name}: {s['passed']} passed, {s['skipped']} skipped (inline, with reasons), 0 failed, 0 parsing errors")
EOF
done
echo "-- check-terraform: all passed [${SECONDS}s]"
