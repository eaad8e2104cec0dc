//! One node pool per role: machine, size, disk, labels/taints, max pods, and
//! whether the cloud's networking needs extra setup for that many pods (EKS
//! VPC CNI prefix delegation). The role components (coderd, provisioners,
//! workspaces) decide the counts and call [`pool`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::capacity::{NodeCapacity, Resources};
use super::{Ctx, POOL_LABEL, Reasons, Role, gib};
use crate::catalog::Machine;
use crate::cloud::Cloud;

/// Kubernetes taint effects, serialized in Kubernetes' spelling
/// (`NoSchedule`); renderers convert per cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

impl std::fmt::Display for TaintEffect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: TaintEffect,
}

/// One node pool (Terraform) and the scheduling contract for its pods.
#[derive(Debug, Clone, Serialize)]
pub struct Pool {
    pub role: Role,
    /// Cloud resource name: `<spec name>-<role>`.
    pub name: String,
    pub machine_type: String,
    pub vcpu: u32,
    pub memory_gib: f64,
    pub memory_mib: u32,
    pub burstable: bool,
    /// Fixed pools have min = max.
    pub min_nodes: u32,
    pub max_nodes: u32,
    pub autoscaling: bool,
    pub max_pods: u32,
    /// The pod limit the cloud gives this machine type when none is set
    /// (EKS: the VPC CNI's ENI table); `null` where max pods is a pool
    /// setting (GKE, AKS).
    pub default_max_pods: Option<u32>,
    /// `default_max_pods` differs from `max_pods`, so the node's kubelet is
    /// given `max_pods` explicitly (EKS launch template).
    pub override_max_pods: bool,
    /// `max_pods` exceeds what the cloud's networking gives the node by
    /// default: on EKS that needs VPC CNI prefix delegation
    /// (`ENABLE_PREFIX_DELEGATION=true` on `aws-node`) before nodes start.
    pub needs_prefix_delegation: bool,
    pub disk_gb: u32,
    /// Boot disk type in the cloud's spelling (GKE `pd-balanced`, EBS `gp3`,
    /// AKS `Managed`).
    pub disk_type: String,
    /// What one node offers our pods after system reserve and daemonsets.
    pub schedulable: Resources,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub reasons: Reasons,
}

/// The pool for `role`; the caller adds the reasons for its node counts and
/// max pods.
pub(crate) fn pool(ctx: &Ctx, role: Role, m: &Machine, cap: &NodeCapacity, min: u32, max: u32, max_pods: u32) -> Pool {
    let mut labels = BTreeMap::new();
    labels.insert(POOL_LABEL.to_string(), role.as_str().to_string());
    // Workspace nodes are not tainted: Coder's Kubernetes templates carry no
    // tolerations, and a taint would leave every workspace Pending. They are
    // selected by label instead (the tree's README shows the snippet).
    let taints = if role == Role::Workspace {
        Vec::new()
    } else {
        vec![Taint { key: POOL_LABEL.into(), value: role.as_str().into(), effect: TaintEffect::NoSchedule }]
    };
    let rules = ctx.rules;
    let mut reasons = Reasons::new();
    reasons.insert("vcpu", format!("{} has {} vCPU", m.name, m.vcpu));
    reasons.insert("memory_gib", format!("{} has {} MiB", m.name, m.memory_mib));
    reasons.insert("memory_mib", format!("{} has {} MiB", m.name, m.memory_mib));
    reasons.insert(
        "schedulable",
        format!(
            "{} node: {}m CPU / {} MiB, minus {} reserve {}m / {} MiB ({}), minus daemonsets {}m / {} MiB",
            m.name,
            cap.total.cpu_millis,
            cap.total.memory_mib,
            rules.service,
            cap.reserved.cpu_millis,
            cap.reserved.memory_mib,
            rules.source,
            cap.daemonsets.cpu_millis,
            cap.daemonsets.memory_mib
        ),
    );
    reasons.insert("disk_gb", rules.node_disk.size_reason.clone());
    reasons.insert("disk_type", rules.node_disk.type_reason.clone());
    let default_max_pods = if ctx.cloud == Cloud::Aws { m.eni_max_pods } else { None };
    reasons.insert(
        "default_max_pods",
        match default_max_pods {
            Some(n) => format!("{}: {n} pods per node from the VPC CNI's ENI table (awslabs/amazon-eks-ami eni-max-pods.txt)", m.name),
            None => format!("{} takes max pods as a pool setting", rules.service),
        },
    );
    let override_max_pods = default_max_pods.is_some_and(|d| d != max_pods);
    reasons.insert(
        "override_max_pods",
        match default_max_pods {
            Some(d) if override_max_pods => {
                format!("the node's default of {d} pods differs from the planned {max_pods}: the kubelet is told {max_pods}")
            }
            Some(_) => "the node's default already equals max_pods".into(),
            None => format!("{} sets max pods on the pool itself", rules.service),
        },
    );
    let needs_prefix_delegation = default_max_pods.is_some_and(|d| max_pods > d);
    reasons.insert(
        "needs_prefix_delegation",
        match default_max_pods {
            Some(d) if needs_prefix_delegation => format!(
                "{max_pods} pods per node exceed the {d} the ENI table gives {}: pods beyond the ENI's addresses start only with VPC CNI prefix delegation",
                m.name
            ),
            Some(d) => format!("{max_pods} pods per node fit within the {d} the ENI table gives {}", m.name),
            None => format!("{} assigns pod addresses per pool setting; nothing extra to enable", rules.service),
        },
    );
    Pool {
        role,
        name: format!("{}-{}", ctx.spec.name, role.as_str()),
        machine_type: m.name.clone(),
        vcpu: m.vcpu,
        memory_gib: gib(m.memory_mib),
        memory_mib: m.memory_mib,
        burstable: m.burstable,
        min_nodes: min,
        max_nodes: max,
        autoscaling: min != max,
        max_pods,
        default_max_pods,
        override_max_pods,
        needs_prefix_delegation,
        disk_gb: rules.node_disk.size_gb,
        disk_type: rules.node_disk.disk_type.clone(),
        schedulable: cap.schedulable,
        labels,
        taints,
        reasons,
    }
}
