//! A site's README.md (`templates/readme/site/`): what runs there, its
//! sizing, its network contract, its prerequisites and its steps in order,
//! every command naming the site's cluster. The view lists paths, spelled
//! quantities and the ordered steps; it decides nothing.

use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;

use super::at;
use super::kustomize::PROXY_OVERLAY;
use crate::plan::{Certificate, Controller, Plan, Provisioners, Role, Site, Workspaces, mib};
use crate::render::readme::{EnvSecret, PoolRow, UpgradeSite, env_secrets_of, upgrade_rows};
use crate::render::{paths, template};
use crate::tree::{Comment, Tree, header};

#[derive(Serialize)]
struct SiteView<'a> {
    /// The site's folder, from the tree's root.
    dir: String,
    /// From the site's README back to the primary's.
    primary_readme: &'static str,
    terraform: Option<String>,
    kustomize: String,
    proxy_overlay: String,
    coder_values: String,
    cluster_autoscaler_values: String,
    verify: String,
    gitops: String,
    certificates: Vec<CertificateView<'a>>,
    provisioners: Vec<ProvisionerView<'a>>,
    pools: Vec<PoolRow<'a>>,
    workspaces: Vec<WorkspacesView<'a>>,
    /// The proxy's requests, spelled (`3500m CPU / 12Gi`).
    proxy_requests: String,
    /// The steps of "Apply" in order, each `templates/readme/site/apply/<step>.md.j2`.
    steps: Vec<&'static str>,
    workspace_label: (&'a str, &'a str),
    workspace_namespace: &'a str,
    workspace_memory: String,
    /// ` --ca-file <file>` for helm commands reading the chart mirror, or "".
    helm_ca_flag: String,
    /// The namespaces `kubectl apply -k` creates here whose pods need the
    /// mirror's pull secret or the private CA (`site.network`).
    secret_namespaces: Vec<&'a str>,
    /// The secrets the site's provisioner groups' env reads, per namespace.
    env_secrets: Vec<EnvSecret<'a>>,
    /// The site's CA ClusterIssuer file, if it has one.
    cluster_issuer_file: Option<String>,
    /// The operator's Terraform CLI configuration (the primary's).
    terraform_cli_config: &'static str,
    /// The site's releases in the upgrade order (`plan.upgrade.after_coderd`).
    upgrade: Option<UpgradeSite<'a>>,
}

#[derive(Serialize)]
struct CertificateView<'a> {
    #[serde(flatten)]
    certificate: &'a Certificate,
    file: String,
}

#[derive(Serialize)]
struct ProvisionerView<'a> {
    #[serde(flatten)]
    group: &'a Provisioners,
    values: String,
    requests: String,
    tag_flags: String,
}

#[derive(Serialize)]
struct WorkspacesView<'a> {
    #[serde(flatten)]
    group: &'a Workspaces,
    quota_memory: String,
    default_request_described: String,
}

/// The site's first-run steps, in order (a step is one name here and one
/// template).
fn steps(plan: &Plan, site: &Site) -> Vec<&'static str> {
    let mut steps = vec!["context"];
    if site.terraform {
        steps.push("infrastructure");
    } else {
        steps.push("nodes");
    }
    if site.cluster_autoscaler.is_some() {
        steps.push("cluster_autoscaler");
    }
    steps.push("namespaces");
    // The Secrets the network names, in the namespaces just created.
    if !site.network.pull_secret_namespaces.is_empty() || !site.network.ca_namespaces.is_empty() {
        steps.push("network_secrets");
    }
    if site.proxy.is_some() {
        steps.extend(["tls", "proxy_token", "proxy", "dns"]);
    }
    if !env_secrets(plan, site).is_empty() {
        steps.push("env_secrets");
    }
    steps.extend(["provisioners", "templates"]);
    steps
}

/// The secret references of the site's groups' env (`coder.provisioner_env`
/// and each group's `env`), created in the site's cluster.
fn env_secrets<'a>(plan: &'a Plan, site: &'a Site) -> Vec<EnvSecret<'a>> {
    env_secrets_of(
        site.provisioners.iter().filter_map(|g| plan.overrides.provisioner_env.get(&g.namespace).map(|e| (g.namespace.as_str(), e))),
    )
}

