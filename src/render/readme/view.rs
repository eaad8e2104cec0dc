//! What the README templates read besides the Plan itself: every list,
//! formatted quantity and grouping the document shows, each one plain read
//! of plan fields. The view renames and groups; it decides nothing (a fact
//! that is not a plain read of the plan becomes a plan field with a reason).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::{Certificate, EnvValue, Plan, Pool, Provisioners, Role, UpgradeRelease, Workspaces, mib};
use crate::render::{k8s, paths};

#[derive(Serialize)]
pub struct ReadmeView<'a> {
    /// Where the tree's files are (`render/paths.rs`).
    pub paths: Paths,
    /// EKS: some pool needs VPC CNI prefix delegation (the plan's
    /// `prefix_delegation`; each pool's reason says why).
    pub prefix_delegation: bool,
    /// The steps of "Apply" in order, each `templates/readme/apply/<step>.md.j2`.
    pub steps: Vec<&'static str>,
    /// The Sizing table's rows: each pool with its memory amounts spelled.
    pub pools: Vec<PoolRow<'a>>,
    /// coderd's requests, the workspace groups and the database's memory,
    /// spelled.
    pub coderd_requests: String,
    pub workspaces: Vec<WorkspacesView<'a>>,
    pub database_memory: String,
    /// The entry's cert-manager Certificates, with their files.
    pub certificates: Vec<CertificateView<'a>>,
    /// The provisioner groups, with their values files and key secrets.
    pub provisioners: Vec<ProvisionersView<'a>>,
    /// The Secrets `coder.env` and the provisioners' env read, each with
    /// its namespace and the keys it must hold.
    pub env_secrets: Vec<EnvSecret<'a>>,
    /// The workspace pool, the node label workspaces select it by, the first
    /// workspace namespace and its default memory request.
    pub workspace_pool: &'a Pool,
    pub workspace_label: Label<'a>,
    pub workspace_namespace: &'a str,
    pub workspace_memory: String,
    /// "Prove the tier": the scaletest Jobs in the order they run (jobs of
    /// one phase run together), each phase with its wait timeout.
    pub scaletest_phases: Vec<Phase>,
    /// The psql pod's `kubectl run --overrides` (JSON).
    pub setup_pod_overrides: String,
    /// Coder's database URL secret, and the exporters' password secret.
    pub db_url: Stored<'a>,
    pub exporter_secret: Option<Stored<'a>>,
    /// The observability stack's own secrets (`null` when it is off).
    pub observability_secrets: Option<ObservabilitySecrets<'a>>,
    /// "Upgrade Coder": the releases upgraded after coderd, in the plan's
    /// order, each with its values file.
    pub upgrade_releases: Vec<UpgradeRow<'a>>,
    /// Each site's releases after the primary's, in its own cluster.
    pub upgrade_sites: Vec<UpgradeSite<'a>>,
    /// The Terraform folders of the cloud sites (`sites/<name>/terraform/<cloud>`).
    pub site_terraform: Vec<String>,
    /// The restricted network's pieces the README shows (`plan.network`).
    pub network: NetworkView<'a>,
}

#[derive(Serialize)]
pub struct UpgradeRow<'a> {
    #[serde(flatten)]
    pub release: &'a UpgradeRelease,
    pub values: String,
    /// What `helm upgrade` names (`plan.network.charts`: a repository or
    /// the mirror).
    pub reference: &'a str,
}

/// A site's releases in the upgrade order, run in its own cluster.
#[derive(Serialize)]
pub struct UpgradeSite<'a> {
    pub name: &'a str,
    pub readme: String,
    pub releases: Vec<UpgradeRow<'a>>,
}

