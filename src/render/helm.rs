//! Helm values for the `coder` chart and one `coder-provisioner` release per
//! provisioner namespace. Only keys the real charts have are written (checked
//! against key lists derived from the charts' values.yaml, see
//! `tests/data/chart-keys/`); Kubernetes-typed values (env, resources,
//! tolerations, affinity, security context) are k8s-openapi types, so their
//! field names are right by construction.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, EnvVar, EnvVarSource, PodAffinityTerm, PodAntiAffinity, ResourceRequirements, SecretKeySelector, SecurityContext, Toleration,
    TopologySpreadConstraint, Volume, VolumeMount,
};
use serde::Serialize;

use super::k8s;
use super::network;
use super::paths;
use super::yaml;
use crate::plan::{EnvValue, Plan, PodResources, Pool, Provisioners, Proxy, Role, Site};
use crate::tree::{Comment, Tree, header};
use crate::yaml::merge;

/// The chart's service account settings. Workspace RBAC is written by the
/// workspace overlays (one Role per workspace namespace), so the charts create
/// none of their own.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceAccount {
    workspace_perms: bool,
    enable_deployments: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CoderSection {
    /// `wsproxy server` instead of `server` (a site's proxy).
    #[serde(skip_serializing_if = "Option::is_none")]
    workspace_proxy: Option<bool>,
    replica_count: u32,
    env: Vec<EnvVar>,
    resources: ResourceRequirements,
    node_selector: BTreeMap<String, String>,
    tolerations: Vec<Toleration>,
    /// `Null` deletes a chart default (Helm drops keys set to null when it
    /// merges values); absent keeps it.
    #[serde(skip_serializing_if = "is_empty_object")]
    affinity: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pod_annotations: BTreeMap<String, String>,
    security_context: SecurityContext,
    service_account: ServiceAccount,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<ServiceValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<TlsValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ingress: Option<IngressValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    httproute: Option<HttpRouteValues>,
    /// From the registry mirror (`plan.network`); absent: the chart's image.
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<network::ImageValues>,
    /// The private CA (`plan.network.ca`).
    #[serde(skip_serializing_if = "Option::is_none")]
    certs: Option<network::Certs>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<Volume>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volume_mounts: Vec<VolumeMount>,
}

/// `coder.httproute` (chart `templates/httproute.yaml`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpRouteValues {
    enable: bool,
    host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    wildcard_host: Option<String>,
    parent_refs: Vec<ParentRef>,
}

#[derive(Serialize)]
struct ParentRef {
    name: String,
    namespace: String,
}

/// `coder.service` (chart `templates/service.yaml`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceValues {
    #[serde(rename = "type")]
    type_: String,
    annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_traffic_policy: Option<String>,
    /// AWS load balancers refuse `ClientIP` (the chart's own comment).
    session_affinity: &'static str,
}

/// `coder.tls.secretNames`: coderd listens on 8443 with these certificates.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TlsValues {
    secret_names: Vec<String>,
}

