"""Render the real Coder charts with every tree's values and check what comes out.

Usage: check_charts.py SHARED_DIR TREE...

For each tree (a golden directory), the `coder` chart is rendered with
helm/coder/values.yaml (release `coder`, namespace `coder`) and the
`coder-provisioner` chart with each helm/coder-provisioner/<ns>/values.yaml
(release `coder-provisioner`, namespace <ns>), offline with helm-python-sdk.
It fails on:
  - a template error (helm_python.HelmError);
  - an object that fails strict schema validation (kubernetes-validate,
    unknown fields fail);
  - a pod that its namespace's Pod Security level (the tree's namespace.yaml
    `enforce` label) would reject; the fields checked per level are in
    POD SECURITY below;
  - a value that does not arrive as written: replicas, resources,
    nodeSelector, tolerations, affinity (exactly: no chart default merged
    next to it), topologySpreadConstraints, env, pod annotations, security
    context, service account, Service type/annotations/traffic policy;
  - an entry that does not serve the access URL over TLS: coderd's TLS
    (Service 443 -> container port 8443 named https, the secrets mounted, a
    certificate covering the access and wildcard hosts) or an Ingress with
    TLS for both hosts in front of a ClusterIP Service; a LoadBalancer
    Service without TLS fails;
  - an overlay NetworkPolicy, PodDisruptionBudget, metrics Service or
    RoleBinding that selects no rendered pod, a port no selected container
    listens on, or a service account no chart creates.
Each site's tree (`sites/<name>/`) is checked the same way: the `coder` chart
in proxy mode with its proxy values (release and namespace `coder-proxy`:
`wsproxy server`, its own URLs, the token from a Secret, no database URL, no
RBAC, TLS covering its host and wildcard), each provisioner release, its
overlays against what those render.
"""
import contextlib
import json
import os
import subprocess
import sys
import tempfile

import helm_python
import kubernetes_validate as kv
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

