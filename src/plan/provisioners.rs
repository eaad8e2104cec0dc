//! External provisioners: replicas per namespace, resources, quota, and
//! their pool.

use std::collections::BTreeMap;

use serde::Serialize;

use super::capacity::{Resources, floor_to, node_capacity};
use super::shares::Share;
use super::tier::capacity_check;
use super::{Ctx, Findings, PodResources, Pool, Quota, Reasons, Role, SecretRef, WarningCode, pools};
use crate::spec::{ProvisionerGroup, WorkspaceGroup};

/// Memory per provisioner in Coder's current sizing pages (coder-facts 1c:
/// "1 vCPU / 1 GB each, K8s 1000m / 1Gi").
pub const PROVISIONER_MEMORY_MIB: u32 = 1024;

#[derive(Debug, Clone, Serialize)]
pub struct Provisioners {
    pub namespace: String,
    pub release: String,
    pub service_account: String,
    pub replicas: u32,
    pub resources: PodResources,
    /// Tags are bound to the provisioner key (`coder provisioner keys create
    /// --tag`); the chart refuses tags next to a key.
    pub tags: BTreeMap<String, String>,
    pub key_secret: SecretRef,
    /// Workspace namespaces whose RoleBinding grants this group's service
    /// account (spec `provisioners[].workspaces`, default all).
    pub workspace_namespaces: Vec<String>,
    /// The namespace's ResourceQuota: room for its replicas plus a rolling
    /// update's surge pods.
    pub quota: Quota,
    pub reasons: Reasons,
}

