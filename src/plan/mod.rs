//! Spec + catalog -> Plan: every number the tree will contain, each with the
//! reason for it, plus warnings where the sources disagree with themselves.
//!
//! Pure: no I/O, no clock. `render` reads only the Plan, so any number in the
//! tree can be traced to exactly one field here. The JSON form of this struct
//! is `coder-gen plan --format json` (documented in README; keep it stable).
//!
//! One file per component; `plan()` below calls them in order. Each component
//! is a function taking what it needs (the [`Ctx`], earlier results) and
//! returning its struct; warnings and notes go into the [`Findings`].
//!
//! To add a component (e.g. entry/TLS, licence, bootstrap):
//! 1. add `src/plan/<component>.rs` with its struct (`Serialize`, a `reasons`
//!    map with one entry per decided field) and `pub(crate) fn plan(ctx, ...)`;
//! 2. declare it below (`mod`, private) with a `pub use` of what renderers
//!    read, add its field to [`Plan`] and one call in `plan()`;
//! 3. renderers read the new field; they never re-derive a decision from
//!    other numbers (add a `bool` with a reason here instead);
//! 4. a new warning gets a [`WarningCode`] variant; document fields in README
//!    ("Plan JSON") and CHANGELOG (additions only).

mod autoscaler;
mod backup;
mod bootstrap;
mod capacity;
mod coderd;
mod credentials;
mod database;
mod entry;
mod gitops;
mod licence;
mod network;
mod notes;
mod observability;
mod overrides;
mod pools;
mod provisioners;
mod security;
mod shares;
mod sites;
mod text;
mod tier;
mod upgrade;
mod verify;
mod workspaces;

use std::collections::BTreeMap;

use serde::Serialize;

pub use autoscaler::ClusterAutoscaler;
pub use bootstrap::Bootstrap;
pub use capacity::{Resources, mib};
pub use coderd::{Coderd, Rollout};
pub use credentials::{Credentials, ExternalSecret, ExternalSecrets};
pub use database::Database;
pub use entry::{CODERD_HTTP_PORT, Certificate, Entry};
pub use gitops::{Controller, Gitops, NamespacedSecret};
pub use licence::Licence;
pub use network::{
    Ca, CaIssuer, ChartSource, Charts, EnvVar as NetworkEnv, Image, Network, ObservabilityNetwork, Registry, TerraformConfig,
};
pub use notes::{Note, Warning, WarningCode};
pub use observability::{Observability, Prerequisite};
pub use overrides::Overrides;
pub use pools::{Pool, PrefixDelegation, Taint, TaintEffect};
pub use provisioners::Provisioners;
pub use security::{Security, StackSecurity};
pub use sites::{PROXY_NAMESPACE, Proxy, Site, SiteGitops, SiteNetwork, SiteObservability, SiteVerify};
pub use upgrade::{Upgrade, UpgradeRelease};
pub use verify::Verify;
pub use workspaces::Workspaces;

pub use text::to_text;

// The spec's words the plan carries as they are, so that a renderer reads
// them from the plan and never imports the spec.
pub use crate::spec::{Challenge, EntryMode, EnvValue, IssuerKind, License, ReceiverKind, SiteCloud};

use crate::catalog::{Catalog, CloudRules, Tier};
use crate::cloud::Cloud;
use crate::diag::{Located, SpecError};
use crate::spec::{At, Spec};

/// Bumped only on a breaking change to the JSON shape (see CHANGELOG).
pub const FORMAT_VERSION: u32 = 1;

/// Node label and taint key that pins each role to its pool. Terraform puts it
/// on the nodes; Helm values and workspace templates select on it.
pub const POOL_LABEL: &str = "coder-gen/pool";

/// Coder's default pool size per coderd (`CODER_PG_CONN_MAX_OPEN`,
/// docs/reference/cli/server.md); made explicit so the database's
/// `max_connections` can be derived from it.
pub const PG_CONN_MAX_OPEN: u32 = 10;

/// The provisioner chart's name in Coder's Helm repository.
const PROVISIONER_CHART: &str = "coder-provisioner";
/// The coder chart's name (coderd and, in proxy mode, workspace proxies).
const CODER_CHART: &str = "coder";
/// The verify Jobs' namespace, in the primary and in every site's cluster
/// (the network plan lists it among those that pull and trust the CA).
const VERIFY_NAMESPACE: &str = "coder-verify";