/// `plan.upgrade.after_coderd`, the primary's releases and then each
/// site's (in the plan's order), with their values files and chart
/// references.
pub fn upgrade_rows(p: &Plan) -> (Vec<UpgradeRow<'_>>, Vec<UpgradeSite<'_>>) {
    let charts = &p.network.charts;
    let mut primary = Vec::new();
    let mut sites: Vec<UpgradeSite> = Vec::new();
    for r in &p.upgrade.after_coderd {
        let (rel, reference) = match r.kind {
            "proxy" => (paths::CODER_VALUES.to_string(), charts.coder.reference.as_str()),
            _ => (paths::provisioner_values(&r.namespace), charts.provisioner.reference.as_str()),
        };
        match r.site.as_deref() {
            None => primary.push(UpgradeRow { release: r, values: rel, reference }),
            Some(name) => {
                let dir = paths::site_dir(name);
                let row = UpgradeRow { release: r, values: format!("{dir}/{rel}"), reference };
                match sites.last_mut().filter(|s| s.name == name) {
                    Some(s) => s.releases.push(row),
                    None => sites.push(UpgradeSite { name, readme: format!("{dir}/{}", paths::README), releases: vec![row] }),
                }
            }
        }
    }
    (primary, sites)
}

/// What the README shows of `plan.network`, spelled for its commands.
#[derive(Serialize)]
pub struct NetworkView<'a> {
    /// ` --ca-file <file>` for helm commands reading the chart mirror, or "".
    pub helm_ca_flag: String,
    /// The namespaces `kubectl apply -k kustomize` creates that need the
    /// network's Secrets (coderd's and the provisioner groups').
    pub secret_namespaces: Vec<&'a str>,
    /// The registry mirror's host (what `skopeo login` and `helm registry
    /// login` take).
    pub registry_host: Option<&'a str>,
    /// `kustomize/observability/` exists (the ExternalSecret of the
    /// exporters' password, or the `default` ServiceAccount's pull secret).
    pub observability_kustomize: bool,
}

/// `mib()` spells memory as the plan text does (`1536Mi`, `2Gi`); GiB
/// amounts as Rust prints an `f64` (`32`, `7.5`).
#[derive(Serialize)]
pub struct PoolRow<'a> {
    #[serde(flatten)]
    pub pool: &'a Pool,
    pub memory: String,
    pub allocatable_memory: String,
    pub daemonsets_memory: String,
    pub headroom_memory: String,
    pub requested_per_pod_memory: String,
}

impl<'a> PoolRow<'a> {
    /// A pool's row of the Sizing table (the primary's and each site's).
    pub fn of(pool: &'a Pool) -> PoolRow<'a> {
        PoolRow {
            pool,
            memory: pool.memory_gib.to_string(),
            allocatable_memory: mib(pool.allocatable.memory_mib),
            daemonsets_memory: mib(pool.daemonsets.memory_mib),
            headroom_memory: mib(pool.headroom.memory_mib),
            requested_per_pod_memory: mib(pool.requested_per_pod.memory_mib),
        }
    }
}

#[derive(Serialize)]
pub struct WorkspacesView<'a> {
    #[serde(flatten)]
    pub group: &'a Workspaces,
    pub quota_memory: String,
    pub default_request_described: String,
}

#[derive(Serialize)]
pub struct CertificateView<'a> {
    #[serde(flatten)]
    pub certificate: &'a Certificate,
    pub file: String,
}

#[derive(Serialize)]
pub struct ProvisionersView<'a> {
    #[serde(flatten)]
    pub group: &'a Provisioners,
    pub values: String,
    /// What each replica requests, spelled (`250m CPU / 464Mi`).
    pub requests: String,
    pub key_store: Stored<'a>,
}

#[derive(Serialize)]
pub struct EnvSecret<'a> {
    pub namespace: &'a str,
    pub secret: &'a str,
    pub entries: Vec<EnvEntry<'a>>,
}

/// Key `key` of the secret holds the value of `coder.env`'s `env`.
#[derive(Serialize)]
pub struct EnvEntry<'a> {
    pub key: &'a str,
    pub env: &'a str,
}

#[derive(Serialize, Default)]
pub struct Label<'a> {
    pub key: &'a str,
    pub value: &'a str,
}

#[derive(Serialize)]
pub struct Phase {
    pub jobs: Vec<&'static str>,
    pub timeout: &'static str,
}

