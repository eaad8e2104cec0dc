//! What of a node is left for our pods: capacity minus the managed service's
//! system reserve (kube-reserved + eviction threshold) minus daemonsets.
//! The rules are catalog data per cloud (`catalog/clouds.yaml`).

use serde::Serialize;

use crate::catalog::{CloudRules, Machine, ReserveRule};

/// CPU in millicores and memory in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Resources {
    pub cpu_millis: u32,
    pub memory_mib: u32,
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
    pub daemonsets: Resources,
    /// total - reserved - daemonsets: what our pods may request.
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

fn reserve(rule: &ReserveRule, amount: f64, max_pods: u32, percent: bool) -> u32 {
    let v = match rule {
        ReserveRule::Tiered { tiers } => tiered(tiers, amount, percent),
        ReserveRule::PerPod { per_pod_mib, base_mib } => f64::from(*per_pod_mib) * f64::from(max_pods) + f64::from(*base_mib),
    };
    // Reserves are rounded up: under-estimating them overcommits the node.
    // The values are small and positive, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let v = v.ceil().max(0.0) as u32;
    v
}

/// Capacity of one node of `machine` with `max_pods` under `rules`.
pub fn node_capacity(rules: &CloudRules, machine: &Machine, max_pods: u32) -> NodeCapacity {
    let total = Resources { cpu_millis: machine.vcpu * 1000, memory_mib: machine.memory_mib };
    let reserved = Resources {
        cpu_millis: reserve(&rules.cpu_reserve, f64::from(machine.vcpu), max_pods, false),
        memory_mib: reserve(&rules.memory_reserve, f64::from(machine.memory_mib), max_pods, true) + rules.eviction_mib,
    };
    let daemonsets = Resources { cpu_millis: rules.daemonsets.cpu_millis, memory_mib: rules.daemonsets.memory_mib };
    let schedulable = Resources {
        cpu_millis: total.cpu_millis.saturating_sub(reserved.cpu_millis + daemonsets.cpu_millis),
        memory_mib: total.memory_mib.saturating_sub(reserved.memory_mib + daemonsets.memory_mib),
    };
    NodeCapacity { total, reserved, daemonsets, schedulable }
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
        assert_eq!(cap.schedulable.cpu_millis, 8000 - 90 - 250);
    }

    #[test]
    fn eks_memory_reserve_depends_on_max_pods() {
        let c = Catalog::embedded();
        let m = c.machine(Cloud::Aws, "t3.2xlarge").unwrap();
        let cap = node_capacity(c.cloud(Cloud::Aws), m, 110);
        assert_eq!(cap.reserved.memory_mib, 11 * 110 + 255 + 100);
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