/// Reasons keyed by the field name they explain (in the same JSON object).
pub type Reasons = BTreeMap<&'static str, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Coderd,
    Provisioner,
    Workspace,
    /// A site's workspace proxy (the coder chart in proxy mode).
    Proxy,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coderd => "coderd",
            Role::Provisioner => "provisioner",
            Role::Workspace => "workspace",
            Role::Proxy => "proxy",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PodResources {
    pub requests: Resources,
    pub limits: Resources,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretRef {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quota {
    pub requests_cpu_millis: u32,
    pub requests_memory_mib: u32,
    /// Memory limits are capped like requests: no overcommit.
    pub limits_memory_mib: u32,
    pub pods: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub repository: String,
    pub repository_name: String,
    pub coder_chart: String,
    pub provisioner_chart: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct KubernetesTarget {
    pub cluster_name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub format_version: u32,
    pub name: String,
    pub spec_file: String,
    pub spec_digest: String,
    pub tier: String,
    pub tier_source: String,
    pub users: u32,
    pub max_users: u32,
    pub target_api_rps: u32,
    pub cloud: Cloud,
    pub region: String,
    pub access_url: String,
    pub wildcard_access_url: Option<String>,
    pub kubernetes: KubernetesTarget,
    pub chart: Chart,
    pub licence: Licence,
    pub entry: Entry,
    pub pools: Vec<Pool>,
    /// EKS: whether any pool needs VPC CNI prefix delegation, with why. Not
    /// in plan JSON: each pool's `needs_prefix_delegation` is, with its reason.
    #[serde(skip)]
    pub prefix_delegation: PrefixDelegation,
    pub coderd: Coderd,
    pub provisioners: Vec<Provisioners>,
    pub workspaces: Vec<Workspaces>,
    pub database: Database,
    pub observability: Observability,
    pub credentials: Credentials,
    pub verify: Verify,
    /// Upgrading Coder: the one version, its support, the order and the
    /// scale-down (the README's "Upgrade Coder").
    pub upgrade: Upgrade,
    pub bootstrap: Bootstrap,
    /// The node autoscaler the tree installs (EKS); `null` where the cloud
    /// scales its pools itself (GKE, AKS).
    pub cluster_autoscaler: Option<ClusterAutoscaler>,
    /// `null` unless the spec asks for Flux or Argo CD objects.
    pub gitops: Option<Gitops>,
    /// The network the cluster lives in: images and charts (mirrored or
    /// not), proxy, Terraform provider mirror, private CA, air-gapped.
    pub network: Network,
    /// The user's own settings (`coder.env`), carried into the tree as given.
    pub overrides: Overrides,
    /// Workspace sites besides the primary, each with its own cluster,
    /// proxy, provisioners and workspaces (an empty list without sites).
    pub sites: Vec<Site>,
    /// Secure defaults and where the spec loosened them (`plan/security.rs`).
    pub security: Security,
    pub notes: Vec<Note>,
    pub warnings: Vec<Warning>,
    pub reasons: Reasons,
}

impl Plan {
    /// The pool of `role`. Every plan has a coderd and a workspace pool; the
    /// provisioner pool exists only with external provisioners (it is asked
    /// for only while rendering a provisioner group, which then exist).
    pub fn pool(&self, role: Role) -> &Pool {
        self.pools.iter().find(|p| p.role == role).expect("plan has a pool for every role it runs")
    }

    pub fn total_provisioners(&self) -> u32 {
        self.provisioners.iter().map(|p| p.replicas).sum()
    }
}

/// What every component may read: the spec, the catalog, the chosen tier and
/// its machines, and the cloud's rules.
pub(crate) struct Ctx<'a> {
    pub spec: &'a Spec,
    pub cloud: Cloud,
    pub tier: &'a Tier,
    pub rules: &'a CloudRules,
    pub machines: tier::Machines<'a>,
    /// Where the pools sized with this context run: their cloud resources'
    /// name prefix (`<name>`, a site's `<name>-<site>`) and their cloud
    /// (`None`: an on-prem site's nodes, which coder-gen does not create).
    pub pool_prefix: String,
    pub node_cloud: Option<Cloud>,
}

impl Ctx<'_> {
    pub fn users(&self) -> u32 {
        self.spec.users.value
    }
}

/// Warnings and notes collected while planning, in the order they arise.
#[derive(Default)]
pub(crate) struct Findings {
    pub warnings: Vec<Warning>,
    pub notes: Vec<Note>,
}

impl Findings {
    pub fn warn(&mut self, code: WarningCode, message: String) {
        self.warnings.push(Warning { code, message });
    }
}

pub(crate) fn spec_error<T>(spec: &Spec, at: &At<T>, message: String, help: &str) -> SpecError {
    SpecError::new(&spec.file, Some((at.line, at.column)), message, help)
}

/// MiB as GiB with two decimals, as the plan shows machine memory.
pub(crate) fn gib(mib: u32) -> f64 {
    (f64::from(mib) / 1024.0 * 100.0).round() / 100.0
}

/// The static scheduling check: the plan never ships a pool whose pods
/// cannot all be scheduled on a node (`Pool::fits`). Every problem at once,
/// located at the machine type override or the user count.
fn check_fit(spec: &Spec, pools: &[Pool]) -> Result<(), SpecError> {
    let mut errors = Vec::new();
    for p in pools.iter().filter(|p| !p.fits) {
        let over = match p.role {
            Role::Coderd => spec.machine_types.coderd.as_ref(),
            Role::Provisioner => spec.machine_types.provisioner.as_ref(),
            Role::Workspace => spec.machine_types.workspace.as_ref(),
            // Proxies run in sites, which check their own pools.
            Role::Proxy => None,
        };
        let message = format!(
            "the {} pool's {} has no room for its {} pod(s): {}",
            p.role.as_str(),
            p.machine_type,
            p.pods_per_node,
            p.reasons.get("fits").map_or("", String::as_str)
        );
        let help = format!("pick a larger machine_types.{} (more vCPU and memory per node)", p.role.as_str());
        let (line, column) = over.map_or((spec.users.line, spec.users.column), |at| (at.line, at.column));
        errors.push(Located { line, column, message, help });
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecError::Invalid { file: spec.file.clone(), errors }) }
}

