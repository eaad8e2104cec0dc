"""Render Coder's coder-observability chart with its sub-charts (Grafana,
Prometheus with Alertmanager, Loki with MinIO, grafana-agent) and a golden
tree's helm/coder-observability/values.yaml, as the README's helm command
would (global.postgres.hostname set on the command line), and check that:
  - the chart renders (a template error fails);
  - every rendered object passes strict schema validation;
  - the Postgres exporters connect as the tree's read-only role with TLS, and
    take the password from the secret only (no password in any object);
  - the tree's namespaces reach the dashboards (control plane, provisioners,
    workspaces selector) and the coderd replica thresholds the alert rule;
  - the secure defaults arrive (issue #24), whatever the values say:
    * Grafana: anonymous access off; an admin whose user and password come
      from a Secret (GF_SECURITY_ADMIN_* by secretKeyRef, which the grafana
      chart writes only while GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION is
      false), or OIDC with the login form off and the client secret from a
      Secret (no client_secret in grafana.ini);
    * Alertmanager: with a receiver in the values, the route sends to it and
      its URL or key is read from a file of a Secret mounted read-only (no
      URL or key in the config);
    * Loki: the values' retention period in its config with the compactor's
      retention on; its object store's login expanded from the environment
      (-config.expand-env, envFrom the Secret) on write, read and backend;
      MinIO's root login from that Secret; no MinIO user besides root (no
      make-user Job); the charts' default passwords nowhere;
    * no Secret object is rendered (every credential is the operator's).

The loki chart's minio sub-chart is missing from ../shared (its .gitignore
dropped it). Supply the released archive (minio-4.0.15.tgz from minio/minio
git, helm-releases/, commit 9528b55c) with CODER_GEN_CHART_DEPS=PATH[:PATH];
without it Loki is not rendered: under CI=true that fails, elsewhere the Loki
checks are reported as SKIPPED.

With --own-templates the sub-charts are off: only coder-observability's own
templates are rendered and checked (the exporters, dashboards, rules, no
Secret, no default password). .ci/check-observability.sh renders a few trees
whole, one per kind of values (receiver, OIDC, mirror, none), and the rest so.

Usage: check_observability.py SHARED_DIR TREE K8S_VERSION [--own-templates]"""
import copy
import os
import shutil
import sys
import tempfile

import helm_python
import kubernetes_validate as kv
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

shared, tree, k8s_version = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]
own_templates = sys.argv[4:] == ["--own-templates"]
HOST = "db.example.internal"
NAMESPACE = "coder-observability"
# Passwords the charts ship as defaults: a tree must never deploy them.
DEFAULT_PASSWORDS = ["supersecret", "console123"]

values = yaml.safe_load(open(f"{tree}/helm/coder-observability/values.yaml"))
v = copy.deepcopy(values)
v["global"]["postgres"]["hostname"] = HOST
# What the tree does not run stays off (the chart's defaults, made explicit).
for sub in ["pyroscope", "tempo"] + (["grafana", "prometheus", "loki", "grafana-agent"] if own_templates else []):
    v.setdefault(sub, {})["enabled"] = False

fail = []
skipped = []
# Checks that ran on less than the whole chart, and why (printed, not failed).
partial = []


def chart_with_minio():
    """(chart directory, temporary directory to remove, whether loki's minio
    sub-chart is there)."""
    src = f"{shared}/charts/coder-observability"
    loki_charts = f"{src}/charts/loki/charts"
    if os.path.isdir(loki_charts) and any(n.startswith("minio") for n in os.listdir(loki_charts)):
        return src, None, True
    deps = [d for d in os.environ.get("CODER_GEN_CHART_DEPS", "").split(":") if os.path.basename(d) == "minio-4.0.15.tgz"]
    if not deps or not os.path.isfile(deps[0]):
        return src, None, False
    tmp = tempfile.mkdtemp(prefix="check-obs-")
    dst = f"{tmp}/coder-observability"
    shutil.copytree(src, dst)
    for dirpath, _, names in os.walk(dst):
        os.chmod(dirpath, 0o755)
        for n in names:
            os.chmod(os.path.join(dirpath, n), 0o644)
    os.makedirs(f"{dst}/charts/loki/charts", exist_ok=True)
    shutil.copy(deps[0], f"{dst}/charts/loki/charts/")
    return dst, tmp, True


if own_templates:
    path, tmp, minio_rendered = f"{shared}/charts/coder-observability", None, True
else:
    path, tmp, minio_rendered = chart_with_minio()
