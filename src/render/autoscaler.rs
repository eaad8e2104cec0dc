//! Plan -> `helm/cluster-autoscaler/values.yaml` (EKS only): the Cluster
//! Autoscaler that scales the workspace node groups, discovering them by the
//! tags Terraform puts on them. Everything it sets is in
//! `plan.cluster_autoscaler`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ResourceRequirements, Toleration};
use serde::Serialize;

use super::{k8s, paths, yaml};
use crate::plan::{ClusterAutoscaler, Plan, Pool};
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
struct Image {
    tag: String,
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
    let path = paths::CLUSTER_AUTOSCALER_VALUES;
    let text = values_file(plan, ca, plan.pool(ca.pool), &plan.region, &plan.kubernetes.cluster_name, path, "");
    tree.insert(path, text);
}

/// The values file of `ca` for the EKS cluster `cluster` in `region`,
/// running on `pool`, written at `path`; `context` goes into the usage
/// comment's commands (a site's `--kube-context`).
pub(super) fn values_file(
    plan: &Plan,
    ca: &ClusterAutoscaler,
    pool: &Pool,
    region: &str,
    cluster: &str,
    path: &str,
    context: &str,
) -> String {
    let values = Values {
        cloud_provider: "aws",
        aws_region: region.to_string(),
        auto_discovery: AutoDiscovery { cluster_name: cluster.to_string() },
        image: Image { tag: ca.image_tag.clone() },
        rbac: Rbac { service_account: ServiceAccount { create: true, name: ca.service_account.clone() } },
        // One group per zone with the same shape: keep them balanced, and
        // add the node that wastes least.
        extra_args: BTreeMap::from([("balance-similar-node-groups", "true".to_string()), ("expander", "least-waste".to_string())]),
        node_selector: pool.labels.clone(),
        tolerations: k8s::tolerations(pool),
        resources: k8s::resources(ca.resources),
    };
    let usage = format!(
        "# Apply from the tree's root (the IAM role is terraform output cluster_autoscaler_role_arn, bound by EKS Pod Identity):\n#   helm repo add autoscaler {}\n#   helm upgrade --install cluster-autoscaler autoscaler/{}{context} \\\n#     --namespace {} --version {} -f {path}\n",
        ca.chart_repository, ca.chart, ca.namespace, ca.chart_version
    );
    format!("{}{usage}{}", header(Comment::Hash, &plan.spec_file), yaml::to_yaml(&values))
}
