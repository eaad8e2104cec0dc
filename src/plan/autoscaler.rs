//! The node autoscaler the tree installs itself: on EKS nothing scales a
//! managed node group by itself, so the tree deploys the Kubernetes Cluster
//! Autoscaler (Helm values, IAM via EKS Pod Identity in Terraform). GKE and
//! AKS autoscale their pools natively: `null` there.

use serde::Serialize;

use super::{Ctx, PodResources, Reasons, Resources, Role};
use crate::cloud::Cloud;

#[derive(Debug, Clone, Serialize)]
pub struct ClusterAutoscaler {
    pub chart_repository: String,
    pub chart: String,
    pub chart_version: String,
    /// The autoscaler's image tag: its minor follows the cluster's.
    pub image_tag: String,
    pub namespace: String,
    pub service_account: String,
    /// The Terraform IAM role (EKS Pod Identity) it runs as.
    pub iam_role_name: String,
    /// The pool it runs on: a fixed pool, so it never scales away its own node.
    pub pool: Role,
    pub resources: PodResources,
    pub reasons: Reasons,
}

/// `Some` on clouds whose node groups need an autoscaler installed.
pub(crate) fn plan(ctx: &Ctx) -> Option<ClusterAutoscaler> {
    for_cluster(ctx.cloud, &ctx.spec.kubernetes.version, &ctx.spec.name, Role::Coderd, "coderd")
}

/// The autoscaler of one EKS cluster (the primary's or a site's): the
/// cluster's Kubernetes version, the prefix of its IAM role's name, and the
/// fixed pool it runs on, whose `sized` pods get what the autoscaler leaves.
pub(crate) fn for_cluster(cloud: Cloud, k8s: &str, prefix: &str, pool: Role, sized: &str) -> Option<ClusterAutoscaler> {
    if cloud != Cloud::Aws {
        return None;
    }
    let image_tag = format!("v{k8s}.0");
    let requests = Resources { cpu_millis: 100, memory_mib: 600 };
    let mut r = Reasons::new();
    r.insert("chart_version", "a pinned autoscaler/cluster-autoscaler chart version; the image tag below follows the cluster".into());
    r.insert("image_tag", format!("the Cluster Autoscaler's minor version must match Kubernetes' ({k8s})"));
    r.insert(
        "pool",
        format!(
            "the {} pool: fixed size, so the autoscaler never scales down the node it runs on; its requests are subtracted before {sized} is sized",
            pool.as_str()
        ),
    );
    r.insert("resources", "100m / 600Mi requests, memory limit = request: enough for a few hundred nodes' state".into());
    r.insert(
        "iam_role_name",
        "EKS Pod Identity role with the autoscaling and EC2 read permissions Cluster Autoscaler documents for auto-discovery (terraform/aws/autoscaler.tf)".into(),
    );
    Some(ClusterAutoscaler {
        chart_repository: "https://kubernetes.github.io/autoscaler".into(),
        chart: "cluster-autoscaler".into(),
        chart_version: "9.46.6".into(),
        image_tag,
        namespace: "kube-system".into(),
        service_account: "cluster-autoscaler".into(),
        iam_role_name: format!("{prefix}-cluster-autoscaler"),
        pool,
        resources: PodResources { requests, limits: Resources { cpu_millis: 1000, memory_mib: requests.memory_mib } },
        reasons: r,
    })
}
