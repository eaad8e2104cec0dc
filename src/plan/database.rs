//! The managed PostgreSQL: class, HA, read replicas, storage (type, size,
//! auto-grow), connections, backups, point-in-time recovery, monitoring.
//! Per-cloud constants come from `catalog/clouds.yaml` (`database:`).

use serde::Serialize;

use super::tier::capacity_check;
use super::{Ctx, Findings, Note, PG_CONN_MAX_OPEN, Reasons, SecretRef, WarningCode, backup, coderd::Coderd, gib};
use crate::catalog::{StorageType, storage_tier_for};
use crate::cloud::Cloud;
use crate::diag::SpecError;
use crate::spec::{AutoBool, AutoCount, DEFAULT_POSTGRES_VERSION};

/// Connections per coderd outside its pool: the pubsub's LISTEN connection.
pub const PG_LISTEN_CONNECTIONS: u32 = 1;
/// Connections of exporters and other tools (postgres exporter, backups):
/// the observability component adds its exporters' connections here.
pub const EXTRA_CONNECTIONS: u32 = 10;
/// The superuser's reserved connections (PostgreSQL's default 3) and room
/// for admins and migrations.
pub const ADMIN_CONNECTIONS: u32 = 20;

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
    /// Days of automated backups kept (`database.backup.retention_days`,
    /// within the cloud's range).
    pub backup_retention_days: u32,
    pub point_in_time_recovery: bool,
    /// How far back point-in-time recovery reaches (Cloud SQL: its days of
    /// transaction logs, at most 7; RDS and Azure: the retention).
    pub point_in_time_recovery_days: u32,
    /// Azure: backups copied to the region's pair (fixed at the server's
    /// creation); `null` on the other clouds.
    pub geo_redundant_backup: Option<bool>,
    /// RDS Enhanced Monitoring interval (AWS only, else `null`).
    pub monitoring_interval_seconds: Option<u32>,
    /// RDS Performance Insights retention (AWS only, else `null`).
    pub performance_insights_retention_days: Option<u32>,
    pub builds_per_day: Option<u32>,
    /// Secret coderd reads its connection URL from (never written by us).
    pub url_secret: SecretRef,
    pub reasons: Reasons,
}

