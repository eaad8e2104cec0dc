//! The tier tables, machine types and per-cloud capacity rules, as embedded
//! data (`catalog/*.yaml`). No logic here beyond lookups: every number is
//! copied from a named source, and the plan derives from it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::cloud::Cloud;

pub mod impact;
pub mod network;
pub mod regions;
pub mod releases;

const TIERS_YAML: &str = include_str!("../../catalog/tiers.yaml");
const MACHINES_YAML: &str = include_str!("../../catalog/machines.yaml");
const CLOUDS_YAML: &str = include_str!("../../catalog/clouds.yaml");

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PerCloud {
    pub gcp: String,
    pub aws: String,
    pub azure: String,
}

impl PerCloud {
    pub fn get(&self, cloud: Cloud) -> &str {
        match cloud {
            Cloud::Gcp => &self.gcp,
            Cloud::Aws => &self.aws,
            Cloud::Azure => &self.azure,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    pub vcpu: u32,
    pub memory_gb: u32,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CoderdRow {
    pub capacity: Capacity,
    pub replicas: Range,
    pub machine_type: PerCloud,
    pub footnotes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisionerRow {
    pub capacity: Capacity,
    pub nodes: u32,
    pub per_node: u32,
    pub machine_type: PerCloud,
    pub footnotes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceRow {
    pub capacity: Capacity,
    pub nodes: u32,
    pub per_node: u32,
    pub memory_per_user_gb: u32,
    pub max_pods_per_node: u32,
    pub machine_type: PerCloud,
    pub footnotes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseRow {
    pub capacity: Capacity,
    pub nodes: u32,
    pub storage_gb: u32,
    pub instance_class: PerCloud,
    pub read_replica_builds_per_day: Option<u32>,
    pub footnotes: Vec<String>,
}

/// One workspace proxy replica's size and the replicas per site: fixed
/// (`per_users: null`), or `vcpu` / `memory_gb` per `per_users` users of
/// the site (Coder's scale-testing formula).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyRow {
    pub per_users: Option<u32>,
    pub vcpu: u32,
    pub memory_gb: u32,
    pub replicas: u32,
    pub source: String,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub id: String,
    pub max_users: u32,
    pub source: String,
    pub target_api_rps: u32,
    pub high_availability: String,
    pub coderd: CoderdRow,
    pub provisioners: ProvisionerRow,
    pub workspaces: WorkspaceRow,
    pub database: DatabaseRow,
    /// A workspace proxy per site (G3 sizing pages; 1k has no row).
    pub proxy: ProxyRow,
    pub observability: bool,
    pub observability_note: String,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MachineKind {
    Node,
    Database,
    /// Azure sizes name both VMs and flexible-server SKUs.
    Any,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub name: String,
    pub vcpu: u32,
    pub memory_mib: u32,
    pub kind: MachineKind,
    #[serde(default)]
    pub burstable: bool,
    #[serde(default)]
    pub eni_max_pods: Option<u32>,
}

/// `tiered`: a list of `[amount, rate]` bands applied in order (CPU: cores and
/// millicores per core; memory: MiB and percent). `per_pod`: linear in max
/// pods, counted as `pods` says, optionally capped at a share of memory.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReserveRule {
    Tiered {
        tiers: Vec<(f64, f64)>,
    },
    PerPod {
        per_pod_mib: u32,
        base_mib: u32,
        #[serde(default)]
        pods: ReservePods,
        /// AKS: the reserve is at most this percent of the node's memory.
        #[serde(default)]
        cap_percent: Option<f64>,
    },
}

/// Which max pods the managed service computes its reserve from.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReservePods {
    /// The pool's max pods.
    #[default]
    MaxPods,
    /// The machine type's ENI default, even where the kubelet is given
    /// another max pods (EKS nodeadm).
    EniDefault,
}

/// How a pool's max pods follows from what it needs.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MaxPodsRounding {
    /// Up to a power of two (GKE's per-node pod range).
    PowerOfTwo,
    /// The need itself (AKS).
    Exact,
    /// The ENI default where it covers the need, else the need (EKS).
    EniDefault,
}

/// The max-pods rule of a cloud.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MaxPodsRule {
    pub value: MaxPodsRounding,
    /// The smallest max pods the service accepts.
    pub min: u32,
    pub reason: String,
    pub source: String,
}

/// One system daemonset (one pod per node) and what it requests.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Daemonset {
    pub name: String,
    pub cpu_millis: u32,
    pub memory_mib: u32,
    pub source: String,
}

/// What is kept free on every node on top of reserve and daemonsets.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Headroom {
    pub cpu_millis: u32,
    pub memory_mib: u32,
    /// Percent of the machine's nominal memory, added to `memory_mib`.
    pub memory_percent: f64,
    pub reason: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CloudRules {
    pub service: String,
    pub source: String,
    pub cpu_reserve: ReserveRule,
    pub memory_reserve: ReserveRule,
    pub eviction_mib: u32,
    pub max_pods_limit: u32,
    pub max_pods_source: String,
    /// The system daemonsets on every node of this service.
    pub daemonsets: Vec<Daemonset>,
    pub headroom: Headroom,
    pub max_pods: MaxPodsRule,
    pub node_disk: NodeDisk,
    /// The managed PostgreSQL (`null` on-prem: the database is the
    /// primary's, always in a cloud).
    #[serde(default)]
    pub database: Option<DatabaseRules>,
}

/// A constant with why it is what it is (`reason`, shown in the plan) and
/// where that comes from (`source`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sourced<T> {
    pub value: T,
    #[serde(default)]
    pub reason: String,
    pub source: String,
}