/// The provisioner groups of one location (the primary's, or a site's) and
/// their pool: `share` says how many provisioners and nodes it gets of the
/// tier; `shared` is a pod every node of the pool also runs (a site's
/// Cluster Autoscaler), whose requests come off before provisioners are
/// sized. A group without `workspaces` serves every namespace of `workspaces`.
pub(crate) fn plan(
    ctx: &Ctx,
    groups: &[ProvisionerGroup],
    workspaces: &[WorkspaceGroup],
    share: &Share,
    shared: Option<(&str, Resources)>,
    found: &mut Findings,
) -> (Vec<Provisioners>, Pool) {
    let (tier, prov_m) = (ctx.tier, ctx.machines.provisioner);
    capacity_check(found, "provisioner", prov_m, tier.provisioners.capacity, &tier.id);
    let per_node = tier.provisioners.per_node;
    let prov_nodes = share.provisioner_nodes;
    let prov_total = share.provisioners;
    // Spare slots: a rolling update's surge (25%, rounded up).
    let mp = pools::max_pods(ctx, prov_m, per_node, per_node.div_ceil(4), "a rolling update's 25% surge", u32::MAX);
    let prov_cap = node_capacity(ctx.rules, prov_m, mp.value);
    let room = prov_cap.schedulable.saturating_sub(shared.map_or(Resources { cpu_millis: 0, memory_mib: 0 }, |(_, r)| r));
    let prov_req = Resources { cpu_millis: floor_to(room.cpu_millis / per_node, 10), memory_mib: floor_to(room.memory_mib / per_node, 16) };
    if prov_req.memory_mib < PROVISIONER_MEMORY_MIB {
        let fit = prov_cap.schedulable.memory_mib / PROVISIONER_MEMORY_MIB;
        found.warn(
            WarningCode::ProvisionerMemoryBelowSizing,
            format!(
                "tier {}: {per_node} provisioners per {} node get {} MiB each; Coder's sizing pages give each provisioner 1 GiB (1000m / 1Gi), and at 1 GiB only {fit} fit per node (schedulable {} MiB after system reserve, daemonsets and headroom). The seed's {per_node} per node is kept; a build whose Terraform needs more memory is OOM-killed, so pick a machine_types.provisioner with more memory or watch provisioner memory.",
                tier.id, prov_m.name, prov_req.memory_mib, prov_cap.schedulable.memory_mib
            ),
        );
    }
    // CPU may burst to one core (Coder's sizing: 1 vCPU per provisioner);
    // memory is not overcommitted, so a busy node never OOM-kills builds.
    let prov_lim = Resources { cpu_millis: prov_req.cpu_millis.max(1000), memory_mib: prov_req.memory_mib };
    let group_count = u32::try_from(groups.len()).unwrap_or(1).max(1);
    let provisioners = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let i = u32::try_from(i).unwrap_or(0);
            let replicas = prov_total / group_count + u32::from(i < prov_total % group_count);
            let mut r = Reasons::new();
            r.insert(
                "replicas",
                match &share.split {
                    None => format!(
                        "tier {}: {prov_nodes} provisioner nodes x {per_node} provisioners = {prov_total}, shared across {group_count} namespace(s)",
                        tier.id
                    ),
                    Some(split) => format!("{split}, shared across {group_count} namespace(s)"),
                },
            );
            r.insert(
                "resources",
                format!(
                    "requests fit {per_node} per {} node (schedulable {}m / {} MiB{} / {per_node}, rounded down to 10m / 16 MiB); CPU may burst to 1 core; memory limit = request (no overcommit)",
                    prov_m.name,
                    prov_cap.schedulable.cpu_millis,
                    prov_cap.schedulable.memory_mib,
                    shared.map_or(String::new(), |(n, r)| format!(" minus {n} {}m / {} MiB", r.cpu_millis, r.memory_mib))
                ),
            );
            // Kubernetes' default rolling update surges 25% (rounded up);
            // a quota without that room would stall every upgrade.
            let pods = replicas + replicas.div_ceil(4);
            r.insert(
                "quota",
                format!(
                    "{replicas} replicas + {} surge pods of a rolling update (25%, rounded up), each at its requests; memory limits = requests",
                    replicas.div_ceil(4)
                ),
            );
            let workspace_namespaces = g.workspaces.clone().unwrap_or_else(|| workspaces.iter().map(|w| w.namespace.clone()).collect());
            r.insert(
                "workspace_namespaces",
                if g.workspaces.is_some() {
                    "provisioners[].workspaces in the spec: only these namespaces' RoleBindings grant this group (zero-trust)".into()
                } else {
                    "every workspace namespace (the default; set provisioners[].workspaces to isolate groups)".into()
                },
            );
            Provisioners {
                namespace: g.namespace.clone(),
                workspace_namespaces,
                release: "coder-provisioner".into(),
                service_account: "coder-provisioner".into(),
                replicas,
                resources: PodResources { requests: prov_req, limits: prov_lim },
                tags: g.tags.clone(),
                key_secret: SecretRef { name: "coder-provisioner-key".into(), key: "key".into() },
                quota: Quota {
                    requests_cpu_millis: pods * prov_req.cpu_millis,
                    requests_memory_mib: pods * prov_req.memory_mib,
                    limits_memory_mib: pods * prov_lim.memory_mib,
                    pods,
                },
                reasons: r,
            }
        })
        .collect::<Vec<_>>();
    let prov_pool = {
        let mut p = pools::pool(ctx, Role::Provisioner, prov_m, &prov_cap, prov_nodes, prov_nodes, &mp, per_node, prov_req, shared);
        p.reasons.insert(
            "min_nodes",
            match &share.split {
                None => format!(
                    "tier {}: {prov_nodes} provisioner nodes; fixed size (Coder: size provisioners by queue time, no autoscaling)",
                    tier.id
                ),
                Some(_) => format!(
                    "{prov_total} provisioners at the tier's {per_node} per node, rounded up: {prov_nodes} node(s); fixed size (Coder: size provisioners by queue time, no autoscaling)"
                ),
            },
        );
        p.reasons.insert("max_nodes", "fixed size, equal to min_nodes".into());
        p
    };
    (provisioners, prov_pool)
}
