//! Kustomize: a namespace per concern (coderd, each provisioner group, each
//! workspace group) with Pod Security labels, default-deny ingress plus the
//! few flows Coder needs, quotas, and the workspace RBAC that lets the
//! provisioners create workspaces. Objects are k8s-openapi types (the
//! ServiceMonitor and ExternalSecret CRDs excepted), one object per file; `kustomize/
//! kustomization.yaml` builds every overlay at once with plain `kubectl
//! kustomize` (no Helm needed).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, Namespace, ResourceQuota, ResourceQuotaSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::k8s::{self, meta};
use super::{network, paths, yaml};
use crate::plan::{self, Plan, Prerequisite, Quota, Workspaces};
use crate::tree::Tree;
use crate::yaml::object_id;

/// coderd's HTTP port inside the pod (the chart fixes
/// `CODER_HTTP_ADDRESS=0.0.0.0:8080`; its Service maps 80 to it).
const CODERD_HTTP_PORT: i32 = plan::CODERD_HTTP_PORT as i32;
pub(super) const DEFAULT_DENY: &str = "default-deny-ingress";
pub(super) const BASE_DEFAULT_DENY: &str = "base/default-deny-ingress";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    resources: Vec<String>,
    /// The user's strategic merge patches (`overrides.kustomize`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    patches: Vec<PatchRef>,
}

#[derive(Serialize)]
struct PatchRef {
    path: String,
    /// JSON 6902 patches name their object.
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<PatchTarget>,
}

#[derive(Serialize)]
struct PatchTarget {
    kind: String,
    name: String,
}

impl Kustomization {
    pub(super) fn new(namespace: Option<&str>, resources: Vec<String>) -> Kustomization {
        Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            namespace: namespace.map(str::to_string),
            resources,
            patches: Vec::new(),
        }
    }
}

/// The Prometheus Operator's ServiceMonitor (a CRD, so not in k8s-openapi):
/// only the fields written here.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceMonitor {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: ServiceMonitorSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceMonitorSpec {
    endpoints: Vec<Endpoint>,
    namespace_selector: NamespaceSelector,
    selector: LabelSelector,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    interval: &'static str,
    port: String,
    scrape_timeout: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceSelector {
    match_names: Vec<String>,
}

/// The External Secrets Operator's ExternalSecret (a CRD): only the fields
/// written here.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecret {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: ExternalSecretSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecretSpec {
    refresh_interval: &'static str,
    secret_store_ref: StoreRef,
    target: Target,
    data: Vec<ExternalSecretData>,
}

#[derive(Serialize)]
struct StoreRef {
    name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    name: String,
    creation_policy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<SecretTemplate>,
}

/// The Secret's keys: the plan's literals and the fetched value (ESO's
/// template engine v2; without a template the Secret holds `data` as is).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretTemplate {
    engine_version: &'static str,
    data: BTreeMap<String, String>,
}

/// What a templated ExternalSecret fetches its value as (a plain template
/// identifier, so `{{ .value }}` needs no quoting).
const TEMPLATE_VALUE: &str = "value";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecretData {
    secret_key: String,
    remote_ref: RemoteRef,
}

#[derive(Serialize)]
struct RemoteRef {
    key: String,
}

/// The ExternalSecret that fills `namespace`'s secret `name`, if the plan
/// has the External Secrets Operator make it.
fn external_secret(plan: &Plan, namespace: &str, name: &str) -> Option<ExternalSecret> {
    let eso = plan.credentials.external_secrets.as_ref()?;
    let s = eso.secrets.iter().find(|s| s.namespace == namespace && s.secret.name == name)?;
    Some(external_secret_of(eso, s))
}

/// The ExternalSecret of the plan's entry `s`.
fn external_secret_of(eso: &plan::ExternalSecrets, s: &plan::ExternalSecret) -> ExternalSecret {
    let name = &s.secret.name;
    let (secret_key, template) = if s.literals.is_empty() {
        (s.secret.key.clone(), None)
    } else {
        let mut data = s.literals.clone();
        data.insert(s.secret.key.clone(), format!("{{{{ .{TEMPLATE_VALUE} }}}}"));
        (TEMPLATE_VALUE.to_string(), Some(SecretTemplate { engine_version: "v2", data }))
    };
    ExternalSecret {
        api_version: "external-secrets.io/v1",
        kind: "ExternalSecret",
        metadata: meta(name, Some(&s.namespace)),
        spec: ExternalSecretSpec {
            refresh_interval: eso.refresh_interval,
            secret_store_ref: StoreRef { name: eso.store.clone(), kind: eso.store_kind },
            target: Target { name: name.to_string(), creation_policy: "Owner", template },
            data: vec![ExternalSecretData { secret_key, remote_ref: RemoteRef { key: s.remote_key.clone() } }],
        },
    }
}

