//! Sites: workspace clusters besides the primary. Each is planned with the
//! primary's own machinery (`pools`, `capacity`, `provisioners`,
//! `workspaces`) on a context of its own: its cloud's rules and machine
//! types (on-prem: the rules coder-gen assumes and nodes of the tier's
//! capacity), its share of the tier (`shares`), its node pools named
//! `<name>-<site>-<role>`. On top: its workspace proxy (`proxy.rs`), its
//! Cluster Autoscaler on EKS, its verification run, its GitOps wiring and
//! how its metrics are scraped. coderd, the database and the tier stay in
//! the primary (Coder must not span regions; coderd needs < 10 ms to
//! PostgreSQL).

mod network;
mod proxy;
mod text;

use std::collections::BTreeMap;

use serde::Serialize;

use super::autoscaler::{self, ClusterAutoscaler};
use super::network::Network;
use super::pools::{self, PrefixDelegation};
use super::security::Security;
use super::shares::Shares;
use super::tier::Machines;
use super::{
    Controller, Ctx, Findings, Gitops, KubernetesTarget, Observability, Pool, Provisioners, Reasons, Role, SecretRef, VERIFY_NAMESPACE,
    Workspaces, provisioners, workspaces,
};
use crate::catalog::{Catalog, Machine, MachineKind};
use crate::diag::{Located, SpecError, quote};
use crate::spec::{AutoBool, SITE_TAG, Site as SpecSite, SiteCloud, Spec};

pub use network::SiteNetwork;
pub use proxy::{PROXY_NAMESPACE, Proxy};
pub(crate) use text::write_text;

#[derive(Debug, Clone, Serialize)]
pub struct Site {
    pub name: String,
    pub cloud: SiteCloud,
    /// Cloud sites only.
    pub region: Option<String>,
    pub users: u32,
    pub kubernetes: KubernetesTarget,
    /// Cloud sites: their node pools are Terraform (`sites/<name>/terraform/<cloud>/`);
    /// on-prem: the nodes are the cluster owner's, and the README lists them.
    pub terraform: bool,
    /// The tags every provisioner key of the site carries (`site: <name>`).
    pub tags: BTreeMap<String, String>,
    /// The site runs a workspace proxy (`proxy` is set).
    pub proxy_enabled: bool,
    /// `null` where the site has no proxy (a cloud site in the primary's
    /// cloud and region, by default).
    pub proxy: Option<Proxy>,
    /// proxy (if any), provisioner and workspace pools, sized like the
    /// primary's; on-prem: the nodes the cluster must offer.
    pub pools: Vec<Pool>,
    /// EKS: whether a pool needs VPC CNI prefix delegation (each pool says why).
    #[serde(skip)]
    pub prefix_delegation: PrefixDelegation,
    pub provisioners: Vec<Provisioners>,
    pub workspaces: Vec<Workspaces>,
    /// EKS sites: the site cluster's own Cluster Autoscaler.
    pub cluster_autoscaler: Option<ClusterAutoscaler>,
    pub observability: SiteObservability,
    pub verify: SiteVerify,
    /// `null` unless the spec asks for Flux or Argo CD.
    pub gitops: Option<SiteGitops>,
    /// Its share of `network:` (the same mirrors, proxy and CA; its own
    /// namespaces and NO_PROXY).
    pub network: SiteNetwork,
    pub reasons: Reasons,
}

impl Site {
    /// The pool of `role` (every site has provisioner and workspace pools;
    /// a proxy pool exactly when it has a proxy).
    pub fn pool(&self, role: Role) -> &Pool {
        self.pools.iter().find(|p| p.role == role).expect("a site has a pool for every role it runs")
    }
}

/// How the site's proxy and provisioner metrics are scraped.
#[derive(Debug, Clone, Serialize)]
pub struct SiteObservability {
    /// The site's proxy and provisioners serve metrics (as the primary's do).
    pub enabled: bool,
    pub prometheus_port: u16,
    /// The namespace of the site cluster's own collector, admitted to the
    /// metrics port.
    pub scrape_namespace: String,
    pub reasons: Reasons,
}