SHARED = sys.argv[1]
TREES = sys.argv[2:]
NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
# CRD objects collected from every tree, validated at the end by the CRDs'
# OpenAPI schemas (node/validate_crds.mjs).
crd_objects = []
CRDS = {
    ("cert-manager.io/v1", "Certificate"),
    ("gateway.networking.k8s.io/v1", "Gateway"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
}

failures = []


def fail(tree, msg):
    failures.append(f"{tree}: {msg}")
    print(f"FAIL {tree}: {msg}")


@contextlib.contextmanager
def captured_stderr():
    """Helm's Go side writes coalesce warnings to fd 2; collect them."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        out = []
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode(errors="replace"))


def render(chart, values, name, namespace):
    with captured_stderr() as err:
        files = helm_python.Chart.load(os.path.join(SHARED, "charts", chart)).render(
            values, name=name, namespace=namespace, is_install=True
        )
    docs = []
    for path, text in sorted(files.items()):
        base = os.path.basename(path)
        if base == "NOTES.txt" or base.startswith("_"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs, err[0]


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def drop_nulls(v):
    """Helm removes keys set to null when it merges values."""
    if isinstance(v, dict):
        return {k: drop_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [drop_nulls(x) for x in v]
    return v


def of_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


def listening_ports(container):
    """Ports the Coder process listens on, from the env the chart sets (a
    containerPort is only a declaration; the provisioner chart declares none)."""
    env = {e["name"]: e.get("value") for e in container.get("env") or []}
    ports = set()
    if env.get("CODER_HTTP_ADDRESS"):
        ports.add(port_of(env["CODER_HTTP_ADDRESS"]))
    if env.get("CODER_TLS_ENABLE") == "true" and env.get("CODER_TLS_ADDRESS"):
        ports.add(port_of(env["CODER_TLS_ADDRESS"]))
    if env.get("CODER_PROMETHEUS_ENABLE") == "true" and env.get("CODER_PROMETHEUS_ADDRESS"):
        ports.add(port_of(env["CODER_PROMETHEUS_ADDRESS"]))
    return ports


# POD SECURITY (https://kubernetes.io/docs/concepts/security/pod-security-standards/)
# baseline: no hostNetwork/hostPID/hostIPC; no privileged container; capabilities.add
#   only from the baseline set; no hostPath volume; no hostPort; seccompProfile not
#   Unconfined; procMount Default; AppArmor not unconfined; only safe sysctls.
# restricted: baseline, plus volume types limited to configMap, csi, downwardAPI,
#   emptyDir, ephemeral, persistentVolumeClaim, projected, secret;
#   allowPrivilegeEscalation false; runAsNonRoot true and runAsUser != 0;
#   seccompProfile RuntimeDefault or Localhost; capabilities drop ALL, add only
#   NET_BIND_SERVICE.
BASELINE_CAPS = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}


def pod_security(pod, level):
    """Problems the Pod Security admission at `level` would reject."""
    bad = []
    psc = pod.get("securityContext") or {}
    containers = (pod.get("containers") or []) + (pod.get("initContainers") or [])
    for k in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(k):
            bad.append(f"{k} is true")
    for v in pod.get("volumes") or []:
        if "hostPath" in v:
            bad.append(f"volume {v.get('name')} is a hostPath")
    for s in psc.get("sysctls") or []:
        if s.get("name") not in SAFE_SYSCTLS:
            bad.append(f"unsafe sysctl {s.get('name')}")

    def seccomp(sc):
        return (sc.get("seccompProfile") or {}).get("type")

    if seccomp(psc) == "Unconfined":
        bad.append("pod seccompProfile Unconfined")
    for c in containers:
        sc = c.get("securityContext") or {}
        n = c.get("name")
        if sc.get("privileged"):
            bad.append(f"{n}: privileged")
        added = set((sc.get("capabilities") or {}).get("add") or [])
        if added - BASELINE_CAPS:
            bad.append(f"{n}: adds capabilities {sorted(added - BASELINE_CAPS)}")
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                bad.append(f"{n}: hostPort {p['hostPort']}")
        if seccomp(sc) == "Unconfined":
            bad.append(f"{n}: seccompProfile Unconfined")
        if sc.get("procMount") not in (None, "Default"):
            bad.append(f"{n}: procMount {sc['procMount']}")
        if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
            bad.append(f"{n}: AppArmor unconfined")
    if level == "baseline":
        return bad
    for v in pod.get("volumes") or []:
        kinds = set(v) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            bad.append(f"volume {v.get('name')} of type {sorted(kinds)} is not allowed under restricted")
    for c in containers:
        sc = c.get("securityContext") or {}
        n = c.get("name")
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append(f"{n}: allowPrivilegeEscalation is not false")
        if not (sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True):
            bad.append(f"{n}: runAsNonRoot is not true")
        if sc.get("runAsUser", psc.get("runAsUser")) == 0:
            bad.append(f"{n}: runAsUser 0")
        if (seccomp(sc) or seccomp(psc)) not in ("RuntimeDefault", "Localhost"):
            bad.append(f"{n}: seccompProfile is not RuntimeDefault or Localhost")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            bad.append(f"{n}: capabilities do not drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            bad.append(f"{n}: adds capabilities other than NET_BIND_SERVICE")
    return bad


def schema(tree, docs, version):
    for d in docs:
        if (d.get("apiVersion"), d.get("kind")) in CRDS:
            crd_objects.append((f"{tree}: chart {d.get('kind')}/{(d.get('metadata') or {}).get('name')}", d))
            continue
        try:
            kv.validate(d, version, strict=True)
        except (SchemaNotFoundError, ValidationError) as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            fail(tree, f"{d.get('kind')}/{(d.get('metadata') or {}).get('name')}: schema: {first}")


def arrives(tree, what, values_c, deploy):
    """Every value the tree sets for the workload appears in the Deployment."""
    pod = deploy["spec"]["template"]["spec"]
    c = pod["containers"][0]
    meta = deploy["spec"]["template"]["metadata"]
    checks = [
        ("replicaCount", values_c.get("replicaCount"), deploy["spec"].get("replicas")),
        ("resources", values_c.get("resources"), c.get("resources")),
        ("nodeSelector", values_c.get("nodeSelector"), pod.get("nodeSelector")),
        ("tolerations", values_c.get("tolerations"), pod.get("tolerations")),
        ("securityContext", values_c.get("securityContext"), c.get("securityContext")),
    ]
    if "topologySpreadConstraints" in values_c:
        checks.append(("topologySpreadConstraints", values_c["topologySpreadConstraints"], pod.get("topologySpreadConstraints")))
    for key, want, got in checks:
        if want is not None and want != got:
            fail(tree, f"{what}: coder.{key} does not arrive as written: values {want!r}, rendered {got!r}")
    # Affinity is compared exactly, absent included: a chart default merged
    # next to the tree's (or kept where the tree wants none) fails.
    want = drop_nulls(values_c.get("affinity")) or None
    if want != (pod.get("affinity") or None):
        fail(tree, f"{what}: affinity is not exactly the tree's: values {want!r}, rendered {pod.get('affinity')!r}")
    env = {e["name"]: e for e in c.get("env") or []}
    for e in values_c.get("env") or []:
        if env.get(e["name"]) != e:
            fail(tree, f"{what}: env {e['name']} does not arrive as written: values {e!r}, rendered {env.get(e['name'])!r}")
    annotations = meta.get("annotations") or {}
    for k, v in (values_c.get("podAnnotations") or {}).items():
        if annotations.get(k) != v:
            fail(tree, f"{what}: pod annotation {k} does not arrive as written")
    sa = (values_c.get("serviceAccount") or {}).get("name")
    if sa and pod.get("serviceAccountName") != sa:
        fail(tree, f"{what}: serviceAccount.name {sa} is not the pod's ({pod.get('serviceAccountName')})")


def host_of(url):
    """The host of an access URL, or a wildcard hostname pattern as is
    (CODER_WILDCARD_ACCESS_URL takes `*.example.com`, no scheme)."""
    return url.split("://", 1)[-1].split(":", 1)[0].rstrip("/")


def covers(names, host):
    for n in names:
        if n == host:
            return True
        if n.startswith("*.") and host.split(".", 1)[-1] == n[2:] and not host.startswith("*."):
            return True
    return False


def check_entry(tree, values_c, docs):
    deploy = of_kind(docs, "Deployment")[0]
    c = deploy["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in c.get("env") or []}
    access, wildcard = env.get("CODER_ACCESS_URL"), env.get("CODER_WILDCARD_ACCESS_URL")
    if not access or not access.startswith("https://"):
        fail(tree, f"entry: CODER_ACCESS_URL {access!r} is not https")
        return
    if wildcard and (":" in wildcard or not wildcard.startswith("*.")):
        # Coder validates it as a hostname pattern (appurl.CompileHostnamePattern):
        # no scheme, no port, one leading `*`; anything else stops the server.
        fail(tree, f"entry: CODER_WILDCARD_ACCESS_URL {wildcard!r} is not a hostname pattern like *.example.com")
    hosts = [host_of(access)] + ([host_of(wildcard)] if wildcard else [])
    services = [s for s in of_kind(docs, "Service") if s["metadata"]["name"] == "coder"]
    ingresses = of_kind(docs, "Ingress")
    if len(services) != 1:
        fail(tree, "entry: the chart rendered no `coder` Service")
        return
    svc = services[0]
    want_svc = values_c.get("service") or {}
    for key in ("type", "externalTrafficPolicy", "sessionAffinity"):
        if key in want_svc and svc["spec"].get(key) != want_svc[key]:
            fail(tree, f"entry: coder.service.{key} {want_svc[key]!r} does not arrive (rendered {svc['spec'].get(key)!r})")
    if (svc["metadata"].get("annotations") or {}) != (want_svc.get("annotations") or {}):
        fail(tree, "entry: coder.service.annotations do not arrive as written")

    tls_secrets = (values_c.get("tls") or {}).get("secretNames") or []
    certs = certificates(tree)
    if tls_secrets:
        ports = {p.get("name"): p for p in svc["spec"].get("ports") or []}
        https = ports.get("https")
        cports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
        if not https or https.get("port") != 443 or https.get("targetPort") != "https" or cports.get("https") != 8443:
            fail(tree, "entry: coderd TLS: the Service does not map 443 to container port 8443 (https)")
        if env.get("CODER_TLS_ENABLE") != "true":
            fail(tree, "entry: coderd TLS: CODER_TLS_ENABLE is not true")
        mounted = {v.get("secret", {}).get("secretName") for v in deploy["spec"]["template"]["spec"].get("volumes") or []}
        for s in tls_secrets:
            if s not in mounted:
                fail(tree, f"entry: TLS secret {s} is not mounted")
        served = set()
        for s in tls_secrets:
            served.update(certs.get(s, user_secret_names(tree, s)))
        for h in hosts:
            if not covers(served, h):
                fail(tree, f"entry: no certificate coderd serves covers {h}")
    elif of_kind(docs, "HTTPRoute"):
        route = of_kind(docs, "HTTPRoute")[0]
        if svc["spec"].get("type") != "ClusterIP":
            fail(tree, f"entry: behind a Gateway, coderd's Service is {svc['spec'].get('type')}: plain HTTP would be exposed")
        gw_path = os.path.join(tree, "entry", "gateway.yaml")
        gw = load(gw_path) if os.path.exists(gw_path) else None
        refs = route["spec"].get("parentRefs") or []
        if not gw or not any(r.get("name") == gw["metadata"]["name"] and r.get("namespace", route["metadata"]["namespace"]) == gw["metadata"]["namespace"] for r in refs):
            fail(tree, "entry: the HTTPRoute binds to no Gateway the tree writes")
            return
        svc_ports = {p.get("port") for p in svc["spec"]["ports"]}
        for rule in route["spec"].get("rules") or []:
            for b in rule.get("backendRefs") or []:
                if b.get("name") != "coder" or b.get("port") not in svc_ports:
                    fail(tree, f"entry: the HTTPRoute's backend {b} is not a port of the coder Service")
        for h in hosts:
            if h not in (route["spec"].get("hostnames") or []):
                fail(tree, f"entry: the HTTPRoute does not match {h}")
            listeners = [l for l in gw["spec"].get("listeners") or [] if l.get("hostname") == h]
            if not listeners:
                fail(tree, f"entry: the Gateway has no listener for {h}")
            for l in listeners:
                tls = l.get("tls") or {}
                if l.get("protocol") != "HTTPS" or l.get("port") != 443 or tls.get("mode", "Terminate") != "Terminate":
                    fail(tree, f"entry: the Gateway's listener for {h} does not terminate TLS on 443")
                names = []
                for ref in tls.get("certificateRefs") or []:
                    names += certs.get(ref.get("name"), user_secret_names(tree, ref.get("name")))
                if not covers(names, h):
                    fail(tree, f"entry: no certificate of the Gateway's listener covers {h}")
                if ((l.get("allowedRoutes") or {}).get("namespaces") or {}).get("from", "Same") != "Same" and gw["metadata"]["namespace"] != route["metadata"]["namespace"]:
                    fail(tree, f"entry: the listener for {h} does not admit the HTTPRoute's namespace")
    elif ingresses:
        ing = ingresses[0]
        if svc["spec"].get("type") != "ClusterIP":
            fail(tree, f"entry: behind an Ingress, coderd's Service is {svc['spec'].get('type')}: plain HTTP would be exposed")
        tls = ing["spec"].get("tls") or []
        for h in hosts:
            entries = [t for t in tls if h in (t.get("hosts") or [])]
            if not entries:
                fail(tree, f"entry: the Ingress has no TLS for {h}")
            for t in entries:
                names = certs.get(t.get("secretName"), user_secret_names(tree, t.get("secretName")))
                if not covers(names, h):
                    fail(tree, f"entry: the Ingress' secret {t.get('secretName')} covers no certificate for {h}")
            rules = [r for r in ing["spec"].get("rules") or [] if r.get("host") == h]
            backends = [p["backend"]["service"] for r in rules for p in r["http"]["paths"]]
            if not backends or any(b["name"] != "coder" or b["port"].get("name") not in {p.get("name") for p in svc["spec"]["ports"]} for b in backends):
                fail(tree, f"entry: the Ingress rule for {h} does not reach the coder Service")
        if not ing["spec"].get("ingressClassName"):
            fail(tree, "entry: the Ingress names no class")
    else:
        fail(tree, f"entry: nothing serves {access} over TLS (Service {svc['spec'].get('type')} without TLS, no Ingress)")


def certificates(tree):
    """cert-manager Certificates of the tree: secret -> dnsNames (required
    fields checked by hand: no schema ships with kubernetes-validate)."""
    out = {}
    d = os.path.join(tree, "entry")
    if not os.path.isdir(d):
        return out
    for f in sorted(os.listdir(d)):
        doc = load(os.path.join(d, f))
        if doc.get("kind") != "Certificate":
            crd_objects.append((f"{tree}/entry/{f}", doc))
            continue
        spec = doc.get("spec") or {}
        ref = spec.get("issuerRef") or {}
        unknown = set(spec) - {"secretName", "dnsNames", "issuerRef", "commonName", "duration", "renewBefore", "privateKey", "usages"}
        if doc.get("apiVersion") != "cert-manager.io/v1" or doc.get("kind") != "Certificate" or not spec.get("secretName") or not ref.get("name") or ref.get("kind") not in ("Issuer", "ClusterIssuer") or unknown or not doc["metadata"].get("namespace"):
            fail(tree, f"entry/{f}: not a valid cert-manager Certificate (secretName, issuerRef.name/kind, namespace; unknown {sorted(unknown)})")
            continue
        out[spec["secretName"]] = spec.get("dnsNames") or []
        crd_objects.append((f"{tree}/entry/{f}", doc))
    return out


def user_secret_names(tree, secret):
    """A secret the user creates: the README states what it must cover."""
    readme = open(os.path.join(tree, "README.md")).read()
    marker = f"your TLS secret `{secret}` in namespace `coder`, covering "
    if marker not in readme:
        return []
    return [n.strip() for n in readme.split(marker, 1)[1].split(".\n", 1)[0].split(",")]


def overlay_objects(tree):
    """Each overlay as kustomize builds it: the user's patches applied, JSON
    6902 patch files (lists of operations) never taken for objects."""
    out = []
    root = os.path.join(tree, "kustomize", "overlays")
    kubectl = os.environ.get("KUBECTL", "kubectl")
    for d in sorted(os.listdir(root)):
        built = subprocess.run([kubectl, "kustomize", os.path.join(root, d)], capture_output=True, text=True)
        if built.returncode != 0:
            fail(tree, f"kustomize/overlays/{d}: kubectl kustomize failed: {built.stderr.strip()}")
            continue
        for obj in yaml.safe_load_all(built.stdout):
            if isinstance(obj, dict) and obj.get("kind"):
                name = (obj.get("metadata") or {}).get("name")
                out.append((f"kustomize/overlays/{d} ({obj['kind']}/{name})", obj))
    return out


def selects(selector, labels):
    ml = (selector or {}).get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in ml.items()) and not (selector or {}).get("matchExpressions")


def check_overlays(tree, workloads, service_accounts):
    """workloads: namespace -> list of (pod labels, listening ports)."""
    for path, obj in overlay_objects(tree):
        kind, ns = obj.get("kind"), obj["metadata"].get("namespace")
        pods = workloads.get(ns, [])
        if kind == "NetworkPolicy":
            sel = obj["spec"].get("podSelector")
            if not sel:
                # An empty selector is every pod of the namespace (the base's
                # default-deny): it selects whatever runs there, by design.
                continue
            matched = [p for p in pods if selects(sel, p[0])]
            if not matched:
                fail(tree, f"{path}: selects no pod the charts create in {ns}")
                continue
            for rule in obj["spec"].get("ingress") or []:
                for port in rule.get("ports") or []:
                    if not any(port.get("port") in p[1] for p in matched):
                        fail(tree, f"{path}: port {port.get('port')} is not a port the selected pods listen on ({sorted(set().union(*[p[1] for p in matched]))})")
        elif kind == "PodDisruptionBudget" or (kind == "Service" and (obj.get("spec") or {}).get("selector")):
            sel = obj["spec"].get("selector")
            labels_sel = sel if kind == "PodDisruptionBudget" else {"matchLabels": sel}
            matched = [p for p in pods if selects(labels_sel, p[0])]
            if not matched:
                fail(tree, f"{path}: selects no pod the charts create in {ns}")
            if kind == "Service":
                for port in obj["spec"].get("ports") or []:
                    tp = port.get("targetPort", port.get("port"))
                    if not any(tp in p[1] for p in matched):
                        fail(tree, f"{path}: targetPort {tp} is not a port the selected pods listen on")
        elif kind == "RoleBinding":
            for s in obj.get("subjects") or []:
                if s.get("kind") == "ServiceAccount" and (s.get("namespace"), s.get("name")) not in service_accounts:
                    fail(tree, f"{path}: binds service account {s.get('namespace')}/{s.get('name')}, which no chart creates")


def pss_level(tree, overlay):
    ns = load(os.path.join(tree, "kustomize", "overlays", overlay, "namespace.yaml"))
    return ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]


def check_tree(tree):
    tree = tree.rstrip("/")
    coder_ns = load(os.path.join(tree, "kustomize", "overlays", "coder", "namespace.yaml"))
    version = coder_ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce-version"].lstrip("v") + ".0"
    workloads, service_accounts = {}, set()
    n_objects = 0

    values = load(os.path.join(tree, "helm", "coder", "values.yaml"))
    try:
        docs, warnings = render("coder", values, "coder", "coder")
    except helm_python.HelmError as e:
        fail(tree, f"coder chart: template error: {e}")
        return
    if warnings.strip():
        print(f"  coder chart warnings: {warnings.strip()}")
    n_objects += len(docs)
    schema(tree, docs, version)
    deploy = of_kind(docs, "Deployment")
    if len(deploy) != 1:
        fail(tree, "coder chart: expected one Deployment")
        return
    arrives(tree, "coder", values["coder"], deploy[0])
    pod = deploy[0]["spec"]["template"]["spec"]
    for p in pod_security(pod, pss_level(tree, "coder")):
        fail(tree, f"coder pod under Pod Security {pss_level(tree, 'coder')}: {p}")
    check_entry(tree, values["coder"], docs)
    workloads.setdefault("coder", []).append((deploy[0]["spec"]["template"]["metadata"]["labels"], listening_ports(pod["containers"][0])))
    service_accounts.update((d["metadata"]["namespace"], d["metadata"]["name"]) for d in of_kind(docs, "ServiceAccount"))

    prov_root = os.path.join(tree, "helm", "coder-provisioner")
    for ns in sorted(os.listdir(prov_root)) if os.path.isdir(prov_root) else []:
        values = load(os.path.join(prov_root, ns, "values.yaml"))
        try:
            docs, warnings = render("coder-provisioner", values, "coder-provisioner", ns)
        except helm_python.HelmError as e:
            fail(tree, f"coder-provisioner chart in {ns}: template error: {e}")
            continue
        if warnings.strip():
            # The chart's default `tolerations: {}` is a map; Helm warns when a
            # list replaces it. The list still arrives (checked below).
            print(f"  coder-provisioner chart warnings ({ns}): {' | '.join(sorted(set(l.split(' ', 2)[-1] for l in warnings.strip().splitlines())))}")
        n_objects += len(docs)
        schema(tree, docs, version)
        deploy = of_kind(docs, "Deployment")
        if len(deploy) != 1:
            fail(tree, f"coder-provisioner chart in {ns}: expected one Deployment")
            continue
        arrives(tree, f"coder-provisioner/{ns}", values["coder"], deploy[0])
        key = {e["name"]: e for e in deploy[0]["spec"]["template"]["spec"]["containers"][0].get("env") or []}.get("CODER_PROVISIONER_DAEMON_KEY")
        want = values.get("provisionerDaemon") or {}
        if not key or key["valueFrom"]["secretKeyRef"] != {"name": want.get("keySecretName"), "key": want.get("keySecretKey")}:
            fail(tree, f"coder-provisioner/{ns}: the provisioner key secret does not arrive as written")
        level = pss_level(tree, f"provisioners-{ns}")
        pod = deploy[0]["spec"]["template"]["spec"]
        for p in pod_security(pod, level):
            fail(tree, f"provisioner pod in {ns} under Pod Security {level}: {p}")
        workloads.setdefault(ns, []).append((deploy[0]["spec"]["template"]["metadata"]["labels"], listening_ports(pod["containers"][0])))
        service_accounts.update((d["metadata"]["namespace"], d["metadata"]["name"]) for d in of_kind(docs, "ServiceAccount"))

    # Pods that are not the charts' but that overlays may admit traffic to:
    # cert-manager's HTTP-01 solver (created in the Certificate's namespace
    # during a challenge; acmesolver listens on 8089).
    workloads.setdefault("coder", []).append(({"acme.cert-manager.io/http01-solver": "true"}, {8089}))
    check_overlays(tree, workloads, service_accounts)
    print(f"-- {tree}: {n_objects} chart objects checked")


def check_proxy(site, values_c, docs):
    """A site's workspace proxy: `wsproxy server`, its own URLs, the token by
    reference, no database, no workspace RBAC, TLS on its own Service."""
    deploy = of_kind(docs, "Deployment")[0]
    c = deploy["spec"]["template"]["spec"]["containers"][0]
    if c.get("args") != ["wsproxy", "server"]:
        fail(site, f"proxy: the container runs {c.get('args')!r}, not wsproxy server")
    env = {e["name"]: e for e in c.get("env") or []}
    for name in ("CODER_ACCESS_URL", "CODER_WILDCARD_ACCESS_URL", "CODER_PRIMARY_ACCESS_URL", "CODER_PROXY_SESSION_TOKEN"):
        if name not in env:
            fail(site, f"proxy: {name} is not set")
    if "CODER_PG_CONNECTION_URL" in env:
        fail(site, "proxy: a workspace proxy makes no database connection, but CODER_PG_CONNECTION_URL is set")
    if not (env.get("CODER_PROXY_SESSION_TOKEN") or {}).get("valueFrom", {}).get("secretKeyRef"):
        fail(site, "proxy: the session token is not read from a Secret")
    if env.get("CODER_PRIMARY_ACCESS_URL", {}).get("value") == env.get("CODER_ACCESS_URL", {}).get("value"):
        fail(site, "proxy: its access URL is the primary's")
    for kind in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"):
        if of_kind(docs, kind):
            fail(site, f"proxy: the chart renders a {kind} (workspace RBAC must be off for a proxy)")
    annotations = deploy["spec"]["template"]["metadata"].get("annotations") or {}
    if annotations.get("app.kubernetes.io/component") != "wsproxy":
        fail(site, "proxy: the pod is not annotated as a wsproxy")
    if (env.get("CODER_PROMETHEUS_ENABLE") or {}).get("value") == "true" and 2112 not in listening_ports(c):
        fail(site, "proxy: metrics are on but nothing listens on 2112")


def check_site(tree, site):
    """One site's tree (`sites/<name>/`): its proxy (the coder chart in proxy
    mode) and provisioner releases rendered with the real charts, checked
    like the primary's, and its overlays against what they render."""
    site = site.rstrip("/")
    overlays = os.path.join(site, "kustomize", "overlays")
    ns_files = [os.path.join(overlays, d, "namespace.yaml") for d in sorted(os.listdir(overlays))]
    version = load(ns_files[0])["metadata"]["labels"]["pod-security.kubernetes.io/enforce-version"].lstrip("v") + ".0"
    workloads, service_accounts = {}, set()
    n_objects = 0
    proxy_values = os.path.join(site, "helm", "coder", "values.yaml")
    if os.path.exists(proxy_values):
        values = load(proxy_values)
        ns = load(os.path.join(overlays, "proxy", "namespace.yaml"))["metadata"]["name"]
        try:
            docs, warnings = render("coder", values, ns, ns)
        except helm_python.HelmError as e:
            fail(site, f"coder chart (proxy): template error: {e}")
            docs = []
        if docs:
            n_objects += len(docs)
            schema(site, docs, version)
            deploy = of_kind(docs, "Deployment")
            arrives(site, "proxy", values["coder"], deploy[0])
            pod = deploy[0]["spec"]["template"]["spec"]
            for p in pod_security(pod, pss_level(site, "proxy")):
                fail(site, f"proxy pod under Pod Security {pss_level(site, 'proxy')}: {p}")
            check_proxy(site, values["coder"], docs)
            # The proxy's entry: TLS on its own Service, for its host and wildcard.
            check_entry(site, values["coder"], docs)
            workloads.setdefault(ns, []).append((deploy[0]["spec"]["template"]["metadata"]["labels"], listening_ports(pod["containers"][0])))
            service_accounts.update((d["metadata"]["namespace"], d["metadata"]["name"]) for d in of_kind(docs, "ServiceAccount"))
    prov_root = os.path.join(site, "helm", "coder-provisioner")
    for ns in sorted(os.listdir(prov_root)):
        values = load(os.path.join(prov_root, ns, "values.yaml"))
        try:
            docs, _ = render("coder-provisioner", values, "coder-provisioner", ns)
        except helm_python.HelmError as e:
            fail(site, f"coder-provisioner chart in {ns}: template error: {e}")
            continue
        n_objects += len(docs)
        schema(site, docs, version)
        deploy = of_kind(docs, "Deployment")
        arrives(site, f"coder-provisioner/{ns}", values["coder"], deploy[0])
        pod = deploy[0]["spec"]["template"]["spec"]
        env = {e["name"]: e for e in pod["containers"][0].get("env") or []}
        if "CODER_PROVISIONERD_TAGS" in env or (values.get("provisionerDaemon") or {}).get("tags"):
            fail(site, f"coder-provisioner/{ns}: tags next to a key (the key carries them)")
        if not (env.get("CODER_URL", {}).get("value") or "").startswith("https://"):
            fail(site, f"coder-provisioner/{ns}: CODER_URL is not the primary's https access URL")
        level = pss_level(site, f"provisioners-{ns}")
        for p in pod_security(pod, level):
            fail(site, f"provisioner pod in {ns} under Pod Security {level}: {p}")
        workloads.setdefault(ns, []).append((deploy[0]["spec"]["template"]["metadata"]["labels"], listening_ports(pod["containers"][0])))
        service_accounts.update((d["metadata"]["namespace"], d["metadata"]["name"]) for d in of_kind(docs, "ServiceAccount"))
    check_overlays(site, workloads, service_accounts)
    print(f"-- {site}: {n_objects} chart objects checked")