/// `kustomize/observability/`, what the plan's `prerequisites` name: the
/// ExternalSecrets of the stack's secrets (the exporters' password keeps its
/// file name) and the `default` ServiceAccount with the registry's pull secret, in the
/// observability namespace (not an overlay: that namespace is the chart's,
/// so no default-deny; applied in the README's observability step).
fn observability_secrets(plan: &Plan, tree: &mut Tree) {
    let Some(stack) = &plan.observability.stack else { return };
    let mut files = Vec::new();
    for what in &stack.prerequisites {
        match what {
            Prerequisite::ExternalSecret => {
                if let Some(eso) = &plan.credentials.external_secrets {
                    for s in eso.secrets.iter().filter(|s| s.namespace == stack.namespace) {
                        let exporter = plan.credentials.exporter.as_ref().is_some_and(|e| e.secret.name == s.secret.name);
                        let file =
                            if exporter { "externalsecret.yaml".to_string() } else { format!("externalsecret-{}.yaml", s.secret.name) };
                        files.push((file, yaml::document(&plan.spec_file, &external_secret_of(eso, s))));
                    }
                }
            }
            Prerequisite::DefaultServiceAccount => {
                files.extend(network::observability_default_service_account(plan).map(|(f, t)| (f.to_string(), t)));
            }
        }
    }
    if files.is_empty() {
        return;
    }
    let dir = format!("{}/observability", paths::KUSTOMIZE_ROOT);
    let names = files.iter().map(|(f, _)| (*f).to_string()).collect();
    tree.insert(format!("{dir}/kustomization.yaml"), yaml::document(&plan.spec_file, &Kustomization::new(None, names)));
    for (file, text) in files {
        tree.insert(format!("{dir}/{file}"), text);
    }
}

/// One overlay directory: its files in the order they are listed.
pub(super) struct Overlay {
    dir: String,
    namespace: String,
    files: Vec<(String, String)>,
}

impl Overlay {
    pub(super) fn new(dir: String, namespace: &str) -> Overlay {
        Overlay { dir, namespace: namespace.to_string(), files: Vec::new() }
    }

    /// The overlay's folder in the tree.
    pub(super) fn dir(&self) -> &str {
        &self.dir
    }

    pub(super) fn add<T: Serialize>(&mut self, plan: &Plan, file: &str, object: &T) {
        self.files.push((file.to_string(), yaml::document(&plan.spec_file, object)));
    }

    pub(super) fn write(self, plan: &Plan, tree: &mut Tree) {
        let mut resources = vec![format!("../../{BASE_DEFAULT_DENY}")];
        resources.extend(self.files.iter().map(|(f, _)| f.clone()));
        // `namespace:` places the base's namespace-less default-deny policy;
        // every object here already names this namespace.
        // The user's own files (`overrides.kustomize`), copied as written.
        let overlay = self.dir.rsplit('/').next().unwrap_or(&self.dir);
        let mut patches = Vec::new();
        for f in plan.overrides.kustomize.get(overlay).into_iter().flatten() {
            let text = format!(
                "# DO NOT EDIT: copied by coder-gen from your {}; edit that file and run `coder-gen render`.\n# sha256 {}\n{}",
                f.source.file, f.source.sha256, f.source.text
            );
            tree.insert(format!("{}/{}", self.dir, f.name), text);
            if f.patch {
                patches.push(PatchRef { path: f.name.clone(), target: None });
            } else if f.json_patch {
                let target = PatchTarget { kind: f.object_kind.clone(), name: f.object_name.clone() };
                patches.push(PatchRef { path: f.name.clone(), target: Some(target) });
            } else {
                resources.push(f.name.clone());
            }
        }
        let mut k = Kustomization::new(Some(&self.namespace), resources);
        k.patches = patches;
        tree.insert(format!("{}/kustomization.yaml", self.dir), yaml::document(&plan.spec_file, &k));
        for (file, text) in self.files {
            tree.insert(format!("{}/{file}", self.dir), text);
        }
    }
}