if not minio_rendered:
    # Loki itself still renders (with its object store's sub-chart off) and
    # every Loki check runs; MinIO's own objects cannot be rendered, so its
    # login is checked from the values keys below. Said loudly on every run.
    partial.append(
        "loki's minio sub-chart (minio-4.0.15.tgz) is neither in shared/ nor in CODER_GEN_CHART_DEPS: "
        "Loki was rendered with loki.minio.enabled=false and the same S3 settings MinIO would give it; MinIO's objects were NOT rendered "
        "(its image and login are checked from the values keys only)"
    )
    lv = v.setdefault("loki", {})
    mv = lv.setdefault("minio", {})
    mv["enabled"] = False
    # What loki.commonStorageConfig writes while MinIO is on (endpoint, the
    # login from minio.rootUser/rootPassword, bucket `chunks`), given as
    # plain S3 settings so Loki's own templates render the same config.
    storage = lv.setdefault("loki", {}).setdefault("storage", {})
    storage["type"] = "s3"
    storage["bucketNames"] = {"chunks": "chunks", "ruler": "ruler", "admin": "admin"}
    storage["s3"] = {
        "endpoint": f"loki-storage.{NAMESPACE}.svc:9000",
        "accessKeyId": mv.get("rootUser"),
        "secretAccessKey": mv.get("rootPassword"),
        "s3ForcePathStyle": True,
        "insecure": True,
    }
loki_rendered = True

chart = helm_python.Chart.load(path)
try:
    files = chart.render(v, name="coder-observability", namespace=NAMESPACE, is_install=True)
finally:
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
docs, text = [], []
for p, body in sorted(files.items()):
    base = p.split("/")[-1]
    if base == "NOTES.txt" or base.startswith("_") or not base.endswith((".yaml", ".yml", ".tpl")):
        continue
    text.append(body)
    docs += [d for d in yaml.safe_load_all(body) if isinstance(d, dict) and d.get("kind")]
rendered = "\n".join(text)

for d in docs:
    try:
        kv.validate(d, k8s_version, strict=True)
    except (SchemaNotFoundError, ValidationError) as e:
        fail.append(f"{d.get('kind')}/{d['metadata'].get('name')}: {str(e).splitlines()[0]}")


def objects(kind, name):
    return [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]


def pod_spec(d):
    return d["spec"]["template"]["spec"]


def container(d, name):
    for c in pod_spec(d).get("containers", []):
        if c["name"] == name:
            return c
    return None


def env_of(c):
    return {e["name"]: e for e in (c or {}).get("env") or []}


def secret_ref(e):
    return ((e or {}).get("valueFrom") or {}).get("secretKeyRef")


# -- the Postgres exporters and dashboards (the chart's own templates) ------
pg = values["global"]["postgres"]
want_dsn = f"postgresql://{pg['username']}@{HOST}:{pg['port']}/{pg['database']}?sslmode={pg['sslmode']}"
exporter = objects("StatefulSet", "postgres-exporter")
if not exporter:
    fail.append("no postgres-exporter StatefulSet")
for d in exporter:
    c = pod_spec(d)["containers"][0]
    env = {e["name"]: e.get("value") for e in c.get("env") or []}
    if env.get("DATA_SOURCE_NAME") != want_dsn:
        fail.append(f"postgres-exporter DATA_SOURCE_NAME {env.get('DATA_SOURCE_NAME')!r}, want {want_dsn!r}")
    refs = [s.get("secretRef", {}).get("name") for s in c.get("envFrom") or []]
    if pg["mountSecret"] not in refs:
        fail.append(f"postgres-exporter does not mount secret {pg['mountSecret']} (envFrom {refs})")
sql = objects("ConfigMap", "sql-exporter-config")
if not sql or want_dsn not in sql[0]["data"]["config.yaml"]:
    fail.append("sql-exporter-config does not use the exporter role's DSN")
