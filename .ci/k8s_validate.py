"""Strict schema validation of Kubernetes objects read from stdin (the output
of `kubectl kustomize`). kubernetes-validate only warns on an unknown kind, so
SchemaNotFoundError is turned into a failure here; CRDs we knowingly emit are
listed in ALLOWED_CRDS and checked for their required shape by hand."""
import sys

import kubernetes_validate as kv
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

K8S_VERSION = sys.argv[1] if len(sys.argv) > 1 else "1.33.0"
# The Prometheus Operator's ServiceMonitor: no schema ships with
# kubernetes-validate.
# The External Secrets Operator's ExternalSecret: schema-checked against the
# CRD's OpenAPI schema by .ci/check-observability.sh (@kubernetes-models).
ALLOWED_CRDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ("endpoints", "selector"),
    ("external-secrets.io/v1", "ExternalSecret"): ("secretStoreRef", "target", "data"),
}

bad = 0
count = 0
for doc in yaml.safe_load_all(sys.stdin):
    if not doc:
        continue
    count += 1
    kind, api = doc.get("kind"), doc.get("apiVersion")
    name = (doc.get("metadata") or {}).get("name")
    if (api, kind) in ALLOWED_CRDS:
        spec = doc.get("spec") or {}
        required = ALLOWED_CRDS[(api, kind)]
        if not (name and doc["metadata"].get("namespace") and all(spec.get(f) for f in required)):
            bad += 1
            print(f"FAIL {kind}/{name}: missing metadata.namespace or one of spec.{', spec.'.join(required)}")
        continue
    try:
        kv.validate(doc, K8S_VERSION, strict=True)
    except (SchemaNotFoundError, ValidationError) as e:
        bad += 1
        # The first line names the problem; the rest is the whole schema.
        print(f"FAIL {api} {kind}/{name}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
print(f"{count} objects, {bad} invalid")
sys.exit(1 if bad or count == 0 else 0)