pub(super) fn namespace(plan: &Plan, name: &str, pod_security: &str) -> Namespace {
    namespace_at(&plan.kubernetes.version, name, pod_security)
}

/// A namespace with Pod Security labels pinned to Kubernetes `version` (a
/// site's cluster may run another version than the primary's).
pub(super) fn namespace_at(version: &str, name: &str, pod_security: &str) -> Namespace {
    let mut m = meta(name, None);
    let version = format!("v{version}");
    let labels = m.labels.get_or_insert_with(BTreeMap::new);
    for mode in ["enforce", "audit", "warn"] {
        labels.insert(format!("pod-security.kubernetes.io/{mode}"), pod_security.to_string());
        labels.insert(format!("pod-security.kubernetes.io/{mode}-version"), version.clone());
    }
    Namespace { metadata: m, ..Namespace::default() }
}

pub(super) fn tcp(port: i32) -> NetworkPolicyPort {
    NetworkPolicyPort { port: Some(IntOrString::Int(port)), protocol: Some("TCP".into()), ..NetworkPolicyPort::default() }
}

pub(super) fn namespaces_peer(names: Vec<String>) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "kubernetes.io/metadata.name".into(),
                operator: "In".into(),
                values: Some(names),
            }]),
            ..LabelSelector::default()
        }),
        ..NetworkPolicyPeer::default()
    }
}

/// Admit `from` to `port` of the pods matching `pods`.
pub(super) fn allow(name: &str, ns: &str, pods: BTreeMap<String, String>, from: Vec<NetworkPolicyPeer>, port: i32) -> NetworkPolicy {
    NetworkPolicy {
        metadata: meta(name, Some(ns)),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(k8s::selector(pods)),
            ingress: Some(vec![NetworkPolicyIngressRule { from: Some(from), ports: Some(vec![tcp(port)]) }]),
            policy_types: Some(vec!["Ingress".into()]),
            ..NetworkPolicySpec::default()
        }),
    }
}

pub(super) fn quota(name: &str, ns: &str, q: &Quota) -> ResourceQuota {
    let hard = BTreeMap::from([
        ("limits.memory".to_string(), k8s::memory(q.limits_memory_mib)),
        ("pods".to_string(), Quantity(q.pods.to_string())),
        ("requests.cpu".to_string(), k8s::cpu(q.requests_cpu_millis)),
        ("requests.memory".to_string(), k8s::memory(q.requests_memory_mib)),
    ]);
    ResourceQuota {
        metadata: meta(name, Some(ns)),
        spec: Some(ResourceQuotaSpec { hard: Some(hard), ..ResourceQuotaSpec::default() }),
        ..ResourceQuota::default()
    }
}

