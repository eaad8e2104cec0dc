"""Every image a tree pulls, found by rendering, against the tree's image list.

Usage: check_images.py [--shared DIR] [--chart-dep ARCHIVE]... [--no-source-check] TREE...

For each tree (a golden directory or a rendered tree):
  1. Every Helm release the tree installs is rendered offline with the real
     chart from SHARED/charts (helm-python-sdk), with the tree's values. The
     releases are found by path, anywhere in the tree (so `sites/*/helm/...`
     too): `.../helm/<chart>/values.yaml` and `.../helm/<chart>/<dir>/values.yaml`.
     Release name, chart, namespace, version and any `--set`/`--set-string`
     come from the `helm upgrade --install` command in the file's header
     comment, which every values file carries; a values file without one fails.
     Each distinct (chart, values, release, namespace) is rendered once.
  2. Images are collected from every pod template in the rendered objects
     (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod, ... found by
     walking every object for `containers`), init and ephemeral containers
     included, Helm hooks included. `helm test` hook pods (hook `test`) count:
     `helm test` pulls them too, so a tree either lists their image or
     disables the test (loki: `loki.test: null`); they are marked
     "(helm test)" in the output.
  3. Images are collected from the tree's own YAML manifests (every *.yaml /
     *.yml outside helm/ and .coder-gen/: kustomize/, verify/, entry/,
     gitops/, ...), read as written: a kustomization with an `images:`
     transformer fails (the check would not see what kustomize makes of it).
  4. Images are collected from README.md commands: every `--image=X` /
     `--image X`, and the containers of a `kubectl run --overrides='{json}'`.

Then, when the tree has `images.txt` at its root (lines `SOURCE MIRROR`, or
`SOURCE` alone for a tree without a mirror; `#` starts a comment):
  - the set of images found must equal the list's MIRROR column (SOURCE
    column without a mirror), compared as normalized references
    (`postgres:16` == `docker.io/library/postgres:16`): missing and extra
    entries fail, and so does a malformed or duplicate line;
  - with a mirror, each line must follow the mirror rule: MIRROR is
    `<prefix>/<path of SOURCE>:<tag of SOURCE>`, where <path> is SOURCE's
    repository without its registry host (docker.io's implicit `library/`
    made explicit), one <prefix> for the whole list; two sources mapping to
    one mirror reference (a collision) fail;
  - with a mirror, every image found must start with `<prefix>/` and carry an
    explicit tag other than `latest`; every SOURCE too;
  - with a mirror, unless --no-source-check: each release is rendered a
    second time without every values key whose value is the prefix or
    starts with `<prefix>/` (so the chart's default image comes back), and
    each container's default repository must be the SOURCE repository listed
    for the mirror image that replaced it (registry host and path; the tag
    may differ where the tree pins one);
  - with a mirror, if any pod has a pull secret, every pod that pulls must
    have one: its own `imagePullSecrets`, or its service account's (from the
    charts or the tree's manifests; `default` when the pod names none).
Always: every `imagePullSecrets` entry must be `{name: <string>}` (some
sub-charts render `name: map[name:x]` or a bare string from the wrong list
form).
Without images.txt the set is printed (with where each image comes from),
so the check runs on trees that have no list yet.

Charts: SHARED/charts/<chart>. A tree pinning a different chart version than
the one in SHARED fails, except coder and coder-provisioner, whose released
charts differ from one version to the next only by the injected
version/appVersion (the default image tag): the chart is rendered with the
tree's version injected, and a NOTE says so. A sub-chart dependency missing
from a chart's charts/ directory (SHARED's coder-observability has loki
without its minio sub-chart) can be supplied with --chart-dep ARCHIVE
(`<name>-<version>.tgz`, repeatable; or CODER_GEN_CHART_DEPS, colon-
separated): the chart is copied to a temporary directory with the archive
placed where Helm looks for it. Without it, coder-observability is rendered
with loki.minio.enabled=false, and MinIO's two images are read from the
values keys loki.minio.image and loki.minio.mcImage (repository and tag,
which a mirrored tree writes); the output says so loudly, and a tree without
those keys fails.

Exit code 1 on any failure, 2 on bad usage.
"""
import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time