#[allow(clippy::too_many_lines)] // one field after another, each with its reason
pub(crate) fn plan(ctx: &Ctx, coderd: &Coderd, found: &mut Findings) -> Result<Database, SpecError> {
    let (spec, tier, cloud, db_m) = (ctx.spec, ctx.tier, ctx.cloud, ctx.machines.database);
    let rules = ctx.rules.database.as_ref().expect("every cloud has database rules (catalog tests)");
    let coderd_replicas = coderd.replicas;
    capacity_check(found, "database", db_m, tier.database.capacity, &tier.id);
    let db = &spec.database;
    let seed_ha = tier.database.nodes > 1;
    let ha = match db.ha {
        AutoBool::Auto => seed_ha,
        AutoBool::Set(v) => v,
    };
    if seed_ha && !ha {
        found.warn(
            WarningCode::HaDisabled,
            format!(
                "tier {}: the reference architecture asks for a fully-managed HA PostgreSQL ({} nodes); database.ha: false turns it off",
                tier.id, tier.database.nodes
            ),
        );
    }
    // Coder never reads from replicas (coder-facts 9): none unless asked.
    let read_replicas = match db.read_replicas {
        AutoCount::Set(n) => n,
        AutoCount::Auto => 0,
    };
    if read_replicas > 0 {
        if cloud == Cloud::Aws {
            // RDS cannot create a read replica of an instance whose master
            // password it manages (manage_master_user_password), which is how
            // this tree keeps the password out of code and state.
            return Err(SpecError::new(
                &spec.file,
                db.read_replicas_at,
                format!(
                    "database.read_replicas: {read_replicas} on AWS: RDS cannot create a read replica of an instance whose master password it manages in Secrets Manager (manage_master_user_password), and Coder never reads from replicas"
                ),
                "remove database.read_replicas: Coder uses one connection URL (coder/coder #14372); for more database capacity use a larger machine_types.database",
            ));
        }
        found.warn(
            WarningCode::ReadReplicasUnused,
            format!(
                "database.read_replicas: {read_replicas}: Coder takes one connection URL and never reads from replicas (coder/coder #14372; Coder's sizing docs dropped their replica advice as added in error, PR #21077), so they cost without relieving the primary. For more database capacity use a larger machine_types.database."
            ),
        );
    }
    if let (Some(threshold), Some(builds)) = (tier.database.read_replica_builds_per_day, db.builds_per_day)
        && builds > threshold
    {
        found.warn(
            WarningCode::DatabaseBuildsAboveThreshold,
            format!(
                "{builds} workspace builds/day is above the {threshold} at which the reference architecture asks for more database capacity. Read replicas do not help (Coder never reads from them); use a larger class than {} ({} vCPU, {} MiB) via machine_types.database, e.g. twice the vCPU and memory, and watch coderd_db_query_latencies_seconds.",
                db_m.name, db_m.vcpu, db_m.memory_mib
            ),
        );
    }
    let seed_storage = tier.database.storage_gb;
    let storage_gb = match &rules.storage_sizes_gib {
        Some(sizes) => {
            let rounded = sizes.value.iter().copied().find(|&s| s >= seed_storage).unwrap_or(seed_storage);
            if rounded != seed_storage {
                found.warn(
                    WarningCode::AzureStorageRounded,
                    format!(
                        "tier {}: {seed_storage} GB of database storage is not a size Azure Database for PostgreSQL offers; rounded up to {rounded} GB",
                        tier.id
                    ),
                );
            }
            rounded
        }
        None => seed_storage,
    };
    // What connects: each coderd's pool, twice over while a rollout runs old
    // and new pods; one LISTEN connection per coderd (pubsub, outside the
    // pool); exporters and tools; the superuser's reserve and room for admins.
    let need = coderd_replicas * PG_CONN_MAX_OPEN * 2 + coderd_replicas * PG_LISTEN_CONNECTIONS + EXTRA_CONNECTIONS + ADMIN_CONNECTIONS;
    let provider_default = rules.max_connections_default.value.for_memory(db_m.memory_mib);
    let max_connections = need.max(provider_default);
    let mut dbr = Reasons::new();
    dbr.insert(
        "postgres_version",
        if db.postgres_version == DEFAULT_POSTGRES_VERSION {
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
            "tier {}: {} database node(s){}; ha={ha} gives a primary{}",
            tier.id,
            tier.database.nodes,
            if seed_ha { ", the second being the HA standby, not a read replica (Coder never reads from replicas)" } else { "" },
            if ha { " and a standby in another zone" } else { " only" }
        ),
    );
    dbr.insert(
        "read_replicas",
        match db.read_replicas {
            AutoCount::Set(_) => "database.read_replicas in the spec (Coder never reads from them: see the warning)".into(),
            AutoCount::Auto => "none: Coder reads and writes through one connection URL and never uses replicas (coder/coder #14372); the seeds' replica advice was removed from Coder's docs as added in error".into(),
        },
    );
    if let Some(b) = db.builds_per_day {
        dbr.insert("builds_per_day", format!("database.builds_per_day: {b} in the spec"));
    }
    dbr.insert(
        "max_connections",
        format!(
            "the larger of what connects, {coderd_replicas} coderd x {PG_CONN_MAX_OPEN} (CODER_PG_CONN_MAX_OPEN) x 2 (old and new pods during a rollout) + {coderd_replicas} x {PG_LISTEN_CONNECTIONS} LISTEN + {EXTRA_CONNECTIONS} exporters + {ADMIN_CONNECTIONS} admin and superuser reserve = {need}, and the service's default for {} ({} MiB): {provider_default} ({})",
            db_m.name, db_m.memory_mib, rules.max_connections_default.source
        ),
    );
    if let (Some(t), None) = (tier.database.read_replica_builds_per_day, db.builds_per_day) {
        found.notes.push(Note {
            topic: "database".into(),
            text: format!("Set database.builds_per_day: above {t} workspace builds per day the reference architecture asks for more database capacity, and the plan then recommends a larger class (not read replicas, which Coder does not use)."),
            source: tier.source.clone(),
        });
    }
    let backups = backup::plan(ctx)?;
    let backup_retention_days = backups.retention_days;
    dbr.extend(backups.reasons);
    let (sku, sku_reason) = match cloud {
        Cloud::Azure => (
            format!("GP_{}", db_m.name),
            format!("Azure Database for PostgreSQL flexible server names {} in the General Purpose tier GP_{}", db_m.name, db_m.name),
        ),
        _ => (db_m.name.clone(), format!("{cloud} takes the instance class as is")),
    };
    dbr.insert("sku", sku_reason);
    let (storage_type, storage_type_reason) = match &rules.storage_type {
        StorageType::Fixed(t) => (t.value.clone(), t.reason.clone()),
        StorageType::BySize(tiers) => {
            let tier = storage_tier_for(&tiers.value, storage_gb);
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
    let point_in_time_recovery_days = backups.point_in_time_recovery_days;
    let monitoring_interval_seconds = rules.monitoring_interval_seconds.value;
    let performance_insights_retention_days = rules.performance_insights_retention_days.value;
    for (field, value, reason) in [
        ("monitoring_interval_seconds", monitoring_interval_seconds, &rules.monitoring_interval_seconds.reason),
        ("performance_insights_retention_days", performance_insights_retention_days, &rules.performance_insights_retention_days.reason),
    ] {
        dbr.insert(field, if value.is_some() { reason.clone() } else { format!("{cloud}: not used") });
    }
    Ok(Database {
        engine: "postgres",
        postgres_version: db.postgres_version,
        sku,
        storage_type,
        storage_autogrow_limit_gb,
        point_in_time_recovery_days,
        geo_redundant_backup: backups.geo_redundant,
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
    })
}
