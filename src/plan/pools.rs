//! One node pool per role: machine, size, disk, labels/taints, max pods, and
//! whether the cloud's networking needs extra setup for that many pods (EKS
//! VPC CNI prefix delegation). The role components (coderd, provisioners,
//! workspaces) decide the counts and call [`pool`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::capacity::{NodeCapacity, Resources};
use super::{Ctx, POOL_LABEL, Reasons, Role, gib};
use crate::catalog::{Machine, MaxPodsRounding};
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
    /// Cloud resource name: `<spec name>-<role>` (a site's: `<spec name>-<site>-<role>`).
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
    /// Sized to need: `pods_per_node` + `headroom_pods` + one pod per system
    /// daemonset, rounded as the cloud's max-pods rule says, within its
    /// limit (and, for workspaces, the seed's 256).
    pub max_pods: u32,
    /// What `max_pods` was sized from (before the cloud's rounding).
    pub max_pods_need: u32,
    /// Extra pod slots beyond our pods and the daemonsets.
    pub headroom_pods: u32,
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
    /// AKS: the temporary pool name a change of `vm_size`, `max_pods` or
    /// `zones` rotates through (azurerm 4.x refuses such a change without
    /// it); `null` elsewhere.
    pub rotation_name: Option<String>,
    pub disk_gb: u32,
    /// Boot disk type in the cloud's spelling (GKE `pd-balanced`, EBS `gp3`,
    /// AKS `Managed`).
    pub disk_type: String,
    /// Machine capacity minus the managed service's reserve: the kubelet's
    /// allocatable.
    pub allocatable: Resources,
    /// Requests of the cloud's system daemonsets on every node (their sum).
    pub daemonsets: Resources,
    /// One row per system daemonset counted in `daemonsets`.
    pub daemonset_list: Vec<DaemonsetRow>,
    /// Kept free on every node on top of the daemonsets.
    pub headroom: Resources,
    /// allocatable - daemonsets - headroom: what our pods may request.
    pub schedulable: Resources,
    /// Our pods on one full node (coderd: 1, provisioners: the seed's 30,
    /// workspaces: the seed's per-node count at the default request).
    pub pods_per_node: u32,
    /// What one of those pods requests.
    pub requested_per_pod: Resources,
    /// pods_per_node x requested_per_pod, plus a shared pod where one runs
    /// there too (EKS: the Cluster Autoscaler on the coderd pool).
    pub requested_per_node: Resources,
    /// The static scheduling check: requested_per_node + daemonsets +
    /// headroom <= allocatable, and pods_per_node + daemonsets <= max_pods.
    /// The plan never ships a pool where this is false.
    pub fits: bool,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub reasons: Reasons,
}

/// A system daemonset as the plan shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DaemonsetRow {
    pub name: String,
    pub cpu_millis: u32,
    pub memory_mib: u32,
    pub source: String,
}

/// A pool's max pods and why.
#[derive(Debug, Clone)]
pub(crate) struct MaxPods {
    pub value: u32,
    pub need: u32,
    pub headroom_pods: u32,
    pub reason: String,
    /// The need exceeded the ceiling (cloud limit or seed), so it was cut.
    pub clamped_from: Option<u32>,
}

/// VPC CNI prefix delegation for the cluster as a whole (EKS): one setting
/// on the `aws-node` daemonset, needed as soon as any pool allows more pods
/// per node than its instance type's ENI default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixDelegation {
    pub needed: bool,
    pub reason: String,
}

/// Whether the cluster needs prefix delegation: the pools' own decisions
/// (`Pool::needs_prefix_delegation`), gathered once for the tree.
pub(crate) fn prefix_delegation(pools: &[Pool]) -> PrefixDelegation {
    let needing: Vec<&str> = pools.iter().filter(|p| p.needs_prefix_delegation).map(|p| p.role.as_str()).collect();
    if needing.is_empty() {
        return PrefixDelegation { needed: false, reason: "no pool allows more pods per node than its instance type's ENI default".into() };
    }
    let which = match needing.as_slice() {
        [one] => format!("the {one} pool allows"),
        many => format!("the {} pools allow", many.join(", ")),
    };
    PrefixDelegation {
        needed: true,
        reason: format!(
            "{which} more pods per node than the instance type's ENI default: VPC CNI prefix delegation (`ENABLE_PREFIX_DELEGATION=true` on `aws-node`) must be on before the node groups start"
        ),
    }
}