import helm_python
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
# Charts whose release process injects version and appVersion into one set of
# templates (coder/coder's release workflow): another version renders as the
# vendored one with the version injected.
VERSION_INJECTED = {"coder", "coder-provisioner"}
PLACEHOLDER = "set-by-check-images"


# ---------------------------------------------------------------- references

def parse_ref(ref):
    """(host, path, tag, digest) of an image reference, as Docker resolves it."""
    name, _, digest = ref.partition("@")
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = "docker.io", name
    if host == "index.docker.io":
        host = "docker.io"
    if host == "docker.io" and "/" not in path:
        path = "library/" + path
    return host, path, tag, digest


def normalize(ref):
    host, path, tag, digest = parse_ref(ref)
    return f"{host}/{path}" + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def repository(ref):
    host, path, _, _ = parse_ref(ref)
    return f"{host}/{path}"


def mirror_of(source, prefix):
    """The mirror rule: the registry host is dropped, the path and tag kept."""
    _, path, tag, digest = parse_ref(source)
    return f"{prefix}/{path}" + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def explicitly_tagged(ref):
    _, _, tag, _ = parse_ref(ref)
    return bool(tag) and tag != "latest"


# ------------------------------------------------------------------- objects

class Found:
    """Images found in one tree, with where each comes from."""

    def __init__(self):
        self.images = {}  # normalized ref -> [origin]
        self.raw = {}  # normalized ref -> ref as written
        self.pods = []  # (namespace, serviceAccount, pod-level secrets, origin, [refs])
        self.service_accounts = {}  # (namespace, name) -> imagePullSecrets
        self.located = {}  # (release, location) -> ref, for the source check

    def add(self, ref, origin):
        n = normalize(ref)
        self.images.setdefault(n, []).append(origin)
        self.raw.setdefault(n, ref)


def pod_specs(obj, path=()):
    """Every pod spec inside obj: dicts with a `containers` list of dicts."""
    if isinstance(obj, dict):
        cs = obj.get("containers")
        if isinstance(cs, list) and cs and all(isinstance(c, dict) for c in cs):
            yield path, obj
            return
        for k, v in obj.items():
            yield from pod_specs(v, path + (str(k),))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from pod_specs(v, path + (str(i),))


def containers(spec):
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(kind) or []:
            if isinstance(c, dict):
                yield kind, c


def hook_of(doc):
    return (((doc.get("metadata") or {}).get("annotations")) or {}).get("helm.sh/hook") or ""


def collect_doc(found, failures, doc, origin, namespace, release=None):
    """Images, pods and service accounts of one object."""
    meta = doc.get("metadata") or {}
    ns = meta.get("namespace") or namespace
    kind, name = doc.get("kind"), meta.get("name")
    if kind == "ServiceAccount":
        found.service_accounts[(ns, name)] = doc.get("imagePullSecrets") or []
        check_secret_list(failures, doc.get("imagePullSecrets"), f"{origin}: ServiceAccount/{name}")
    hooks = hook_of(doc)
    test = any(h.strip() in ("test", "test-success") for h in hooks.split(","))
    for path, spec in pod_specs(doc):
        where = f"{origin}: {kind}/{name}" + (" (helm test)" if test else f" (hook {hooks})" if hooks else "")
        refs = []
        for ckind, c in containers(spec):
            img = c.get("image")
            label = f"{where} {'init ' if ckind == 'initContainers' else ''}container {c.get('name')}"
            if not isinstance(img, str) or not img.strip():
                failures.append(f"{label}: no image")
                continue
            found.add(img, label)
            refs.append(img)
            if release is not None:
                found.located[(release, kind, name, "/".join(path), ckind, c.get("name"))] = img
        check_secret_list(failures, spec.get("imagePullSecrets"), where)
        sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        found.pods.append((ns, sa, spec.get("imagePullSecrets") or [], where, refs))


def check_secret_list(failures, secrets, where):
    if secrets is None:
        return
    if not isinstance(secrets, list) or not all(
        isinstance(s, dict) and set(s) == {"name"} and isinstance(s["name"], str) and s["name"] and not s["name"].startswith("map[")
        for s in secrets
    ):
        failures.append(f"{where}: imagePullSecrets is not a list of {{name: <string>}}: {secrets!r}")


# -------------------------------------------------------------------- charts

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