/// Metrics for `pods` on the Prometheus port: the NetworkPolicy that admits
/// the collector's namespace (the coder-observability chart scrapes the pods
/// by their `prometheus.io/scrape` annotation, set in the Helm values), and
/// only when the spec runs a Prometheus Operator, a headless Service (the
/// charts expose no metrics Service; Coder's Prometheus docs) and the
/// ServiceMonitor that selects it, carrying the operator's selector labels.
fn metrics(plan: &Plan, o: &mut Overlay, name: &str, pods: &BTreeMap<String, String>) {
    let port_name = "prom-http";
    let port = i32::from(plan.observability.prometheus_port);
    let ns = o.namespace.clone();
    let mut scrapers = vec![plan.observability.scrape_namespace.clone()];
    if let Some(op) = &plan.observability.prometheus_operator {
        if !scrapers.contains(&op.namespace) {
            scrapers.push(op.namespace.clone());
        }
        let svc_labels = BTreeMap::from([("coder-gen/metrics".to_string(), name.to_string())]);
        let mut svc_meta = meta(&format!("{name}-metrics"), Some(&ns));
        svc_meta.labels.get_or_insert_with(BTreeMap::new).extend(svc_labels.clone());
        let svc = Service {
            metadata: svc_meta,
            spec: Some(ServiceSpec {
                cluster_ip: Some("None".into()),
                selector: Some(pods.clone()),
                ports: Some(vec![ServicePort {
                    name: Some(port_name.into()),
                    port,
                    protocol: Some("TCP".into()),
                    target_port: Some(IntOrString::Int(port)),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        o.add(plan, "service-metrics.yaml", &svc);
        let mut sm_meta = meta(name, Some(&ns));
        sm_meta.labels.get_or_insert_with(BTreeMap::new).extend(op.selector_labels.clone());
        let sm = ServiceMonitor {
            api_version: "monitoring.coreos.com/v1",
            kind: "ServiceMonitor",
            metadata: sm_meta,
            spec: ServiceMonitorSpec {
                endpoints: vec![Endpoint { interval: "10s", port: port_name.into(), scrape_timeout: "10s" }],
                namespace_selector: NamespaceSelector { match_names: vec![ns.clone()] },
                selector: k8s::selector(svc_labels),
            },
        };
        o.add(plan, "servicemonitor.yaml", &sm);
    }
    o.add(
        plan,
        "networkpolicy-allow-metrics-scrape.yaml",
        &allow("allow-metrics-scrape", &ns, pods.clone(), vec![namespaces_peer(scrapers)], port),
    );
}

/// The shared default-deny ingress policy; each overlay places it in its
/// namespace. `root`: the Kustomize folder (the primary's, or a site's).
pub(super) fn base(plan: &Plan, tree: &mut Tree, root: &str) {
    let dir = format!("{root}/{BASE_DEFAULT_DENY}");
    let policy = NetworkPolicy {
        metadata: meta(DEFAULT_DENY, None),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".into()]),
            ..NetworkPolicySpec::default()
        }),
    };
    let file = "networkpolicy.yaml";
    tree.insert(format!("{dir}/kustomization.yaml"), yaml::document(&plan.spec_file, &Kustomization::new(None, vec![file.into()])));
    tree.insert(format!("{dir}/{file}"), yaml::document(&plan.spec_file, &policy));
}

fn coder_overlay(plan: &Plan) -> Overlay {
    let c = &plan.coderd;
    let ns = c.namespace.as_str();
    let mut o = Overlay::new(paths::coder_overlay(), ns);
    let pods = k8s::chart_pod_labels(&plan.chart.coder_chart, &c.release);
    o.add(plan, "namespace.yaml", &namespace(plan, ns, "restricted"));

    // Users' traffic: to coderd's TLS port from anywhere when coderd is the
    // entry (no `from`: every source, in-cluster clients of the access URL
    // included), or to its HTTP port from the ingress controller only.
    let users_from = plan.entry.user_source_namespace.as_ref().map(|n| vec![namespaces_peer(vec![n.clone()])]);
    let mut users = allow("allow-users", ns, pods.clone(), Vec::new(), i32::from(plan.entry.user_port));
    if let Some(rule) = users.spec.as_mut().and_then(|s| s.ingress.as_mut()).and_then(|i| i.first_mut()) {
        rule.from = users_from;
    }
    o.add(plan, "networkpolicy-allow-users.yaml", &users);

    // An HTTP-01 challenge is answered by cert-manager's solver pod in this
    // namespace, reached through the ingress controller (solver port 8089).
    if let Some(controller) = plan.entry.http01_solver_source.as_ref() {
        let solver = BTreeMap::from([("acme.cert-manager.io/http01-solver".to_string(), "true".to_string())]);
        o.add(
            plan,
            "networkpolicy-allow-acme-http01-solver.yaml",
            &allow("allow-acme-http01-solver", ns, solver, vec![namespaces_peer(vec![controller.clone()])], 8089),
        );
    }

    // Provisioners (their API) and workspace agents connect to coderd.
    let clients: Vec<String> =
        plan.provisioners.iter().map(|g| g.namespace.clone()).chain(plan.workspaces.iter().map(|w| w.namespace.clone())).collect();
    o.add(
        plan,
        "networkpolicy-allow-provisioners-and-workspaces.yaml",
        &allow("allow-provisioners-and-workspaces", ns, pods.clone(), vec![namespaces_peer(clients)], CODERD_HTTP_PORT),
    );

    if let Some(es) = external_secret(plan, ns, &plan.database.url_secret.name) {
        o.add(plan, "externalsecret-db-url.yaml", &es);
    }
    // The verification Jobs (`verify/`) call coderd's API like a client.
    o.add(
        plan,
        "networkpolicy-allow-verify.yaml",
        &allow("allow-verify", ns, pods.clone(), vec![namespaces_peer(vec![plan.verify.namespace.clone()])], CODERD_HTTP_PORT),
    );

    if c.high_availability {
        // Replicas relay DERP traffic and coordinate over each other's pod
        // IPs (the chart sets CODER_DERP_SERVER_RELAY_URL=http://<pod IP>:8080).
        let peers = NetworkPolicyPeer { pod_selector: Some(k8s::selector(pods.clone())), ..NetworkPolicyPeer::default() };
        o.add(plan, "networkpolicy-allow-coderd-peers.yaml", &allow("allow-coderd-peers", ns, pods.clone(), vec![peers], CODERD_HTTP_PORT));
        o.add(plan, "poddisruptionbudget.yaml", &k8s::one_at_a_time(&c.release, ns, pods.clone()));
    }
    if plan.observability.enabled {
        metrics(plan, &mut o, &c.release, &pods);
    }
    o
}

fn provisioner_overlays(plan: &Plan) -> Vec<Overlay> {
    plan.provisioners
        .iter()
        .map(|g| {
            let ns = g.namespace.as_str();
            let mut o = Overlay::new(paths::provisioner_overlay(ns), ns);
            o.add(plan, "namespace.yaml", &namespace(plan, ns, "restricted"));
            o.add(plan, "resourcequota.yaml", &quota("provisioners", ns, &g.quota));
            if let Some(es) = external_secret(plan, ns, &g.key_secret.name) {
                o.add(plan, "externalsecret-provisioner-key.yaml", &es);
            }
            if plan.observability.enabled {
                let pods = k8s::chart_pod_labels(&plan.chart.provisioner_chart, &g.release);
                metrics(plan, &mut o, &g.release, &pods);
            }
            o
        })
        .collect()
}

/// The verbs Coder's own chart grants for workspace RBAC (libcoder
/// `_rbac.yaml`): its Kubernetes templates create a Deployment and a PVC.
pub(super) fn workspace_rules() -> Vec<PolicyRule> {
    let verbs: Vec<String> =
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"].iter().map(|v| (*v).to_string()).collect();
    vec![
        PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["pods".into(), "persistentvolumeclaims".into()]),
            verbs: verbs.clone(),
            ..PolicyRule::default()
        },
        PolicyRule { api_groups: Some(vec!["apps".into()]), resources: Some(vec!["deployments".into()]), verbs, ..PolicyRule::default() },
    ]
}

fn workspace_overlays(plan: &Plan) -> Vec<Overlay> {
    plan.workspaces
        .iter()
        .map(|w| {
            let ns = w.namespace.as_str();
            // Only the provisioner groups the plan maps to this namespace.
            let mut subjects: Vec<Subject> = plan
                .provisioners
                .iter()
                .filter(|g| g.workspace_namespaces.iter().any(|n| n == ns))
                .map(|g| Subject {
                    kind: "ServiceAccount".into(),
                    name: g.service_account.clone(),
                    namespace: Some(g.namespace.clone()),
                    api_group: None,
                })
                .collect();
            if plan.coderd.builtin_provisioners {
                subjects.push(Subject {
                    kind: "ServiceAccount".into(),
                    name: plan.coderd.service_account.clone(),
                    namespace: Some(plan.coderd.namespace.clone()),
                    api_group: None,
                });
            }
            workspace_overlay(plan, paths::workspace_overlay(ns), &plan.kubernetes.version, w, subjects)
        })
        .collect()
}

/// One workspace namespace's overlay in `dir`: Pod Security `baseline`,
/// the workspace Role bound to `subjects` (the provisioners that create
/// workspaces here), the quota and the LimitRange defaults.
pub(super) fn workspace_overlay(plan: &Plan, dir: String, version: &str, w: &Workspaces, subjects: Vec<Subject>) -> Overlay {
    let role_name = "coder-workspaces";
    let ns = w.namespace.as_str();
    let mut o = Overlay::new(dir, ns);
    // Workspaces run developer images (often as root, with sudo):
    // `baseline`, not `restricted`.
    o.add(plan, "namespace.yaml", &namespace_at(version, ns, "baseline"));
    o.add(plan, "role.yaml", &Role { metadata: meta(role_name, Some(ns)), rules: Some(workspace_rules()) });
    let binding = RoleBinding {
        metadata: meta(role_name, Some(ns)),
        role_ref: RoleRef { api_group: "rbac.authorization.k8s.io".into(), kind: "Role".into(), name: role_name.into() },
        subjects: Some(subjects),
    };
    o.add(plan, "rolebinding.yaml", &binding);
    o.add(plan, "resourcequota.yaml", &quota("workspaces", ns, &w.quota));
    let limits = LimitRange {
        metadata: meta("workspace-defaults", Some(ns)),
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".into(),
                default: Some(k8s::resource_list(w.default_limit)),
                default_request: Some(k8s::resource_list(w.default_request)),
                max_limit_request_ratio: Some(BTreeMap::from([("memory".to_string(), Quantity(w.memory_limit_request_ratio.to_string()))])),
                ..LimitRangeItem::default()
            }],
        }),
    };
    o.add(plan, "limitrange.yaml", &limits);
    o
}

