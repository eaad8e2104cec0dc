"""Self-test of check_images.py on a mirrored tree built from a golden tree.

Usage: test_check_images.py [--shared DIR] [--chart-dep ARCHIVE]... GOLDEN_TREE [OUT_DIR]

Builds, from GOLDEN_TREE (one with coder-observability and
cluster-autoscaler: golden/1k-aws-observability), the tree issue #24 asks
for: every release's values moved to the mirror MIRROR with pull secret
PULL (the values verified for issue #24), coder-gen's own images (verify
Jobs, the README's psql pod) moved too, the pull secret on the service
accounts that need it, and images.txt. Then it checks that check_images.py
passes that tree and fails each broken copy of it with the expected
message. OUT_DIR (optional) keeps the mirrored tree for inspection.
Renders are shared between the cases (one Charts object), so the cost is
two observability renders (~20 s each on the 2-core machine).
"""
import argparse
import contextlib
import copy
import io
import os
import re
import shutil
import sys
import tempfile

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in .ci/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_images as ci  # noqa: E402

MIRROR = "registry.corp.example/mirror"
PULL = "corp-mirror-pull"
# Tags for the three coder-observability images the chart leaves untagged
# (`latest`): the releases that were `latest` when coder-observability 0.6.2
# was released (Nov 2025).
PINNED = {
    "quay.io/prometheuscommunity/postgres-exporter": "v0.18.1",
    "docker.io/dannyben/madness": "1.2.4",
    "docker.io/burningalchemist/sql_exporter": "0.18.4",
}


def values_for(chart, version, M, P):
    """The mirror values verified for issue #24, per chart."""
    if chart in ("coder", "coder-provisioner"):
        return {"coder": {"image": {"repo": f"{M}/coder/coder", "tag": f"v{version}", "pullSecrets": [{"name": P}]}}}
    if chart == "cluster-autoscaler":
        return {"image": {"repository": f"{M}/autoscaling/cluster-autoscaler", "pullSecrets": [P]}}
    if chart == "coder-observability":
        return yaml.safe_load(f"""
global:
  imageRegistry: {M}
  imagePullSecrets: [{P}]
  image:
    registry: {M}
    pullSecrets: [{{name: {P}}}]
  postgres:
    exporter:
      image: {M}/prometheuscommunity/postgres-exporter:{PINNED['quay.io/prometheuscommunity/postgres-exporter']}
runbookViewer:
  image: {M}/dannyben/madness:{PINNED['docker.io/dannyben/madness']}
sqlExporter:
  image: {M}/burningalchemist/sql_exporter:{PINNED['docker.io/burningalchemist/sql_exporter']}
grafana:
  dashboards: null
prometheus:
  imagePullSecrets: [{{name: {P}}}]
  server:
    image: {{repository: {M}/prometheus/prometheus}}
  configmapReload:
    prometheus:
      image: {{repository: {M}/prometheus-operator/prometheus-config-reloader}}
  alertmanager:
    imagePullSecrets: [{{name: {P}}}]
    image: {{repository: {M}/prometheus/alertmanager}}
loki:
  serviceAccount:
    imagePullSecrets: [{{name: {P}}}]
  sidecar: {{image: {{repository: {M}/kiwigrid/k8s-sidecar}}}}
  memcached: {{image: {{repository: {M}/library/memcached}}}}
  memcachedExporter: {{image: {{repository: {M}/prom/memcached-exporter}}}}
  minio:
    image: {{repository: {M}/minio/minio}}
    mcImage: {{repository: {M}/minio/mc}}
  test: null
""")
    raise ValueError(chart)