class Charts:
    def __init__(self, shared, deps):
        self.shared = shared
        self.deps = {}  # "name-version" -> archive path
        for d in deps:
            base = os.path.basename(d)
            if not base.endswith(".tgz") or not os.path.isfile(d):
                sys.exit(f"check_images: --chart-dep {d}: not a <name>-<version>.tgz file")
            self.deps[base[: -len(".tgz")]] = d
        self.tmp = tempfile.TemporaryDirectory(prefix="check-images-")
        self.loaded = {}
        self.renders = {}
        self.notes = []

    def minio_missing(self):
        """SHARED's coder-observability lacks loki's minio sub-chart and no
        --chart-dep supplies it."""
        src = os.path.join(self.shared, "charts", "coder-observability")
        return any(n == "minio" and f"{n}-{v}" not in self.deps for _, n, v in self.missing_deps(src))

    def missing_deps(self, root):
        """(chart dir, dependency name, version) declared but absent from charts/."""
        out = []
        for dirpath, dirnames, filenames in os.walk(root):
            if "Chart.yaml" not in filenames:
                continue
            meta = yaml.safe_load(open(os.path.join(dirpath, "Chart.yaml"))) or {}
            present = set()
            sub = os.path.join(dirpath, "charts")
            for entry in os.listdir(sub) if os.path.isdir(sub) else []:
                p = os.path.join(sub, entry)
                if os.path.isdir(p) and os.path.exists(os.path.join(p, "Chart.yaml")):
                    present.add((yaml.safe_load(open(os.path.join(p, "Chart.yaml"))) or {}).get("name"))
                elif entry.endswith(".tgz"):
                    present.add(re.sub(r"-[0-9][^-]*(-[^-]+)?\.tgz$", "", entry))
            for dep in meta.get("dependencies") or []:
                if dep.get("name") not in present:
                    out.append((dirpath, dep.get("name"), str(dep.get("version"))))
        return out

    def chart(self, name, version):
        """helm_python.Chart for the tree's chart and version (prepared once)."""
        key = (name, version)
        if key in self.loaded:
            return self.loaded[key]
        src = os.path.join(self.shared, "charts", name)
        if not os.path.isfile(os.path.join(src, "Chart.yaml")):
            raise LookupError(f"chart {name} is not in {self.shared}/charts")
        meta = yaml.safe_load(open(os.path.join(src, "Chart.yaml")))
        inject = version and str(meta.get("version")) != version
        if inject and name not in VERSION_INJECTED:
            raise LookupError(f"the tree pins {name} {version}, {self.shared}/charts/{name} is {meta.get('version')}")
        fill = [m for m in self.missing_deps(src) if f"{m[1]}-{m[2]}" in self.deps]
        path = src
        if inject or fill:
            path = os.path.join(self.tmp.name, f"{name}-{version or meta.get('version')}")
            shutil.copytree(src, path)
            for dirpath, dirnames, filenames in os.walk(path):
                os.chmod(dirpath, 0o755)
                for f in filenames:
                    os.chmod(os.path.join(dirpath, f), 0o644)
            if inject:
                meta["version"] = version
                meta["appVersion"] = version
                with open(os.path.join(path, "Chart.yaml"), "w") as f:
                    yaml.safe_dump(meta, f, sort_keys=False)
                self.notes.append(f"NOTE {name}: rendered the templates of {meta.get('name')} {yaml.safe_load(open(os.path.join(src, 'Chart.yaml')))['version']} with version/appVersion {version} injected (the tree pins {version})")
            for dirpath, dep, depv in fill:
                dest = os.path.join(path, os.path.relpath(dirpath, src), "charts")
                os.makedirs(dest, exist_ok=True)
                shutil.copy(self.deps[f"{dep}-{depv}"], dest)
                self.notes.append(f"NOTE {name}: added {dep}-{depv}.tgz (--chart-dep) to {os.path.relpath(dirpath, src)}/charts")
        self.loaded[key] = (helm_python.Chart.load(path), path)
        return self.loaded[key]

    def render(self, name, version, values, release, namespace):
        """Objects the chart renders, once per distinct input."""
        key = (name, version, json.dumps(values, sort_keys=True, default=str), release, namespace)
        if key in self.renders:
            return self.renders[key]
        chart, path = self.chart(name, version)
        try:
            with captured_stderr() as err:
                files = chart.render(values, name=release, namespace=namespace, is_install=True)
        except helm_python.HelmError as e:
            missing = self.missing_deps(path)
            hint = "".join(
                f"\n    {os.path.relpath(d, path) or '.'} lacks its dependency {n} {v} in charts/ (supply {n}-{v}.tgz with --chart-dep if the values enable it)"
                for d, n, v in missing
            )
            msg = " ".join(str(e).split())
            raise RuntimeError(f"{name}: template error: ...{msg[-300:]}{hint}") from None
        docs = []
        for tpath, text in sorted(files.items()):
            base = os.path.basename(tpath)
            if base == "NOTES.txt" or base.startswith("_") or not base.endswith((".yaml", ".yml", ".tpl")):
                continue
            for d in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
                if isinstance(d, dict) and d.get("kind"):
                    docs.append(d)
        warnings = sorted(set(l.split(" ", 2)[-1] for l in err[0].strip().splitlines() if l.strip()))
        self.renders[key] = (docs, warnings)
        return self.renders[key]