/// The site's workspace-creation run: a Job in the site's cluster that
/// creates the site's workspaces through the primary's API, built by the
/// site's provisioners (a template pushed with the site's tag).
#[derive(Debug, Clone, Serialize)]
pub struct SiteVerify {
    pub namespace: String,
    pub service_account: String,
    pub image: String,
    /// The primary's access URL: the Job runs in the site's cluster.
    pub coder_url: String,
    pub token_secret: SecretRef,
    /// The scaletest template, pushed with `--provisioner-tag site=<name>`.
    pub template: String,
    pub workspaces: u32,
    pub concurrency: u32,
    pub reasons: Reasons,
}

/// The GitOps wiring of a site: its objects target the site's cluster.
#[derive(Debug, Clone, Serialize)]
pub struct SiteGitops {
    pub controller: Controller,
    /// Argo CD: the cluster's name as registered in Argo CD
    /// (`argocd cluster add CONTEXT --name <cluster>`), the Applications'
    /// `destination.name`. Flux: the site cluster's own Flux reads the
    /// site's folder.
    pub cluster: String,
    pub reasons: Reasons,
}

/// The machine of a site's pool: the spec's override (checked against the
/// site cloud's catalog) or the tier's; on-prem, a node of the tier's
/// capacity (`onprem` holds it).
fn machine<'a>(
    spec: &Spec,
    catalog: &'a Catalog,
    site: &SpecSite,
    seed: &crate::catalog::PerCloud,
    over: Option<&crate::spec::At<String>>,
    key: &str,
    onprem: &'a Machine,
) -> Result<&'a Machine, SpecError> {
    let Some(cloud) = site.cloud.cloud() else { return Ok(onprem) };
    match over {
        None => Ok(catalog.machine(cloud, seed.get(cloud)).expect("seed machine types are in the catalog (tested)")),
        Some(at) => match catalog.machine(cloud, &at.value) {
            Some(m) if m.kind == MachineKind::Node || m.kind == MachineKind::Any => Ok(m),
            _ => Err(SpecError::new(
                &spec.file,
                Some((at.line, at.column)),
                format!("sites[].machine_types.{key} {} is not a known {cloud} node type", quote(&at.value)),
                &format!("use one of: {}", catalog.machine_names(cloud, MachineKind::Node).join(", ")),
            )),
        },
    }
}

/// A node of the tier's capacity for `role`, for an on-prem site.
fn onprem_machine(c: crate::catalog::Capacity) -> Machine {
    Machine {
        name: format!("{} vCPU / {} GiB", c.vcpu, c.memory_gb),
        vcpu: c.vcpu,
        memory_mib: c.memory_gb * 1024,
        kind: MachineKind::Node,
        burstable: false,
        eni_max_pods: None,
    }
}

/// The static scheduling check of a site's pools, located at the override
/// or the site's users.
fn check_fit(spec: &Spec, site: &SpecSite, pools: &[Pool]) -> Result<(), SpecError> {
    let mut errors = Vec::new();
    for p in pools.iter().filter(|p| !p.fits) {
        let over = match p.role {
            Role::Proxy => site.machine_types.proxy.as_ref(),
            Role::Provisioner => site.machine_types.provisioner.as_ref(),
            _ => site.machine_types.workspace.as_ref(),
        };
        let (line, column) = over.map_or((site.users.line, site.users.column), |at| (at.line, at.column));
        errors.push(Located {
            line,
            column,
            message: format!(
                "site {}: the {} pool's {} has no room for its {} pod(s): {}",
                site.name.value,
                p.role.as_str(),
                p.machine_type,
                p.pods_per_node,
                p.reasons.get("fits").map_or("", String::as_str)
            ),
            help: format!("pick a larger sites[].machine_types.{} (more vCPU and memory per node)", p.role.as_str()),
        });
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecError::Invalid { file: spec.file.clone(), errors }) }
}

/// What the primary's plan decided that every site follows.
pub(crate) struct Primary<'a> {
    pub observability: &'a Observability,
    pub gitops: Option<&'a Gitops>,
    pub network: &'a Network,
    pub security: &'a Security,
}

/// Every site of the spec, in order.
pub(crate) fn plan(ctx: &Ctx, catalog: &Catalog, shares: &Shares, primary: &Primary, found: &mut Findings) -> Result<Vec<Site>, SpecError> {
    let spec = ctx.spec;
    spec.sites.iter().zip(&shares.sites).map(|(s, share)| site(ctx, catalog, s, share, primary, found)).collect()
}

