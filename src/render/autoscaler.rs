//! Plan -> `helm/cluster-autoscaler/values.yaml` (EKS only): the Cluster
//! Autoscaler that scales the workspace node groups, discovering them by the
//! tags Terraform puts on them. Everything it sets is in
//! `plan.cluster_autoscaler`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ResourceRequirements, Toleration};
use serde::Serialize;

use super::{k8s, network, paths, yaml};
use crate::plan::{ChartSource, ClusterAutoscaler, Plan, Pool};
use crate::tree::{Comment, Tree, header};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Values {
    cloud_provider: &'static str,
    aws_region: String,
    auto_discovery: AutoDiscovery,
    image: Image,
    rbac: Rbac,
    extra_args: BTreeMap<&'static str, String>,
    node_selector: BTreeMap<String, String>,
    tolerations: Vec<Toleration>,
    resources: ResourceRequirements,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AutoDiscovery {
    cluster_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Image {
    /// From the registry mirror (`plan.network`); absent: the chart's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    pub tag: String,
    /// Strings: the chart writes `- name: {{ . }}`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pull_secrets: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rbac {
    service_account: ServiceAccount,
}

#[derive(Serialize)]
struct ServiceAccount {
    create: bool,
    name: String,
}

pub fn render(plan: &Plan, tree: &mut Tree) {
    let Some(ca) = &plan.cluster_autoscaler else { return };
    let Some(src) = &plan.network.charts.cluster_autoscaler else { return };
    let path = paths::CLUSTER_AUTOSCALER_VALUES;
    let (repository, pull_secrets) = network::autoscaler_image(plan, plan.network.images.get("cluster-autoscaler"));
    let cluster = Place { region: &plan.region, cluster: &plan.kubernetes.cluster_name, context: "" };
    let text =
        values_file(plan, ca, plan.pool(ca.pool), &cluster, Image { repository, tag: ca.image_tag.clone(), pull_secrets }, src, path);
    tree.insert(path, text);
}

/// Where a Cluster Autoscaler runs: the EKS cluster `cluster` in `region`;
/// `context` goes into the usage comment's commands (a site's
/// `--kube-context`).
pub(super) struct Place<'a> {
    pub region: &'a str,
    pub cluster: &'a str,
    pub context: &'a str,
}

/// The values file of `ca` on `pool` at `place`, pulling `image`, installed
/// from `src`, written at `path`.
pub(super) fn values_file(
    plan: &Plan,
    ca: &ClusterAutoscaler,
    pool: &Pool,
    place: &Place,
    image: Image,
    src: &ChartSource,
    path: &str,
) -> String {
    let values = Values {
        cloud_provider: "aws",
        aws_region: place.region.to_string(),
        auto_discovery: AutoDiscovery { cluster_name: place.cluster.to_string() },
        image,
        rbac: Rbac { service_account: ServiceAccount { create: true, name: ca.service_account.clone() } },
        // One group per zone with the same shape: keep them balanced, and
        // add the node that wastes least.
        extra_args: BTreeMap::from([("balance-similar-node-groups", "true".to_string()), ("expander", "least-waste".to_string())]),
        node_selector: pool.labels.clone(),
        tolerations: k8s::tolerations(pool),
        resources: k8s::resources(ca.resources),
    };
    let context = place.context;
    let usage = format!(
        "# Apply from the tree's root (the IAM role is terraform output cluster_autoscaler_role_arn, bound by EKS Pod Identity):\n{}#   helm upgrade --install cluster-autoscaler {}{context} \\\n#     --namespace {} --version {} -f {path}{}\n",
        network::helm_repo_add_comment(plan, src),
        src.reference,
        ca.namespace,
        ca.chart_version,
        network::helm_ca_flag(plan)
    );
    format!("{}{usage}{}", header(Comment::Hash, &plan.spec_file), yaml::to_yaml(&values))
}
