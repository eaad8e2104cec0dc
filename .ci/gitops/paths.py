"""Every path a GitOps object of a rendered tree points at exists in the tree.

Usage: paths.py <tree>. The tree's folder in the Git repository is read from
the object that deploys gitops/ itself (Flux's `<name>-gitops` Kustomization,
Argo CD's application.yaml), so a wrong prefix anywhere shows up as a
missing path. Exit 1 on any problem.
"""

import glob
import os
import sys

import yaml

tree = sys.argv[1].rstrip("/")
problems = []
checked = 0


def objects(pattern):
    for f in sorted(glob.glob(os.path.join(tree, pattern), recursive=True)):
        with open(f, encoding="utf-8") as fh:
            for o in yaml.safe_load_all(fh):
                if o:
                    yield f, o


def prefix_of(path, suffix):
    path = path.removeprefix("./")
    if path != suffix and not path.endswith("/" + suffix):
        problems.append(f"{path!r} does not end with {suffix!r}")
        return None
    return path[: len(path) - len(suffix)]


def exists(prefix, path, what):
    global checked
    path = path.removeprefix("./")
    if not path.startswith(prefix):
        problems.append(f"{what}: {path!r} is outside the tree's folder {prefix!r}")
        return
    rel = path[len(prefix):]
    if not os.path.exists(os.path.join(tree, rel)):
        problems.append(f"{what}: {path!r} -> {rel!r} is not in the tree")
    checked += 1


# The primary's objects and every site's (`sites/<name>/gitops/`, a path per
# site cluster), all in the same repository folder.
flux = [
    (f, o)
    for pattern in ("gitops/flux/**/*.yaml", "sites/*/gitops/flux/**/*.yaml")
    for f, o in objects(pattern)
    if o.get("apiVersion", "").startswith("kustomize.toolkit")
]
if flux:
    self_ks = [o for f, o in flux if f == os.path.join(tree, "gitops/flux/kustomization-gitops.yaml")]
    prefix = prefix_of(self_ks[0]["spec"]["path"], "gitops/flux") if self_ks else None
    if prefix is None:
        problems.append("no Kustomization deploys gitops/flux")
    else:
        for f, o in flux:
            exists(prefix, o["spec"]["path"], f)
        for f, o in [x for pattern in ("gitops/flux/**/kustomization.yaml", "sites/*/gitops/flux/**/kustomization.yaml") for x in objects(pattern)]:
            for gen in o.get("configMapGenerator", []):
                for spec in gen["files"]:
                    rel = os.path.normpath(os.path.join(os.path.dirname(f), spec.split("=", 1)[-1]))
                    checked += 1
                    if not os.path.isfile(rel):
                        problems.append(f"{f}: configMapGenerator file {spec!r} is not in the tree")

apps = list(objects("gitops/argocd/**/*.yaml")) + list(objects("sites/*/gitops/argocd/**/*.yaml"))
apps = [(f, o) for f, o in apps if o.get("kind") == "Application"]
if apps:
    root = [o for f, o in apps if f == os.path.join(tree, "gitops/argocd/application.yaml")]
    prefix = prefix_of(root[0]["spec"]["source"]["path"], "gitops/argocd/apps") if root else None
    if prefix is None:
        problems.append("no application.yaml deploys gitops/argocd/apps")
    else:
        for f, o in apps:
            sources = o["spec"].get("sources") or [o["spec"]["source"]]
            for s in sources:
                if "path" in s:
                    exists(prefix, s["path"], f)
                for v in s.get("helm", {}).get("valueFiles", []):
                    if not v.startswith("$values/"):
                        problems.append(f"{f}: value file {v!r} is not read from the Git source ($values/)")
                    else:
                        exists(prefix, v.removeprefix("$values/"), f)

for p in problems:
    print(f"FAIL {tree}: {p}")
if not problems:
    print(f"ok   {tree}: {checked} path(s) the GitOps objects point at exist")
sys.exit(1 if problems else 0)
