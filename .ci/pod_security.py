"""Pod Security Standards `restricted` (Kubernetes docs, "Pod Security
Standards", profile v1.33) for the pods of Kubernetes objects read from stdin
(Jobs, Deployments, StatefulSets, DaemonSets, Pods). No offline tool enforces
the admission policy, so its rules are checked here, field by field. Exit 1
on any violation, naming the object and the rule."""
import sys

import yaml

ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}


def pod_spec(doc):
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind in ("Job", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        return (spec.get("template") or {}).get("spec")
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    return None


def violations(ps):
    out = []
    psc = ps.get("securityContext") or {}
    for f in ("hostNetwork", "hostPID", "hostIPC"):
        if ps.get(f):
            out.append(f"{f} must not be true")
    for v in ps.get("volumes") or []:
        kinds = set(v) - {"name"}
        if not kinds <= ALLOWED_VOLUMES:
            out.append(f"volume {v.get('name')}: {sorted(kinds - ALLOWED_VOLUMES)} not allowed")
    if psc.get("sysctls"):
        out.append("sysctls are not allowed")
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type")
    if pod_seccomp not in (None, "RuntimeDefault", "Localhost"):
        out.append(f"pod seccompProfile {pod_seccomp}")
    if psc.get("runAsUser") == 0:
        out.append("pod runAsUser 0")
    containers = (ps.get("containers") or []) + (ps.get("initContainers") or []) + (ps.get("ephemeralContainers") or [])
    if not containers:
        out.append("no containers")
    for c in containers:
        n = c.get("name")
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            out.append(f"{n}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append(f"{n}: allowPrivilegeEscalation must be false")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            out.append(f"{n}: capabilities.drop must include ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            out.append(f"{n}: capabilities.add beyond NET_BIND_SERVICE")
        if not (sc.get("runAsNonRoot") is True or (psc.get("runAsNonRoot") is True and sc.get("runAsNonRoot") is not False)):
            out.append(f"{n}: runAsNonRoot must be true")
        if sc.get("runAsUser") == 0:
            out.append(f"{n}: runAsUser 0")
        seccomp = (sc.get("seccompProfile") or {}).get("type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            out.append(f"{n}: seccompProfile must be RuntimeDefault or Localhost")
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                out.append(f"{n}: hostPort")
        if sc.get("procMount") not in (None, "Default"):
            out.append(f"{n}: procMount")
        if sc.get("seLinuxOptions", {}).get("type") not in (None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"):
            out.append(f"{n}: seLinuxOptions.type")
    return out


def main():
    bad = pods = 0
    for doc in yaml.safe_load_all(sys.stdin):
        if not doc:
            continue
        ps = pod_spec(doc)
        if ps is None:
            continue
        pods += 1
        name = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
        for v in violations(ps):
            bad += 1
            print(f"FAIL restricted {name}: {v}")
    print(f"{pods} pod templates, {bad} Pod Security violations")
    sys.exit(1 if bad or pods == 0 else 0)


if __name__ == "__main__":
    main()