/// Max pods sized to need: our pods + `headroom_pods` + one per system
/// daemonset, rounded per the cloud's rule, at most `ceiling` (the cloud's
/// limit, and for workspaces the seed's 256).
pub(crate) fn max_pods(ctx: &Ctx, m: &Machine, pods_per_node: u32, headroom_pods: u32, headroom_why: &str, ceiling: u32) -> MaxPods {
    let rule = &ctx.rules.max_pods;
    // At least 4 spare slots on every pool: a debug pod, a Job, a kube-system
    // Deployment that tolerates the node.
    let (headroom_pods, headroom_why) = if headroom_pods >= 4 {
        (headroom_pods, headroom_why.to_string())
    } else {
        (4, format!("{headroom_why}, at least 4: debug pods, Jobs"))
    };
    let ds = u32::try_from(ctx.rules.daemonsets.len()).unwrap_or(u32::MAX);
    let need = pods_per_node + headroom_pods + ds;
    let ceiling = ceiling.min(ctx.rules.max_pods_limit);
    let rounded = match rule.value {
        MaxPodsRounding::PowerOfTwo => need.max(rule.min).next_power_of_two(),
        MaxPodsRounding::Exact => need.max(rule.min),
        MaxPodsRounding::EniDefault => match m.eni_max_pods {
            Some(eni) if need <= eni => eni,
            _ => need.max(rule.min),
        },
    };
    let value = rounded.min(ceiling);
    let base = format!("{pods_per_node} pods of ours + {headroom_pods} spare ({headroom_why}) + {ds} system daemonsets = {need}");
    let reason = if need > ceiling {
        format!("{base}, cut to the ceiling of {ceiling} ({})", ctx.rules.max_pods_source)
    } else if value == need {
        format!("{base}; {}", rule.reason)
    } else {
        format!("{base}, {value} on {}: {}", ctx.rules.service, rule.reason)
    };
    MaxPods { value, need, headroom_pods, reason, clamped_from: (need > ceiling).then_some(need) }
}