/// `coder.ingress` (chart `templates/ingress.yaml`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IngressValues {
    enable: bool,
    class_name: String,
    host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    wildcard_host: Option<String>,
    tls: IngressTls,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IngressTls {
    enable: bool,
    secret_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    wildcard_secret_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CoderValues {
    coder: CoderSection,
    /// Objects the chart renders with the release (the Terraform CLI
    /// configuration's ConfigMap).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extra_templates: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProvisionerDaemon {
    /// Empty: authenticate with the scoped provisioner key, not the global
    /// PSK (the chart fails when both are set; Coder docs call PSK "not
    /// recommended").
    psk_secret_name: String,
    key_secret_name: String,
    key_secret_key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ProvisionerValues {
    coder: CoderSection,
    provisioner_daemon: ProvisionerDaemon,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extra_templates: Vec<String>,
}

fn is_empty_object(v: &serde_json::Value) -> bool {
    v.as_object().is_some_and(serde_json::Map::is_empty)
}

fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar { name: name.into(), value: Some(value.into()), ..EnvVar::default() }
}

fn env_from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector { name: secret.into(), key: key.into(), optional: None }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// The user's variables as given: a value, or a Secret's key.
fn user_env(vars: &BTreeMap<String, EnvValue>) -> Vec<EnvVar> {
    vars.iter()
        .map(|(name, value)| match value {
            EnvValue::Value(v) => env(name, v.clone()),
            EnvValue::SecretRef { secret, key } => env_from_secret(name, secret, key),
        })
        .collect()
}

/// coderd's secure defaults (`plan.security`): path apps, HSTS, log
/// retention, the forwarding header it trusts. String arrays are
/// comma-separated, as coderd reads them from the environment.
fn security_env(plan: &Plan) -> Vec<EnvVar> {
    let s = &plan.security;
    let mut out = Vec::new();
    if s.disable_path_apps {
        out.push(env("CODER_DISABLE_PATH_APPS", "true"));
    }
    if let Some(h) = &s.hsts {
        out.push(env("CODER_STRICT_TRANSPORT_SECURITY", h.max_age_seconds.to_string()));
        if !h.options.is_empty() {
            out.push(env("CODER_STRICT_TRANSPORT_SECURITY_OPTIONS", h.options.join(",")));
        }
    }
    out.push(env("CODER_AUDIT_LOGS_RETENTION", s.audit_logs_retention.value.clone()));
    out.push(env("CODER_CONNECTION_LOGS_RETENTION", s.connection_logs_retention.value.clone()));
    if let Some(t) = &s.trusted_proxies {
        out.push(env("CODER_PROXY_TRUSTED_HEADERS", t.headers.join(",")));
        out.push(env("CODER_PROXY_TRUSTED_ORIGINS", t.origins.join(",")));
    }
    out
}

/// Annotations the coder/observability chart (or a site's collector)
/// scrapes by.
fn scrape_annotations_on(port: u16) -> BTreeMap<String, String> {
    BTreeMap::from([("prometheus.io/port".to_string(), port.to_string()), ("prometheus.io/scrape".to_string(), "true".to_string())])
}

/// Which release of the `coder` chart: coderd in the primary, or a site's
/// workspace proxy (the same chart in proxy mode). Both go through
/// [`coder_values`], so a setting every Coder pod needs is written once.
#[derive(Clone, Copy)]
pub(super) enum CoderRelease<'a> {
    Coderd,
    Proxy(&'a Site, &'a Proxy),
}

/// The chart section every Coder workload shares: replicas, resources, the
/// scheduling contract of its pool, one pod per node when highly available
/// (the chart's default anti-affinity, which matches the release `coder`
/// literally, is replaced by one on the release's own labels), the scrape
/// annotations and the restricted security context.
#[allow(clippy::too_many_arguments)]
fn workload_section(
    plan: &Plan,
    replicas: u32,
    resources: PodResources,
    pool: &Pool,
    pod_labels: BTreeMap<String, String>,
    high_availability: bool,
    metrics: bool,
    env: Vec<EnvVar>,
    service_account: ServiceAccount,
) -> CoderSection {
    let (affinity, spread) = if high_availability {
        // One pod per node (the reference architecture's "1 coderd each"),
        // spread over zones where the pool has several.
        let anti = Affinity {
            pod_anti_affinity: Some(PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                    label_selector: Some(k8s::selector(pod_labels.clone())),
                    topology_key: "kubernetes.io/hostname".into(),
                    ..PodAffinityTerm::default()
                }]),
                ..PodAntiAffinity::default()
            }),
            ..Affinity::default()
        };
        let zones = TopologySpreadConstraint {
            label_selector: Some(k8s::selector(pod_labels)),
            max_skew: 1,
            topology_key: "topology.kubernetes.io/zone".into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            ..TopologySpreadConstraint::default()
        };
        // The chart's default `preferredDuringScheduling...` term would be
        // merged next to ours: null removes it, so the affinity is exactly this.
        let mut anti = serde_json::to_value(anti).expect("k8s objects serialize");
        anti["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = serde_json::Value::Null;
        (anti, Some(vec![zones]))
    } else {
        // One replica: the chart's default anti-affinity has nothing to do.
        (serde_json::Value::Null, None)
    };
    let mut annotations = if metrics { scrape_annotations_on(plan.observability.prometheus_port) } else { BTreeMap::new() };
    // Coder's scale-testing guidance: the cluster autoscaler must not evict
    // coderd (or a proxy: its websockets are long-lived) to compact nodes.
    annotations.insert("cluster-autoscaler.kubernetes.io/safe-to-evict".into(), "false".into());
    CoderSection {
        workspace_proxy: None,
        replica_count: replicas,
        env,
        resources: k8s::resources(resources),
        node_selector: k8s::node_selector(pool),
        tolerations: k8s::tolerations(pool),
        affinity,
        topology_spread_constraints: spread,
        pod_annotations: annotations,
        security_context: k8s::restricted_security_context(),
        service_account,
        service: None,
        tls: None,
        ingress: None,
        httproute: None,
        // Every Coder pod pulls Coder's image from the mirror and trusts
        // the private CA (`plan.network`).
        image: network::coder_image(plan),
        certs: network::certs(plan),
        volumes: Vec::new(),
        volume_mounts: Vec::new(),
    }
}

