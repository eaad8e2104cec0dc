//! Each site's tree, `sites/<name>/`, in the primary's layout: Terraform
//! node pools (cloud sites), the proxy's and the provisioners' Helm values,
//! Kustomize overlays, the proxy's certificate, the EKS Cluster Autoscaler,
//! the verification Job and the site's README. Built with the primary's own
//! builders (`helm::coder_values`, `helm::provisioner_values`, the Kustomize
//! objects, the Terraform templates, `entry::certificate`, the verify Job),
//! so a setting added there reaches the sites too. GitOps objects are
//! `gitops.rs`'s, SIZING.md's site sections `sizing.rs`'s.

mod kustomize;
mod readme;

use k8s_openapi::api::core::v1::ServiceAccount;
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;

use super::helm::{CoderRelease, GroupPlace, coder_values, provisioner_values};
use super::k8s::meta;
use super::kustomize::{BASE_DEFAULT_DENY, Kustomization, namespace_at};
use super::verify::{Step, coder_env, create_workspaces, job};
use super::{autoscaler, entry, network, paths, template, yaml};
use crate::plan::{ClusterAutoscaler, KubernetesTarget, Plan, Pool, Role, Site};
use crate::tree::{Comment, Tree, header};

/// A path inside a site's tree.
fn at(site: &Site, rel: &str) -> String {
    format!("{}/{rel}", paths::site_dir(&site.name))
}

pub fn render(plan: &Plan, tree: &mut Tree) {
    if plan.sites.is_empty() {
        return;
    }
    let plan_value = Value::from(Serde(plan));
    for site in &plan.sites {
        helm(plan, site, tree);
        kustomize::render(plan, site, tree);
        for c in site.proxy.iter().flat_map(|x| &x.certificates) {
            tree.insert(at(site, &paths::certificate(&c.secret)), entry::certificate(plan, c));
        }
        terraform(plan, site, tree);
        if let (Some(ca), Some(src)) = (&site.cluster_autoscaler, &site.network.cluster_autoscaler_chart) {
            let path = at(site, paths::CLUSTER_AUTOSCALER_VALUES);
            let region = site.region.clone().unwrap_or_default();
            let place = autoscaler::Place { region: &region, cluster: &site.kubernetes.cluster_name, context: SITE_CONTEXT };
            let (repository, pull_secrets) = network::autoscaler_image(plan, site.network.images.get("cluster-autoscaler"));
            let image = autoscaler::Image { repository, tag: ca.image_tag.clone(), pull_secrets };
            let text = autoscaler::values_file(plan, ca, site.pool(ca.pool), &place, image, src, &path);
            tree.insert(path, text);
        }
        // A ClusterIssuer is per cluster: the site's own for its proxy.
        if let Some(issuer) = &site.network.ca_issuer {
            tree.insert(at(site, &paths::cluster_issuer(&issuer.name)), network::cluster_issuer(plan, issuer));
        }
        verify(plan, site, tree);
        readme::render(plan, &plan_value, site, tree);
    }
}

/// The helm flag every site command carries (`$SITE_CONTEXT`: the site
/// README's first step sets it).
const SITE_CONTEXT: &str = " --kube-context \"$SITE_CONTEXT\"";

/// `# ` lines after the header: how a site's values file is applied (from
/// the tree's root, into the site's cluster), with the chart's reference
/// from `plan.network.charts` (a repository or a mirror).
fn usage(plan: &Plan, release: &str, reference: &str, namespace: &str, path: &str) -> String {
    // The CA flag on a line of its own: the site's paths are long.
    let ca = network::helm_ca_flag(plan);
    let ca = if ca.is_empty() { ca } else { format!(" \\\n#    {ca}") };
    format!(
        "# Apply from the tree's root, into the site's cluster:\n#   helm upgrade --install {release} {reference}{SITE_CONTEXT} \\\n#     --namespace {namespace} --version {} -f {path}{ca}\n",
        plan.chart.version
    )
}