# ---------------------------------------------------------------------- tree

def header_command(values_path):
    """The `helm upgrade --install` command of a values file's header comment."""
    lines = []
    with open(values_path) as f:
        for line in f:
            if not line.startswith("#"):
                break
            lines.append(line[1:].strip())
    text = " ".join(l[:-1] if l.endswith("\\") else l for l in lines)
    m = re.search(r"helm upgrade --install (.*)", text)
    if not m:
        return None
    try:
        words = shlex.split(m.group(1))
    except ValueError:
        words = m.group(1).split()
    cmd = {"release": words[0] if words else None, "chart": words[1] if len(words) > 1 else None, "set": []}
    i = 2
    while i < len(words):
        w = words[i]
        if w in ("--namespace", "-n", "--version", "--set", "--set-string") and i + 1 < len(words):
            if w in ("--set", "--set-string"):
                cmd["set"].append(words[i + 1])
            else:
                cmd[{"-n": "--namespace"}.get(w, w)] = words[i + 1]
            i += 2
            continue
        if w.startswith(("--namespace=", "--version=", "--set=", "--set-string=")):
            k, v = w.split("=", 1)
            if k in ("--set", "--set-string"):
                cmd["set"].append(v)
            else:
                cmd[k] = v
        i += 1
    return cmd


def set_dotted(values, assignment):
    """`--set a.b=x`: the value is a placeholder when it is shell (`$(...)`)."""
    key, _, val = assignment.partition("=")
    if "$" in val or "`" in val:
        val = PLACEHOLDER
    cur = values
    parts = key.split(".")
    for p in parts[:-1]:
        if not isinstance(cur.get(p), dict):
            cur[p] = {}
        cur = cur[p]
    cur[parts[-1]] = val.strip('"')


def releases(tree):
    """(values file, command) of every Helm release the tree installs."""
    out = []
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames[:] = sorted(d for d in dirnames if d not in (".coder-gen", ".git"))
        if "values.yaml" not in filenames:
            continue
        rel = os.path.relpath(os.path.join(dirpath, "values.yaml"), tree).split(os.sep)
        if not (len(rel) >= 3 and rel[-3] == "helm") and not (len(rel) >= 4 and rel[-4] == "helm"):
            continue
        out.append((os.path.join(dirpath, "values.yaml"), header_command(os.path.join(dirpath, "values.yaml"))))
    return sorted(out)


MINIO_LOUD = (
    "!!! MinIO NOT RENDERED: {shared}'s coder-observability has loki without its minio sub-chart and no --chart-dep\n"
    "!!! supplies minio-4.0.15.tgz, so loki.minio.enabled is forced false for this render. MinIO's two images are\n"
    "!!! taken from the values keys loki.minio.image and loki.minio.mcImage (repository:tag) instead, and their\n"
    "!!! pods' pull secrets and default repositories are NOT checked. Supply the archive for the full check."
)