/// The `coder` chart's values for `release`.
pub(super) fn coder_values(plan: &Plan, release: CoderRelease) -> CoderValues {
    match release {
        CoderRelease::Coderd => coderd_values(plan),
        CoderRelease::Proxy(site, proxy) => proxy_values(plan, site, proxy),
    }
}

fn coderd_values(plan: &Plan) -> CoderValues {
    let c = &plan.coderd;
    let pool = plan.pool(Role::Coderd);
    let mut env_vars = vec![env("CODER_ACCESS_URL", plan.access_url.clone())];
    // A hostname pattern without scheme (`*.apps.example.com`): Coder
    // validates CODER_WILDCARD_ACCESS_URL as one and refuses `https://`.
    if let Some(w) = &plan.entry.wildcard_host {
        env_vars.push(env("CODER_WILDCARD_ACCESS_URL", w.clone()));
    }
    env_vars.push(env_from_secret("CODER_PG_CONNECTION_URL", &plan.database.url_secret.name, &plan.database.url_secret.key));
    env_vars.push(env("CODER_PG_CONN_MAX_OPEN", c.pg_conn_max_open.to_string()));
    env_vars.push(env("CODER_PROVISIONER_DAEMONS", c.provisioner_daemons.to_string()));
    // Coder's install docs recommend turning the default GitHub OAuth app off
    // in production.
    env_vars.push(env("CODER_OAUTH2_GITHUB_DEFAULT_PROVIDER_ENABLE", "false"));
    if plan.observability.enabled {
        // The chart opens the metrics port only for the literal "true".
        env_vars.push(env("CODER_PROMETHEUS_ENABLE", "true"));
        if plan.observability.collect_db_metrics {
            env_vars.push(env("CODER_PROMETHEUS_COLLECT_DB_METRICS", "true"));
        }
        if plan.observability.collect_agent_stats {
            env_vars.push(env("CODER_PROMETHEUS_COLLECT_AGENT_STATS", "true"));
            env_vars.push(env("CODER_PROMETHEUS_AGGREGATE_AGENT_STATS_BY", plan.observability.aggregate_agent_stats_by.clone()));
        }
    }
    env_vars.extend(security_env(plan));
    // The network's (proxy, air-gapped, Terraform), then the user's own
    // variables (`coder.env`) last, as given.
    env_vars.extend(network::coderd_env(plan));
    env_vars.extend(user_env(&plan.overrides.coderd_env));
    let pod_labels = k8s::chart_pod_labels(&plan.chart.coder_chart, &c.release);
    let sa = ServiceAccount { workspace_perms: c.builtin_provisioners, enable_deployments: c.builtin_provisioners, name: None };
    let mut section =
        workload_section(plan, c.replicas, c.resources, pool, pod_labels, c.high_availability, plan.observability.enabled, env_vars, sa);
    section.service = Some(ServiceValues {
        type_: plan.entry.service_type.clone(),
        annotations: plan.entry.service_annotations.clone(),
        external_traffic_policy: plan.entry.external_traffic_policy.clone(),
        session_affinity: "None",
    });
    section.tls = (!plan.entry.coderd_tls_secrets.is_empty()).then(|| TlsValues { secret_names: plan.entry.coderd_tls_secrets.clone() });
    section.ingress = plan.entry.ingress_class.as_ref().map(|class| IngressValues {
        enable: true,
        class_name: class.clone(),
        host: plan.entry.host.clone(),
        wildcard_host: plan.entry.wildcard_host.clone(),
        tls: IngressTls {
            enable: true,
            secret_name: plan.entry.ingress_tls_secret.clone().unwrap_or_default(),
            wildcard_secret_name: plan.entry.ingress_wildcard_tls_secret.clone(),
        },
    });
    section.httproute = plan.entry.gateway.as_ref().map(|g| HttpRouteValues {
        enable: true,
        host: plan.entry.host.clone(),
        wildcard_host: plan.entry.wildcard_host.clone(),
        parent_refs: vec![ParentRef { name: g.name.clone(), namespace: g.namespace.clone() }],
    });
    // Built-in provisioners run Terraform in coderd: its CLI configuration.
    let (volumes, volume_mounts, extra_templates) = network::terraform(plan, true);
    section.volumes = volumes;
    section.volume_mounts = volume_mounts;
    CoderValues { coder: section, extra_templates }
}