fn helm(plan: &Plan, site: &Site, tree: &mut Tree) {
    if let Some(x) = &site.proxy {
        let path = at(site, paths::CODER_VALUES);
        let comment = format!(
            "{}# The session token comes from `coder wsproxy create` (the site's README), never from this file.\n",
            usage(plan, &x.release, &plan.network.charts.coder.reference, &x.namespace, &path)
        );
        let values = yaml::to_yaml(&coder_values(plan, CoderRelease::Proxy(site, x)));
        tree.insert(path, format!("{}{comment}{values}", header(Comment::Hash, &plan.spec_file)));
    }
    let pool = site.pool(Role::Provisioner);
    for g in &site.provisioners {
        let path = at(site, &paths::provisioner_values(&g.namespace));
        let mut comment = usage(plan, &g.release, &plan.network.charts.provisioner.reference, &g.namespace, &path);
        // The chart refuses `provisionerDaemon.tags` next to a key: the
        // tags are bound to the key when it is created.
        let tags: Vec<String> = g.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        comment.push_str(&format!("# Provisioner tags {} are bound to the key in secret {}.\n", tags.join(","), g.key_secret.name));
        let place = GroupPlace {
            pool,
            coder_url: &plan.access_url,
            metrics: site.observability.enabled,
            network_env: network::env_vars(&site.network.provisioner_env),
        };
        let values = yaml::to_yaml(&provisioner_values(plan, g, place));
        tree.insert(path, format!("{}{comment}{values}", header(Comment::Hash, &plan.spec_file)));
    }
}

/// What the Terraform templates read of a site: the fields of the Plan they
/// use, with the site's values (its region, pools, autoscaler, cluster).
#[derive(Serialize)]
struct SiteTerraform<'a> {
    name: &'a str,
    site: &'a str,
    region: &'a str,
    kubernetes: &'a KubernetesTarget,
    pools: &'a [Pool],
    cluster_autoscaler: Option<&'a ClusterAutoscaler>,
}

/// The site's files: the primary's `versions.tf` and `node_pools.tf`
/// templates, and site variables and outputs (no database).
pub const TERRAFORM_FILES: &[(&str, &str)] = &[
    ("versions.tf", "versions.tf"),
    ("variables.tf", "site_variables.tf"),
    ("node_pools.tf", "node_pools.tf"),
    ("outputs.tf", "site_outputs.tf"),
];

fn terraform(plan: &Plan, site: &Site, tree: &mut Tree) {
    let Some(cloud) = site.cloud.cloud() else { return };
    let view = SiteTerraform {
        name: &plan.name,
        site: &site.name,
        region: site.region.as_deref().unwrap_or_default(),
        kubernetes: &site.kubernetes,
        pools: &site.pools,
        cluster_autoscaler: site.cluster_autoscaler.as_ref(),
    };
    let ctx = context! { plan => Value::from(Serde(&view)), header => header(Comment::Hash, &plan.spec_file) };
    let dir = at(site, &paths::terraform_dir(cloud));
    for (file, tpl) in TERRAFORM_FILES {
        tree.insert(format!("{dir}/{file}"), template::render(&format!("terraform/{cloud}/{tpl}"), &ctx));
    }
}

/// `verify/`: the namespace, its service account, and the Job that creates
/// the site's scaletest workspaces through the primary's API (the primary's
/// own verify/ then runs traffic, dashboards, the judge and the cleanup for
/// every workspace).
fn verify(plan: &Plan, site: &Site, tree: &mut Tree) {
    let v = &site.verify;
    let root = at(site, paths::VERIFY_ROOT);
    let sa = ServiceAccount {
        metadata: meta(&v.service_account, Some(&v.namespace)),
        automount_service_account_token: Some(false),
        // The Job's pod names no pull secret: Kubernetes adds the service
        // account's.
        image_pull_secrets: network::pull_secrets(plan),
        ..ServiceAccount::default()
    };
    let base = format!("../{}/{BASE_DEFAULT_DENY}", paths::KUSTOMIZE_ROOT);
    tree.insert(
        format!("{root}/kustomization.yaml"),
        yaml::document(
            &plan.spec_file,
            &Kustomization::new(Some(&v.namespace), vec![base, "namespace.yaml".into(), "serviceaccount.yaml".into()]),
        ),
    );
    tree.insert(
        format!("{root}/namespace.yaml"),
        yaml::document(&plan.spec_file, &namespace_at(&site.kubernetes.version, &v.namespace, "restricted")),
    );
    tree.insert(format!("{root}/serviceaccount.yaml"), yaml::document(&plan.spec_file, &sa));
    let command = create_workspaces(v.workspaces, &v.template, v.concurrency);
    let step = Step::coder("create-workspaces", &v.image, command, coder_env(&v.coder_url, &v.token_secret), 1000, 2048, 6 * 3600);
    let dir = format!("{root}/create-workspaces");
    tree.insert(
        format!("{dir}/kustomization.yaml"),
        yaml::document(&plan.spec_file, &Kustomization::new(Some(&v.namespace), vec!["job.yaml".into()])),
    );
    tree.insert(format!("{dir}/job.yaml"), yaml::document(&plan.spec_file, &job(plan, &v.namespace, &v.service_account, step)));
}

#[cfg(test)]
mod tests;