/// Every node pool's boot disk.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDisk {
    pub disk_type: String,
    pub type_reason: String,
    pub size_gb: u32,
    pub size_reason: String,
    pub source: String,
}

/// The managed PostgreSQL's per-cloud constants.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseRules {
    pub storage_type: StorageType,
    /// The only storage sizes the service offers (GiB, ascending); `null`:
    /// any size.
    pub storage_sizes_gib: Option<Sourced<Vec<u32>>>,
    /// The service's default `max_connections` for an instance class; the
    /// plan never sets it lower.
    pub max_connections_default: Sourced<MaxConnectionsDefault>,
    /// The default days of automated backups.
    pub backup_retention_days: Sourced<u32>,
    /// `[min, max]` days of backups the service keeps.
    pub backup_retention_range: Sourced<(u32, u32)>,
    /// The default point-in-time window; `null`: the backup retention.
    pub point_in_time_recovery_days: Sourced<Option<u32>>,
    /// `[min, max]` of a window set apart from the retention (Cloud SQL's
    /// transaction log days, which must stay below the kept backups);
    /// `null`: the window is the retention.
    pub point_in_time_recovery_range: Sourced<Option<(u32, u32)>>,
    /// Azure: the default for geo-redundant backups where the region has a
    /// pair; `null`: the cloud has no such setting.
    pub geo_redundant_backup: Sourced<Option<bool>>,
    /// `null`: the service has no such setting.
    pub monitoring_interval_seconds: Sourced<Option<u32>>,
    pub performance_insights_retention_days: Sourced<Option<u32>>,
}

/// How a managed PostgreSQL picks its default `max_connections`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MaxConnectionsDefault {
    /// Instance memory divided by a per-connection size, capped (RDS).
    PerMemory { bytes_per_connection: u64, max: u32 },
    /// `[up to MiB, default]`, ascending (Cloud SQL, Azure).
    ByMemory(Vec<(u32, u32)>),
}

impl MaxConnectionsDefault {
    pub fn for_memory(&self, memory_mib: u32) -> u32 {
        match self {
            MaxConnectionsDefault::PerMemory { bytes_per_connection, max } => {
                let n = u64::from(memory_mib) * 1024 * 1024 / (*bytes_per_connection).max(1);
                u32::try_from(n).unwrap_or(u32::MAX).min(*max)
            }
            MaxConnectionsDefault::ByMemory(rows) => {
                rows.iter().find(|(up_to, _)| memory_mib <= *up_to).or(rows.last()).map_or(100, |(_, n)| *n)
            }
        }
    }
}