/// A site's workspace proxy: `wsproxy server` (`coder.workspaceProxy`; a
/// non-empty `commandArgs` would drop it, so none is set), its own URLs, the
/// primary's URL, the session token by reference, no database, no
/// workspace RBAC (the chart does not gate RBAC on proxy mode), TLS on its
/// own LoadBalancer Service.
fn proxy_values(plan: &Plan, site: &Site, x: &Proxy) -> CoderValues {
    let pool = site.pool(Role::Proxy);
    // The chart falls back to an in-cluster CODER_ACCESS_URL when none is
    // set: always wrong for a proxy, so the proxy's own URL is always set.
    let mut env_vars = vec![
        env("CODER_ACCESS_URL", x.access_url.clone()),
        env("CODER_WILDCARD_ACCESS_URL", x.wildcard_host.clone()),
        env("CODER_PRIMARY_ACCESS_URL", x.primary_access_url.clone()),
        env_from_secret("CODER_PROXY_SESSION_TOKEN", &x.token_secret.name, &x.token_secret.key),
    ];
    if site.observability.enabled {
        // Exactly "true": the chart opens the metrics port only then.
        env_vars.push(env("CODER_PROMETHEUS_ENABLE", "true"));
    }
    // The secure defaults a proxy takes (`proxy.disable_path_apps`,
    // `proxy.hsts`), then the site's network (the HTTP proxy).
    if x.disable_path_apps {
        env_vars.push(env("CODER_DISABLE_PATH_APPS", "true"));
    }
    if let Some(h) = &x.hsts {
        env_vars.push(env("CODER_STRICT_TRANSPORT_SECURITY", h.max_age_seconds.to_string()));
        if !h.options.is_empty() {
            env_vars.push(env("CODER_STRICT_TRANSPORT_SECURITY_OPTIONS", h.options.join(",")));
        }
    }
    env_vars.extend(network::env_vars(&site.network.proxy_env));
    let pod_labels = k8s::chart_pod_labels(&plan.chart.coder_chart, &x.release);
    let sa = ServiceAccount { workspace_perms: false, enable_deployments: false, name: None };
    let mut section =
        workload_section(plan, x.replicas, x.resources, pool, pod_labels, x.high_availability, site.observability.enabled, env_vars, sa);
    section.workspace_proxy = Some(true);
    section.service = Some(ServiceValues {
        type_: x.service_type.clone(),
        annotations: x.service_annotations.clone(),
        external_traffic_policy: Some(x.external_traffic_policy.clone()),
        session_affinity: "None",
    });
    section.tls = Some(TlsValues { secret_names: x.tls_secrets.clone() });
    // A proxy runs no Terraform: no CLI configuration.
    CoderValues { coder: section, extra_templates: Vec::new() }
}