/// Build the plan. Errors (a tier too small, an unknown machine type) point at
/// the spec line that caused them.
pub fn plan(spec: &Spec, catalog: &Catalog) -> Result<Plan, SpecError> {
    let tier = tier::select(spec, catalog)?;
    let cloud = spec.cloud;
    let ctx = Ctx {
        spec,
        cloud,
        tier,
        rules: catalog.cloud(cloud),
        machines: tier::machines(spec, catalog, tier)?,
        pool_prefix: spec.name.clone(),
        node_cloud: Some(cloud),
    };
    let mut found = Findings::default();
    // With sites, the primary keeps its share of the tier (by users).
    let shares = shares::plan(&ctx);

    let licence = licence::plan(&ctx, &mut found);
    let cluster_autoscaler = autoscaler::plan(&ctx);
    let (coderd, coderd_pool) = coderd::plan(&ctx, &licence, cluster_autoscaler.as_ref(), &mut found);
    // Without Premium there are no external provisioners: no groups, no pool.
    let (provisioners, prov_pool) = if licence.external_provisioners {
        let (p, pool) = provisioners::plan(&ctx, &spec.provisioners, &spec.workspaces, &shares.primary, None, &mut found);
        (p, Some(pool))
    } else {
        (Vec::new(), None)
    };
    let (workspaces, ws_pool) = workspaces::plan(&ctx, &spec.workspaces, &spec.users, &shares.primary, &mut found)?;
    let pools: Vec<Pool> = std::iter::once(coderd_pool).chain(prov_pool).chain(std::iter::once(ws_pool)).collect();
    check_fit(spec, &pools)?;
    let prefix_delegation = pools::prefix_delegation(&pools);
    let entry = entry::plan(&ctx, &coderd.namespace);
    let bootstrap = bootstrap::plan(&ctx, &licence, &provisioners, &mut found);
    let database = database::plan(&ctx, &coderd, &mut found)?;
    let nodes = pools.iter().map(|p| p.max_nodes).sum();
    let observability = observability::plan(&ctx, nodes, coderd.replicas, &mut found);
    let gitops = gitops::plan(&ctx, &coderd.namespace, &database.url_secret);
    let network = network::plan(
        &ctx,
        &network::Inputs {
            coderd: &coderd,
            provisioners: &provisioners,
            observability: &observability,
            cluster_autoscaler: cluster_autoscaler.as_ref(),
            gitops: gitops.as_ref(),
        },
    );
    // The releases' repositories as the network decided (a chart mirror).
    let mut observability = observability;
    if let (Some(s), Some(c)) = (observability.stack.as_mut(), network.charts.observability.as_ref()) {
        s.repository.clone_from(&c.repository);
        s.repository_name = c.repository_name.clone().unwrap_or_default();
    }
    let mut cluster_autoscaler = cluster_autoscaler;
    if let (Some(a), Some(c)) = (cluster_autoscaler.as_mut(), network.charts.cluster_autoscaler.as_ref()) {
        a.chart_repository.clone_from(&c.repository);
    }
    let security = security::plan(&ctx, &entry, &observability, &mut found);
    let credentials = credentials::plan(&ctx, &database.url_secret, &observability, &provisioners, &network, &security);
    // Objects the chart needs in its namespace before it installs, which the
    // chart cannot make: the exporters' password from the secret store, and
    // the pull secret on `default` for the pods the chart gives none.
    if let Some(s) = observability.stack.as_mut() {
        if credentials.external_secrets.is_some() && credentials.exporter.is_some() {
            s.prerequisites.push(observability::Prerequisite::ExternalSecret);
            s.reasons.insert(
                "prerequisites.external-secret",
                "credentials.manager external-secrets: the ExternalSecrets of the stack's secrets (the exporters' password, Grafana's login, Loki's object store, the alert receiver), applied before the chart mounts them"
                    .into(),
            );
        }
        if network.observability.default_service_account_pull_secret.is_some() {
            s.prerequisites.push(observability::Prerequisite::DefaultServiceAccount);
            s.reasons.insert(
                "prerequisites.default-service-account",
                "network.registry.pull_secret: the namespace's default ServiceAccount carries it, for the chart's pods with no pull-secret key".into(),
            );
        }
    }
    let total_provisioners = provisioners.iter().map(|g| g.replicas).sum();
    let verify = verify::plan(&ctx, &coderd, total_provisioners, shares.primary.users, &observability, &network);
    let primary = sites::Primary { observability: &observability, gitops: gitops.as_ref(), network: &network, security: &security };
    let sites = sites::plan(&ctx, catalog, &shares, &primary, &mut found)?;
    // coderd first, then every provisioner group and proxy, the sites' too.
    let upgrade = upgrade::plan(&ctx, &coderd, &provisioners, &sites, PROVISIONER_CHART, &mut found);
    let overrides = overrides::plan(&ctx);
    notes::burstable(&ctx, &mut found);
    let notes = notes::tier_notes(&ctx, &coderd, std::mem::take(&mut found.notes));
    // Sites planned with the same machinery repeat the same warning: once.
    let mut warnings: Vec<Warning> = Vec::new();
    for w in found.warnings {
        if !warnings.iter().any(|x| x.code == w.code && x.message == w.message) {
            warnings.push(w);
        }
    }

    Ok(Plan {
        format_version: FORMAT_VERSION,
        name: spec.name.clone(),
        spec_file: std::path::Path::new(&spec.file).file_name().map_or_else(|| spec.file.clone(), |f| f.to_string_lossy().into_owned()),
        spec_digest: spec.digest.clone(),
        tier: tier.id.clone(),
        tier_source: tier.source.clone(),
        users: ctx.users(),
        max_users: tier.max_users,
        target_api_rps: tier.target_api_rps,
        cloud,
        region: spec.region.clone(),
        access_url: spec.access_url.clone(),
        wildcard_access_url: spec.wildcard_access_url.clone(),
        kubernetes: KubernetesTarget { cluster_name: spec.kubernetes.cluster_name.clone(), version: spec.kubernetes.version.clone() },
        chart: Chart {
            repository: network.charts.coder.repository.clone(),
            repository_name: network.charts.coder.repository_name.clone().unwrap_or_default(),
            coder_chart: CODER_CHART.into(),
            provisioner_chart: PROVISIONER_CHART.into(),
            version: spec.coder.chart_version.clone(),
        },
        licence,
        entry,
        pools,
        prefix_delegation,
        coderd,
        provisioners,
        workspaces,
        database,
        observability,
        credentials,
        verify,
        upgrade,
        bootstrap,
        cluster_autoscaler,
        gitops,
        network,
        overrides,
        sites,
        security,
        notes,
        warnings,
        reasons: tier::reasons(&ctx),
    })
}

#[cfg(test)]
mod tests;