def without_minio(values, rel, origin, found, failures, notes, shared):
    """The values with loki.minio disabled, MinIO's images added from the
    values keys that set them (a tree without those keys fails: its MinIO
    images cannot be known without the chart)."""
    v = json.loads(json.dumps(values))
    minio = ((v.get("loki") or {}).get("minio")) or {}
    print(MINIO_LOUD.format(shared=shared))
    for key in ("image", "mcImage"):
        img = minio.get(key) or {}
        if img.get("repository") and img.get("tag"):
            found.add(f"{img['repository']}:{img['tag']}", f"{origin}: values loki.minio.{key} (minio sub-chart missing: NOT rendered)")
        else:
            failures.append(
                f"{rel}: loki.minio.{key} has no repository and tag, and the minio sub-chart is missing: "
                "cannot know MinIO's images (supply minio-4.0.15.tgz with --chart-dep)"
            )
    notes.append(f"{rel}: rendered with loki.minio.enabled=false (minio sub-chart missing); MinIO images from values keys only")
    loki = v.setdefault("loki", {})
    loki.setdefault("minio", {})["enabled"] = False
    # Without MinIO the loki chart needs bucket names of its own (render only;
    # its pods and images are the same).
    storage = loki.setdefault("loki", {}).setdefault("storage", {})
    storage.setdefault("type", "s3")
    storage.setdefault("bucketNames", {"chunks": "chunks", "ruler": "ruler", "admin": "admin"})
    storage.setdefault("s3", {}).setdefault("endpoint", "minio-not-rendered.invalid:9000")
    return v


def drop_mirror(values, prefix):
    """The values without every key whose value is the mirror (or under it):
    the chart's default image comes back. (Setting null would not do: Helm
    deletes a null key together with the chart's default.)"""
    def is_mirror(v):
        return isinstance(v, str) and (v == prefix or v.startswith(prefix + "/"))
    if isinstance(values, dict):
        return {k: drop_mirror(v, prefix) for k, v in values.items() if not is_mirror(v)}
    if isinstance(values, list):
        return [drop_mirror(v, prefix) for v in values if not is_mirror(v)]
    return values


def manifest_files(tree):
    for dirpath, dirnames, filenames in os.walk(tree):
        rel = os.path.relpath(dirpath, tree).split(os.sep)
        dirnames[:] = sorted(d for d in dirnames if d not in (".coder-gen", ".git", "helm", "terraform"))
        for f in sorted(filenames):
            if f.endswith((".yaml", ".yml")) and "helm" not in rel and f != "images.txt":
                yield os.path.join(dirpath, f)


def readme_commands(text):
    """Shell lines of a README, continuation lines joined."""
    out, cur = [], ""
    for line in text.splitlines():
        s = line.strip()
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        out.append(cur + s)
        cur = ""
    if cur:
        out.append(cur)
    return out


def collect_readme(found, failures, path, origin):
    text = open(path).read()
    for cmd in readme_commands(text):
        images = re.findall(r"--image[= ]['\"]?([^\s'\"]+)", cmd)
        for img in images:
            found.add(img, f"{origin}: --image")
        if "kubectl run" not in cmd:
            continue
        ns = re.search(r"(?:-n|--namespace)[= ]([^\s'\"]+)", cmd)
        ns = ns.group(1) if ns else "default"
        m = re.search(r"--overrides='(\{.*?\})'", cmd)
        spec = {}
        if m:
            try:
                spec = (json.loads(m.group(1)).get("spec")) or {}
            except json.JSONDecodeError as e:
                failures.append(f"{origin}: kubectl run --overrides is not JSON: {e}")
        name = re.search(r"kubectl run ([^\s]+)", cmd).group(1)
        where = f"{origin}: kubectl run {name} (namespace {ns})"
        refs = list(images)
        for ckind, c in containers(spec):
            if c.get("image"):
                found.add(c["image"], f"{where} container {c.get('name')}")
                refs.append(c["image"])
        check_secret_list(failures, spec.get("imagePullSecrets"), where)
        sa = spec.get("serviceAccountName") or "default"
        found.pods.append((ns, sa, spec.get("imagePullSecrets") or [], where, refs))


def read_list(path, failures):
    """images.txt: [(line number, source, mirror or None)]."""
    entries = []
    for i, line in enumerate(open(path), 1):
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        parts = s.split()
        if len(parts) not in (1, 2):
            failures.append(f"images.txt:{i}: expected `SOURCE MIRROR` (or `SOURCE`), got {s!r}")
            continue
        entries.append((i, parts[0], parts[1] if len(parts) == 2 else None))
    return entries


