//! What of a node is left for our pods: the machine's capacity, minus the
//! managed service's system reserve (kube-reserved + eviction threshold:
//! what is left is the kubelet's allocatable), minus the system daemonsets
//! that run on that cloud's nodes, minus a stated headroom. The rules are
//! catalog data per cloud (`catalog/clouds.yaml`).

use serde::Serialize;

use crate::catalog::{CloudRules, Machine, ReservePods, ReserveRule};

/// CPU in millicores and memory in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Resources {
    pub cpu_millis: u32,
    pub memory_mib: u32,
}

impl Resources {
    /// `500m CPU / 1536Mi`: how the tree's README spells an amount.
    pub fn described(self) -> String {
        format!("{}m CPU / {}", self.cpu_millis, mib(self.memory_mib))
    }
    pub fn plus(self, o: Resources) -> Resources {
        Resources { cpu_millis: self.cpu_millis + o.cpu_millis, memory_mib: self.memory_mib + o.memory_mib }
    }

    pub fn times(self, n: u32) -> Resources {
        Resources { cpu_millis: self.cpu_millis * n, memory_mib: self.memory_mib * n }
    }

    pub fn saturating_sub(self, o: Resources) -> Resources {
        Resources { cpu_millis: self.cpu_millis.saturating_sub(o.cpu_millis), memory_mib: self.memory_mib.saturating_sub(o.memory_mib) }
    }

    /// Both CPU and memory of `self` are at most those of `o`.
    pub fn within(self, o: Resources) -> bool {
        self.cpu_millis <= o.cpu_millis && self.memory_mib <= o.memory_mib
    }
}

/// `1536Mi`-style, or whole `Gi` when exact: the same spelling in the plan
/// text and the tree.
pub fn mib(m: u32) -> String {
    if m.is_multiple_of(1024) { format!("{}Gi", m / 1024) } else { format!("{m}Mi") }
}

/// The breakdown, so the plan can explain its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeCapacity {
    pub total: Resources,
    pub reserved: Resources,
    /// The max pods the memory reserve was computed from.
    pub reserve_pods: u32,
    /// total - reserved: the kubelet's allocatable.
    pub allocatable: Resources,
    /// Sum of the cloud's system daemonsets' requests.
    pub daemonsets: Resources,
    pub daemonset_pods: u32,
    pub headroom: Resources,
    /// allocatable - daemonsets - headroom: what our pods may request.
    pub schedulable: Resources,
}

fn tiered(tiers: &[(f64, f64)], amount: f64, percent: bool) -> f64 {
    let mut left = amount;
    let mut total = 0.0;
    for &(band, rate) in tiers {
        if left <= 0.0 {
            break;
        }
        let used = left.min(band);
        total += if percent { used * rate / 100.0 } else { used * rate };
        left -= used;
    }
    total
}

/// Rounded up: under-estimating a reserve overcommits the node. The values
/// are small and positive, so the cast cannot truncate.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn ceil_u32(v: f64) -> u32 {
    v.ceil().max(0.0) as u32
}

fn reserve(rule: &ReserveRule, amount: f64, pods: u32, percent: bool) -> u32 {
    let v = match rule {
        ReserveRule::Tiered { tiers } => tiered(tiers, amount, percent),
        ReserveRule::PerPod { per_pod_mib, base_mib, cap_percent, .. } => {
            let linear = f64::from(*per_pod_mib) * f64::from(pods) + f64::from(*base_mib);
            cap_percent.map_or(linear, |c| linear.min(amount * c / 100.0))
        }
    };
    ceil_u32(v)
}

/// The max pods the service computes its memory reserve from.
pub fn reserve_pods(rules: &CloudRules, machine: &Machine, max_pods: u32) -> u32 {
    match &rules.memory_reserve {
        ReserveRule::PerPod { pods: ReservePods::EniDefault, .. } => machine.eni_max_pods.unwrap_or(max_pods),
        _ => max_pods,
    }
}

/// Capacity of one node of `machine` with `max_pods` under `rules`.
pub fn node_capacity(rules: &CloudRules, machine: &Machine, max_pods: u32) -> NodeCapacity {
    let total = Resources { cpu_millis: machine.vcpu * 1000, memory_mib: machine.memory_mib };
    let reserve_pods = reserve_pods(rules, machine, max_pods);
    let reserved = Resources {
        cpu_millis: reserve(&rules.cpu_reserve, f64::from(machine.vcpu), reserve_pods, false),
        memory_mib: reserve(&rules.memory_reserve, f64::from(machine.memory_mib), reserve_pods, true) + rules.eviction_mib,
    };
    let allocatable = total.saturating_sub(reserved);
    let daemonsets = rules
        .daemonsets
        .iter()
        .fold(Resources { cpu_millis: 0, memory_mib: 0 }, |a, d| a.plus(Resources { cpu_millis: d.cpu_millis, memory_mib: d.memory_mib }));
    let h = &rules.headroom;
    let headroom = Resources {
        cpu_millis: h.cpu_millis,
        memory_mib: h.memory_mib + ceil_u32(f64::from(machine.memory_mib) * h.memory_percent / 100.0),
    };
    let schedulable = allocatable.saturating_sub(daemonsets).saturating_sub(headroom);
    let daemonset_pods = u32::try_from(rules.daemonsets.len()).unwrap_or(u32::MAX);
    NodeCapacity { total, reserved, reserve_pods, allocatable, daemonsets, daemonset_pods, headroom, schedulable }
}

