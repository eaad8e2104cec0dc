//! Spec + catalog -> Plan: every number the tree will contain, each with the
//! reason for it, plus warnings where the sources disagree with themselves.
//!
//! Pure: no I/O, no clock. `render` reads only the Plan, so any number in the
//! tree can be traced to exactly one field here. The JSON form of this struct
//! is `coder-gen plan --format json` (documented in README; keep it stable).

pub mod capacity;
pub mod text;

use std::collections::BTreeMap;

use serde::Serialize;

pub use capacity::Resources;
use capacity::{NodeCapacity, floor_to, node_capacity};

use crate::catalog::{Capacity, Catalog, Machine, MachineKind, Tier};
use crate::error::SpecError;
use crate::spec::{At, AutoBool, AutoCount, CODER_NAMESPACE, Cloud, Spec};

pub use text::to_text;

/// Bumped only on a breaking change to the JSON shape (see CHANGELOG).
pub const FORMAT_VERSION: u32 = 1;

/// Node label and taint key that pins each role to its pool. Terraform puts it
/// on the nodes; Helm values and workspace templates select on it.
pub const POOL_LABEL: &str = "coder-gen/pool";

/// Coder's default pool size per coderd (`CODER_PG_CONN_MAX_OPEN`,
/// docs/reference/cli/server.md); made explicit so the database's
/// `max_connections` can be derived from it.
pub const PG_CONN_MAX_OPEN: u32 = 10;

