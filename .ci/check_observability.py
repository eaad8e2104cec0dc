"""Render Coder's coder-observability chart (its own templates; the
sub-charts are not vendored, so they are disabled) with a golden tree's
helm/coder-observability/values.yaml, as the README's helm command would
(global.postgres.hostname set on the command line), and check that:
  - the chart renders (a template error fails);
  - every rendered object passes strict schema validation;
  - the Postgres exporters connect as the tree's read-only role with TLS, and
    take the password from the secret only (no password in any object);
  - the tree's namespaces reach the dashboards (control plane, provisioners,
    workspaces selector).
Usage: check_observability.py SHARED_DIR TREE K8S_VERSION"""
import copy
import sys

import helm_python
import kubernetes_validate as kv
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

shared, tree, k8s_version = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]
SUBCHARTS = ["grafana", "prometheus", "loki", "grafana-agent", "pyroscope", "tempo"]
HOST = "db.example.internal"

values = yaml.safe_load(open(f"{tree}/helm/coder-observability/values.yaml"))
v = copy.deepcopy(values)
v["global"]["postgres"]["hostname"] = HOST
for sub in SUBCHARTS:
    v.setdefault(sub, {})["enabled"] = False

chart = helm_python.Chart.load(f"{shared}/charts/coder-observability")
files = chart.render(v, name="coder-observability", namespace="coder-observability", is_install=True)
docs, text = [], []
for path, body in sorted(files.items()):
    if path.endswith("NOTES.txt") or path.split("/")[-1].startswith("_"):
        continue
    text.append(body)
    docs += [d for d in yaml.safe_load_all(body) if d]

fail = []
for d in docs:
    try:
        kv.validate(d, k8s_version, strict=True)
    except (SchemaNotFoundError, ValidationError) as e:
        fail.append(f"{d.get('kind')}/{d['metadata'].get('name')}: {str(e).splitlines()[0]}")

pg = values["global"]["postgres"]
want_dsn = f"postgresql://{pg['username']}@{HOST}:{pg['port']}/{pg['database']}?sslmode={pg['sslmode']}"
exporter = [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "postgres-exporter"]
if not exporter:
    fail.append("no postgres-exporter StatefulSet")
for d in exporter:
    c = d["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in c.get("env") or []}
    if env.get("DATA_SOURCE_NAME") != want_dsn:
        fail.append(f"postgres-exporter DATA_SOURCE_NAME {env.get('DATA_SOURCE_NAME')!r}, want {want_dsn!r}")
    refs = [s.get("secretRef", {}).get("name") for s in c.get("envFrom") or []]
    if pg["mountSecret"] not in refs:
        fail.append(f"postgres-exporter does not mount secret {pg['mountSecret']} (envFrom {refs})")
sql = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "sql-exporter-config"]
if not sql or want_dsn not in sql[0]["data"]["config.yaml"]:
    fail.append("sql-exporter-config does not use the exporter role's DSN")
for d in docs:
    for c in ((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers", []):
        for e in c.get("env") or []:
            if e["name"] in ("PGPASSWORD", "DATA_SOURCE_PASS") and "value" in e:
                fail.append(f"{d['kind']}/{d['metadata']['name']}: {e['name']} has a literal value")

rendered = "\n".join(text)
gc = values["global"]["coder"]
for what, needle in [
    ("control plane namespace", f"namespace=`{gc['controlPlaneNamespace']}`"),
    ("provisioner namespace", f"namespace=`{gc['externalProvisionersNamespace']}`"),
    ("workspaces selector", gc["workspacesSelector"]),
]:
    # Dashboards are JSON in ConfigMaps: backticks arrive as they are.
    if needle not in rendered:
        fail.append(f"{what} `{needle}` appears in no rendered dashboard or rule")

# The coderd replica alert thresholds arrive in the rule.
thresholds = gc.get("alerts", {}).get("coderd", {}).get("groups", {}).get("Replicas", {}).get("thresholds", {})
for severity, n in thresholds.items():
    if not any("CoderdReplicas" in t and f") < {n}" in t for t in text):
        fail.append(f"CoderdReplicas {severity} threshold {n} is in no rendered rule")

print(f"{tree}: coder-observability rendered {len(docs)} objects, {len(fail)} problems")
for f in fail:
    print(f"FAIL {f}")
sys.exit(1 if fail or not docs else 0)