/// The pool for `role`; the caller adds the reasons for its node counts.
/// `pods_per_node` pods of `per_pod` each are checked against the node.
#[allow(clippy::too_many_arguments)]
#[allow(clippy::too_many_lines)] // one field after another, each with its reason
pub(crate) fn pool(
    ctx: &Ctx,
    role: Role,
    m: &Machine,
    cap: &NodeCapacity,
    min: u32,
    max: u32,
    mp: &MaxPods,
    pods_per_node: u32,
    per_pod: Resources,
    shared: Option<(&str, Resources)>,
) -> Pool {
    let max_pods = mp.value;
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
        "allocatable",
        format!(
            "{} node: {}m CPU / {} MiB, minus {} reserve {}m / {} MiB (memory reserve counted for {} pods; eviction threshold {} MiB included; {})",
            m.name,
            cap.total.cpu_millis,
            cap.total.memory_mib,
            rules.service,
            cap.reserved.cpu_millis,
            cap.reserved.memory_mib,
            cap.reserve_pods,
            rules.eviction_mib,
            rules.source,
        ),
    );
    let ds_names = rules.daemonsets.iter().map(|d| format!("{} {}m / {} MiB", d.name, d.cpu_millis, d.memory_mib)).collect::<Vec<_>>();
    reasons.insert(
        "daemonsets",
        format!(
            "{} system daemonsets on every {} node: {} (sources in daemonset_list)",
            ds_names.len(),
            rules.service,
            ds_names.join(", ")
        ),
    );
    reasons.insert("headroom", format!("{}m + {} MiB: {}", cap.headroom.cpu_millis, cap.headroom.memory_mib, rules.headroom.reason));
    reasons.insert(
        "schedulable",
        format!(
            "allocatable {}m / {} MiB - daemonsets {}m / {} MiB - headroom {}m / {} MiB",
            cap.allocatable.cpu_millis,
            cap.allocatable.memory_mib,
            cap.daemonsets.cpu_millis,
            cap.daemonsets.memory_mib,
            cap.headroom.cpu_millis,
            cap.headroom.memory_mib
        ),
    );
    reasons.insert("max_pods", mp.reason.clone());
    reasons.insert("max_pods_need", mp.reason.clone());
    reasons.insert("headroom_pods", mp.reason.clone());
    reasons.insert("daemonset_list", format!("the {} daemonsets of catalog/clouds.yaml, each row with its source", rules.service));
    reasons.insert("pods_per_node", format!("{pods_per_node} {} pod(s) on a full node (the role's per-node count)", role.as_str()));
    reasons.insert("requested_per_pod", format!("the {} pod's requests (see its own reasons)", role.as_str()));
    reasons.insert(
        "requested_per_node",
        match shared {
            Some((name, r)) => {
                format!("{pods_per_node} x requested_per_pod + {name} {}m / {} MiB on the same node", r.cpu_millis, r.memory_mib)
            }
            None => format!("{pods_per_node} x requested_per_pod"),
        },
    );
    let requested_per_node = per_pod.times(pods_per_node).plus(shared.map_or(Resources { cpu_millis: 0, memory_mib: 0 }, |(_, r)| r));
    let used = requested_per_node.plus(cap.daemonsets).plus(cap.headroom);
    let pod_slots = pods_per_node + u32::from(shared.is_some()) + cap.daemonset_pods;
    let fits = used.within(cap.allocatable) && pod_slots <= max_pods && per_pod.cpu_millis > 0 && per_pod.memory_mib > 0;
    reasons.insert(
        "fits",
        format!(
            "{pods_per_node} x {}m / {} MiB{} = {}m / {} MiB, + daemonsets + headroom = {}m / {} MiB {} allocatable {}m / {} MiB; {pod_slots} pods {} max pods {max_pods}",
            per_pod.cpu_millis,
            per_pod.memory_mib,
            shared.map_or(String::new(), |(n, _)| format!(" + {n}")),
            requested_per_node.cpu_millis,
            requested_per_node.memory_mib,
            used.cpu_millis,
            used.memory_mib,
            if used.within(cap.allocatable) { "<=" } else { ">" },
            cap.allocatable.cpu_millis,
            cap.allocatable.memory_mib,
            if pod_slots <= max_pods { "<=" } else { ">" },
        ),
    );
    reasons.insert("disk_gb", rules.node_disk.size_reason.clone());
    reasons.insert("disk_type", rules.node_disk.type_reason.clone());
    let default_max_pods = if ctx.node_cloud == Some(Cloud::Aws) { m.eni_max_pods } else { None };
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
    // AKS pool names are at most 12 lowercase letters and digits.
    let rotation_name = (ctx.node_cloud == Some(Cloud::Azure)).then(|| format!("{}rot", &role.as_str()[..role.as_str().len().min(9)]));
    reasons.insert(
        "rotation_name",
        match &rotation_name {
            Some(n) => format!("a tier change alters vm_size or max_pods, which AKS applies by rotating the pool through a temporary pool `{n}` (azurerm temporary_name_for_rotation; nodes are replaced without cordon and drain)"),
            None => format!("{} changes pools without a temporary pool", rules.service),
        },
    );
    Pool {
        role,
        name: format!("{}-{}", ctx.pool_prefix, role.as_str()),
        machine_type: m.name.clone(),
        vcpu: m.vcpu,
        memory_gib: gib(m.memory_mib),
        memory_mib: m.memory_mib,
        burstable: m.burstable,
        min_nodes: min,
        max_nodes: max,
        autoscaling: min != max,
        max_pods,
        max_pods_need: mp.need,
        headroom_pods: mp.headroom_pods,
        default_max_pods,
        override_max_pods,
        needs_prefix_delegation,
        rotation_name,
        disk_gb: rules.node_disk.size_gb,
        disk_type: rules.node_disk.disk_type.clone(),
        allocatable: cap.allocatable,
        daemonsets: cap.daemonsets,
        daemonset_list: rules
            .daemonsets
            .iter()
            .map(|d| DaemonsetRow { name: d.name.clone(), cpu_millis: d.cpu_millis, memory_mib: d.memory_mib, source: d.source.clone() })
            .collect(),
        headroom: cap.headroom,
        schedulable: cap.schedulable,
        pods_per_node,
        requested_per_pod: per_pod,
        requested_per_node,
        fits,
        labels,
        taints,
        reasons,
    }
}