def merge(a, b):
    out = copy.deepcopy(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def write_values(path, values):
    header = "".join(l for l in open(path) if l.startswith("#"))
    with open(path, "w") as f:
        f.write(header + yaml.safe_dump(values, sort_keys=False))


def mirror_tree(golden, dest, sources):
    """dest: golden moved to the mirror; sources: the golden's image set."""
    shutil.copytree(golden, dest)
    for vpath, cmd in ci.releases(dest):
        chart = cmd["chart"].rsplit("/", 1)[-1]
        values = yaml.safe_load(open(vpath)) or {}
        write_values(vpath, merge(values, values_for(chart, cmd.get("--version"), MIRROR, PULL)))
    for path in ci.manifest_files(dest):
        text = open(path).read()
        new = re.sub(r"(\n\s*(?:- )?image: )(\S+)", lambda m: m.group(1) + ci.mirror_of(m.group(2), MIRROR), text)
        if os.path.basename(path) == "serviceaccount.yaml" and "kind: ServiceAccount" in new:
            new = new.rstrip("\n") + f"\nimagePullSecrets:\n  - name: {PULL}\n"
        with open(path, "w") as f:
            f.write(new)
    obs = os.path.join(dest, "kustomize", "observability")
    if os.path.isdir(obs):
        # The chart's own three pods (postgres-exporter, runbook-viewer,
        # sql-exporter) run as the namespace's default service account.
        with open(os.path.join(obs, "serviceaccount-default.yaml"), "w") as f:
            yaml.safe_dump({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "coder-observability"},
                            "imagePullSecrets": [{"name": PULL}]}, f, sort_keys=False)
        k = yaml.safe_load(open(os.path.join(obs, "kustomization.yaml")))
        k["resources"].append("serviceaccount-default.yaml")
        write_values(os.path.join(obs, "kustomization.yaml"), k)
    readme = os.path.join(dest, "README.md")
    text = open(readme).read()
    text = re.sub(r"--image=(\S+)", lambda m: "--image=" + ci.mirror_of(m.group(1), MIRROR), text)
    text = re.sub(r'"image":"([^"]+)"', lambda m: f'"image":"{ci.mirror_of(m.group(1), MIRROR)}"', text)
    text = text.replace('"spec":{"automountServiceAccountToken":false,', f'"spec":{{"imagePullSecrets":[{{"name":"{PULL}"}}],"automountServiceAccountToken":false,')
    open(readme, "w").write(text)
    lines = ["# SOURCE MIRROR (skopeo copy docker://SOURCE docker://MIRROR)"]
    for n in sorted(sources):
        repo = ci.repository(n)
        if repo == "docker.io/grafana/loki-helm-test":  # loki.test: null
            continue
        if repo == "docker.io/curlimages/curl" and n.endswith(":7.85.0"):  # grafana.dashboards: null
            continue
        src = f"{repo}:{PINNED[repo]}" if repo in PINNED else n
        lines.append(f"{src} {ci.mirror_of(src, MIRROR)}")
    with open(os.path.join(dest, "images.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def run(charts, tree, source_check=True):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        failures = ci.check_tree(tree, charts, source_check)
    return failures, out.getvalue()


def edit(path, old, new, count=1):
    text = open(path).read()
    if old not in text:
        raise AssertionError(f"fixture: {old!r} is not in {path}")
    open(path, "w").write(text.replace(old, new, count))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.environ.get("CODER_GEN_SHARED") or os.path.join(ci.HERE, "..", "..", "shared"))
    ap.add_argument("--chart-dep", action="append", default=[x for x in os.environ.get("CODER_GEN_CHART_DEPS", "").split(":") if x])
    ap.add_argument("golden")
    ap.add_argument("out", nargs="?")
    args = ap.parse_args()
    for need in ("helm/coder-observability/values.yaml", "helm/cluster-autoscaler/values.yaml", "verify/judge/job.yaml"):
        if not os.path.exists(os.path.join(args.golden, need)):
            sys.exit(f"test_check_images: {args.golden} has no {need}: use a tree with observability and the autoscaler (golden/1k-aws-observability)")
    charts = ci.Charts(args.shared, args.chart_dep)
    work = tempfile.mkdtemp(prefix="test-check-images-")
    try:
        _main(args, charts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _main(args, charts, work):
    passed, failed = 0, 0

    golden_failures, _ = run(charts, args.golden.rstrip("/"))
    base = ci.Found()
    # The golden's image set, for images.txt: run the collection again quietly.
    with contextlib.redirect_stdout(io.StringIO()):
        for vpath, cmd in ci.releases(args.golden):
            chart = cmd["chart"].rsplit("/", 1)[-1]
            values = yaml.safe_load(open(vpath)) or {}
            for s in cmd["set"]:
                ci.set_dotted(values, s)
            docs, _ = charts.render(chart, cmd.get("--version"), values, cmd["release"], cmd["--namespace"])
            for d in docs:
                ci.collect_doc(base, [], d, "", cmd["--namespace"])
        for path in ci.manifest_files(args.golden):
            for d in yaml.safe_load_all(open(path)):
                if isinstance(d, dict):
                    ci.collect_doc(base, [], d, "", "default")
        ci.collect_readme(base, [], os.path.join(args.golden, "README.md"), "")
    if golden_failures:
        print(f"FAIL the golden tree itself fails: {golden_failures}")
        sys.exit(1)

    clean = os.path.join(work, "clean")
    mirror_tree(args.golden, clean, base.images)

    def case(name, mutate, expect, source_check=True):
        nonlocal passed, failed
        tree = os.path.join(work, name)
        shutil.copytree(clean, tree)
        mutate(tree)
        failures, out = run(charts, tree, source_check)
        if expect is None:
            ok = not failures
        else:
            ok = bool(failures) and all(any(re.search(e, f) for f in failures) for e in expect)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {len(failures)} failures" + ("" if ok else f"\n{out}"))
        if ok:
            for f in failures:
                print(f"       {f[:200]}")
        passed += ok
        failed += not ok

    case("mirrored tree passes", lambda t: None, None)
    case("a line missing", lambda t: edit(f"{t}/images.txt", "docker.io/grafana/grafana:10.4.19 registry.corp.example/mirror/grafana/grafana:10.4.19\n", ""),
         [r"images.txt misses registry.corp.example/mirror/grafana/grafana:10.4.19"])
    case("an extra line", lambda t: open(f"{t}/images.txt", "a").write("docker.io/library/redis:7 registry.corp.example/mirror/library/redis:7\n"),
         [r"lists registry.corp.example/mirror/library/redis:7, which nothing"])
    case("wrong source registry", lambda t: edit(f"{t}/images.txt", "docker.io/grafana/grafana:10.4.19 ", "quay.io/grafana/grafana:10.4.19 "),
         [r"listed with SOURCE quay.io/grafana/grafana:10.4.19, but without the mirror .* renders docker.io/grafana/grafana:10.4.19"])
    case("mirror rule broken: tag", lambda t: edit(f"{t}/images.txt", " registry.corp.example/mirror/grafana/grafana:10.4.19", " registry.corp.example/mirror/grafana/grafana:10.4"),
         [r"is not <prefix>/grafana/grafana:10.4.19"])
    case("mirror rule broken: host kept", lambda t: edit(f"{t}/images.txt", " registry.corp.example/mirror/grafana/grafana:10.4.19", " registry.corp.example/mirror/docker.io/grafana/grafana:10.4.19"),
         [r"more than one mirror prefix", r"images.txt misses registry.corp.example/mirror/grafana/grafana:10.4.19"])
    case("untagged source", lambda t: edit(f"{t}/images.txt", "docker.io/library/busybox:1.31.1 registry.corp.example/mirror/library/busybox:1.31.1",
                                           "docker.io/library/busybox registry.corp.example/mirror/library/busybox"),
         [r"SOURCE docker.io/library/busybox has no explicit tag", r"images.txt misses"])
    case("collision", lambda t: open(f"{t}/images.txt", "a").write("quay.io/library/busybox:1.31.1 registry.corp.example/mirror/library/busybox:1.31.1\n"),
         [r"collide on mirror reference registry.corp.example/mirror/library/busybox:1.31.1"])
    case("coder image left upstream", lambda t: edit(f"{t}/helm/coder/values.yaml", "repo: registry.corp.example/mirror/coder/coder", "repo: ghcr.io/coder/coder"),
         [r"ghcr.io/coder/coder:v2.33.6 is not under the mirror", r"images.txt misses ghcr.io/coder/coder"])
    case("pull secret as a string list", lambda t: edit(f"{t}/helm/coder/values.yaml", "pullSecrets:\n    - name: corp-mirror-pull", "pullSecrets:\n    - corp-mirror-pull"),
         [r"Deployment/coder: imagePullSecrets is not a list of \{name: <string>\}"])
    case("default service account without pull secret", lambda t: os.remove(f"{t}/kustomize/observability/serviceaccount-default.yaml"),
         [r"StatefulSet/postgres-exporter: no pull secret", r"StatefulSet/sql-exporter: no pull secret", r"StatefulSet/runbook-viewer: no pull secret"])
    case("psql pod without pull secret", lambda t: edit(f"{t}/README.md", f'"imagePullSecrets":[{{"name":"{PULL}"}}],', ""),
         [r"kubectl run coder-db-setup \(namespace coder\): no pull secret"])
    case("verify Job image upstream", lambda t: edit(f"{t}/verify/judge/job.yaml", "image: registry.corp.example/mirror/curlimages/curl:8.11.1", "image: curlimages/curl:8.11.1"),
         [r"curlimages/curl:8.11.1 is not under the mirror", r"images.txt lists registry.corp.example/mirror/curlimages/curl:8.11.1"])
    case("kustomize images transformer", lambda t: open(f"{t}/kustomize/observability/kustomization.yaml", "a").write("images:\n  - name: x\n    newName: y\n"),
         [r"kustomize `images:` transformer"])
    case("values without a header command", lambda t: write_values_headerless(f"{t}/helm/cluster-autoscaler/values.yaml"),
         [r"no `helm upgrade --install NAME CHART --namespace NS` in its header"])
    # sources-only list (a tree without mirror): equality of the SOURCE column.
    case("SOURCE-only list on the golden tree", lambda t: unmirror(t, args.golden), None)

    if args.out:
        shutil.rmtree(args.out, ignore_errors=True)
        shutil.copytree(clean, args.out)
    print(f"test-check-images: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def write_values_headerless(path):
    text = "".join(l for l in open(path) if not l.startswith("#"))
    open(path, "w").write(text)


def unmirror(tree, golden):
    """Replace the tree by the golden one, with images.txt holding the golden's
    own image set as SOURCE-only lines."""
    entries = [l.split()[0] for l in open(f"{tree}/images.txt") if l.strip() and not l.startswith("#")]
    shutil.rmtree(tree)
    shutil.copytree(golden, tree)
    # The golden pulls the untagged images, the helm test image and curl 7.85.0.
    lines = [e for e in entries if ci.repository(e) not in PINNED]
    lines += sorted(PINNED)
    lines += ["docker.io/grafana/loki-helm-test:ewelch-distributed-helm-chart-17db5ee", "docker.io/curlimages/curl:7.85.0"]
    open(f"{tree}/images.txt", "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