/// Where a provisioner group runs: its location's provisioner pool, where
/// it reaches coderd (in-cluster in the primary, the access URL from a
/// site), whether it serves Prometheus metrics, and its location's network
/// variables (proxy with that cluster's NO_PROXY, Terraform CLI config).
pub(super) struct GroupPlace<'a> {
    pub pool: &'a Pool,
    pub coder_url: &'a str,
    pub metrics: bool,
    pub network_env: Vec<EnvVar>,
}

/// A provisioner group's values at `place`.
pub(super) fn provisioner_values(plan: &Plan, g: &Provisioners, place: GroupPlace) -> ProvisionerValues {
    let GroupPlace { pool, coder_url, metrics, network_env } = place;
    let mut env_vars = vec![env("CODER_URL", coder_url.to_string())];
    if metrics {
        env_vars.push(env("CODER_PROMETHEUS_ENABLE", "true"));
    }
    env_vars.extend(network_env);
    let (volumes, volume_mounts, extra_templates) = network::terraform(plan, false);
    // The user's own variables (`coder.provisioner_env`, the group's `env`) last.
    if let Some(user) = plan.overrides.provisioner_env.get(&g.namespace) {
        env_vars.extend(user_env(user));
    }
    ProvisionerValues {
        extra_templates,
        coder: CoderSection {
            workspace_proxy: None,
            replica_count: g.replicas,
            env: env_vars,
            resources: k8s::resources(g.resources),
            node_selector: k8s::node_selector(pool),
            tolerations: k8s::tolerations(pool),
            // The provisioner chart's default affinity is empty: keep it.
            affinity: serde_json::Value::Object(serde_json::Map::new()),
            topology_spread_constraints: None,
            pod_annotations: if metrics { scrape_annotations_on(plan.observability.prometheus_port) } else { BTreeMap::new() },
            security_context: k8s::restricted_security_context(),
            service_account: ServiceAccount { workspace_perms: false, enable_deployments: false, name: Some(g.service_account.clone()) },
            service: None,
            tls: None,
            ingress: None,
            httproute: None,
            image: network::coder_image(plan),
            certs: network::certs(plan),
            volumes,
            volume_mounts,
        },
        provisioner_daemon: ProvisionerDaemon {
            psk_secret_name: String::new(),
            key_secret_name: g.key_secret.name.clone(),
            key_secret_key: g.key_secret.key.clone(),
        },
    }
}

/// The primary's provisioner group `g`.
fn primary_provisioner_values(plan: &Plan, g: &Provisioners) -> ProvisionerValues {
    let place = GroupPlace {
        pool: plan.pool(Role::Provisioner),
        coder_url: &plan.coderd.service_url,
        metrics: plan.observability.enabled,
        network_env: network::provisioner_env(plan),
    };
    provisioner_values(plan, g, place)
}

/// `# ` comment lines after the header: how this file is applied (the
/// chart's reference from `plan.network.charts`: a repository or a mirror).
fn usage(plan: &Plan, release: &str, reference: &str, namespace: &str, path: &str) -> String {
    format!(
        "# Apply from the tree's root:\n#   helm upgrade --install {release} {reference} \\\n#     --namespace {namespace} --version {} -f {path}{}\n",
        plan.chart.version,
        network::helm_ca_flag(plan)
    )
}

/// The override target of the provisioner release in `namespace`.
fn provisioner_target(namespace: &str) -> String {
    format!("coder-provisioner/{namespace}")
}

/// The values file of an override target (`coder`, `coder-provisioner/<ns>`).
pub fn values_file(target: &str) -> String {
    match target.strip_prefix("coder-provisioner/") {
        Some(namespace) => paths::provisioner_values(namespace),
        None => paths::CODER_VALUES.to_string(),
    }
}

/// The generated values per override target, as data, before any override:
/// what `overrides::check` compares a merged file with.
pub fn generated(plan: &Plan) -> BTreeMap<String, serde_json::Value> {
    let to_value = |v: Result<serde_json::Value, serde_json::Error>| v.expect("plain data always serializes to JSON");
    let mut out = BTreeMap::from([("coder".to_string(), to_value(serde_json::to_value(coder_values(plan, CoderRelease::Coderd))))]);
    for g in &plan.provisioners {
        out.insert(provisioner_target(&g.namespace), to_value(serde_json::to_value(primary_provisioner_values(plan, g))));
    }
    out
}