/// A secret the README's commands create from stdin: a Kubernetes secret,
/// or (with External Secrets) the secret manager entry `remote_key` that
/// the overlays' ExternalSecret turns into it.
#[derive(Serialize)]
pub struct Stored<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub key: &'a str,
    pub remote_key: Option<&'a str>,
    /// A second key the Secret holds, not read from stdin (a user name):
    /// kubectl writes it beside the value; an ExternalSecret's template
    /// adds it (the plan's `literals`).
    pub literal: Option<Literal<'a>>,
}

#[derive(Serialize)]
pub struct Literal<'a> {
    pub key: &'a str,
    pub value: &'a str,
}

/// The Secrets of the README's observability-secrets step.
#[derive(Serialize)]
pub struct ObservabilitySecrets<'a> {
    /// The admin login's Secret, or the OIDC client secret's.
    pub grafana: Option<Stored<'a>>,
    pub object_store: Stored<'a>,
    pub receiver: Option<Stored<'a>>,
}

#[derive(Serialize)]
pub struct Paths {
    pub terraform: String,
    pub kustomize: &'static str,
    pub coder_values: &'static str,
    pub observability_values: &'static str,
    pub cluster_autoscaler_values: &'static str,
    pub verify: &'static str,
    pub entry: &'static str,
    pub gateway: &'static str,
    pub sizing: &'static str,
    pub gitops_flux: &'static str,
    pub gitops_argocd: &'static str,
    pub images: &'static str,
    pub charts: &'static str,
    pub terraform_cli_config: &'static str,
}

