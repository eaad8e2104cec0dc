//! Plan -> `helm/cluster-autoscaler/values.yaml` (EKS only): the Cluster
//! Autoscaler that scales the workspace node groups, discovering them by the
//! tags Terraform puts on them. Everything it sets is in
//! `plan.cluster_autoscaler`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ResourceRequirements, Toleration};
use serde::Serialize;

use super::{k8s, network, paths, yaml};
use crate::plan::Plan;
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
struct Image {
    /// From the registry mirror (`plan.network`); absent: the chart's.
    #[serde(skip_serializing_if = "Option::is_none")]
    repository: Option<String>,
    tag: String,
    /// Strings: the chart writes `- name: {{ . }}`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pull_secrets: Vec<String>,
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
    let pool = plan.pool(ca.pool);
    let (repository, pull_secrets) = network::autoscaler_image(plan);
    let values = Values {
        cloud_provider: "aws",
        aws_region: plan.region.clone(),
        auto_discovery: AutoDiscovery { cluster_name: plan.kubernetes.cluster_name.clone() },
        image: Image { repository, tag: ca.image_tag.clone(), pull_secrets },
        rbac: Rbac { service_account: ServiceAccount { create: true, name: ca.service_account.clone() } },
        // One group per zone with the same shape: keep them balanced, and
        // add the node that wastes least.
        extra_args: BTreeMap::from([("balance-similar-node-groups", "true".to_string()), ("expander", "least-waste".to_string())]),
        node_selector: pool.labels.clone(),
        tolerations: k8s::tolerations(pool),
        resources: k8s::resources(ca.resources),
    };
    let path = paths::CLUSTER_AUTOSCALER_VALUES;
    let Some(src) = &plan.network.charts.cluster_autoscaler else { return };
    let usage = format!(
        "# Apply from the tree's root (the IAM role is terraform output cluster_autoscaler_role_arn, bound by EKS Pod Identity):\n{}#   helm upgrade --install cluster-autoscaler {} \\\n#     --namespace {} --version {} -f {path}{}\n",
        network::helm_repo_add_comment(plan, src),
        src.reference,
        ca.namespace,
        ca.chart_version,
        network::helm_ca_flag(plan)
    );
    tree.insert(path, format!("{}{usage}{}", header(Comment::Hash, &plan.spec_file), yaml::to_yaml(&values)));
}