/// `(kind, name)` of the objects coder-gen writes into each overlay (by
/// overlay name), the shared default-deny policy included: what the user's
/// patches may match.
pub fn objects(plan: &Plan) -> std::collections::BTreeMap<String, Vec<(String, String, serde_json::Value)>> {
    let mut overlays = vec![coder_overlay(plan)];
    overlays.extend(provisioner_overlays(plan));
    overlays.extend(workspace_overlays(plan));
    overlays
        .into_iter()
        .map(|o| {
            let name = o.dir.rsplit('/').next().unwrap_or(&o.dir).to_string();
            let mut ids = vec![("NetworkPolicy".to_string(), DEFAULT_DENY.to_string(), serde_json::Value::Null)];
            ids.extend(o.files.iter().filter_map(|(_, text)| {
                let (kind, name) = object_id(text).ok()?;
                Some((kind, name, serde_saphyr::from_str(text).ok()?))
            }));
            (name, ids)
        })
        .collect()
}

pub fn render(plan: &Plan, tree: &mut Tree) {
    base(plan, tree, paths::KUSTOMIZE_ROOT);
    observability_secrets(plan, tree);
    let mut overlays = vec![coder_overlay(plan)];
    overlays.extend(provisioner_overlays(plan));
    overlays.extend(workspace_overlays(plan));
    let prefix = format!("{}/", paths::KUSTOMIZE_ROOT);
    let resources = overlays.iter().map(|o| o.dir.strip_prefix(&prefix).unwrap_or(&o.dir).to_string()).collect();
    tree.insert(
        format!("{}/kustomization.yaml", paths::KUSTOMIZE_ROOT),
        yaml::document(&plan.spec_file, &Kustomization::new(None, resources)),
    );
    for o in overlays {
        o.write(plan, tree);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::plan_from_str;
    use crate::test_support::spec_text;
    use crate::tree::Tree;

    fn render(spec: &str) -> Tree {
        let plan = plan_from_str("spec.yaml", spec).unwrap();
        super::super::render(&plan)
    }

    fn object(tree: &Tree, path: &str) -> Value {
        serde_saphyr::from_str(tree.get_str(path).unwrap_or_else(|| panic!("no {path}"))).unwrap()
    }

    fn spec() -> String {
        spec_text(3000, "gcp")
            + "provisioners:\n  - namespace: prov-a\n  - namespace: prov-b\nworkspaces:\n  - namespace: ws-a\n  - namespace: ws-b\n"
    }

    #[test]
    fn every_overlay_is_listed_and_every_namespace_has_pod_security() {
        let tree = render(&spec());
        let top = object(&tree, "kustomize/kustomization.yaml");
        let listed: Vec<&str> = top["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert_eq!(
            listed,
            [
                "overlays/coder",
                "overlays/provisioners-prov-a",
                "overlays/provisioners-prov-b",
                "overlays/workspaces-ws-a",
                "overlays/workspaces-ws-b"
            ]
        );
        for (dir, level) in [("coder", "restricted"), ("provisioners-prov-a", "restricted"), ("workspaces-ws-b", "baseline")] {
            let ns = object(&tree, &format!("kustomize/overlays/{dir}/namespace.yaml"));
            assert_eq!(ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], level, "{dir}");
            let k = object(&tree, &format!("kustomize/overlays/{dir}/kustomization.yaml"));
            // Every file of the overlay is listed in it, and nothing else.
            let files: Vec<String> = tree
                .paths()
                .filter_map(|p| p.strip_prefix(&format!("kustomize/overlays/{dir}/")))
                .filter(|f| *f != "kustomization.yaml")
                .map(str::to_string)
                .collect();
            let mut listed: Vec<String> = k["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
            assert_eq!(listed.remove(0), "../../base/default-deny-ingress");
            listed.sort();
            let mut files = files;
            files.sort();
            assert_eq!(listed, files, "{dir}");
        }
    }

    #[test]
    fn workspace_rbac_binds_every_provisioner_and_never_a_cluster_role() {
        let tree = render(&spec());
        for ws in ["ws-a", "ws-b"] {
            let b = object(&tree, &format!("kustomize/overlays/workspaces-{ws}/rolebinding.yaml"));
            let subjects: Vec<(&str, &str)> =
                b["subjects"].as_array().unwrap().iter().map(|s| (s["name"].as_str().unwrap(), s["namespace"].as_str().unwrap())).collect();
            assert_eq!(subjects, [("coder-provisioner", "prov-a"), ("coder-provisioner", "prov-b")]);
            assert_eq!(b["roleRef"]["kind"], "Role");
        }
        for (path, text) in tree.iter() {
            let text = std::str::from_utf8(text).unwrap();
            assert!(!text.contains("kind: ClusterRole"), "{path}");
        }
    }

    #[test]
    fn coderd_flows_pdb_and_metrics_follow_the_plan() {
        let tree = render(&spec());
        let clients = object(&tree, "kustomize/overlays/coder/networkpolicy-allow-provisioners-and-workspaces.yaml");
        let names = &clients["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"];
        assert_eq!(names, &serde_json::json!(["prov-a", "prov-b", "ws-a", "ws-b"]));
        assert_eq!(object(&tree, "kustomize/overlays/coder/poddisruptionbudget.yaml")["spec"]["maxUnavailable"], 1);
        // Observability on (3k), no Prometheus Operator: the scrape policy,
        // no ServiceMonitor (its CRD would be missing).
        let scrape = object(&tree, "kustomize/overlays/coder/networkpolicy-allow-metrics-scrape.yaml");
        assert_eq!(scrape["spec"]["ingress"][0]["ports"][0]["port"], 2112);
        assert_eq!(
            scrape["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"],
            serde_json::json!(["coder-observability"])
        );
        assert!(tree.get("kustomize/overlays/coder/servicemonitor.yaml").is_none());
        assert!(tree.get("kustomize/overlays/provisioners-prov-b/networkpolicy-allow-metrics-scrape.yaml").is_some());
        let op = render(&format!(
            "{}observability:\n  prometheus_operator:\n    enabled: true\n    namespace: monitoring\n    selector_labels: {{ release: kps }}\n",
            spec()
        ));
        let sm = object(&op, "kustomize/overlays/coder/servicemonitor.yaml");
        assert_eq!(sm["spec"]["endpoints"][0]["port"], "prom-http");
        assert_eq!(sm["metadata"]["labels"]["release"], "kps");
        assert!(op.get("kustomize/overlays/provisioners-prov-b/servicemonitor.yaml").is_some());
        let scrape = object(&op, "kustomize/overlays/coder/networkpolicy-allow-metrics-scrape.yaml");
        assert_eq!(
            scrape["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"],
            serde_json::json!(["coder-observability", "monitoring"])
        );
        let deny = object(&tree, "kustomize/base/default-deny-ingress/networkpolicy.yaml");
        assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
        assert_eq!(deny["spec"]["policyTypes"], serde_json::json!(["Ingress"]));

        // 1 replica, observability off: no PDB, no peers policy, no metrics.
        let small = render(&spec_text(80, "gcp"));
        for f in [
            "poddisruptionbudget.yaml",
            "networkpolicy-allow-coderd-peers.yaml",
            "networkpolicy-allow-metrics-scrape.yaml",
            "service-metrics.yaml",
        ] {
            assert!(small.get(&format!("kustomize/overlays/coder/{f}")).is_none(), "{f}");
        }
    }

    #[test]
    fn external_secrets_only_when_asked() {
        assert!(!render(&spec()).iter().any(|(p, _)| p.contains("externalsecret")));
        let tree = render(&format!("{}secrets:\n  manager: external-secrets\n  store: gcp-sm\n", spec()));
        let db = object(&tree, "kustomize/overlays/coder/externalsecret-db-url.yaml");
        assert_eq!(db["spec"]["secretStoreRef"], serde_json::json!({"name": "gcp-sm", "kind": "ClusterSecretStore"}));
        assert_eq!(db["spec"]["target"]["name"], "coder-db-url");
        assert_eq!(db["spec"]["data"][0], serde_json::json!({"secretKey": "url", "remoteRef": {"key": "acme-coder-db-url"}}));
        let key = object(&tree, "kustomize/overlays/provisioners-prov-b/externalsecret-provisioner-key.yaml");
        assert_eq!(key["spec"]["data"][0]["remoteRef"]["key"], "acme-provisioner-key-prov-b");
        let obs = object(&tree, "kustomize/observability/externalsecret.yaml");
        assert_eq!(obs["metadata"]["namespace"], "coder-observability");
        assert_eq!(obs["spec"]["data"][0]["secretKey"], "PGPASSWORD");
        // A login: the store keeps the password, the plan gives the user.
        let admin = object(&tree, "kustomize/observability/externalsecret-grafana-admin.yaml");
        assert_eq!(
            admin["spec"]["target"]["template"],
            serde_json::json!({"engineVersion": "v2", "data": {"admin-user": "admin", "admin-password": "{{ .value }}"}})
        );
        assert_eq!(
            admin["spec"]["data"][0],
            serde_json::json!({"secretKey": "value", "remoteRef": {"key": "acme-grafana-admin-password"}})
        );
        let minio = object(&tree, "kustomize/observability/externalsecret-loki-minio.yaml");
        assert_eq!(minio["spec"]["target"]["template"]["data"]["rootUser"], "loki");
        assert!(obs["spec"]["target"].get("template").is_none(), "a one-key secret needs no template");
    }

    #[test]
    fn quotas_come_from_the_plan() {
        let plan = crate::plan_from_str("spec.yaml", &spec()).unwrap();
        let tree = super::super::render(&plan);
        let q = object(&tree, "kustomize/overlays/workspaces-ws-a/resourcequota.yaml");
        assert_eq!(q["spec"]["hard"]["pods"], plan.workspaces[0].quota.pods.to_string());
        assert_eq!(q["spec"]["hard"]["requests.memory"], format!("{}Gi", plan.workspaces[0].users * 2));
        let p = object(&tree, "kustomize/overlays/provisioners-prov-a/resourcequota.yaml");
        // 120 replicas + 30 surge.
        assert_eq!(p["spec"]["hard"]["pods"], "150");
    }

    #[test]
    fn rolebindings_follow_the_provisioner_to_workspace_mapping() {
        let spec = spec_text(3000, "gcp")
            + "provisioners:\n  - namespace: prov-a\n    workspaces: [ws-a]\n  - namespace: prov-b\n    workspaces: [ws-b]\n\
            workspaces:\n  - namespace: ws-a\n  - namespace: ws-b\n";
        let tree = render(&spec);
        for (ws, prov) in [("ws-a", "prov-a"), ("ws-b", "prov-b")] {
            let b = object(&tree, &format!("kustomize/overlays/workspaces-{ws}/rolebinding.yaml"));
            let subjects: Vec<&str> = b["subjects"].as_array().unwrap().iter().map(|s| s["namespace"].as_str().unwrap()).collect();
            assert_eq!(subjects, [prov], "{ws}: only its own group");
        }
    }

    #[test]
    fn limitrange_forbids_memory_overcommit() {
        let tree = render(&spec());
        let l = object(&tree, "kustomize/overlays/workspaces-ws-a/limitrange.yaml");
        let item = &l["spec"]["limits"][0];
        assert_eq!(item["maxLimitRequestRatio"]["memory"], "1");
        assert_eq!(item["default"]["memory"], item["defaultRequest"]["memory"]);
    }
}