impl<'a> ReadmeView<'a> {
    pub fn from(p: &'a Plan) -> ReadmeView<'a> {
        let cr = &p.credentials;
        let ws = p.pool(Role::Workspace);
        ReadmeView {
            prefix_delegation: p.prefix_delegation.needed,
            paths: Paths {
                terraform: paths::terraform_dir(p.cloud),
                kustomize: paths::KUSTOMIZE_ROOT,
                coder_values: paths::CODER_VALUES,
                observability_values: paths::OBSERVABILITY_VALUES,
                cluster_autoscaler_values: paths::CLUSTER_AUTOSCALER_VALUES,
                verify: paths::VERIFY_ROOT,
                entry: paths::ENTRY_DIR,
                gateway: paths::GATEWAY,
                sizing: paths::SIZING,
                gitops_flux: paths::GITOPS_FLUX,
                gitops_argocd: paths::GITOPS_ARGOCD,
                images: paths::IMAGES,
                charts: paths::CHARTS,
                terraform_cli_config: paths::TERRAFORM_CLI_CONFIG,
            },
            steps: steps(p),
            pools: p.pools.iter().map(PoolRow::of).collect(),
            coderd_requests: p.coderd.resources.requests.described(),
            workspaces: p
                .workspaces
                .iter()
                .map(|w| WorkspacesView {
                    group: w,
                    quota_memory: mib(w.quota.requests_memory_mib),
                    default_request_described: w.default_request.described(),
                })
                .collect(),
            database_memory: p.database.memory_gib.to_string(),
            certificates: p
                .entry
                .certificates
                .iter()
                .map(|c| CertificateView { certificate: c, file: paths::certificate(&c.secret) })
                .collect(),
            provisioners: p
                .provisioners
                .iter()
                .map(|g| ProvisionersView {
                    group: g,
                    values: paths::provisioner_values(&g.namespace),
                    requests: g.resources.requests.described(),
                    key_store: stored(p, &g.namespace, &g.key_secret.name, &g.key_secret.key),
                })
                .collect(),
            env_secrets: env_secrets(p),
            workspace_pool: ws,
            workspace_label: ws.labels.iter().next().map(|(key, value)| Label { key, value }).unwrap_or_default(),
            workspace_namespace: p.workspaces.first().map_or("", |w| w.namespace.as_str()),
            workspace_memory: mib(p.workspaces.first().map_or(0, |w| w.default_request.memory_mib)),
            scaletest_phases: scaletest_phases(p),
            setup_pod_overrides: setup_pod_overrides(p),
            db_url: stored(p, &p.coderd.namespace, &p.database.url_secret.name, &p.database.url_secret.key),
            exporter_secret: cr.exporter.as_ref().map(|e| stored(p, &e.namespace, &e.secret.name, &e.secret.key)),
            observability_secrets: p.security.observability.as_ref().map(|so| {
                let ns = so.namespace.as_str();
                let store = &so.logs.object_store_secret;
                ObservabilitySecrets {
                    // Grafana's admin login, or its OIDC client secret.
                    grafana: so
                        .grafana
                        .admin
                        .as_ref()
                        .map(|a| Stored {
                            literal: Some(Literal { key: &a.user_key, value: &a.user }),
                            ..stored(p, ns, &a.secret, &a.password_key)
                        })
                        .or_else(|| so.grafana.oidc.as_ref().map(|o| stored(p, ns, &o.client_secret.name, &o.client_secret.key))),
                    object_store: Stored {
                        literal: Some(Literal { key: store.user_key, value: &store.user }),
                        ..stored(p, ns, &store.name, store.password_key)
                    },
                    receiver: so.receiver.as_ref().map(|r| stored(p, ns, &r.secret.name, &r.secret.key)),
                }
            }),
            upgrade_releases: upgrade_rows(p).0,
            upgrade_sites: upgrade_rows(p).1,
            site_terraform: p
                .sites
                .iter()
                .filter_map(|s| s.cloud.cloud().map(|c| format!("{}/{}", paths::site_dir(&s.name), paths::terraform_dir(c))))
                .collect(),
            network: NetworkView {
                helm_ca_flag: p.network.charts.ca_file.as_ref().map(|f| format!(" --ca-file {f}")).unwrap_or_default(),
                secret_namespaces: std::iter::once(p.coderd.namespace.as_str())
                    .chain(p.provisioners.iter().map(|g| g.namespace.as_str()))
                    .collect(),
                registry_host: p.network.registry.as_ref().map(|r| r.host.as_str()),
                observability_kustomize: p.observability.stack.as_ref().is_some_and(|s| !s.prerequisites.is_empty()),
            },
        }
    }
}

/// The first-run steps, from an empty cluster to a Coder that builds
/// workspaces, in order. A component's step is one more name here and one
/// more template.
fn steps(p: &Plan) -> Vec<&'static str> {
    let n = &p.network;
    let mut steps = Vec::new();
    // Fill the mirrors before anything in the cluster pulls from them.
    if n.registry.is_some() || n.charts.mirror.is_some() || n.terraform.is_some() {
        steps.push("mirror");
    }
    steps.push("infrastructure");
    if p.cluster_autoscaler.is_some() {
        steps.push("cluster_autoscaler");
    }
    steps.push("namespaces");
    // The Secrets the network names, in the namespaces just created.
    if n.registry.as_ref().is_some_and(|r| r.pull_secret.is_some()) || n.ca.is_some() {
        steps.push("network_secrets");
    }
    // `entry.dns_first`: the records before the certificate, and a check
    // once coderd runs; otherwise the records (and the check) after coderd.
    // `coder.env`'s secrets before coderd: its pods cannot start without them.
    let env = if env_secrets(p).is_empty() { None } else { Some("coder_env") };
    if p.entry.dns_first {
        steps.extend(["dns", "tls", "database"]);
        steps.extend(env);
        steps.extend(["coderd", "check"]);
    } else {
        steps.extend(["tls", "database"]);
        steps.extend(env);
        steps.extend(["coderd", "dns"]);
    }
    steps.push("first_user");
    if p.licence.needs_license_file {
        steps.extend(["licence", "provisioner_keys"]);
    }
    if p.observability.stack.is_some() {
        steps.extend(["observability_secrets", "observability"]);
    }
    if !p.sites.is_empty() {
        steps.push("sites");
    }
    steps
}

/// The secret references of `coder.env` (coderd's namespace) and of each
/// provisioner group's env (its namespace), grouped by namespace and secret
/// (one `kubectl create secret` each); coderd's first.
fn env_secrets(p: &Plan) -> Vec<EnvSecret<'_>> {
    // The primary's groups only: a site's are created in its own cluster
    // (its README).
    let groups = p.provisioners.iter().filter_map(|g| p.overrides.provisioner_env.get(&g.namespace).map(|env| (g.namespace.as_str(), env)));
    env_secrets_of(std::iter::once((p.coderd.namespace.as_str(), &p.overrides.coderd_env)).chain(groups))
}

