//! coderd: replicas, resources, rollout, high availability (anti-affinity,
//! zone spread, PDB, peer traffic), built-in provisioners, and its pool.

use serde::Serialize;

use super::autoscaler::ClusterAutoscaler;
use super::capacity::{Resources, floor_to, node_capacity};
use super::tier::capacity_check;
use super::{Ctx, Findings, Licence, PG_CONN_MAX_OPEN, PodResources, Pool, Reasons, Role, WarningCode, pools};
use crate::spec::CODER_NAMESPACE;

#[derive(Debug, Clone, Serialize)]
pub struct Coderd {
    pub namespace: String,
    pub release: String,
    pub service_account: String,
    pub replicas: u32,
    pub resources: PodResources,
    /// Built-in provisioners per coderd (0: external provisioners run).
    pub provisioner_daemons: u32,
    /// coderd runs provisioners itself (`provisioner_daemons > 0`): its
    /// service account then needs workspace RBAC.
    pub builtin_provisioners: bool,
    /// Several replicas: one per node (anti-affinity), spread over zones, a
    /// PodDisruptionBudget, and peer traffic between replicas allowed.
    pub high_availability: bool,
    pub pg_conn_max_open: u32,
    /// In-cluster URL that provisioners use to reach coderd.
    pub service_url: String,
    /// The rolling update to patch onto the chart's Deployment once, where
    /// Kubernetes' default (25% surge, 25% unavailable) cannot progress on a
    /// full fixed pool. `None`: the default works.
    pub rollout: Option<Rollout>,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rollout {
    pub max_surge: u32,
    pub max_unavailable: u32,
}

/// `CODER_PROVISIONER_DAEMONS`' default (coder server --help).
const BUILTIN_DEFAULT: u32 = 3;

pub(crate) fn plan(ctx: &Ctx, licence: &Licence, autoscaler: Option<&ClusterAutoscaler>, found: &mut Findings) -> (Coderd, Pool) {
    let (tier, users, coderd_m) = (ctx.tier, ctx.users(), ctx.machines.coderd);
    capacity_check(found, "coderd", coderd_m, tier.coderd.capacity, &tier.id);
    let small = users <= 100 && tier.coderd.replicas.min < tier.coderd.replicas.max;
    let tier_replicas = if small { tier.coderd.replicas.min } else { tier.coderd.replicas.max };
    let coderd_replicas = licence.max_coderd_replicas.map_or(tier_replicas, |m| tier_replicas.min(m));
    // One coderd per node; one spare slot for a Job or debug pod.
    let mp = pools::max_pods(ctx, coderd_m, 1, 1, "a Job or debug pod", u32::MAX);
    let coderd_cap = node_capacity(ctx.rules, coderd_m, mp.value);
    // A pod sharing every coderd node (EKS: the Cluster Autoscaler, which may
    // land on any of them) comes off before coderd is sized.
    let shared = autoscaler.filter(|a| a.pool == Role::Coderd).map(|a| ("cluster-autoscaler", a.resources.requests));
    let room = coderd_cap.schedulable.saturating_sub(shared.map_or(Resources { cpu_millis: 0, memory_mib: 0 }, |(_, r)| r));
    let coderd_res = Resources { cpu_millis: floor_to(room.cpu_millis, 100), memory_mib: floor_to(room.memory_mib, 256) };
    let mut coderd_reasons = Reasons::new();
    coderd_reasons.insert(
        "replicas",
        if coderd_replicas < tier_replicas {
            format!(
                "tier {}: {tier_replicas} coderd replicas, but more than one needs a Premium licence (coder.license: community): 1",
                tier.id
            )
        } else if tier.coderd.replicas.min == tier.coderd.replicas.max {
            format!("tier {}: {} coderd replicas, 1 coderd per node", tier.id, coderd_replicas)
        } else if small {
            format!(
                "tier {}: {}-{} replicas; {} users is a small deployment, so the lower bound",
                tier.id, tier.coderd.replicas.min, tier.coderd.replicas.max, users
            )
        } else {
            format!(
                "tier {}: {}-{} replicas; the upper bound so a node can be drained without downtime",
                tier.id, tier.coderd.replicas.min, tier.coderd.replicas.max
            )
        },
    );
    coderd_reasons.insert(
        "resources",
        format!(
            "requests = limits (Guaranteed QoS, as Coder's sizing docs set them): one coderd fills its {} node's schedulable {}m / {} MiB (allocatable - daemonsets - headroom){}, rounded down to 100m / 256 MiB",
            coderd_m.name,
            coderd_cap.schedulable.cpu_millis,
            coderd_cap.schedulable.memory_mib,
            shared.map_or(String::new(), |(n, r)| format!(" minus {n} {}m / {} MiB", r.cpu_millis, r.memory_mib))
        ),
    );
    // Without Premium, coderd's built-in provisioners are the only ones that
    // work. Each runs Terraform inside coderd's pod (Coder's sizing: about 1
    // vCPU per concurrent build), so one per whole vCPU coderd requests, and
    // never fewer than Coder's own default of 3.
    let tier_provisioners = tier.provisioners.nodes * tier.provisioners.per_node;
    let provisioner_daemons =
        if licence.external_provisioners { 0 } else { (coderd_res.cpu_millis / 1000).max(BUILTIN_DEFAULT).min(tier_provisioners.max(1)) };
    coderd_reasons.insert(
        "provisioner_daemons",
        if licence.external_provisioners {
            "external provisioners run in their own namespaces, so coderd runs none (CODER_PROVISIONER_DAEMONS=0)".into()
        } else {
            format!(
                "community: coderd's built-in provisioners build every workspace; each runs Terraform in coderd's pod (about 1 vCPU per concurrent build), so one per whole vCPU of coderd's {}m and at least Coder's default of {BUILTIN_DEFAULT}: {provisioner_daemons} (the tier plans {tier_provisioners} external ones)",
                coderd_res.cpu_millis
            )
        },
    );
    let builtin_provisioners = provisioner_daemons > 0;
    coderd_reasons.insert(
        "builtin_provisioners",
        if builtin_provisioners {
            "coderd runs provisioners: its service account gets workspace RBAC".into()
        } else {
            "provisioner_daemons is 0: coderd's service account needs no workspace RBAC".into()
        },
    );
    let high_availability = coderd_replicas >= 2;
    coderd_reasons.insert(
        "high_availability",
        if high_availability {
            format!("{coderd_replicas} replicas: one per node (anti-affinity), spread over zones, a PodDisruptionBudget of 1 unavailable, and replicas may reach each other (DERP relay)")
        } else {
            "a single replica: no anti-affinity, spread, PodDisruptionBudget or peer traffic".into()
        },
    );
    coderd_reasons.insert(
        "pg_conn_max_open",
        format!("Coder's default pool size ({PG_CONN_MAX_OPEN}), set explicitly so the database's max_connections can be derived from it"),
    );
    // Coder's scale-testing formula: 1 vCPU and 2 GB per 250 users.
    let needed_cpu = users.div_ceil(250) * 1000;
    if coderd_res.cpu_millis * coderd_replicas < needed_cpu {
        found.warn(
            WarningCode::CoderdBelowScalingFormula,
            format!(
                "{coderd_replicas} coderd x {}m CPU = {}m is below Coder's scale-testing guidance of 1 vCPU per 250 users ({}m for {users} users); watch API latency (coderd_api_request_latencies_seconds) and consider a larger machine_types.coderd",
                coderd_res.cpu_millis,
                coderd_res.cpu_millis * coderd_replicas,
                needed_cpu
            ),
        );
    }
    let coderd_pool = {
        let mut p = pools::pool(ctx, Role::Coderd, coderd_m, &coderd_cap, coderd_replicas, coderd_replicas, &mp, 1, coderd_res, shared);
        p.reasons.insert(
            "min_nodes",
            format!("one node per coderd replica ({coderd_replicas}); fixed size: Coder advises against autoscaling coderd"),
        );
        p.reasons.insert("max_nodes", "fixed size, equal to min_nodes".into());
        p
    };
    // The chart sets no Deployment strategy, so Kubernetes' default applies:
    // 25% surge (rounded up), 25% unavailable (rounded down). Below 4
    // replicas that is 0 unavailable, and a surge pod finds no node: each
    // coderd fills one node of a fixed pool.
    let rollout = (coderd_replicas / 4 == 0).then_some(Rollout { max_surge: 0, max_unavailable: 1 });
    if rollout.is_some() {
        coderd_reasons.insert(
            "rollout",
            format!(
                "{coderd_replicas} coderd replica(s) fill the {coderd_replicas} coderd node(s); Kubernetes' default rolling update keeps 0 unavailable below 4 replicas, so a new coderd would wait for a free node forever. Replace one coderd at a time instead (the chart has no strategy key: patch the Deployment once; helm upgrade keeps the patch)"
            ),
        );
    } else {
        coderd_reasons
            .insert("rollout", "Kubernetes' default rolling update (25% unavailable) can replace coderd pods on a full pool".into());
    }
    let coderd = Coderd {
        namespace: CODER_NAMESPACE.into(),
        release: "coder".into(),
        service_account: "coder".into(),
        replicas: coderd_replicas,
        resources: PodResources { requests: coderd_res, limits: coderd_res },
        provisioner_daemons,
        builtin_provisioners,
        high_availability,
        pg_conn_max_open: PG_CONN_MAX_OPEN,
        service_url: format!("http://coder.{CODER_NAMESPACE}.svc.cluster.local"),
        rollout,
        reasons: coderd_reasons,
    };
    (coderd, coderd_pool)
}