/// `values` as YAML, with the user's override for `target` merged in (and a
/// comment saying so).
fn values_yaml<T: Serialize>(plan: &Plan, target: &str, values: &T) -> String {
    match plan.overrides.helm.get(target) {
        None => yaml::to_yaml(values),
        Some(o) => {
            let mut merged = serde_json::to_value(values).expect("plain data always serializes to JSON");
            merge(&mut merged, &o.values);
            format!("# Merged with your {} (sha256 {}).\n{}", o.file, o.sha256, yaml::to_yaml(&merged))
        }
    }
}

pub fn render(plan: &Plan, tree: &mut Tree) {
    let c = &plan.coderd;
    let path = paths::CODER_VALUES;
    let text = format!(
        "{}{}{}",
        header(Comment::Hash, &plan.spec_file),
        usage(plan, &c.release, &plan.network.charts.coder.reference, &c.namespace, path),
        values_yaml(plan, "coder", &coder_values(plan, CoderRelease::Coderd))
    );
    tree.insert(path, text);

    for g in &plan.provisioners {
        let path = paths::provisioner_values(&g.namespace);
        let mut comment = usage(plan, &g.release, &plan.network.charts.provisioner.reference, &g.namespace, &path);
        if !g.tags.is_empty() {
            // The chart refuses `provisionerDaemon.tags` next to a key: the
            // tags are bound to the key when it is created.
            let tags: Vec<String> = g.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            comment.push_str(&format!("# Provisioner tags {} are bound to the key in secret {}.\n", tags.join(","), g.key_secret.name));
        }
        let values = values_yaml(plan, &provisioner_target(&g.namespace), &primary_provisioner_values(plan, g));
        let text = format!("{}{}{}", header(Comment::Hash, &plan.spec_file), comment, values);
        tree.insert(path, text);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::plan::{Plan, Role};
    use crate::plan_from_str;
    use crate::test_support::spec_text;
    use crate::tree::Tree;

    fn render(spec: &str) -> (Plan, Tree) {
        let plan = plan_from_str("spec.yaml", spec).unwrap();
        let tree = super::super::render(&plan);
        (plan, tree)
    }

    fn values(tree: &Tree, path: &str) -> Value {
        serde_saphyr::from_str(tree.get_str(path).unwrap()).unwrap()
    }

    fn env<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
        v["coder"]["env"].as_array().unwrap().iter().find(|e| e["name"] == name)
    }

    fn spec() -> String {
        spec_text(2500, "aws")
    }

    #[test]
    fn coder_values_follow_the_plan() {
        let (plan, tree) = render(&spec());
        let v = values(&tree, "helm/coder/values.yaml");
        let c = &v["coder"];
        assert_eq!(c["replicaCount"], 4);
        let pool = plan.pool(Role::Coderd);
        assert_eq!(c["nodeSelector"]["coder-gen/pool"], pool.labels["coder-gen/pool"]);
        let t = &c["tolerations"][0];
        assert_eq!(
            (t["key"].as_str(), t["value"].as_str(), t["effect"].as_str()),
            (Some("coder-gen/pool"), Some("coderd"), Some("NoSchedule"))
        );
        let r = plan.coderd.resources.requests;
        assert_eq!(c["resources"]["requests"]["cpu"], format!("{}m", r.cpu_millis));
        assert_eq!(c["resources"]["limits"], c["resources"]["requests"]);
        assert_eq!(env(&v, "CODER_PROVISIONER_DAEMONS").unwrap()["value"], "0");
        assert_eq!(env(&v, "CODER_PG_CONN_MAX_OPEN").unwrap()["value"], "10");
        let db = &env(&v, "CODER_PG_CONNECTION_URL").unwrap()["valueFrom"]["secretKeyRef"];
        assert_eq!((db["name"].as_str(), db["key"].as_str()), (Some("coder-db-url"), Some("url")));
        assert!(env(&v, "CODER_WILDCARD_ACCESS_URL").is_none());
        // 3k: observability on by default.
        assert_eq!(env(&v, "CODER_PROMETHEUS_ENABLE").unwrap()["value"], "true");
        assert_eq!(env(&v, "CODER_PROMETHEUS_COLLECT_DB_METRICS").unwrap()["value"], "true");
        assert_eq!(env(&v, "CODER_PROMETHEUS_COLLECT_AGENT_STATS").unwrap()["value"], "true");
        assert_eq!(c["podAnnotations"]["prometheus.io/scrape"], "true");
        assert_eq!(c["serviceAccount"]["workspacePerms"], false);
        assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
        assert!(c["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"].is_array());
        assert!(c["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"].is_null());
        // Default entry: coderd serves TLS on an NLB.
        assert_eq!(c["service"]["type"], "LoadBalancer");
        assert_eq!(c["service"]["externalTrafficPolicy"], "Local");
        assert_eq!(c["service"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"], "nlb");
        assert_eq!(c["tls"]["secretNames"][0], "coder-tls");
        assert!(c.get("ingress").is_none());
    }

    #[test]
    fn coder_env_comes_last_in_name_order_with_secret_refs() {
        let spec = format!("{}coder:\n  env:\n    CODER_Z: z\n    CODER_OIDC_CLIENT_SECRET: {{ secret: oidc, key: cs }}\n", spec());
        let (_, tree) = render(&spec);
        let env = values(&tree, "helm/coder/values.yaml")["coder"]["env"].as_array().unwrap().clone();
        let n = env.len();
        assert_eq!(env[n - 2]["name"], "CODER_OIDC_CLIENT_SECRET");
        assert_eq!(env[n - 2]["valueFrom"]["secretKeyRef"], serde_json::json!({ "name": "oidc", "key": "cs" }));
        assert_eq!(env[n - 1], serde_json::json!({ "name": "CODER_Z", "value": "z" }));
        let names: std::collections::BTreeSet<_> = env.iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(names.len(), n, "no variable twice");
    }

    #[test]
    fn ingress_entry_and_community_licence() {
        let spec = format!(
            "{}wildcard_access_url: https://*.apps.acme.com\ncoder:\n  license: community\nentry:\n  mode: ingress\n  ingress_class: nginx\n  controller_namespace: ingress-nginx\n",
            spec()
        );
        let (plan, tree) = render(&spec);
        let v = values(&tree, "helm/coder/values.yaml");
        let c = &v["coder"];
        assert_eq!(c["service"]["type"], "ClusterIP");
        assert!(c.get("tls").is_none());
        assert_eq!(c["ingress"]["className"], "nginx");
        assert_eq!(c["ingress"]["host"], "coder.acme.com");
        assert_eq!(c["ingress"]["wildcardHost"], "*.apps.acme.com");
        assert_eq!(c["ingress"]["tls"]["secretName"], "coder-tls");
        assert_eq!(c["ingress"]["tls"]["wildcardSecretName"], "coder-tls");
        // community: one coderd with built-in provisioners, no provisioner releases.
        assert_eq!(c["replicaCount"], 1);
        assert_ne!(env(&v, "CODER_PROVISIONER_DAEMONS").unwrap()["value"], "0");
        assert!(plan.provisioners.is_empty());
        assert!(tree.paths().all(|p| !p.starts_with("helm/coder-provisioner/")));
        assert!(plan.pools.iter().all(|p| p.role != Role::Provisioner));
        assert_eq!(c["serviceAccount"]["workspacePerms"], true);
    }

    #[test]
    fn single_replica_drops_chart_affinity_and_small_tiers_no_metrics() {
        let (_, tree) = render(&spec_text(80, "gcp"));
        let v = values(&tree, "helm/coder/values.yaml");
        assert_eq!(v["coder"]["replicaCount"], 1);
        // null deletes the chart's default anti-affinity.
        assert!(v["coder"]["affinity"].is_null() && v["coder"].get("affinity").is_some());
        assert!(v["coder"].get("topologySpreadConstraints").is_none());
        assert!(env(&v, "CODER_PROMETHEUS_ENABLE").is_none());
    }

    #[test]
    fn provisioner_values_per_namespace_use_a_key_and_reach_coderd() {
        let spec = format!("{}provisioners:\n  - namespace: prov-a\n    tags: {{ cloud: aws }}\n  - namespace: prov-b\n", spec());
        let (plan, tree) = render(&spec);
        let mut total = 0;
        for g in &plan.provisioners {
            let path = format!("helm/coder-provisioner/{}/values.yaml", g.namespace);
            let v = values(&tree, &path);
            total += v["coder"]["replicaCount"].as_u64().unwrap();
            assert_eq!(env(&v, "CODER_URL").unwrap()["value"], "http://coder.coder.svc.cluster.local");
            assert_eq!(v["provisionerDaemon"]["pskSecretName"], "");
            assert_eq!(v["provisionerDaemon"]["keySecretName"], "coder-provisioner-key");
            // The chart refuses tags next to a key.
            assert!(v["provisionerDaemon"].get("tags").is_none());
            assert_eq!(v["coder"]["nodeSelector"]["coder-gen/pool"], "provisioner");
        }
        assert_eq!(total, 240);
        assert!(tree.get_str("helm/coder-provisioner/prov-a/values.yaml").unwrap().contains("# Provisioner tags cloud=aws"));
    }

    #[test]
    fn secure_defaults_and_provisioner_env_reach_the_values() {
        let spec = format!(
            "{}wildcard_access_url: https://*.apps.acme.com\nentry:\n  mode: gateway\n  gateway_class: eg\n  controller_namespace: eg\nsecurity:\n  trusted_proxies: [10.8.0.0/14, 10.12.0.0/16]\n  hsts_include_subdomains: true\ncoder:\n  provisioner_env:\n    GIT_SSL_NO_VERIFY: \"false\"\n    TF_LOG: WARN\nprovisioners:\n  - namespace: prov-a\n    env:\n      TF_LOG: DEBUG\n      TOKEN: {{ secret: tok, key: t }}\n  - namespace: prov-b\n",
            spec()
        );
        let (_, tree) = render(&spec);
        let v = values(&tree, "helm/coder/values.yaml");
        let value = |name: &str| env(&v, name).map(|e| e["value"].as_str().unwrap().to_string());
        assert_eq!(value("CODER_DISABLE_PATH_APPS").as_deref(), Some("true"));
        assert_eq!(value("CODER_STRICT_TRANSPORT_SECURITY").as_deref(), Some("31536000"));
        assert_eq!(value("CODER_STRICT_TRANSPORT_SECURITY_OPTIONS").as_deref(), Some("includeSubDomains"));
        assert_eq!(value("CODER_AUDIT_LOGS_RETENTION").as_deref(), Some("17520h"));
        assert_eq!(value("CODER_CONNECTION_LOGS_RETENTION").as_deref(), Some("2160h"));
        assert_eq!(value("CODER_PROXY_TRUSTED_HEADERS").as_deref(), Some("X-Forwarded-For"));
        // A string array, comma-separated as coderd reads it from the environment.
        assert_eq!(value("CODER_PROXY_TRUSTED_ORIGINS").as_deref(), Some("10.8.0.0/14,10.12.0.0/16"));
        // Provisioner env: every group's, the group's own over it, secrets by reference.
        let a = values(&tree, "helm/coder-provisioner/prov-a/values.yaml");
        let b = values(&tree, "helm/coder-provisioner/prov-b/values.yaml");
        assert_eq!(env(&a, "TF_LOG").unwrap()["value"], "DEBUG");
        assert_eq!(env(&b, "TF_LOG").unwrap()["value"], "WARN");
        assert_eq!(env(&a, "GIT_SSL_NO_VERIFY").unwrap()["value"], "false");
        assert_eq!(env(&a, "TOKEN").unwrap()["valueFrom"]["secretKeyRef"], serde_json::json!({ "name": "tok", "key": "t" }));
        assert!(env(&b, "TOKEN").is_none());
        // coder-gen's own variables come first, the user's after.
        let names: Vec<&str> = a["coder"]["env"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(names[0], "CODER_URL");
        // None of coderd's security variables go to provisioners.
        assert!(env(&a, "CODER_DISABLE_PATH_APPS").is_none());
    }
}