def check_tree(tree, charts, source_check):
    t0 = time.time()
    failures, notes = [], []
    found = Found()
    rendered = []  # (values path, cmd, values) for the source check

    for vpath, cmd in releases(tree):
        rel = os.path.relpath(vpath, tree)
        if not cmd or not cmd.get("release") or not cmd.get("chart") or not cmd.get("--namespace"):
            failures.append(f"{rel}: no `helm upgrade --install NAME CHART --namespace NS` in its header comment: cannot tell which release it is")
            continue
        chart = cmd["chart"].rstrip("/").rsplit("/", 1)[-1]
        values = yaml.safe_load(open(vpath)) or {}
        for s in cmd["set"]:
            set_dotted(values, s)
        origin = f"{rel} ({chart} {cmd.get('--version') or '?'}, release {cmd['release']} in {cmd['--namespace']})"
        if chart == "coder-observability" and charts.minio_missing():
            values = without_minio(values, rel, origin, found, failures, notes, charts.shared)
        try:
            docs, warnings = charts.render(chart, cmd.get("--version"), values, cmd["release"], cmd["--namespace"])
        except (LookupError, RuntimeError) as e:
            failures.append(f"{rel}: {e}")
            continue
        for w in warnings:
            notes.append(f"{rel}: helm {w}")
        for d in docs:
            collect_doc(found, failures, d, origin, cmd["--namespace"], release=rel)
        rendered.append((rel, chart, cmd, values))

    kustom_ns = {}
    for path in manifest_files(tree):
        rel = os.path.relpath(path, tree)
        try:
            docs = [d for d in yaml.safe_load_all(open(path)) if isinstance(d, dict)]
        except yaml.YAMLError as e:
            failures.append(f"{rel}: not YAML: {e}")
            continue
        for d in docs:
            if d.get("kind") == "Kustomization" and str(d.get("apiVersion", "")).startswith("kustomize.config.k8s.io"):
                kustom_ns[os.path.dirname(path)] = d.get("namespace")
                if d.get("images"):
                    failures.append(f"{rel}: a kustomize `images:` transformer rewrites images; this check reads manifests as written")
    for path in manifest_files(tree):
        rel = os.path.relpath(path, tree)
        try:
            docs = [d for d in yaml.safe_load_all(open(path)) if isinstance(d, dict)]
        except yaml.YAMLError:
            continue
        for d in docs:
            if d.get("kind") == "Kustomization":
                continue
            collect_doc(found, failures, d, rel, kustom_ns.get(os.path.dirname(path)) or "default")

    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames[:] = sorted(d for d in dirnames if d not in (".coder-gen", ".git"))
        if "README.md" in filenames:
            p = os.path.join(dirpath, "README.md")
            collect_readme(found, failures, p, os.path.relpath(p, tree))

    # The mirror rule's collisions, whatever the tree declares.
    by_path = {}
    for n in found.images:
        _, path, tag, digest = parse_ref(n)
        by_path.setdefault((path, tag, digest), set()).add(n)
    for k, v in by_path.items():
        if len(v) > 1:
            notes.append(f"images {sorted(v)} would share one mirror reference under the host-dropping rule")

    list_path = os.path.join(tree, "images.txt")
    if not os.path.exists(list_path):
        print(f"== {tree}: {len(found.images)} images (no images.txt: listing only)")
        for n in sorted(found.images):
            origins = found.images[n]
            print(f"  {n}{'' if explicitly_tagged(n) else '   [no explicit tag]'}")
            for o in sorted(set(origins)):
                print(f"      <- {o}")
    else:
        check_list(tree, list_path, found, rendered, charts, source_check, failures, notes)

    for n in notes:
        print(f"  NOTE {n}")
    for f in failures:
        print(f"  FAIL {tree}: {f}")
    print(f"-- {tree}: {len(found.images)} images, {len(failures)} failures, {time.time() - t0:.1f}s")
    return failures


