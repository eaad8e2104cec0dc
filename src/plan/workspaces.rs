//! Workspace namespaces (users, quota, LimitRange defaults) and the workspace
//! pool (autoscaled, max pods clamped to the cloud's limit).

use serde::Serialize;

use super::capacity::{Resources, floor_to, node_capacity};
use super::shares::Share;
use super::tier::capacity_check;
use super::{Ctx, Findings, Pool, Quota, Reasons, Role, WarningCode, pools, spec_error};
use crate::diag::SpecError;
use crate::spec::{At, WorkspaceGroup};

#[derive(Debug, Clone, Serialize)]
pub struct Workspaces {
    pub namespace: String,
    pub users: u32,
    pub quota: Quota,
    /// LimitRange defaults for containers that set none.
    pub default_request: Resources,
    pub default_limit: Resources,
    /// LimitRange `maxLimitRequestRatio` for memory: 1 makes every
    /// container's memory limit equal its request (no overcommit).
    pub memory_limit_request_ratio: u32,
    pub reasons: Reasons,
}

/// The largest workspaces-per-node count of the seed tiers (1k, 2k: 16).
const WORKSPACE_SLOTS_PER_NODE: u32 = 16;

/// The workspace groups of one location (the primary's, or a site's) and
/// their pool, for `share.users` users; `users_at` is where a problem with
/// them is reported (the spec's `users`, or a site's).
pub(crate) fn plan(
    ctx: &Ctx,
    groups: &[WorkspaceGroup],
    users_at: &At<u32>,
    share: &Share,
    found: &mut Findings,
) -> Result<(Vec<Workspaces>, Pool), SpecError> {
    let (spec, tier, rules, users, ws_m) = (ctx.spec, ctx.tier, ctx.rules, share.users, ctx.machines.workspace);
    capacity_check(found, "workspace", ws_m, tier.workspaces.capacity, &tier.id);
    let ws_per_node = tier.workspaces.per_node;
    let seed_max_pods = tier.workspaces.max_pods_per_node;
    // Spare slots: room for as many workspaces again (templates that request
    // less than the default pack more per node), counted from the largest
    // seed per-node count so max pods is the same in every tier: a max-pods
    // change replaces a GKE pool and rotates an AKS pool.
    let slots = ws_per_node.max(WORKSPACE_SLOTS_PER_NODE);
    let mp = pools::max_pods(
        ctx,
        ws_m,
        ws_per_node,
        2 * slots - ws_per_node,
        &format!("workspaces smaller than the default request pack more per node: room for 2 x {slots}, the same in every tier"),
        seed_max_pods,
    );
    let ws_max_pods = mp.value;
    let ws_cap = node_capacity(rules, ws_m, ws_max_pods);
    if let Some(need) = mp.clamped_from {
        found.warn(
            WarningCode::MaxPodsClamped,
            format!(
                "workspace nodes need {need} pod slots; {} allows at most {ws_max_pods} ({}), so workspace nodes use {ws_max_pods}",
                rules.service, rules.max_pods_source
            ),
        );
    }
    let per_user_mib = tier.workspaces.memory_per_user_gb * 1024;
    let fit_mib = floor_to(ws_cap.schedulable.memory_mib / ws_per_node, 64);
    let ws_mem = per_user_mib.min(fit_mib);
    if ws_mem < per_user_mib {
        found.warn(
            WarningCode::WorkspaceMemoryHeadroom,
            format!(
                "tier {}: {ws_per_node} workspaces x {} GB = {} GB per {} node, but after system reserve and daemonsets a node has {} MiB for pods; the default workspace memory request is {ws_mem} MiB so {ws_per_node} still fit. Coder advises against over-provisioning memory (OOMKiller), so give templates at most this much, or fewer workspaces per node.",
                tier.id,
                tier.workspaces.memory_per_user_gb,
                ws_per_node * tier.workspaces.memory_per_user_gb,
                ws_m.name,
                ws_cap.schedulable.memory_mib
            ),
        );
    }
    let ws_cpu = floor_to(ws_cap.schedulable.cpu_millis / ws_per_node, 10);
    let ws_pool_req = Resources { cpu_millis: ws_cpu, memory_mib: ws_mem };
    let ws_nodes_max = share.workspace_nodes;
    let mut ws_pool = pools::pool(ctx, Role::Workspace, ws_m, &ws_cap, 1, ws_nodes_max, &mp, ws_per_node, ws_pool_req, None);
    let ws_groups = u32::try_from(groups.len()).unwrap_or(1).max(1);
    if ws_groups > users {
        // Each namespace's quota is its share of users x 2 GB; a share of
        // zero users would be a quota that admits no workspace at all.
        return Err(spec_error(
            spec,
            users_at,
            format!("{ws_groups} workspace namespaces for {users} users leaves a namespace without users"),
            "list at most as many workspace namespaces as there are users",
        ));
    }
    let workspaces = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let i = u32::try_from(i).unwrap_or(0);
            let group_users = users / ws_groups + u32::from(i < users % ws_groups);
            let mut r = Reasons::new();
            r.insert("users", format!("{users} users shared evenly across {ws_groups} workspace namespace(s)"));
            r.insert(
                "quota",
                format!(
                    "{group_users} users x {} GB memory each (the reference architecture's per-user assumption): memory is what the quota limits; CPU at the default request per user; pods at 2 per user, so a template with a sidecar pod or a smaller workspace is not stopped by a pod count",
                    tier.workspaces.memory_per_user_gb
                ),
            );
            r.insert(
                "default_request",
                format!(
                    "{ws_per_node} workspaces per {} node share its schedulable {}m / {} MiB; memory capped at {per_user_mib} MiB (2 GB per user)",
                    ws_m.name, ws_cap.schedulable.cpu_millis, ws_cap.schedulable.memory_mib
                ),
            );
            r.insert(
                "memory_limit_request_ratio",
                "memory limit / request at most 1 (LimitRange maxLimitRequestRatio): every workspace's memory is reserved, never overcommitted (seed: over-provisioning leads to OOMKiller invocations)".into(),
            );
            r.insert("default_limit", "memory limit = request (no overcommit: Coder warns it leads to OOMKiller invocations); CPU may burst to 2 cores, the default of Coder's Kubernetes template".into());
            Workspaces {
                namespace: g.namespace.clone(),
                users: group_users,
                quota: Quota {
                    requests_cpu_millis: group_users * ws_cpu,
                    requests_memory_mib: group_users * per_user_mib,
                    limits_memory_mib: group_users * per_user_mib,
                    pods: group_users * 2,
                },
                default_request: Resources { cpu_millis: ws_cpu, memory_mib: ws_mem },
                default_limit: Resources { cpu_millis: ws_cpu.max(2000), memory_mib: ws_mem },
                memory_limit_request_ratio: 1,
                reasons: r,
            }
        })
        .collect::<Vec<_>>();
    ws_pool.reasons.insert("min_nodes", "one node kept warm; Coder does not recommend scaling workspace pools to zero".into());
    ws_pool.reasons.insert(
        "max_nodes",
        match &share.split {
            None => format!(
                "tier {}: {ws_nodes_max} workspace nodes x {ws_per_node} workspaces each; the autoscaler adds nodes only as workspaces start",
                tier.id
            ),
            Some(_) => format!(
                "{users} users here at tier {}'s {ws_per_node} workspaces per node, rounded up: {ws_nodes_max} nodes; the autoscaler adds nodes only as workspaces start",
                tier.id
            ),
        },
    );
    Ok((workspaces, ws_pool))
}