fn view<'a>(plan: &'a Plan, site: &'a Site) -> SiteView<'a> {
    let ws = site.pool(Role::Workspace);
    let gitops = match plan.gitops.as_ref().map(|g| g.controller) {
        Some(Controller::Argocd) => at(site, &format!("{}/apps", paths::GITOPS_ARGOCD)),
        _ => at(site, paths::GITOPS_FLUX),
    };
    SiteView {
        dir: paths::site_dir(&site.name),
        primary_readme: "../../README.md",
        terraform: site.cloud.cloud().map(|c| at(site, &paths::terraform_dir(c))),
        kustomize: at(site, paths::KUSTOMIZE_ROOT),
        proxy_overlay: at(site, &format!("{}/overlays/{PROXY_OVERLAY}", paths::KUSTOMIZE_ROOT)),
        coder_values: at(site, paths::CODER_VALUES),
        cluster_autoscaler_values: at(site, paths::CLUSTER_AUTOSCALER_VALUES),
        verify: at(site, paths::VERIFY_ROOT),
        gitops,
        certificates: site
            .proxy
            .iter()
            .flat_map(|x| &x.certificates)
            .map(|c| CertificateView { certificate: c, file: at(site, &paths::certificate(&c.secret)) })
            .collect(),
        provisioners: site
            .provisioners
            .iter()
            .map(|g| ProvisionerView {
                group: g,
                values: at(site, &paths::provisioner_values(&g.namespace)),
                requests: g.resources.requests.described(),
                tag_flags: g.tags.iter().map(|(k, v)| format!(" --tag {k}={v}")).collect(),
            })
            .collect(),
        pools: site.pools.iter().map(PoolRow::of).collect(),
        workspaces: site
            .workspaces
            .iter()
            .map(|w| WorkspacesView {
                group: w,
                quota_memory: mib(w.quota.requests_memory_mib),
                default_request_described: w.default_request.described(),
            })
            .collect(),
        proxy_requests: site.proxy.as_ref().map(|x| x.resources.requests.described()).unwrap_or_default(),
        steps: steps(plan, site),
        workspace_label: ws.labels.iter().next().map_or(("", ""), |(k, v)| (k.as_str(), v.as_str())),
        workspace_namespace: site.workspaces.first().map_or("", |w| w.namespace.as_str()),
        workspace_memory: mib(site.workspaces.first().map_or(0, |w| w.default_request.memory_mib)),
        helm_ca_flag: plan.network.charts.ca_file.as_ref().map(|f| format!(" --ca-file {f}")).unwrap_or_default(),
        secret_namespaces: if site.network.pull_secret_namespaces.is_empty() && site.network.ca_namespaces.is_empty() {
            Vec::new()
        } else {
            site.proxy.iter().map(|x| x.namespace.as_str()).chain(site.provisioners.iter().map(|g| g.namespace.as_str())).collect()
        },
        env_secrets: env_secrets(plan, site),
        cluster_issuer_file: site.network.ca_issuer.as_ref().map(|i| at(site, &paths::cluster_issuer(&i.name))),
        terraform_cli_config: paths::TERRAFORM_CLI_CONFIG,
        upgrade: upgrade_rows(plan).1.into_iter().find(|u| u.name == site.name),
    }
}

/// `plan_value`: the Plan as a template value, made once for every site
/// (it holds all of them), so the sites' READMEs cost linear time.
pub fn render(plan: &Plan, plan_value: &Value, site: &Site, tree: &mut Tree) {
    let ctx = context! {
        plan => plan_value.clone(),
        site => Value::from(Serde(site)),
        view => Value::from(Serde(view(plan, site))),
    };
    let text = template::render("readme/site/README.md", &ctx);
    tree.insert(at(site, paths::README), header(Comment::Html, &plan.spec_file) + &text);
}