/// The database's storage type: one for every size, or per size.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StorageType {
    Fixed(Sourced<String>),
    /// `[up to GiB, performance tier]`, ascending: the tier each size gets.
    BySize(Sourced<Vec<(u32, String)>>),
}

/// The performance tier for `gib` from an ascending `[up to GiB, tier]` table
/// (the last row beyond its end).
pub fn storage_tier_for(tiers: &[(u32, String)], gib: u32) -> &str {
    tiers.iter().find(|(max, _)| gib <= *max).or(tiers.last()).map_or("", |(_, t)| t.as_str())
}

impl CloudRules {
    /// Load-time checks the types cannot express.
    fn validate(&self, cloud: Cloud) -> Result<(), String> {
        let Some(db) = &self.database else { return Err(format!("{cloud}: database rules are missing")) };
        let ascending = |v: &[u32]| v.windows(2).all(|w| w[0] < w[1]);
        if let Some(s) = &db.storage_sizes_gib
            && (s.value.is_empty() || !ascending(&s.value))
        {
            return Err(format!("{cloud}: database.storage_sizes_gib must be non-empty and ascending"));
        }
        if let StorageType::BySize(t) = &db.storage_type
            && (t.value.is_empty() || !ascending(&t.value.iter().map(|(g, _)| *g).collect::<Vec<_>>()))
        {
            return Err(format!("{cloud}: database.storage_type.by_size must be non-empty and ascending"));
        }
        if db.backup_retention_days.value == 0 {
            return Err(format!("{cloud}: backup retention must be positive"));
        }
        let in_range = |v: u32, (min, max): (u32, u32)| min >= 1 && min <= max && (min..=max).contains(&v);
        if !in_range(db.backup_retention_days.value, db.backup_retention_range.value) {
            return Err(format!(
                "{cloud}: database.backup_retention_days must lie in backup_retention_range (whose minimum is at least 1)"
            ));
        }
        match (db.point_in_time_recovery_days.value, db.point_in_time_recovery_range.value) {
            (None, None) => {}
            (Some(d), Some(r)) if in_range(d, r) && d < db.backup_retention_days.value => {}
            _ => {
                return Err(format!(
                    "{cloud}: database.point_in_time_recovery_days and _range are both null, or the days lie in the range and below the retention"
                ));
            }
        }
        self.validate_nodes(cloud.as_str())
    }

    fn validate_nodes(&self, name: &str) -> Result<(), String> {
        if self.node_disk.size_gb == 0 || self.daemonsets.is_empty() || self.max_pods.min == 0 {
            return Err(format!("{name}: node disk size, daemonsets and max pods must be positive"));
        }
        Ok(())
    }

    /// Every `source` of this cloud's constants, for the test that none is empty.
    pub fn sources(&self) -> Vec<(&'static str, &str)> {
        let mut v = vec![
            ("source", self.source.as_str()),
            ("max_pods_source", self.max_pods_source.as_str()),
            ("headroom", self.headroom.source.as_str()),
            ("max_pods", self.max_pods.source.as_str()),
            ("node_disk", self.node_disk.source.as_str()),
        ];
        v.extend(self.daemonsets.iter().map(|d| ("daemonsets[]", d.source.as_str())));
        let Some(db) = &self.database else { return v };
        v.extend([
            ("database.backup_retention_days", db.backup_retention_days.source.as_str()),
            ("database.max_connections_default", db.max_connections_default.source.as_str()),
            ("database.point_in_time_recovery_days", db.point_in_time_recovery_days.source.as_str()),
            ("database.backup_retention_range", db.backup_retention_range.source.as_str()),
            ("database.point_in_time_recovery_range", db.point_in_time_recovery_range.source.as_str()),
            ("database.geo_redundant_backup", db.geo_redundant_backup.source.as_str()),
            ("database.monitoring_interval_seconds", db.monitoring_interval_seconds.source.as_str()),
            ("database.performance_insights_retention_days", db.performance_insights_retention_days.source.as_str()),
        ]);
        v.push((
            "database.storage_type",
            match &db.storage_type {
                StorageType::Fixed(t) => t.source.as_str(),
                StorageType::BySize(t) => t.source.as_str(),
            },
        ));
        if let Some(t) = &db.storage_sizes_gib {
            v.push(("database.storage_sizes_gib", t.source.as_str()));
        }
        v
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PerCloudMap<T> {
    gcp: T,
    aws: T,
    azure: T,
}

/// `clouds.yaml`: the three clouds, and the rules coder-gen assumes for an
/// on-prem cluster it does not provision (a site's).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloudsFile {
    gcp: CloudRules,
    aws: CloudRules,
    azure: CloudRules,
    onprem: CloudRules,
}

/// The whole catalog, parsed once.
#[derive(Debug)]
pub struct Catalog {
    pub tiers: Vec<Tier>,
    machines: BTreeMap<Cloud, Vec<Machine>>,
    clouds: BTreeMap<Cloud, CloudRules>,
    onprem: CloudRules,
}

/// Read one of the embedded catalog files. The YAML is parsed into a JSON
/// value and the types are read from that: the catalog needs no source
/// positions (its errors are build defects, caught by the tests), and going
/// through one `Value` keeps the YAML deserializer from being compiled again
/// for every catalog type (a large share of the crate's build time).
pub(crate) fn from_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let value: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    serde_json::from_value(value).map_err(|e| e.to_string())
}