for t in TREES:
    check_tree(t)
    sites_dir = os.path.join(t, "sites")
    for name in sorted(os.listdir(sites_dir)) if os.path.isdir(sites_dir) else []:
        check_site(t, os.path.join(sites_dir, name))

if crd_objects:
    with tempfile.TemporaryDirectory() as tmp:
        files, names = [], {}
        for i, (name, doc) in enumerate(crd_objects):
            path = os.path.join(tmp, f"{i}.json")
            with open(path, "w") as f:
                json.dump(doc, f)
            files.append(path)
            names[path] = name
        r = subprocess.run(["node", os.path.join(NODE_DIR, "validate_crds.mjs"), *files], capture_output=True, text=True)
        for line in (r.stdout + r.stderr).splitlines():
            for path, name in names.items():
                line = line.replace(path, name)
            print(line)
            if line.startswith("FAIL"):
                failures.append(line)
        if r.returncode != 0 and not any(l.startswith("FAIL") for l in r.stdout.splitlines()):
            failures.append(f"validate_crds.mjs exited {r.returncode}")
        print(f"-- {len(crd_objects)} cert-manager and Gateway API objects validated against their CRD schemas")
print(f"check-charts: {len(TREES)} trees, {len(failures)} failures")
sys.exit(1 if failures or not TREES else 0)