/// Round down to a multiple of `step` (requests must never exceed capacity).
pub fn floor_to(v: u32, step: u32) -> u32 {
    v / step * step
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::cloud::Cloud;

    #[test]
    fn gke_reserve_matches_published_table() {
        // GKE: 8 vCPU -> 60+10+2*5+4*2.5 = 90m; 32 GiB -> 25% of 4 + 20% of 4
        // + 10% of 8 + 6% of 16 GiB = 3645.44 MiB, + 100 MiB eviction.
        let c = Catalog::embedded();
        let m = c.machine(Cloud::Gcp, "t2d-standard-8").unwrap();
        let cap = node_capacity(c.cloud(Cloud::Gcp), m, 110);
        assert_eq!(cap.reserved, Resources { cpu_millis: 90, memory_mib: 3646 + 100 });
        assert_eq!(cap.allocatable.cpu_millis, 8000 - 90);
        let ds: u32 = c.cloud(Cloud::Gcp).daemonsets.iter().map(|d| d.cpu_millis).sum();
        assert_eq!(cap.schedulable.cpu_millis, 8000 - 90 - ds - 100);
        // 2% of 32768 MiB = 655.36 -> 656, + 256.
        assert_eq!(cap.headroom.memory_mib, 656 + 256);
    }

    #[test]
    fn eks_memory_reserve_follows_the_eni_table_not_the_kubelet_max_pods() {
        // nodeadm computes kube-reserved from the ENI max pods (58 on
        // t3.2xlarge) even when the kubelet is given maxPods 110.
        let c = Catalog::embedded();
        let m = c.machine(Cloud::Aws, "t3.2xlarge").unwrap();
        let cap = node_capacity(c.cloud(Cloud::Aws), m, 110);
        assert_eq!(cap.reserve_pods, 58);
        assert_eq!(cap.reserved.memory_mib, 11 * 58 + 255 + 100);
    }

    #[test]
    fn aks_memory_reserve_is_capped_at_a_quarter_of_memory() {
        let c = Catalog::embedded();
        let rules = c.cloud(Cloud::Azure);
        let d8 = c.machine(Cloud::Azure, "Standard_D8s_v3").unwrap();
        assert_eq!(node_capacity(rules, d8, 30).reserved.memory_mib, 20 * 30 + 50 + 100);
        // D2s_v3 (8 GiB) at 250 pods: 5050 MiB > 25% = 2048 MiB.
        let d2 = c.machine(Cloud::Azure, "Standard_D2s_v3").unwrap();
        assert_eq!(node_capacity(rules, d2, 250).reserved.memory_mib, 2048 + 100);
    }

    #[test]
    fn schedulable_is_allocatable_minus_daemonsets_and_headroom() {
        let c = Catalog::embedded();
        for cloud in [Cloud::Gcp, Cloud::Aws, Cloud::Azure] {
            let m = c.machine(cloud, c.tier("1k").unwrap().workspaces.machine_type.get(cloud)).unwrap();
            let cap = node_capacity(c.cloud(cloud), m, 32);
            assert_eq!(cap.schedulable.plus(cap.daemonsets).plus(cap.headroom), cap.allocatable, "{cloud}");
            assert!(cap.daemonset_pods >= 5, "{cloud}");
        }
    }

    #[test]
    fn aks_cpu_reserve_matches_published_table() {
        // AKS: 2 cores 100m, 4 cores 140m, 8 cores 180m.
        let c = Catalog::embedded();
        let r = |n| node_capacity(c.cloud(Cloud::Azure), c.machine(Cloud::Azure, n).unwrap(), 110).reserved.cpu_millis;
        assert_eq!([r("Standard_D2s_v3"), r("Standard_D4s_v3"), r("Standard_D8s_v3"), r("Standard_D16s_v3")], [100, 140, 180, 260]);
    }

    #[test]
    fn floor() {
        assert_eq!(floor_to(1781, 64), 1728);
        assert_eq!(floor_to(0, 64), 0);
    }
}