def check_list(tree, list_path, found, rendered, charts, source_check, failures, notes):
    entries = read_list(list_path, failures)
    mirrored = {m is not None for _, _, m in entries}
    if len(mirrored) > 1:
        failures.append("images.txt mixes `SOURCE MIRROR` and `SOURCE`-only lines")
        return
    mirror = mirrored == {True}
    prefixes, by_mirror, by_source, seen = set(), {}, {}, set()
    for i, src, mir in entries:
        if (src, mir) in seen:
            failures.append(f"images.txt:{i}: duplicate line")
        seen.add((src, mir))
        if mirror:
            if not explicitly_tagged(src):
                failures.append(f"images.txt:{i}: SOURCE {src} has no explicit tag (or is `latest`)")
            _, path, tag, digest = parse_ref(src)
            suffix = f"/{path}" + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
            if not mir.endswith(suffix) or len(mir) == len(suffix):
                failures.append(f"images.txt:{i}: MIRROR {mir} is not <prefix>{suffix} (the mirror rule: registry host dropped, path and tag kept)")
                continue
            prefixes.add(mir[: -len(suffix)])
            if mir in by_mirror and normalize(by_mirror[mir][1]) != normalize(src):
                failures.append(f"images.txt:{i}: {src} and {by_mirror[mir][1]} (line {by_mirror[mir][0]}) collide on mirror reference {mir}")
            by_mirror[mir] = (i, src)
        by_source.setdefault(normalize(src), i)
    if mirror and len(prefixes) > 1:
        failures.append(f"images.txt: more than one mirror prefix: {sorted(prefixes)}")
    prefix = next(iter(prefixes)) if len(prefixes) == 1 else None

    listed = {normalize(m if mirror else s) for _, s, m in entries}
    have = set(found.images)
    for n in sorted(have - listed):
        failures.append(f"images.txt misses {found.raw[n]} (used by {found.images[n][0]}{' and more' if len(found.images[n]) > 1 else ''})")
    for n in sorted(listed - have):
        failures.append(f"images.txt lists {n}, which nothing in the tree pulls")
    print(f"== {tree}: {len(found.images)} images, images.txt {'with mirror ' + (prefix or '?') if mirror else 'without mirror'}: {len(entries)} lines")

    if not mirror or not prefix:
        return
    for n, origins in sorted(found.images.items()):
        raw = found.raw[n]
        if not raw.startswith(prefix + "/"):
            failures.append(f"{raw} is not under the mirror {prefix}/ (used by {origins[0]})")
        if not explicitly_tagged(raw):
            failures.append(f"{raw} has no explicit tag (or is `latest`) (used by {origins[0]})")

    # Pull secrets: all pods or none.
    pulling = [p for p in found.pods if p[4]]
    def effective(p):
        ns, sa, own, _, _ = p
        return own or found.service_accounts.get((ns, sa)) or []
    if any(effective(p) for p in pulling):
        for p in pulling:
            if not effective(p):
                failures.append(f"{p[3]}: no pull secret (none on the pod, none on service account {p[0]}/{p[1]}) while other pods use one")

    if not source_check:
        return
    sources = {normalize(m): s for _, s, m in entries}
    for rel, chart, cmd, values in rendered:
        bare = drop_mirror(values, prefix)
        if bare == values:
            continue
        try:
            docs, _ = charts.render(chart, cmd.get("--version"), bare, cmd["release"], cmd["--namespace"])
        except (LookupError, RuntimeError) as e:
            failures.append(f"{rel}: source check: the values without the mirror do not render: {e}")
            continue
        upstream = Found()
        for d in docs:
            collect_doc(upstream, [], d, rel, cmd["--namespace"], release=rel)
        for loc, mref in found.located.items():
            if loc[0] != rel or loc not in upstream.located:
                continue
            uref = upstream.located[loc]
            src = sources.get(normalize(mref))
            if src and repository(src) != repository(uref):
                failures.append(
                    f"images.txt: {mref} is listed with SOURCE {src}, but without the mirror {rel} renders {uref} there ({loc[1]}/{loc[2]} container {loc[5]})"
                )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=os.environ.get("CODER_GEN_SHARED") or os.path.join(HERE, "..", "..", "shared"))
    ap.add_argument("--chart-dep", action="append", default=[x for x in os.environ.get("CODER_GEN_CHART_DEPS", "").split(":") if x])
    ap.add_argument("--no-source-check", action="store_true")
    ap.add_argument("trees", nargs="+")
    args = ap.parse_args()
    charts = Charts(args.shared, args.chart_dep)
    failures = []
    for t in args.trees:
        failures += check_tree(t.rstrip("/"), charts, not args.no_source_check)
    for n in dict.fromkeys(charts.notes):
        print(n)
    print(f"check-images: {len(args.trees)} trees, {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