/// The secret references of env maps (namespace, its variables), grouped by
/// namespace and secret: one `kubectl create secret` each.
pub fn env_secrets_of<'a>(vars: impl Iterator<Item = (&'a str, &'a BTreeMap<String, EnvValue>)>) -> Vec<EnvSecret<'a>> {
    let mut out = Vec::new();
    for (namespace, vars) in vars {
        let mut by_secret: BTreeMap<&str, Vec<EnvEntry>> = BTreeMap::new();
        for (env, v) in vars {
            if let EnvValue::SecretRef { secret, key } = v {
                by_secret.entry(secret.as_str()).or_default().push(EnvEntry { key: key.as_str(), env: env.as_str() });
            }
        }
        out.extend(by_secret.into_iter().map(|(secret, entries)| EnvSecret { namespace, secret, entries }));
    }
    out
}

/// Create the workspaces; then traffic and dashboard load together (the
/// judge reads their peak); then, with Prometheus to ask, the judge.
fn scaletest_phases(p: &Plan) -> Vec<Phase> {
    let mut phases = vec![
        Phase { jobs: vec!["create-workspaces"], timeout: "6h" },
        Phase { jobs: vec!["workspace-traffic", "dashboard"], timeout: "1h" },
    ];
    if p.verify.prometheus_url.is_some() {
        phases.push(Phase { jobs: vec!["judge"], timeout: "10m" });
    }
    phases
}

/// Secret `name` (its value under `key`) in `namespace`, with the remote key
/// of the ExternalSecret that fills it, if the plan has one.
fn stored<'a>(p: &'a Plan, namespace: &'a str, name: &'a str, key: &'a str) -> Stored<'a> {
    let remote_key = p
        .credentials
        .external_secrets
        .as_ref()
        .and_then(|e| e.secrets.iter().find(|s| s.namespace == namespace && s.secret.name == name))
        .map(|s| s.remote_key.as_str());
    Stored { namespace, name, key, remote_key, literal: None }
}

/// The `--overrides` of the psql pod that creates the database roles: Pod
/// Security `restricted` (non-root as the image's `postgres` user, no
/// privilege escalation, no capabilities, RuntimeDefault seccomp), stdin
/// attached. The pod reads host, admin user and admin password from its
/// first three stdin lines, so none of them is in the pod spec.
pub fn setup_pod_overrides(p: &Plan) -> String {
    use k8s_openapi::api::core::v1::{Container, EnvVar, LocalObjectReference, Pod, PodSecurityContext, PodSpec, SeccompProfile};
    let s = &p.credentials.setup_pod;
    let mut security = k8s::restricted_security_context();
    security.run_as_user = Some(s.run_as_user);
    security.run_as_group = Some(s.run_as_user);
    let script = format!(
        "IFS= read -r PGHOST && IFS= read -r PGUSER && IFS= read -r PGPASSWORD && export PGHOST PGUSER PGPASSWORD && exec psql -v ON_ERROR_STOP=1 -d {}",
        p.credentials.database
    );
    let pod = Pod {
        spec: Some(PodSpec {
            automount_service_account_token: Some(false),
            // The registry mirror's pull secret (the pod runs as coderd's
            // namespace's `default` ServiceAccount, which has none).
            image_pull_secrets: p
                .network
                .registry
                .as_ref()
                .and_then(|r| r.pull_secret.as_ref())
                .map(|s| vec![LocalObjectReference { name: s.clone() }]),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..SeccompProfile::default() }),
                ..PodSecurityContext::default()
            }),
            containers: vec![Container {
                name: s.name.clone(),
                image: Some(s.image.clone()),
                command: Some(vec!["sh".into(), "-c".into(), script]),
                env: Some(vec![EnvVar { name: "PGSSLMODE".into(), value: Some(p.credentials.sslmode.into()), ..EnvVar::default() }]),
                stdin: Some(true),
                stdin_once: Some(true),
                security_context: Some(security),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    };
    // Plain data: always serializes.
    serde_json::to_string(&pod).expect("a Pod serializes to JSON")
}