for d in docs:
    for c in ((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers", []):
        for e in c.get("env") or []:
            if e["name"] in ("PGPASSWORD", "DATA_SOURCE_PASS") and "value" in e:
                fail.append(f"{d['kind']}/{d['metadata']['name']}: {e['name']} has a literal value")

gc = values["global"]["coder"]
for what, needle in [
    ("control plane namespace", f"namespace=`{gc['controlPlaneNamespace']}`"),
    ("provisioner namespace", f"namespace=`{gc['externalProvisionersNamespace']}`"),
    ("workspaces selector", gc["workspacesSelector"]),
]:
    # Dashboards are JSON in ConfigMaps: backticks arrive as they are.
    if needle not in rendered:
        fail.append(f"{what} `{needle}` appears in no rendered dashboard or rule")

thresholds = gc.get("alerts", {}).get("coderd", {}).get("groups", {}).get("Replicas", {}).get("thresholds", {})
for severity, n in thresholds.items():
    if not any("CoderdReplicas" in t and f") < {n}" in t for t in text):
        fail.append(f"CoderdReplicas {severity} threshold {n} is in no rendered rule")

# -- secure defaults: no Secret rendered, no default password ---------------
secrets = [d["metadata"]["name"] for d in docs if d["kind"] == "Secret"]
if secrets:
    fail.append(f"the charts render Secrets {secrets}: every credential must come from a Secret the operator creates")
for pw in DEFAULT_PASSWORDS:
    if pw in rendered:
        fail.append(f"a chart's default password `{pw}` is in the render")

if own_templates:
    print(f"{tree}: coder-observability's own templates rendered {len(docs)} objects (sub-charts off), {len(fail)} problems")
    for f in fail:
        print(f"FAIL {f}")
    sys.exit(1 if fail or not docs else 0)

# -- Grafana: no anonymous Admin; an admin from a Secret, or OIDC -----------
grafana = objects("StatefulSet", "grafana") + objects("Deployment", "grafana")
ini_cm = objects("ConfigMap", "grafana")
if not grafana or not ini_cm:
    fail.append("no Grafana StatefulSet or grafana.ini ConfigMap")
else:
    ini = ini_cm[0]["data"]["grafana.ini"]
    sections, current = {}, None
    for line in ini.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif "=" in line and current is not None:
            k, val = line.split("=", 1)
            current[k.strip()] = val.strip()
    if sections.get("auth.anonymous", {}).get("enabled") != "false":
        fail.append(f"Grafana lets anonymous users in: [auth.anonymous] {sections.get('auth.anonymous')}")
    env = env_of(container(grafana[0], "grafana"))
    admin = (v.get("grafana") or {}).get("admin") or {}
    oauth = sections.get("auth.generic_oauth", {})
    if admin.get("existingSecret"):
        for name, key in [("GF_SECURITY_ADMIN_USER", admin.get("userKey")), ("GF_SECURITY_ADMIN_PASSWORD", admin.get("passwordKey"))]:
            ref = secret_ref(env.get(name))
            if ref != {"name": admin["existingSecret"], "key": key}:
                fail.append(f"Grafana {name} is not read from Secret {admin['existingSecret']} key {key}: {env.get(name)}")
        if (env.get("GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION") or {}).get("value") != "false":
            fail.append("GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION is not 'false': Grafana would create no admin from the Secret")
    elif oauth.get("enabled") == "true":
        if "client_secret" in oauth:
            fail.append("grafana.ini carries an OIDC client_secret")
        ref = secret_ref(env.get("GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET"))
        if not ref:
            fail.append("Grafana's OIDC client secret is not read from a Secret (GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET)")
        if sections.get("auth", {}).get("disable_login_form") != "true":
            fail.append("Grafana's login form is on next to OIDC")
        if not oauth.get("client_id") or not sections.get("server", {}).get("root_url"):
            fail.append("Grafana's OIDC has no client_id or server.root_url")
    else:
        fail.append("Grafana has neither an admin from a Secret nor OIDC: nobody can log in")
    for name, e in env.items():
        if name.startswith(("GF_SECURITY_ADMIN_PASSWORD", "GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET")) and "value" in e:
            fail.append(f"Grafana {name} has a literal value")

# -- Alertmanager: the receiver the tree names, its URL from a Secret file --
am_values = ((v.get("prometheus") or {}).get("alertmanager") or {})
am_cm = objects("ConfigMap", "alertmanager")
am_sts = objects("StatefulSet", "alertmanager")
if not am_cm or not am_sts:
    fail.append("no Alertmanager ConfigMap or StatefulSet")
else:
    config = yaml.safe_load(am_cm[0]["data"]["alertmanager.yml"])
    receivers = {r["name"]: r for r in config.get("receivers") or []}
    route = (config.get("route") or {}).get("receiver")
    wanted = [r["name"] for r in (am_values.get("config") or {}).get("receivers") or []]
    if wanted:
        if route != wanted[0]:
            fail.append(f"Alertmanager routes to {route!r}, not to the tree's receiver {wanted[0]!r}")
        mounts = {m["name"]: m for m in am_values.get("extraSecretMounts") or []}
        pod = pod_spec(am_sts[0])
        volumes = {vol["name"]: vol for vol in pod.get("volumes") or []}
        am_mounts = {m["name"]: m for m in container(am_sts[0], "alertmanager").get("volumeMounts") or []}
        for name, m in mounts.items():
            if (volumes.get(name) or {}).get("secret", {}).get("secretName") != m["secretName"]:
                fail.append(f"Alertmanager has no volume of Secret {m['secretName']} ({volumes.get(name)})")
            got = am_mounts.get(name) or {}
            if got.get("mountPath") != m["mountPath"] or got.get("readOnly") is not True:
                fail.append(f"Alertmanager does not mount {m['secretName']} read-only at {m['mountPath']} ({got})")
        integrations = {k: val for k, val in (receivers.get(route) or {}).items() if k.endswith("_configs")}
        if not integrations:
            fail.append(f"receiver {route!r} has no integration")
        for kind, confs in integrations.items():
            for conf in confs:
                files = [val for k, val in conf.items() if k.endswith("_file")]
                literal = [k for k in conf if k in ("api_url", "url", "routing_key", "service_key")]
                if literal or not files:
                    fail.append(f"{kind} carries {literal or 'no *_file'}: the URL or key must come from the mounted Secret")
                for f in files:
                    if not any(f.startswith(m["mountPath"].rstrip("/") + "/") for m in mounts.values()):
                        fail.append(f"{kind} reads {f}, which is not in a mounted Secret")
    else:
        print(f"{tree}: NOTE no alert receiver in the values: Alertmanager routes to {route!r} (the plan warns alerts-unrouted)")

# -- Loki: retention, and the object store's login from a Secret -----------
if loki_rendered:
    loki_values = v.get("loki") or {}
    minio = loki_values.get("minio") or {}
    store_secret = minio.get("existingSecret")
    loki_cm = objects("ConfigMap", "loki")
    if not loki_cm:
        fail.append("no Loki ConfigMap")
    else:
        lc = yaml.safe_load(loki_cm[0]["data"]["config.yaml"])
        period = ((loki_values.get("loki") or {}).get("limits_config") or {}).get("retention_period")
        if period:
            if (lc.get("limits_config") or {}).get("retention_period") != period:
                fail.append(f"Loki's retention_period is {(lc.get('limits_config') or {}).get('retention_period')!r}, want {period!r}")
            comp = lc.get("compactor") or {}
            if comp.get("retention_enabled") is not True or not comp.get("delete_request_store"):
                fail.append(f"Loki's compactor does not apply retention: {comp}")
        else:
            fail.append("the values give Loki no retention period: logs are kept until MinIO's volume fills")
        s3 = ((lc.get("common") or {}).get("storage") or {}).get("s3") or {}
        if not store_secret:
            fail.append("MinIO's login is not from a Secret (loki.minio.existingSecret)")
        elif not (str(s3.get("access_key_id", "")).startswith("${") and str(s3.get("secret_access_key", "")).startswith("${")):
            fail.append(f"Loki's object store login is written into its config: {s3.get('access_key_id')!r}")
    if store_secret:
        loki_pods = objects("StatefulSet", "loki-write") + objects("StatefulSet", "loki-backend") + objects("Deployment", "loki-read")
        if len(loki_pods) != 3:
            fail.append(f"expected loki-write, loki-backend and loki-read, found {[d['metadata']['name'] for d in loki_pods]}")
        for d in loki_pods:
            c = container(d, "loki")
            refs = [s.get("secretRef", {}).get("name") for s in (c or {}).get("envFrom") or []]
            if "-config.expand-env=true" not in (c or {}).get("args", []) or store_secret not in refs:
                fail.append(f"{d['metadata']['name']} does not expand its config from Secret {store_secret} (args {c and c.get('args')}, envFrom {refs})")
        storage = [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "loki-storage"]
        if not storage and minio_rendered:
            fail.append("no MinIO StatefulSet loki-storage")
        if not minio_rendered and minio.get("users") != []:
            fail.append(f"MinIO's extra users are not removed (loki.minio.users is {minio.get('users')!r}, want [])")
        for d in storage:
            env = env_of(pod_spec(d)["containers"][0])
            for name in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
                ref = secret_ref(env.get(name))
                if not ref or ref.get("name") != store_secret:
                    fail.append(f"MinIO {name} is not read from Secret {store_secret}: {env.get(name)}")
        users = [d["metadata"]["name"] for d in docs if d["kind"] == "Job" and "make-user" in d["metadata"]["name"]]
        if users:
            fail.append(f"MinIO users besides root are created: {users}")

print(f"{tree}: coder-observability with its sub-charts rendered {len(docs)} objects, {len(fail)} problems")
for s in skipped:
    print(f"SKIP (CI is not true) {s}")
for s in partial:
    print(f"PARTIAL {s}")
for f in fail:
    print(f"FAIL {f}")
sys.exit(1 if fail or not docs else 0)