impl Catalog {
    /// The embedded catalog. Its YAML is checked by this crate's tests, so a
    /// parse failure here is a build defect, not a user error.
    pub fn embedded() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| Catalog::parse().expect("embedded catalog is valid (tested)"))
    }

    fn parse() -> Result<Catalog, String> {
        let tiers: Vec<Tier> = from_yaml(TIERS_YAML).map_err(|e| format!("tiers.yaml: {e}"))?;
        let m: PerCloudMap<Vec<Machine>> = from_yaml(MACHINES_YAML).map_err(|e| format!("machines.yaml: {e}"))?;
        let c: CloudsFile = from_yaml(CLOUDS_YAML).map_err(|e| format!("clouds.yaml: {e}"))?;
        c.gcp.validate(Cloud::Gcp)?;
        c.aws.validate(Cloud::Aws)?;
        c.azure.validate(Cloud::Azure)?;
        c.onprem.validate_nodes("onprem")?;
        Ok(Catalog {
            tiers,
            machines: BTreeMap::from([(Cloud::Gcp, m.gcp), (Cloud::Aws, m.aws), (Cloud::Azure, m.azure)]),
            clouds: BTreeMap::from([(Cloud::Gcp, c.gcp), (Cloud::Aws, c.aws), (Cloud::Azure, c.azure)]),
            onprem: c.onprem,
        })
    }

    pub fn tier(&self, id: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.id == id)
    }

    /// The smallest tier whose user limit is at least `users`.
    pub fn smallest_tier_for(&self, users: u32) -> Option<&Tier> {
        self.tiers.iter().filter(|t| t.max_users >= users).min_by_key(|t| t.max_users)
    }

    pub fn machine(&self, cloud: Cloud, name: &str) -> Option<&Machine> {
        self.machines.get(&cloud)?.iter().find(|m| m.name == name)
    }

    /// Machines of `kind` (or `Any`) on `cloud`, for "did you mean" help.
    pub fn machine_names(&self, cloud: Cloud, kind: MachineKind) -> Vec<&str> {
        self.machines
            .get(&cloud)
            .map(|ms| ms.iter().filter(|m| m.kind == kind || m.kind == MachineKind::Any).map(|m| m.name.as_str()).collect())
            .unwrap_or_default()
    }

    pub fn cloud(&self, cloud: Cloud) -> &CloudRules {
        &self.clouds[&cloud]
    }

    /// What coder-gen assumes of an on-prem cluster's nodes (a site's).
    pub fn onprem(&self) -> &CloudRules {
        &self.onprem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_parses() {
        let c = Catalog::parse().unwrap();
        assert_eq!(c.tiers.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["1k", "2k", "3k"]);
    }

    #[test]
    fn every_named_machine_type_is_in_the_machine_table() {
        let c = Catalog::embedded();
        for t in &c.tiers {
            for cloud in [Cloud::Gcp, Cloud::Aws, Cloud::Azure] {
                for (name, kind) in [
                    (t.coderd.machine_type.get(cloud), MachineKind::Node),
                    (t.provisioners.machine_type.get(cloud), MachineKind::Node),
                    (t.workspaces.machine_type.get(cloud), MachineKind::Node),
                    (t.database.instance_class.get(cloud), MachineKind::Database),
                ] {
                    let m = c.machine(cloud, name).unwrap_or_else(|| panic!("{} {cloud}: {name} missing", t.id));
                    assert!(m.kind == kind || m.kind == MachineKind::Any, "{name} has kind {:?}", m.kind);
                }
            }
        }
    }

    #[test]
    fn seed_numbers_are_recorded_exactly() {
        // Spot-check the seeds' tables (../shared/seeds) so an edit to the data
        // that drifts from them fails here.
        let c = Catalog::embedded();
        let k1 = c.tier("1k").unwrap();
        assert_eq!((k1.target_api_rps, k1.coderd.replicas.min, k1.coderd.replicas.max), (180, 1, 2));
        assert_eq!((k1.provisioners.nodes, k1.provisioners.per_node), (2, 30));
        assert_eq!((k1.workspaces.nodes, k1.workspaces.per_node, k1.workspaces.max_pods_per_node), (64, 16, 256));
        assert_eq!((k1.database.nodes, k1.database.storage_gb), (1, 512));
        assert_eq!(k1.database.instance_class.get(Cloud::Gcp), "db-custom-2-7680");
        let k3 = c.tier("3k").unwrap();
        assert_eq!((k3.target_api_rps, k3.coderd.replicas.max), (550, 4));
        assert_eq!(k3.coderd.capacity, Capacity { vcpu: 8, memory_gb: 32 });
        assert_eq!(k3.coderd.machine_type.get(Cloud::Aws), "t3.xlarge");
        assert_eq!((k3.provisioners.nodes, k3.workspaces.nodes, k3.workspaces.per_node), (8, 256, 12));
        assert_eq!((k3.database.nodes, k3.database.storage_gb, k3.database.read_replica_builds_per_day), (2, 1536, Some(1500)));
        assert!(k3.observability);
        let k2 = c.tier("2k").unwrap();
        assert_eq!((k2.target_api_rps, k2.coderd.replicas.max, k2.provisioners.nodes, k2.workspaces.nodes), (300, 2, 4, 128));
        assert_eq!(k2.database.instance_class.get(Cloud::Aws), "db.t3.xlarge");
    }

    #[test]
    fn every_cloud_constant_has_a_source() {
        let c = Catalog::embedded();
        for cloud in [Cloud::Gcp, Cloud::Aws, Cloud::Azure] {
            for (field, source) in c.cloud(cloud).sources() {
                assert!(!source.trim().is_empty(), "{cloud}: {field} has no source");
            }
        }
        for (field, source) in c.onprem().sources() {
            assert!(!source.trim().is_empty(), "onprem: {field} has no source");
        }
        for t in &c.tiers {
            assert!(!t.proxy.source.trim().is_empty() && !t.proxy.reason.trim().is_empty(), "{}: proxy row", t.id);
        }
    }

    #[test]
    fn azure_storage_tiers_follow_size() {
        let c = Catalog::embedded();
        let StorageType::BySize(tiers) = &c.cloud(Cloud::Azure).database.as_ref().unwrap().storage_type else {
            panic!("Azure storage follows size")
        };
        let tiers = &tiers.value;
        let pick = |g| storage_tier_for(tiers, g);
        assert_eq!(
            [pick(32), pick(33), pick(512), pick(1024), pick(2048), pick(16384), pick(32767)],
            ["P4", "P6", "P20", "P30", "P40", "P70", "P80"]
        );
    }

    #[test]
    fn tier_choice_by_users() {
        let c = Catalog::embedded();
        let pick = |u| c.smallest_tier_for(u).map(|t| t.id.as_str());
        assert_eq!(
            [pick(1), pick(1000), pick(1001), pick(2000), pick(2001), pick(3000), pick(3001)],
            [Some("1k"), Some("1k"), Some("2k"), Some("2k"), Some("3k"), Some("3k"), None]
        );
    }
}