/// Reasons keyed by the field name they explain (in the same JSON object).
pub type Reasons = BTreeMap<&'static str, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Coderd,
    Provisioner,
    Workspace,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coderd => "coderd",
            Role::Provisioner => "provisioner",
            Role::Workspace => "workspace",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Taint {
    pub key: String,
    pub value: String,
    /// Kubernetes spelling (`NoSchedule`); renderers convert per cloud.
    pub effect: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PodResources {
    pub requests: Resources,
    pub limits: Resources,
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
    /// setting (GKE, AKS). Where it differs from `max_pods`, Terraform sets
    /// max pods on the node explicitly.
    pub default_max_pods: Option<u32>,
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

#[derive(Debug, Clone, Serialize)]
pub struct Coderd {
    pub namespace: String,
    pub release: String,
    pub service_account: String,
    pub replicas: u32,
    pub resources: PodResources,
    /// Built-in provisioners per coderd (0: external provisioners run).
    pub provisioner_daemons: u32,
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

#[derive(Debug, Clone, Serialize)]
pub struct SecretRef {
    pub name: String,
    pub key: String,
}

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
    /// The namespace's ResourceQuota: room for its replicas plus a rolling
    /// update's surge pods.
    pub quota: Quota,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quota {
    pub requests_cpu_millis: u32,
    pub requests_memory_mib: u32,
    /// Memory limits are capped like requests: no overcommit.
    pub limits_memory_mib: u32,
    pub pods: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Workspaces {
    pub namespace: String,
    pub users: u32,
    pub quota: Quota,
    /// LimitRange defaults for containers that set none.
    pub default_request: Resources,
    pub default_limit: Resources,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct Database {
    pub engine: &'static str,
    pub postgres_version: u32,
    pub instance_class: String,
    /// The name the cloud's API takes for `instance_class` (Azure prefixes
    /// the tier, `GP_`); read replicas use the same.
    pub sku: String,
    pub vcpu: u32,
    pub memory_gib: f64,
    pub burstable: bool,
    /// Storage type in the cloud's spelling (Cloud SQL `PD_SSD`, RDS `gp3`,
    /// Azure Premium SSD performance tier `P30`...).
    pub storage_type: String,
    /// Automatic storage growth up to this size (Cloud SQL
    /// `disk_autoresize_limit`, RDS `max_allocated_storage`); `null` where the
    /// service does not grow storage under Terraform's control (Azure).
    pub storage_autogrow_limit_gb: Option<u32>,
    /// What is provisioned (the seed's size, rounded up where a cloud needs it).
    pub storage_gb: u32,
    pub seed_storage_gb: u32,
    pub ha: bool,
    /// Primary plus HA standby.
    pub nodes: u32,
    pub read_replicas: u32,
    pub max_connections: u32,
    pub backup_retention_days: u32,
    pub point_in_time_recovery: bool,
    /// How far back point-in-time recovery reaches.
    pub point_in_time_recovery_days: u32,
    /// RDS Enhanced Monitoring interval (AWS only, else `null`).
    pub monitoring_interval_seconds: Option<u32>,
    /// RDS Performance Insights retention (AWS only, else `null`).
    pub performance_insights_retention_days: Option<u32>,
    pub builds_per_day: Option<u32>,
    /// Secret coderd reads its connection URL from (never written by us).
    pub url_secret: SecretRef,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct Observability {
    pub enabled: bool,
    pub prometheus_port: u16,
    pub collect_db_metrics: bool,
    /// Namespace whose Prometheus may scrape coderd and provisioners (the
    /// NetworkPolicies admit metrics traffic only from it).
    pub scrape_namespace: String,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub repository: String,
    pub repository_name: String,
    pub coder_chart: String,
    pub provisioner_chart: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct KubernetesTarget {
    pub cluster_name: String,
    pub version: String,
}

/// A seed footnote or source note carried into the plan and the tree README.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub topic: String,
    pub text: String,
    pub source: String,
}

/// Stable `code`s: scripts may match on them (README, "Warnings").
#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub format_version: u32,
    pub name: String,
    pub spec_file: String,
    pub spec_digest: String,
    pub tier: String,
    pub tier_source: String,
    pub users: u32,
    pub max_users: u32,
    pub target_api_rps: u32,
    pub cloud: Cloud,
    pub region: String,
    pub access_url: String,
    pub wildcard_access_url: Option<String>,
    pub kubernetes: KubernetesTarget,
    pub chart: Chart,
    pub pools: Vec<Pool>,
    pub coderd: Coderd,
    pub provisioners: Vec<Provisioners>,
    pub workspaces: Vec<Workspaces>,
    pub database: Database,
    pub observability: Observability,
    pub notes: Vec<Note>,
    pub warnings: Vec<Warning>,
    pub reasons: Reasons,
}

impl Plan {
    pub fn pool(&self, role: Role) -> &Pool {
        // Every plan has exactly one pool per role (built below).
        self.pools.iter().find(|p| p.role == role).expect("plan has a pool for every role")
    }

    pub fn total_provisioners(&self) -> u32 {
        self.provisioners.iter().map(|p| p.replicas).sum()
    }
}

/// Azure Database for PostgreSQL flexible server storage sizes, in GiB
/// (azurerm `storage_mb` accepts only these).
const AZURE_STORAGE_GIB: &[u32] = &[32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767];

/// Azure Premium SSD performance tier that comes with each storage size
/// (the flexible server's default `storage_tier`).
fn azure_storage_tier(gib: u32) -> &'static str {
    match gib {
        0..=32 => "P4",
        33..=64 => "P6",
        65..=128 => "P10",
        129..=256 => "P15",
        257..=512 => "P20",
        513..=1024 => "P30",
        1025..=2048 => "P40",
        2049..=4096 => "P50",
        4097..=8192 => "P60",
        8193..=16384 => "P70",
        _ => "P80",
    }
}

const NON_WORKSPACE_MAX_PODS: u32 = 110;

fn gib(mib: u32) -> f64 {
    (f64::from(mib) / 1024.0 * 100.0).round() / 100.0
}

/// Build the plan. Errors (a tier too small, an unknown machine type) point at
/// the spec line that caused them.
pub fn plan(spec: &Spec, catalog: &Catalog) -> Result<Plan, SpecError> {
    Planner { spec, catalog, warnings: Vec::new(), notes: Vec::new() }.plan()
}

struct Planner<'a> {
    spec: &'a Spec,
    catalog: &'a Catalog,
    warnings: Vec<Warning>,
    notes: Vec<Note>,
}

impl<'a> Planner<'a> {
    fn err<T>(&self, at: &At<T>, message: String, help: &str) -> SpecError {
        SpecError::new(&self.spec.file, Some((at.line, at.column)), message, help)
    }

    fn warn(&mut self, code: &'static str, message: String) {
        self.warnings.push(Warning { code, message });
    }

    fn tier(&self) -> Result<&'a Tier, SpecError> {
        let users = self.spec.users.value;
        let needed = self.catalog.smallest_tier_for(users).ok_or_else(|| {
            self.err(
                &self.spec.users,
                format!("users is {users}; Coder's validated architectures stop at 3,000 users"),
                "size a larger deployment with Coder's guidance; this tool only renders the validated tiers",
            )
        })?;
        match self.spec.tier.value.id() {
            None => Ok(needed),
            Some(id) => {
                let chosen = self.catalog.tier(id).expect("spec tiers are catalog tiers");
                if chosen.max_users < users {
                    Err(self.err(
                        &self.spec.tier,
                        format!("tier {id} covers up to {} users, but users is {users}", chosen.max_users),
                        &format!("use tier: {} (or tier: auto), or lower users", needed.id),
                    ))
                } else {
                    Ok(chosen)
                }
            }
        }
    }

    /// The seed's machine for a pool, or the spec's override, checked.
    fn machine(&self, seed: &str, over: Option<&At<String>>, kind: MachineKind, key: &str) -> Result<&'a Machine, SpecError> {
        let cloud = self.spec.cloud;
        match over {
            None => Ok(self.catalog.machine(cloud, seed).expect("seed machine types are in the catalog (tested)")),
            Some(at) => match self.catalog.machine(cloud, &at.value) {
                Some(m) if m.kind == kind || m.kind == MachineKind::Any => Ok(m),
                _ => Err(self.err(
                    at,
                    format!(
                        "machine_types.{key} {} is not a known {cloud} {} type",
                        crate::error::quote(&at.value),
                        if kind == MachineKind::Database { "database" } else { "node" }
                    ),
                    &format!("use one of: {}", self.catalog.machine_names(cloud, kind).join(", ")),
                )),
            },
        }
    }

    fn capacity_check(&mut self, role: &str, m: &Machine, seed: Capacity, tier: &str) {
        // The seeds' "GB" are decimal: 8 GB is 7,629 MiB, which n1-standard-2
        // (7,680 MiB) meets. Only a real shortfall warns.
        let seed_mib = u64::from(seed.memory_gb) * 1_000_000_000 / (1024 * 1024);
        if m.vcpu < seed.vcpu || u64::from(m.memory_mib) < seed_mib {
            self.warn(
                "seed-capacity-mismatch",
                format!(
                    "{tier} {role}: the reference architecture lists {} vCPU / {} GB per node but names {} ({} vCPU / {} GiB); coder-gen creates {} and sizes pods to what it really has. Set machine_types.{role} to a larger type to get the listed capacity.",
                    seed.vcpu, seed.memory_gb, m.name, m.vcpu, gib(m.memory_mib), m.name
                ),
            );
        }
    }

    fn pool(&self, role: Role, m: &Machine, cap: &NodeCapacity, min: u32, max: u32, max_pods: u32) -> Pool {
        let mut labels = BTreeMap::new();
        labels.insert(POOL_LABEL.to_string(), role.as_str().to_string());
        // Workspace nodes are not tainted: Coder's Kubernetes templates carry no
        // tolerations, and a taint would leave every workspace Pending. They are
        // selected by label instead (the tree's README shows the snippet).
        let taints = if role == Role::Workspace {
            Vec::new()
        } else {
            vec![Taint { key: POOL_LABEL.into(), value: role.as_str().into(), effect: "NoSchedule".into() }]
        };
        let rules = self.catalog.cloud(self.spec.cloud);
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
        reasons.insert("disk_gb", "100 GB boot disk per node, as in Coder's scale-test Terraform".into());
        let (disk_type, disk_reason) = match self.spec.cloud {
            Cloud::Gcp => {
                ("pd-balanced", "GKE's default SSD-backed boot disk, supported by every catalog machine family (t2d, n1, n2, c2d)")
            }
            Cloud::Aws => ("gp3", "EBS gp3: 3,000 IOPS baseline at any size, cheaper than gp2"),
            Cloud::Azure => (
                "Managed",
                "AKS managed OS disk: ephemeral disks need a VM cache larger than the 100 GB disk, which Dsv3 sizes do not all have",
            ),
        };
        reasons.insert("disk_type", disk_reason.into());
        let default_max_pods = if self.spec.cloud == Cloud::Aws { m.eni_max_pods } else { None };
        reasons.insert(
            "default_max_pods",
            match default_max_pods {
                Some(n) => format!("{}: {n} pods per node from the VPC CNI's ENI table (awslabs/amazon-eks-ami eni-max-pods.txt)", m.name),
                None => format!("{} takes max pods as a pool setting", rules.service),
            },
        );
        Pool {
            role,
            name: format!("{}-{}", self.spec.name, role.as_str()),
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
            disk_gb: 100,
            disk_type: disk_type.into(),
            schedulable: cap.schedulable,
            labels,
            taints,
            reasons,
        }
    }

    #[allow(clippy::too_many_lines)] // one straight pass, top to bottom, reads best
    fn plan(mut self) -> Result<Plan, SpecError> {
        let spec = self.spec;
        let cloud = spec.cloud;
        let tier = self.tier()?;
        let rules = self.catalog.cloud(cloud);
        let users = spec.users.value;
        let mt = &spec.machine_types;

        let coderd_m = self.machine(tier.coderd.machine_type.get(cloud), mt.coderd.as_ref(), MachineKind::Node, "coderd")?;
        let prov_m = self.machine(tier.provisioners.machine_type.get(cloud), mt.provisioner.as_ref(), MachineKind::Node, "provisioner")?;
        let ws_m = self.machine(tier.workspaces.machine_type.get(cloud), mt.workspace.as_ref(), MachineKind::Node, "workspace")?;
        let db_m = self.machine(tier.database.instance_class.get(cloud), mt.database.as_ref(), MachineKind::Database, "database")?;

        let mut reasons = Reasons::new();
        reasons.insert("users", format!("from {} line {}", spec.file, spec.users.line));
        reasons.insert("max_users", format!("tier {} covers up to {} users ({})", tier.id, tier.max_users, tier.source));
        reasons.insert("target_api_rps", format!("tier {} target API load ({})", tier.id, tier.source));
        reasons.insert(
            "tier",
            match spec.tier.value.id() {
                Some(id) => format!("tier: {id} in the spec"),
                None => format!("tier: auto picks the smallest tier covering {users} users"),
            },
        );

        // --- coderd -------------------------------------------------------
        self.capacity_check("coderd", coderd_m, tier.coderd.capacity, &tier.id);
        let small = users <= 100 && tier.coderd.replicas.min < tier.coderd.replicas.max;
        let coderd_replicas = if small { tier.coderd.replicas.min } else { tier.coderd.replicas.max };
        let coderd_cap = node_capacity(rules, coderd_m, NON_WORKSPACE_MAX_PODS);
        let coderd_res = Resources {
            cpu_millis: floor_to(coderd_cap.schedulable.cpu_millis, 100),
            memory_mib: floor_to(coderd_cap.schedulable.memory_mib, 256),
        };
        let mut coderd_reasons = Reasons::new();
        coderd_reasons.insert(
            "replicas",
            if tier.coderd.replicas.min == tier.coderd.replicas.max {
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
                "requests = limits (Guaranteed QoS, as Coder's sizing docs set them): one coderd fills its {} node's schedulable {}m / {} MiB, rounded down to 100m / 256 MiB",
                coderd_m.name, coderd_cap.schedulable.cpu_millis, coderd_cap.schedulable.memory_mib
            ),
        );
        coderd_reasons.insert(
            "provisioner_daemons",
            "external provisioners run in their own namespaces, so coderd runs none (CODER_PROVISIONER_DAEMONS=0)".into(),
        );
        coderd_reasons.insert(
            "pg_conn_max_open",
            format!(
                "Coder's default pool size ({PG_CONN_MAX_OPEN}), set explicitly so the database's max_connections can be derived from it"
            ),
        );
        // Coder's scale-testing formula: 1 vCPU and 2 GB per 250 users.
        let needed_cpu = users.div_ceil(250) * 1000;
        if coderd_res.cpu_millis * coderd_replicas < needed_cpu {
            self.warn(
                "coderd-below-scaling-formula",
                format!(
                    "{coderd_replicas} coderd x {}m CPU = {}m is below Coder's scale-testing guidance of 1 vCPU per 250 users ({}m for {users} users); watch API latency (coderd_api_request_latencies_seconds) and consider a larger machine_types.coderd",
                    coderd_res.cpu_millis,
                    coderd_res.cpu_millis * coderd_replicas,
                    needed_cpu
                ),
            );
        }
        let coderd_pool = {
            let mut p = self.pool(Role::Coderd, coderd_m, &coderd_cap, coderd_replicas, coderd_replicas, NON_WORKSPACE_MAX_PODS);
            p.reasons.insert(
                "min_nodes",
                format!("one node per coderd replica ({coderd_replicas}); fixed size: Coder advises against autoscaling coderd"),
            );
            p.reasons.insert("max_nodes", "fixed size, equal to min_nodes".into());
            p.reasons
                .insert("max_pods", format!("Kubernetes' default of {NON_WORKSPACE_MAX_PODS}; coderd nodes run one coderd and daemonsets"));
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
            provisioner_daemons: 0,
            pg_conn_max_open: PG_CONN_MAX_OPEN,
            service_url: format!("http://coder.{CODER_NAMESPACE}.svc.cluster.local"),
            rollout,
            reasons: coderd_reasons,
        };

        // --- provisioners -------------------------------------------------
        self.capacity_check("provisioner", prov_m, tier.provisioners.capacity, &tier.id);
        let per_node = tier.provisioners.per_node;
        let prov_nodes = tier.provisioners.nodes;
        let prov_total = prov_nodes * per_node;
        let prov_cap = node_capacity(rules, prov_m, NON_WORKSPACE_MAX_PODS);
        let prov_req = Resources {
            cpu_millis: floor_to(prov_cap.schedulable.cpu_millis / per_node, 10),
            memory_mib: floor_to(prov_cap.schedulable.memory_mib / per_node, 16),
        };
        // CPU may burst to one core (Coder's sizing: 1 vCPU per provisioner);
        // memory is not overcommitted, so a busy node never OOM-kills builds.
        let prov_lim = Resources { cpu_millis: prov_req.cpu_millis.max(1000), memory_mib: prov_req.memory_mib };
        let groups = u32::try_from(spec.provisioners.len()).unwrap_or(1).max(1);
        let provisioners = spec
            .provisioners
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let i = u32::try_from(i).unwrap_or(0);
                let replicas = prov_total / groups + u32::from(i < prov_total % groups);
                let mut r = Reasons::new();
                r.insert(
                    "replicas",
                    format!("tier {}: {prov_nodes} provisioner nodes x {per_node} provisioners = {prov_total}, shared across {groups} namespace(s)", tier.id),
                );
                r.insert(
                    "resources",
                    format!(
                        "requests fit {per_node} per {} node (schedulable {}m / {} MiB / {per_node}); CPU may burst to 1 core; memory limit = request (no overcommit)",
                        prov_m.name, prov_cap.schedulable.cpu_millis, prov_cap.schedulable.memory_mib
                    ),
                );
                // Kubernetes' default rolling update surges 25% (rounded up);
                // a quota without that room would stall every upgrade.
                let pods = replicas + replicas.div_ceil(4);
                r.insert(
                    "quota",
                    format!("{replicas} replicas + {} surge pods of a rolling update (25%, rounded up), each at its requests; memory limits = requests", replicas.div_ceil(4)),
                );
                Provisioners {
                    namespace: g.namespace.clone(),
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
            let mut p = self.pool(Role::Provisioner, prov_m, &prov_cap, prov_nodes, prov_nodes, NON_WORKSPACE_MAX_PODS);
            p.reasons.insert(
                "min_nodes",
                format!(
                    "tier {}: {prov_nodes} provisioner nodes; fixed size (Coder: size provisioners by queue time, no autoscaling)",
                    tier.id
                ),
            );
            p.reasons.insert("max_nodes", "fixed size, equal to min_nodes".into());
            p.reasons.insert(
                "max_pods",
                format!("Kubernetes' default of {NON_WORKSPACE_MAX_PODS}: room for {per_node} provisioners and daemonsets"),
            );
            p
        };

        // --- workspaces ---------------------------------------------------
        self.capacity_check("workspace", ws_m, tier.workspaces.capacity, &tier.id);
        let ws_per_node = tier.workspaces.per_node;
        let seed_max_pods = tier.workspaces.max_pods_per_node;
        let ws_max_pods = seed_max_pods.min(rules.max_pods_limit);
        if ws_max_pods < seed_max_pods {
            let extra = if cloud == Cloud::Aws {
                " EKS reaches it only with VPC CNI prefix delegation (ENABLE_PREFIX_DELEGATION=true on the aws-node daemonset); the launch template sets max pods accordingly."
            } else {
                ""
            };
            self.warn(
                "max-pods-clamped",
                format!(
                    "the reference architecture allows up to {seed_max_pods} workspace pods per node; {} allows at most {ws_max_pods} ({}), so workspace nodes use {ws_max_pods}.{extra}",
                    rules.service, rules.max_pods_source
                ),
            );
        }
        let ws_cap = node_capacity(rules, ws_m, ws_max_pods);
        let per_user_mib = tier.workspaces.memory_per_user_gb * 1024;
        let fit_mib = floor_to(ws_cap.schedulable.memory_mib / ws_per_node, 64);
        let ws_mem = per_user_mib.min(fit_mib);
        if ws_mem < per_user_mib {
            self.warn(
                "workspace-memory-headroom",
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
        let ws_nodes_max = tier.workspaces.nodes;
        let ws_groups = u32::try_from(spec.workspaces.len()).unwrap_or(1).max(1);
        if ws_groups > users {
            // Each namespace's quota is its share of users x 2 GB; a share of
            // zero users would be a quota that admits no workspace at all.
            return Err(self.err(
                &spec.users,
                format!("{ws_groups} workspace namespaces for {users} users leaves a namespace without users"),
                "list at most as many workspace namespaces as there are users",
            ));
        }
        let workspaces = spec
            .workspaces
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
                        "{group_users} users x {} GB memory each (the reference architecture's per-user assumption); CPU at the default request per user; one running workspace pod per user",
                        tier.workspaces.memory_per_user_gb
                    ),
                );
                r.insert(
                    "default_request",
                    format!("{ws_per_node} workspaces per {} node share its schedulable {}m / {} MiB; memory capped at {per_user_mib} MiB (2 GB per user)", ws_m.name, ws_cap.schedulable.cpu_millis, ws_cap.schedulable.memory_mib),
                );
                r.insert("default_limit", "memory limit = request (no overcommit: Coder warns it leads to OOMKiller invocations); CPU may burst to 2 cores, the default of Coder's Kubernetes template".into());
                Workspaces {
                    namespace: g.namespace.clone(),
                    users: group_users,
                    quota: Quota {
                        requests_cpu_millis: group_users * ws_cpu,
                        requests_memory_mib: group_users * per_user_mib,
                        limits_memory_mib: group_users * per_user_mib,
                        pods: group_users,
                    },
                    default_request: Resources { cpu_millis: ws_cpu, memory_mib: ws_mem },
                    default_limit: Resources { cpu_millis: ws_cpu.max(2000), memory_mib: ws_mem },
                    reasons: r,
                }
            })
            .collect::<Vec<_>>();
        let ws_pool = {
            let mut p = self.pool(Role::Workspace, ws_m, &ws_cap, 1, ws_nodes_max, ws_max_pods);
            p.reasons.insert("min_nodes", "one node kept warm; Coder does not recommend scaling workspace pools to zero".into());
            p.reasons.insert("max_nodes", format!("tier {}: {ws_nodes_max} workspace nodes x {ws_per_node} workspaces each; the autoscaler adds nodes only as workspaces start", tier.id));
            p.reasons.insert(
                "max_pods",
                if ws_max_pods < seed_max_pods {
                    format!(
                        "reference architecture: at most {seed_max_pods} workspace pods per node, clamped to {}'s limit of {ws_max_pods}",
                        rules.service
                    )
                } else {
                    format!("reference architecture: at most {seed_max_pods} workspace pods per node")
                },
            );
            p
        };

        // --- database -----------------------------------------------------
        self.capacity_check("database", db_m, tier.database.capacity, &tier.id);
        let db = &spec.database;
        let seed_ha = tier.database.nodes > 1;
        let ha = match db.ha {
            AutoBool::Auto => seed_ha,
            AutoBool::Set(v) => v,
        };
        if seed_ha && !ha {
            self.warn("ha-disabled", format!("tier {}: the reference architecture asks for a fully-managed HA PostgreSQL ({} nodes); database.ha: false turns it off", tier.id, tier.database.nodes));
        }
        let read_replicas = match (db.read_replicas, tier.database.read_replica_builds_per_day, db.builds_per_day) {
            (AutoCount::Set(n), _, _) => n,
            (AutoCount::Auto, Some(threshold), Some(builds)) if builds > threshold => 1,
            _ => 0,
        };
        let seed_storage = tier.database.storage_gb;
        let storage_gb = if cloud == Cloud::Azure {
            let rounded = AZURE_STORAGE_GIB.iter().copied().find(|&s| s >= seed_storage).unwrap_or(seed_storage);
            if rounded != seed_storage {
                self.warn(
                    "azure-storage-rounded",
                    format!("tier {}: {seed_storage} GB of database storage is not a size Azure Database for PostgreSQL offers; rounded up to {rounded} GB", tier.id),
                );
            }
            rounded
        } else {
            seed_storage
        };
        let max_connections = (coderd_replicas * PG_CONN_MAX_OPEN * 2 + 50).max(100);
        let mut dbr = Reasons::new();
        dbr.insert(
            "postgres_version",
            if db.postgres_version == crate::spec::DEFAULT_POSTGRES_VERSION {
                "default major version".into()
            } else {
                "database.postgres_version in the spec".into()
            },
        );
        dbr.insert("vcpu", format!("{} has {} vCPU (reference architecture: {} vCPU)", db_m.name, db_m.vcpu, tier.database.capacity.vcpu));
        dbr.insert(
            "memory_gib",
            format!("{} has {} MiB (reference architecture: {} GB)", db_m.name, db_m.memory_mib, tier.database.capacity.memory_gb),
        );
        dbr.insert("seed_storage_gb", format!("tier {}: {seed_storage} GB storage", tier.id));
        dbr.insert(
            "storage_gb",
            if storage_gb == seed_storage {
                format!("tier {}: {seed_storage} GB storage", tier.id)
            } else {
                format!("tier {}: {seed_storage} GB, rounded up to an Azure storage size", tier.id)
            },
        );
        dbr.insert(
            "nodes",
            format!(
                "tier {}: {} database node(s); ha={ha} gives a primary{}",
                tier.id,
                tier.database.nodes,
                if ha { " and a standby in another zone" } else { " only" }
            ),
        );
        dbr.insert(
            "read_replicas",
            match (db.read_replicas, tier.database.read_replica_builds_per_day, db.builds_per_day) {
                (AutoCount::Set(_), _, _) => "database.read_replicas in the spec".into(),
                (AutoCount::Auto, Some(t), Some(b)) => {
                    format!("{b} builds/day against the tier's threshold of {t} (add replicas above it)")
                }
                (AutoCount::Auto, Some(t), None) => format!("set database.builds_per_day: the tier advises replicas above {t} builds/day"),
                (AutoCount::Auto, None, _) => format!("tier {} gives no read-replica threshold", tier.id),
            } + "; each replica has the primary's class and storage",
        );
        if let Some(b) = db.builds_per_day {
            dbr.insert("builds_per_day", format!("database.builds_per_day: {b} in the spec"));
        }
        dbr.insert("max_connections", format!("{coderd_replicas} coderd x {PG_CONN_MAX_OPEN} connections, doubled for rolling upgrades, + 50 for admin and monitoring; at least PostgreSQL's default 100"));
        dbr.insert("backup_retention_days", "two weeks of daily backups; Coder cannot be downgraded without restoring one".into());
        if let (Some(t), None, AutoCount::Auto) = (tier.database.read_replica_builds_per_day, db.builds_per_day, db.read_replicas) {
            self.notes.push(Note {
                topic: "database".into(),
                text: format!("No read replica is planned. Set database.builds_per_day: the reference architecture advises more database replicas above {t} workspace builds per day."),
                source: tier.source.clone(),
            });
        }
        let backup_retention_days = 14;
        let (sku, sku_reason) = match cloud {
            Cloud::Azure => (
                format!("GP_{}", db_m.name),
                format!("Azure Database for PostgreSQL flexible server names {} in the General Purpose tier GP_{}", db_m.name, db_m.name),
            ),
            _ => (db_m.name.clone(), format!("{cloud} takes the instance class as is")),
        };
        dbr.insert("sku", sku_reason);
        let (storage_type, storage_type_reason) = match cloud {
            Cloud::Gcp => ("PD_SSD".to_string(), "Cloud SQL SSD storage; Coder advises SSD for PostgreSQL".to_string()),
            Cloud::Aws => ("gp3".to_string(), "RDS gp3: at least 3,000 IOPS, as Coder's database guidance asks".to_string()),
            Cloud::Azure => {
                let tier = azure_storage_tier(storage_gb);
                (tier.to_string(), format!("Azure Premium SSD {tier}, the default performance tier for {storage_gb} GiB"))
            }
        };
        dbr.insert("storage_type", storage_type_reason);
        let storage_autogrow_limit_gb = if cloud == Cloud::Azure { None } else { Some(storage_gb * 2) };
        dbr.insert(
            "storage_autogrow_limit_gb",
            match storage_autogrow_limit_gb {
                Some(_) => "storage grows by itself up to twice the provisioned size, so a busy month does not fill the disk; Terraform ignores the growth".into(),
                None => "off on Azure: auto-grow changes storage_mb outside Terraform, so the configuration would stop matching the server; alert on storage use instead".into(),
            },
        );
        let point_in_time_recovery_days = if cloud == Cloud::Gcp { 7 } else { backup_retention_days };
        dbr.insert(
            "point_in_time_recovery_days",
            if cloud == Cloud::Gcp {
                "Cloud SQL Enterprise edition keeps transaction logs at most 7 days".to_string()
            } else {
                "the service recovers to any point within the backup retention".to_string()
            },
        );
        let (monitoring_interval_seconds, performance_insights_retention_days) =
            if cloud == Cloud::Aws { (Some(60), Some(7)) } else { (None, None) };
        dbr.insert(
            "monitoring_interval_seconds",
            if cloud == Cloud::Aws {
                "RDS Enhanced Monitoring every 60 s: OS metrics at a resolution that shows build bursts".into()
            } else {
                format!("{cloud}: not used")
            },
        );
        dbr.insert(
            "performance_insights_retention_days",
            if cloud == Cloud::Aws { "RDS Performance Insights' free retention of 7 days".into() } else { format!("{cloud}: not used") },
        );
        let database = Database {
            engine: "postgres",
            postgres_version: db.postgres_version,
            sku,
            storage_type,
            storage_autogrow_limit_gb,
            point_in_time_recovery_days,
            monitoring_interval_seconds,
            performance_insights_retention_days,
            instance_class: db_m.name.clone(),
            vcpu: db_m.vcpu,
            memory_gib: gib(db_m.memory_mib),
            burstable: db_m.burstable,
            storage_gb,
            seed_storage_gb: seed_storage,
            ha,
            nodes: if ha { 2 } else { 1 },
            read_replicas,
            max_connections,
            backup_retention_days,
            point_in_time_recovery: true,
            builds_per_day: db.builds_per_day,
            url_secret: SecretRef { name: "coder-db-url".into(), key: "url".into() },
            reasons: dbr,
        };

        // --- observability ------------------------------------------------
        let obs_on = match spec.observability {
            AutoBool::Auto => tier.observability,
            AutoBool::Set(v) => v,
        };
        if tier.observability && !obs_on {
            self.warn("observability-disabled", format!("tier {}: the reference architecture asks for Prometheus metrics and Grafana dashboards; observability: false turns them off", tier.id));
        }
        let mut obr = Reasons::new();
        obr.insert(
            "prometheus_port",
            "coderd and provisioners serve metrics on 2112 (the charts fix CODER_PROMETHEUS_ADDRESS=0.0.0.0:2112)".into(),
        );
        obr.insert(
            "enabled",
            match spec.observability {
                AutoBool::Auto => format!(
                    "observability: auto is on for tiers whose reference architecture asks for it (tier {}: {})",
                    tier.id,
                    if tier.observability { "yes" } else { "no" }
                ),
                AutoBool::Set(_) => "observability in the spec".into(),
            },
        );
        obr.insert(
            "scrape_namespace",
            "the namespace Coder's observability chart (coder/observability) installs into; NetworkPolicies admit port 2112 only from it"
                .into(),
        );
        let observability = Observability {
            enabled: obs_on,
            prometheus_port: 2112,
            collect_db_metrics: obs_on,
            scrape_namespace: crate::spec::SCRAPE_NAMESPACE.into(),
            reasons: obr,
        };

        // --- burstable types (Coder's later docs) ---------------------------
        let burstable: Vec<String> =
            [(Role::Coderd.as_str(), coderd_m), (Role::Provisioner.as_str(), prov_m), (Role::Workspace.as_str(), ws_m), ("database", db_m)]
                .iter()
                .filter(|(_, m)| m.burstable)
                .map(|(r, m)| format!("{r}: {}", m.name))
                .collect();
        if !burstable.is_empty() {
            self.warn(
                "burstable-machine-type",
                format!(
                    "burstable types ({}) follow the reference architecture, but Coder's later docs advise non-burstable types (m5/c5/db.m5) because performance drops once CPU credits run out; override them with machine_types (e.g. coderd: m5.xlarge, provisioner: c5.2xlarge, workspace: m5.2xlarge, database: db.m5.xlarge)",
                    burstable.join(", ")
                ),
            );
        }

        // --- notes: every footnote of the tier -----------------------------
        let mut notes = vec![Note { topic: "high availability".into(), text: tier.high_availability.clone(), source: tier.source.clone() }];
        if !tier.observability_note.is_empty() {
            notes.push(Note { topic: "observability".into(), text: tier.observability_note.clone(), source: tier.source.clone() });
        }
        for (topic, list) in [
            ("coderd", &tier.coderd.footnotes),
            ("provisioners", &tier.provisioners.footnotes),
            ("workspaces", &tier.workspaces.footnotes),
            ("database", &tier.database.footnotes),
        ] {
            notes.extend(list.iter().map(|t| Note { topic: topic.into(), text: t.clone(), source: tier.source.clone() }));
        }
        if coderd_replicas > 1 {
            notes.push(Note {
                topic: "coderd".into(),
                text: "More than one coderd replica (high availability) needs a Coder Premium license.".into(),
                source: "coder chart values.yaml, coder.replicaCount".into(),
            });
        }
        notes.append(&mut self.notes);

        Ok(Plan {
            format_version: FORMAT_VERSION,
            name: spec.name.clone(),
            spec_file: std::path::Path::new(&spec.file).file_name().map_or_else(|| spec.file.clone(), |f| f.to_string_lossy().into_owned()),
            spec_digest: spec.digest.clone(),
            tier: tier.id.clone(),
            tier_source: tier.source.clone(),
            users,
            max_users: tier.max_users,
            target_api_rps: tier.target_api_rps,
            cloud,
            region: spec.region.clone(),
            access_url: spec.access_url.clone(),
            wildcard_access_url: spec.wildcard_access_url.clone(),
            kubernetes: KubernetesTarget { cluster_name: spec.kubernetes.cluster_name.clone(), version: spec.kubernetes.version.clone() },
            chart: Chart {
                repository: "https://helm.coder.com/v2".into(),
                repository_name: "coder-v2".into(),
                coder_chart: "coder".into(),
                provisioner_chart: "coder-provisioner".into(),
                version: spec.coder.chart_version.clone(),
            },
            pools: vec![coderd_pool, prov_pool, ws_pool],
            coderd,
            provisioners,
            workspaces,
            database,
            observability,
            notes,
            warnings: self.warnings,
            reasons,
        })
    }
}

#[cfg(test)]
mod tests;