#[allow(clippy::too_many_lines)] // one decision after another, each with its reason
fn site(
    ctx: &Ctx,
    catalog: &Catalog,
    s: &SpecSite,
    share: &super::shares::Share,
    primary: &Primary,
    found: &mut Findings,
) -> Result<Site, SpecError> {
    let (observability, gitops) = (primary.observability, primary.gitops);
    let (spec, tier) = (ctx.spec, ctx.tier);
    let name = s.name.value.clone();
    let mut r = Reasons::new();
    let rules = match s.cloud.cloud() {
        Some(c) => catalog.cloud(c),
        None => catalog.onprem(),
    };
    let onprem =
        [onprem_machine(tier.coderd.capacity), onprem_machine(tier.provisioners.capacity), onprem_machine(tier.workspaces.capacity)];
    let mt = &s.machine_types;
    let machines = Machines {
        // The proxy pool takes the coderd slot: proxies are sized like coderd.
        coderd: machine(spec, catalog, s, &tier.coderd.machine_type, mt.proxy.as_ref(), "proxy", &onprem[0])?,
        provisioner: machine(spec, catalog, s, &tier.provisioners.machine_type, mt.provisioner.as_ref(), "provisioner", &onprem[1])?,
        workspace: machine(spec, catalog, s, &tier.workspaces.machine_type, mt.workspace.as_ref(), "workspace", &onprem[2])?,
        // The database is the primary's; nothing here reads it.
        database: ctx.machines.database,
    };
    let prefix = format!("{}-{name}", spec.name);
    let sctx = Ctx { spec, cloud: ctx.cloud, tier, rules, machines, pool_prefix: prefix.clone(), node_cloud: s.cloud.cloud() };
    let nodes_why = match s.cloud {
        SiteCloud::Onprem => format!(
            "on-prem: coder-gen creates no nodes; pods are sized for nodes of the tier's capacity ({}) under the kubelet's defaults and typical system daemonsets (catalog/clouds.yaml `onprem`): the nodes the cluster must offer, labelled and tainted as listed",
            onprem.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
        ),
        _ => format!(
            "{} node pools in the site's existing cluster, sized like the primary's next to {}'s daemonsets",
            s.cloud, rules.service
        ),
    };

    // The proxy: on by default wherever users are far from the primary.
    let proxy_on = s.proxy_on(spec.cloud, &spec.region);
    r.insert(
        "proxy_enabled",
        match (s.proxy.enabled, proxy_on) {
            (AutoBool::Set(_), true) => "sites[].proxy in the spec: on".into(),
            (AutoBool::Set(_), false) => "sites[].proxy in the spec: off; users reach the site's workspaces through the primary".into(),
            (AutoBool::Auto, true) => format!(
                "auto: the site is {}, away from the primary's {} {}, so its users get a proxy near their workspaces (apps, terminals, port-forwarding and DERP relay stay in the region)",
                match s.cloud {
                    SiteCloud::Onprem => "on-prem".to_string(),
                    c => format!("in {c} {}", s.region.as_deref().unwrap_or("")),
                },
                spec.cloud,
                spec.region
            ),
            (AutoBool::Auto, false) => "auto: the site is in the primary's cloud and region, so the primary's access URL serves its users as well as a proxy would".into(),
        },
    );

    // EKS: the site cluster's own Cluster Autoscaler, on a fixed pool.
    let ca_pool = if proxy_on { Role::Proxy } else { Role::Provisioner };
    let ca_sized = if proxy_on { "the proxy" } else { "each provisioner" };
    let cluster_autoscaler = s.cloud.cloud().and_then(|c| autoscaler::for_cluster(c, &s.kubernetes.version, &prefix, ca_pool, ca_sized));
    let shared = |role: Role| cluster_autoscaler.as_ref().filter(|a| a.pool == role).map(|a| ("cluster-autoscaler", a.resources.requests));

    let mut pools_out = Vec::new();
    let proxy = if proxy_on {
        let (p, pool) = proxy::plan(&sctx, s, &spec.access_url, primary.security, shared(Role::Proxy), found);
        pools_out.push(pool);
        Some(p)
    } else {
        None
    };
    let (provisioners, prov_pool) = provisioners::plan(&sctx, &s.provisioners, &s.workspaces, share, shared(Role::Provisioner), found);
    let (workspaces, ws_pool) = workspaces::plan(&sctx, &s.workspaces, &s.users, share, found)?;
    pools_out.push(prov_pool);
    pools_out.push(ws_pool);
    check_fit(spec, s, &pools_out)?;
    let prefix_delegation = pools::prefix_delegation(&pools_out);
    r.insert(
        "users",
        format!("sites[].users in the spec: {} of the {} users (the tier is chosen from all of them)", s.users.value, spec.users.value),
    );
    r.insert(
        "terraform",
        if s.cloud.cloud().is_some() {
            format!(
                "a cloud site: Terraform adds the pools to its existing cluster (no database: the primary's serves every site); {nodes_why}"
            )
        } else {
            format!("on-prem: an existing cluster coder-gen does not provision, Helm and Kustomize only; {nodes_why}")
        },
    );
    r.insert("tags", format!("every provisioner key of the site carries `{SITE_TAG}: {name}`: a template pushed with that tag is built here, and Coder counts build capacity per tag set"));

    let obs = SiteObservability {
        enabled: observability.enabled,
        prometheus_port: observability.prometheus_port,
        scrape_namespace: observability.scrape_namespace.clone(),
        reasons: Reasons::from([
            ("enabled", "as the primary: the proxy (CODER_PROMETHEUS_ENABLE) and the provisioners serve metrics when observability is on".into()),
            (
                "scrape_namespace",
                "coder-observability discovers pods only in its own cluster, so the site's proxy and provisioners are scraped by a collector in the site's cluster, in this namespace (admitted to the metrics port), which keeps or forwards them (README)".into(),
            ),
        ]),
    };
    let verify = SiteVerify {
        namespace: VERIFY_NAMESPACE.into(),
        service_account: "coder-scaletest".into(),
        image: primary.network.images["coder"].reference.clone(),
        coder_url: spec.access_url.clone(),
        token_secret: SecretRef { name: "coder-scaletest-token".into(), key: "token".into() },
        template: format!("scaletest-{name}"),
        workspaces: s.users.value,
        concurrency: share.provisioners.min(s.users.value).max(1),
        reasons: Reasons::from([
            ("coder_url", "the primary's access URL: the Job runs in the site's cluster and calls coderd's API from outside".into()),
            (
                "template",
                format!(
                    "the scaletest template pushed with `--provisioner-tag {SITE_TAG}={name}`, so the site's provisioners build it into the site's workspace namespace"
                ),
            ),
            ("workspaces", format!("one scaletest workspace per user of the site ({})", s.users.value)),
            (
                "concurrency",
                format!("as many concurrent builds as the site's provisioners ({}), at most one per workspace", share.provisioners),
            ),
        ]),
    };
    let gitops = gitops.map(|g| SiteGitops {
        controller: g.controller,
        cluster: s.kubernetes.cluster_name.clone(),
        reasons: Reasons::from([(
            "cluster",
            match g.controller {
                Controller::Argocd => "Argo CD deploys the site from the primary's Argo CD: the site's Applications name its cluster as registered there (`argocd cluster add`), `destination.name`".into(),
                Controller::Flux => "Flux in the site's cluster deploys the site's folder (a path per cluster), from the same repository and branch".into(),
            },
        )]),
    });
    let network = network::plan(
        &sctx,
        primary.network,
        &network::Inputs {
            site: s,
            proxy: proxy.as_ref(),
            provisioners: &provisioners,
            cluster_autoscaler: cluster_autoscaler.as_ref(),
            gitops: primary.gitops,
        },
    );
    Ok(Site {
        name: name.clone(),
        cloud: s.cloud,
        region: s.region.clone(),
        users: s.users.value,
        kubernetes: KubernetesTarget { cluster_name: s.kubernetes.cluster_name.clone(), version: s.kubernetes.version.clone() },
        terraform: s.cloud.cloud().is_some(),
        tags: BTreeMap::from([(SITE_TAG.to_string(), name)]),
        proxy_enabled: proxy.is_some(),
        proxy,
        pools: pools_out,
        prefix_delegation,
        provisioners,
        workspaces,
        cluster_autoscaler,
        observability: obs,
        verify,
        gitops,
        network,
        reasons: r,
    })
}

#[cfg(test)]
mod tests;
