use super::*;
use crate::spec::Spec;
use crate::test_support::spec_text;

fn plan_for(users: u32, cloud: &str, extra: &str) -> Plan {
    let spec = Spec::parse("spec.yaml", &(spec_text(users, cloud) + extra)).unwrap();
    plan(&spec, Catalog::embedded()).unwrap()
}

fn plan_err(users: u32, extra: &str) -> SpecError {
    let spec = Spec::parse("spec.yaml", &(spec_text(users, "gcp") + extra)).unwrap();
    plan(&spec, Catalog::embedded()).unwrap_err()
}

#[test]
fn tier_boundaries() {
    for (users, tier) in [(1, "1k"), (1000, "1k"), (1001, "2k"), (2000, "2k"), (2001, "3k"), (3000, "3k")] {
        assert_eq!(plan_for(users, "gcp", "").tier, tier, "{users} users");
    }
}

#[test]
fn explicit_tier_smaller_than_needed_is_located_error() {
    let e = plan_err(1500, "tier: 1k\n");
    let first = &e.errors()[0];
    assert_eq!((first.line, first.column), (6, 7));
    assert!(first.help.contains("tier: 2k"), "{}", first.help);
    assert_eq!(plan_for(500, "gcp", "tier: 3k\n").tier, "3k");
}

#[test]
fn seed_machine_types_node_counts_and_database_per_cloud() {
    // (tier users, cloud, coderd, provisioner, workspace, db class, coderd replicas, prov nodes, ws nodes, storage, ha)
    let cases = [
        (1000, "gcp", "n1-standard-2", "t2d-standard-8", "t2d-standard-8", "db-custom-2-7680", 2, 2, 64, 512, false),
        (1000, "aws", "t3.large", "t3.2xlarge", "t3.2xlarge", "db.t3.large", 2, 2, 64, 512, false),
        (1000, "azure", "Standard_D2s_v3", "Standard_D8s_v3", "Standard_D8s_v3", "Standard_D2s_v3", 2, 2, 64, 512, false),
        (2000, "gcp", "n1-standard-4", "t2d-standard-8", "t2d-standard-8", "db-custom-4-15360", 2, 4, 128, 1024, false),
        (2000, "aws", "t3.xlarge", "t3.2xlarge", "t3.2xlarge", "db.t3.xlarge", 2, 4, 128, 1024, false),
        (2000, "azure", "Standard_D4s_v3", "Standard_D8s_v3", "Standard_D8s_v3", "Standard_D4s_v3", 2, 4, 128, 1024, false),
        (3000, "gcp", "n1-standard-4", "t2d-standard-8", "t2d-standard-8", "db-custom-8-30720", 4, 8, 256, 1536, true),
        (3000, "aws", "t3.xlarge", "t3.2xlarge", "t3.2xlarge", "db.t3.2xlarge", 4, 8, 256, 1536, true),
        (3000, "azure", "Standard_D4s_v3", "Standard_D8s_v3", "Standard_D8s_v3", "Standard_D8s_v3", 4, 8, 256, 2048, true),
    ];
    for (users, cloud, coderd, prov, ws, db, replicas, pnodes, wnodes, storage, ha) in cases {
        let p = plan_for(users, cloud, "");
        let ctx = format!("{users} {cloud}");
        assert_eq!(p.pool(Role::Coderd).machine_type, coderd, "{ctx}");
        assert_eq!(p.pool(Role::Provisioner).machine_type, prov, "{ctx}");
        assert_eq!(p.pool(Role::Workspace).machine_type, ws, "{ctx}");
        assert_eq!(p.database.instance_class, db, "{ctx}");
        assert_eq!(p.coderd.replicas, replicas, "{ctx}");
        assert_eq!(p.pool(Role::Coderd).max_nodes, replicas, "{ctx}");
        assert_eq!(p.pool(Role::Provisioner).max_nodes, pnodes, "{ctx}");
        assert_eq!(p.total_provisioners(), pnodes * 30, "{ctx}");
        assert_eq!(p.pool(Role::Workspace).max_nodes, wnodes, "{ctx}");
        assert_eq!(p.database.storage_gb, storage, "{ctx}");
        assert_eq!(p.database.ha, ha, "{ctx}");
        assert_eq!(p.database.nodes, if ha { 2 } else { 1 }, "{ctx}");
    }
}

#[test]
fn pods_fit_their_nodes() {
    for cloud in ["gcp", "aws", "azure"] {
        for users in [50, 1000, 2000, 3000] {
            let p = plan_for(users, cloud, "");
            let c = p.pool(Role::Coderd);
            assert!(p.coderd.resources.requests.cpu_millis <= c.schedulable.cpu_millis);
            assert!(p.coderd.resources.requests.memory_mib <= c.schedulable.memory_mib);
            let pp = p.pool(Role::Provisioner);
            let per_node = p.total_provisioners().div_ceil(pp.max_nodes);
            let r = p.provisioners[0].resources.requests;
            assert!(r.cpu_millis * per_node <= pp.schedulable.cpu_millis, "{cloud} {users}");
            assert!(r.memory_mib * per_node <= pp.schedulable.memory_mib, "{cloud} {users}");
            let w = p.pool(Role::Workspace);
            let tier = Catalog::embedded().tier(&p.tier).unwrap();
            let d = p.workspaces[0].default_request;
            assert!(d.memory_mib * tier.workspaces.per_node <= w.schedulable.memory_mib, "{cloud} {users}");
            assert!(d.cpu_millis * tier.workspaces.per_node <= w.schedulable.cpu_millis, "{cloud} {users}");
            assert!(d.memory_mib <= 2048);
        }
    }
}

#[test]
fn seed_self_contradictions_are_warned() {
    let codes = |p: &Plan| p.warnings.iter().map(|w| w.code.as_str()).collect::<Vec<_>>();
    let p3 = plan_for(3000, "gcp", "");
    assert!(codes(&p3).contains(&"seed-capacity-mismatch"));
    assert!(!codes(&p3).contains(&"max-pods-clamped"), "GKE allows 256");
    // 16 x 2 GB on a 32 GB node leaves no room for the system reserve.
    assert!(codes(&plan_for(1000, "gcp", "")).contains(&"workspace-memory-headroom"));
    // 12 per node at 3k fits.
    assert!(!codes(&p3).contains(&"workspace-memory-headroom"));
    let aws = plan_for(2000, "aws", "");
    assert!(codes(&aws).contains(&"burstable-machine-type"));
    // Max pods is sized to need: 16 workspaces + 16 spare + 5 daemonsets fit
    // the ENI default of t3.2xlarge (58), so no clamp and no override.
    assert!(!codes(&aws).contains(&"max-pods-clamped"));
    assert_eq!(aws.pool(Role::Workspace).max_pods, 58);
    let az = plan_for(3000, "azure", "");
    assert!(codes(&az).contains(&"azure-storage-rounded"));
    // Room for 2 x 16 workspaces (the same in every tier) + 6 daemonsets,
    // not the seed's ceiling of 256.
    assert_eq!(az.pool(Role::Workspace).max_pods, 38);
    assert_eq!(az.pool(Role::Workspace).max_pods, plan_for(1000, "azure", "").pool(Role::Workspace).max_pods);
    // Non-burstable overrides silence the burstable warning.
    let m5 = plan_for(
        2000,
        "aws",
        "machine_types:\n  coderd: m5.xlarge\n  provisioner: c5.2xlarge\n  workspace: m5.2xlarge\n  database: db.m5.xlarge\n",
    );
    assert!(!codes(&m5).contains(&"burstable-machine-type"));
    assert_eq!(m5.pool(Role::Coderd).machine_type, "m5.xlarge");
}

#[test]
fn unknown_machine_type_is_located_and_lists_choices() {
    let e = plan_err(500, "machine_types:\n  workspace: n9-huge\n");
    let first = &e.errors()[0];
    assert_eq!((first.line, first.column), (7, 14));
    assert!(first.help.contains("t2d-standard-8"));
    // A database class is not a node type.
    assert!(plan_err(500, "machine_types:\n  coderd: db-custom-2-7680\n").errors()[0].message.contains("not a known gcp node type"));
}

#[test]
fn provisioners_are_shared_across_namespaces_and_coderd_runs_none() {
    let p = plan_for(
        2500,
        "gcp",
        "provisioners:\n  - namespace: prov-a\n  - namespace: prov-b\n    tags: { cloud: aws }\n  - namespace: prov-c\n",
    );
    assert_eq!(p.provisioners.iter().map(|g| g.replicas).collect::<Vec<_>>(), [80, 80, 80]);
    assert_eq!(p.coderd.provisioner_daemons, 0);
    assert_eq!(p.provisioners[1].tags["cloud"], "aws");
}

#[test]
fn database_as_coder_uses_it() {
    let codes = |p: &Plan| p.warnings.iter().map(|w| w.code).collect::<Vec<_>>();
    // Above the threshold: a warning for a larger class, never a replica.
    for (users, builds) in [(3000, 1501), (2000, 501)] {
        let p = plan_for(users, "gcp", &format!("database:\n  builds_per_day: {builds}\n"));
        assert_eq!(p.database.read_replicas, 0);
        let w = p.warnings.iter().find(|w| w.code == WarningCode::DatabaseBuildsAboveThreshold).expect("warned");
        assert!(w.message.contains("larger class") && w.message.contains("Read replicas do not help"), "{}", w.message);
    }
    let at = plan_for(3000, "gcp", "database:\n  builds_per_day: 1500\n");
    assert!(!codes(&at).contains(&WarningCode::DatabaseBuildsAboveThreshold));
    // The 3k second node is the HA standby.
    assert_eq!((at.database.nodes, at.database.read_replicas), (2, 0));
    assert!(at.database.reasons["nodes"].contains("HA standby"));
    // Replicas only when asked, with a warning.
    let asked = plan_for(900, "gcp", "database:\n  read_replicas: 2\n");
    assert_eq!(asked.database.read_replicas, 2);
    assert!(codes(&asked).contains(&WarningCode::ReadReplicasUnused));
    assert!(!codes(&plan_for(900, "azure", "")).contains(&WarningCode::ReadReplicasUnused));
}

#[test]
fn aws_read_replicas_of_a_managed_password_instance_are_a_located_error() {
    let text = spec_text(900, "aws") + "database:\n  read_replicas: 1\n";
    let spec = Spec::parse("spec.yaml", &text).unwrap();
    let e = plan(&spec, Catalog::embedded()).unwrap_err();
    let first = &e.errors()[0];
    assert_eq!((first.line, first.column), (7, 18));
    assert!(first.message.contains("manage_master_user_password"), "{}", first.message);
    // 0 is fine.
    let ok = spec_text(900, "aws") + "database:\n  read_replicas: 0\n";
    assert!(plan(&Spec::parse("spec.yaml", &ok).unwrap(), Catalog::embedded()).is_ok());
}

#[test]
fn max_connections_is_never_below_the_providers_default_and_covers_coderd() {
    use super::database::{ADMIN_CONNECTIONS, EXTRA_CONNECTIONS, PG_LISTEN_CONNECTIONS};
    let c = Catalog::embedded();
    for cloud in ["gcp", "aws", "azure"] {
        for users in [50, 1000, 2000, 3000] {
            let p = plan_for(users, cloud, "");
            let d = &p.database;
            let r = p.coderd.replicas;
            let need = r * PG_CONN_MAX_OPEN * 2 + r * PG_LISTEN_CONNECTIONS + EXTRA_CONNECTIONS + ADMIN_CONNECTIONS;
            assert!(d.max_connections >= need, "{cloud} {users}");
            let m = c.machine(p.cloud, &d.instance_class).unwrap();
            let default = c.cloud(p.cloud).database.as_ref().unwrap().max_connections_default.value.for_memory(m.memory_mib);
            assert_eq!(d.max_connections, need.max(default), "{cloud} {users}");
            assert!(d.max_connections > 130, "{cloud} {users}: above every provider's default for these classes");
        }
    }
    // RDS: db.t3.large (8 GiB) = 8 GiB / 9531392 bytes.
    let aws = plan_for(500, "aws", "");
    assert_eq!(aws.database.max_connections, 901);
    // Azure D2s_v3: 859 (the flexible server's table).
    assert_eq!(plan_for(500, "azure", "").database.max_connections, 859);
}

#[test]
fn observability_auto_follows_the_tier() {
    assert!(plan_for(3000, "gcp", "").observability.enabled);
    assert!(!plan_for(2000, "gcp", "").observability.enabled);
    assert!(plan_for(2000, "gcp", "observability: true\n").observability.enabled);
    let off = plan_for(3000, "gcp", "observability: false\n");
    assert!(off.warnings.iter().any(|w| w.code == WarningCode::ObservabilityDisabled));
}

#[test]
fn small_deployments_run_one_coderd() {
    assert_eq!(plan_for(100, "gcp", "").coderd.replicas, 1);
    assert_eq!(plan_for(101, "gcp", "").coderd.replicas, 2);
}

/// Every number in the JSON plan has a reason in the nearest enclosing
/// object's `reasons`, keyed by the field it sits under.
#[test]
fn every_number_has_a_reason() {
    fn walk(
        v: &serde_json::Value,
        reasons: Option<&serde_json::Map<String, serde_json::Value>>,
        field: Option<&str>,
        path: &str,
        missing: &mut Vec<String>,
    ) {
        match v {
            serde_json::Value::Number(_) => {
                let ok = matches!((reasons, field), (Some(r), Some(f)) if r.contains_key(f));
                if !ok && !path.ends_with(".format_version") {
                    missing.push(path.to_string());
                }
            }
            serde_json::Value::Object(m) => {
                let own = m.get("reasons").and_then(|r| r.as_object());
                for (k, child) in m {
                    if k == "reasons" {
                        continue;
                    }
                    let (r, f) = if own.is_some() { (own, Some(k.as_str())) } else { (reasons, field) };
                    walk(child, r, f, &format!("{path}.{k}"), missing);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, reasons, field, &format!("{path}[{i}]"), missing);
                }
            }
            _ => {}
        }
    }
    for (users, cloud) in [(50, "gcp"), (2000, "aws"), (3000, "azure")] {
        let p = plan_for(users, cloud, "database:\n  builds_per_day: 2000\n");
        let json = serde_json::to_value(&p).unwrap();
        let mut missing = Vec::new();
        walk(&json, None, None, "", &mut missing);
        assert!(missing.is_empty(), "numbers without a reason: {missing:?}");
    }
}

#[test]
fn more_workspace_namespaces_than_users_is_an_error() {
    let e = plan_err(1, "workspaces:\n  - namespace: a\n  - namespace: b\n");
    assert_eq!(e.errors()[0].line, 2);
}

/// The fields Terraform needs beyond the seed tables.
#[test]
fn terraform_fields_per_cloud() {
    let az = plan_for(3000, "azure", "");
    assert_eq!(az.database.sku, "GP_Standard_D8s_v3");
    assert_eq!(az.database.storage_gb, 2048, "1.5 TB is not an Azure size");
    assert_eq!(az.database.storage_type, "P40");
    assert_eq!(az.database.storage_autogrow_limit_gb, None);
    assert!(az.pools.iter().all(|p| p.default_max_pods.is_none() && p.disk_type == "Managed"));
    let aws = plan_for(1000, "aws", "");
    assert_eq!(aws.database.sku, "db.t3.large");
    assert_eq!(aws.database.storage_type, "gp3");
    assert_eq!(aws.database.storage_autogrow_limit_gb, Some(1024));
    assert_eq!(aws.database.monitoring_interval_seconds, Some(60));
    assert_eq!(aws.pool(Role::Workspace).default_max_pods, Some(58), "t3.2xlarge ENI table");
    assert_eq!(aws.pool(Role::Coderd).default_max_pods, Some(35), "t3.large ENI table");
    let gcp = plan_for(2000, "gcp", "");
    assert_eq!(gcp.database.sku, "db-custom-4-15360");
    assert_eq!(gcp.database.storage_type, "PD_SSD");
    assert_eq!(gcp.database.point_in_time_recovery_days, 7, "Cloud SQL keeps at most 7 days of logs");
    assert_eq!(gcp.database.monitoring_interval_seconds, None);
    assert_eq!(gcp.pool(Role::Workspace).disk_type, "pd-balanced");
}

/// `database.backup` mapped onto what each cloud keeps: Cloud SQL's window
/// is its transaction log days (at most 7, below the kept backups), RDS's and
/// Azure's is the retention; Azure's geo-redundant copy only where the region
/// has a pair.
#[test]
fn backups_per_cloud() {
    let days = |p: &Plan| (p.database.backup_retention_days, p.database.point_in_time_recovery_days, p.database.geo_redundant_backup);
    assert_eq!(days(&plan_for(1000, "gcp", "")), (14, 7, None));
    assert_eq!(days(&plan_for(1000, "aws", "")), (14, 14, None));
    assert_eq!(days(&plan_for(1000, "azure", "")), (14, 14, Some(true)), "eastus has a pair");
    let b = |r: &str| format!("database:\n  backup:\n{r}");
    assert_eq!(days(&plan_for(1000, "gcp", &b("    retention_days: 30\n    pitr_days: 3\n"))), (30, 3, None));
    assert_eq!(days(&plan_for(1000, "gcp", &b("    retention_days: 4\n"))), (4, 3, None), "the window stays below the kept backups");
    assert_eq!(days(&plan_for(1000, "aws", &b("    pitr_days: 35\n"))), (35, 35, None), "RDS: the window is the retention");
    assert_eq!(days(&plan_for(1000, "azure", &b("    retention_days: 7\n    geo_redundant: false\n"))), (7, 7, Some(false)));
    let unpaired = Spec::parse("spec.yaml", &spec_text(1000, "azure").replace("eastus", "polandcentral")).unwrap();
    let p = plan(&unpaired, Catalog::embedded()).unwrap();
    assert_eq!(days(&p), (14, 14, Some(false)), "no pair: no geo-redundant backup");
    assert!(p.database.reasons["geo_redundant_backup"].contains("no region pair"), "{}", p.database.reasons["geo_redundant_backup"]);
    let p = plan_for(1000, "gcp", "");
    for k in ["backup_retention_days", "point_in_time_recovery_days"] {
        assert!(p.database.reasons.contains_key(k), "{k}");
    }
}

/// One version for every Coder release, its support in the release
/// calendar (a warning once out of support, a note while only patched for
/// security or behind its line's latest patch), coderd scaled to 0 before
/// the upgrade when it runs several replicas, provisioners after coderd.
#[test]
fn upgrade_support_order_and_scale_down() {
    let p = plan_for(3000, "gcp", "");
    let u = &p.upgrade;
    assert_eq!(u.chart_version, p.chart.version);
    assert_eq!(u.release_notes, "https://github.com/coder/coder/releases/tag/v2.33.6");
    assert_eq!((u.support.as_str(), u.latest_patch.as_deref()), ("security", Some("2.33.11")));
    assert!(p.notes.iter().any(|n| n.topic == "upgrades" && n.text.contains("v2.33.11")), "the default pin is behind its line");
    assert!(!p.warnings.iter().any(|w| w.code == WarningCode::ChartOutOfSupport));
    assert_eq!(u.scale_coderd_to, Some(0), "HA: a planned outage");
    assert_eq!(u.after_coderd.iter().map(|r| r.namespace.as_str()).collect::<Vec<_>>(), ["coder-provisioners"]);
    for k in ["chart_version", "support", "scale_coderd_to", "after_coderd"] {
        assert!(u.reasons.contains_key(k), "{k}");
    }
    assert_eq!(plan_for(80, "gcp", "").upgrade.scale_coderd_to, None, "one coderd");
    let old = plan_for(1000, "gcp", "coder:\n  chart_version: \"2.30.3\"\n");
    assert_eq!(old.upgrade.support, "out-of-support");
    assert!(old.warnings.iter().any(|w| w.code == WarningCode::ChartOutOfSupport && w.message.contains("2.30.3")));
    let latest = plan_for(1000, "gcp", "coder:\n  chart_version: \"2.34.5\"\n");
    assert_eq!(latest.upgrade.support, "stable");
    assert!(!latest.notes.iter().any(|n| n.topic == "upgrades"), "the stable line's latest patch: nothing to say");
    assert_eq!(plan_for(1000, "gcp", "coder:\n  chart_version: \"2.40.0\"\n").upgrade.support, "unknown");
    let community = plan_for(1000, "gcp", "coder:\n  license: community\n");
    assert!(community.upgrade.after_coderd.is_empty());
}

#[test]
fn coderd_rollout_replaces_one_at_a_time_below_four_replicas() {
    // Every coderd fills a node of a fixed pool: the default rolling update
    // (0 unavailable below 4 replicas) could never place its surge pod.
    for (users, replicas) in [(80, 1), (1000, 2), (2000, 2)] {
        let p = plan_for(users, "gcp", "");
        assert_eq!(p.coderd.replicas, replicas);
        assert_eq!(p.coderd.rollout, Some(Rollout { max_surge: 0, max_unavailable: 1 }), "{users}");
        assert_eq!(p.pool(Role::Coderd).max_nodes, replicas, "the seed's node count stays");
    }
    assert_eq!(plan_for(3000, "gcp", "").coderd.rollout, None);
}

#[test]
fn decisions_renderers_read_are_in_the_plan() {
    // One coderd (small deployment): no HA; several: HA.
    let small = plan_for(50, "gcp", "");
    assert_eq!((small.coderd.replicas, small.coderd.high_availability), (1, false));
    let big = plan_for(3000, "aws", "");
    assert_eq!((big.coderd.replicas, big.coderd.high_availability), (4, true));
    assert!(!big.coderd.builtin_provisioners && big.coderd.provisioner_daemons == 0);
    // EKS: every seed pool's need fits the ENI default, so neither prefix
    // delegation nor an override; GKE/AKS set max pods on the pool.
    assert!(big.pools.iter().all(|p| !p.needs_prefix_delegation && !p.override_max_pods));
    assert!(small.pools.iter().all(|p| !p.needs_prefix_delegation && !p.override_max_pods));
    let m5 = plan_for(1000, "aws", "machine_types:\n  workspace: m5.4xlarge\n");
    let ws = m5.pool(Role::Workspace);
    assert!(ws.override_max_pods && !ws.needs_prefix_delegation, "234 ENI pods > the 110 limit");
    // A pool that needs more than the ENI gives: m5.large (29) for 30
    // provisioners needs prefix delegation.
    let pd = plan_for(1000, "aws", "machine_types:\n  provisioner: m5.large\n");
    let prov = pd.pool(Role::Provisioner);
    assert!(prov.needs_prefix_delegation && prov.override_max_pods && prov.max_pods > 29, "{}", prov.max_pods);
}

#[test]
fn every_pool_fits_in_every_tier_and_cloud() {
    for cloud in ["gcp", "aws", "azure"] {
        for users in [50, 1000, 2000, 3000] {
            let p = plan_for(users, cloud, "");
            for pool in &p.pools {
                let ctx = format!("{cloud} {users} {}", pool.role.as_str());
                assert!(pool.fits, "{ctx}: {}", pool.reasons["fits"]);
                let used = pool.requested_per_node.plus(pool.daemonsets).plus(pool.headroom);
                assert!(used.within(pool.allocatable), "{ctx}");
                assert!(pool.pods_per_node + u32::try_from(pool.daemonset_list.len()).unwrap() <= pool.max_pods, "{ctx}");
                assert!(pool.max_pods <= 256 && pool.max_pods >= pool.max_pods_need.min(110), "{ctx}");
                assert!(!pool.needs_prefix_delegation, "{ctx}: seed pools fit the ENI default");
            }
        }
    }
}

#[test]
fn max_pods_follows_each_clouds_rule() {
    // GKE: the need rounded up to a power of two (same pod range).
    let g = plan_for(1000, "gcp", "");
    assert!(g.pools.iter().all(|p| p.max_pods.is_power_of_two() && p.max_pods >= p.max_pods_need));
    // AKS: the need itself (every slot costs reserve memory and an IP).
    let a = plan_for(1000, "azure", "");
    assert!(a.pools.iter().all(|p| p.max_pods == p.max_pods_need.max(10)));
    // EKS: the ENI default where it covers the need.
    let e = plan_for(1000, "aws", "");
    assert!(e.pools.iter().all(|p| Some(p.max_pods) == p.default_max_pods));
}

#[test]
fn provisioners_below_one_gib_are_warned_with_how_many_fit() {
    let p = plan_for(1000, "aws", "machine_types:\n  provisioner: c5.2xlarge\n");
    let w = p.warnings.iter().find(|w| w.code == WarningCode::ProvisionerMemoryBelowSizing).expect("30 on 16 GiB is below 1 GiB each");
    let fit = p.pool(Role::Provisioner).schedulable.memory_mib / 1024;
    assert!(w.message.contains(&format!("only {fit} fit per node")), "{}", w.message);
    assert!(fit < 30);
    // 30 per node on a 64 GiB machine get more than 1 GiB: no warning.
    let big = plan_for(1000, "aws", "machine_types:\n  provisioner: m5.4xlarge\n");
    assert!(big.provisioners[0].resources.requests.memory_mib >= 1024);
    assert!(!big.warnings.iter().any(|w| w.code == WarningCode::ProvisionerMemoryBelowSizing));
}

#[test]
fn a_pool_that_does_not_fit_is_a_located_error() {
    // No catalog machine is too small for its seed pods, so the check is
    // exercised on a plan whose pool is marked as not fitting.
    let text = spec_text(500, "azure") + "machine_types:\n  provisioner: Standard_D2s_v3\n";
    let spec = Spec::parse("spec.yaml", &text).unwrap();
    let mut p = plan(&spec, Catalog::embedded()).unwrap();
    assert!(check_fit(&spec, &p.pools).is_ok());
    for pool in &mut p.pools {
        pool.fits = pool.role == Role::Coderd;
    }
    let e = check_fit(&spec, &p.pools).unwrap_err();
    let errs = e.errors();
    assert_eq!(errs.len(), 2, "every problem at once");
    assert_eq!((errs[0].line, errs[0].column), (7, 16), "at the provisioner override");
    assert!(errs[0].help.contains("machine_types.provisioner"), "{}", errs[0].help);
    assert_eq!((errs[1].line, errs[1].column), (2, 8), "no workspace override: at users");
}

#[test]
fn credentials_per_cloud_and_exporter_with_observability() {
    let aws = plan_for(3000, "aws", "");
    assert_eq!(aws.credentials.coder_role, "coderd", "the RDS master user is `coder`");
    assert_eq!(aws.credentials.admin.user.as_deref(), Some("coder"), "aws_db_instance.username: ForceNew, never changed");
    assert_eq!(aws.credentials.admin.source, "aws-secrets-manager");
    assert_eq!(aws.credentials.admin.host_output, "database_address");
    let e = aws.credentials.exporter.as_ref().unwrap();
    assert_eq!((e.role.as_str(), e.secret.key.as_str(), e.connection_limit), ("coder_observability", "PGPASSWORD", 5));
    assert_eq!(aws.credentials.setup_pod.image, "postgres:16-alpine");
    assert_eq!(aws.credentials.manager, "kubectl");
    assert!(aws.credentials.external_secrets.is_none());
    let gcp = plan_for(800, "gcp", "");
    assert_eq!(gcp.credentials.admin.user.as_deref(), Some("postgres"));
    assert!(gcp.credentials.exporter.is_none(), "observability is off below 3k");
    let azure = plan_for(800, "azure", "secrets:\n  manager: external-secrets\n  store: kv\n  store_kind: SecretStore\n");
    assert_eq!(azure.credentials.admin.host_output, "database_fqdn");
    assert_eq!(azure.credentials.admin.source, "azure-key-vault");
    let eso = azure.credentials.external_secrets.as_ref().unwrap();
    assert_eq!((eso.store.as_str(), eso.store_kind), ("kv", "SecretStore"));
    let keys: Vec<&str> = eso.secrets.iter().map(|s| s.remote_key.as_str()).collect();
    assert_eq!(keys, ["acme-coder-db-url", "acme-provisioner-key-coder-provisioners"]);
}

/// Coder never logs in as the admin: on every cloud, with and without the
/// exporter, its role differs from the admin user the tree fixes (Azure's is
/// a Terraform variable whose validation refuses Coder's role).
#[test]
fn coder_role_is_never_the_admin() {
    for cloud in ["gcp", "aws", "azure"] {
        for users in [800, 3000] {
            let p = plan_for(users, cloud, "");
            let cr = &p.credentials;
            assert_ne!(Some(cr.coder_role.as_str()), cr.admin.user.as_deref(), "{cloud} {users}");
            assert!(cr.reasons.contains_key("coder_role") && cr.reasons.contains_key("admin"), "{cloud}");
            if let Some(e) = &cr.exporter {
                assert_ne!(e.role, cr.coder_role);
                assert_ne!(Some(e.role.as_str()), cr.admin.user.as_deref());
            }
        }
    }
    assert!(plan_for(800, "azure", "").credentials.admin.user.is_none(), "read from Terraform at run time");
}

/// pg_monitor on PostgreSQL 16+: required where the cloud's admin may grant
/// it (RDS, Azure), tried where no source says so (Cloud SQL); always
/// required before 16.
#[test]
fn pg_monitor_grant_per_cloud_and_version() {
    for (cloud, version, grant) in
        [("aws", 16, "required"), ("azure", 17, "required"), ("gcp", 16, "if-allowed"), ("gcp", 17, "if-allowed"), ("gcp", 15, "required")]
    {
        let p = plan_for(3000, cloud, &format!("database:\n  postgres_version: {version}\n"));
        let cr = &p.credentials;
        assert_eq!(cr.exporter.as_ref().unwrap().pg_monitor_grant, grant, "{cloud} {version}");
        assert!(
            cr.reasons["pg_monitor_grant"].starts_with(grant.split('-').next().unwrap()),
            "{cloud} {version}: {}",
            cr.reasons["pg_monitor_grant"]
        );
    }
}

#[test]
fn observability_stack_and_verification_follow_the_tier() {
    let p = plan_for(3000, "gcp", "");
    let s = p.observability.stack.as_ref().unwrap();
    assert_eq!((s.namespace.as_str(), s.version.as_str(), s.retention_days), ("coder-observability", "0.6.2", 180));
    assert!(s.volume_gib > s.retention_size_gb && s.retention_size_gb >= 10);
    assert!(p.observability.collect_agent_stats && p.observability.prometheus_operator.is_none());
    assert_eq!(p.verify.target_api_rps, 550);
    assert_eq!(p.verify.workspaces, 3000);
    assert_eq!(p.verify.concurrency, p.total_provisioners());
    assert_eq!(p.verify.prometheus_url.as_deref(), Some("http://prometheus.coder-observability.svc"));
    let small = plan_for(10, "gcp", "");
    assert!(small.observability.stack.is_none() && small.verify.prometheus_url.is_none());
    assert_eq!((small.verify.target_api_rps, small.verify.workspaces, small.verify.concurrency), (180, 10, 10));
    let opt_in = plan_for(800, "gcp", "observability:\n  enabled: true\n  chart_version: \"0.6.1\"\n");
    assert_eq!(opt_in.observability.stack.as_ref().map(|s| s.version.as_str()), Some("0.6.1"));
    let off = plan_for(3000, "gcp", "observability: false\n");
    assert!(off.warnings.iter().any(|w| w.code == WarningCode::ObservabilityDisabled));
    assert!(off.observability.stack.is_none() && off.credentials.exporter.is_none());
}

/// Prefix delegation is one cluster setting: needed when any pool's max pods
/// exceeds its ENI default, and said once for the tree, with the pools.
#[test]
fn prefix_delegation_is_a_tree_level_fact_with_its_reason() {
    let p = plan_for(1000, "aws", "machine_types:\n  workspace: m5.4xlarge\n  provisioner: m5.large\n");
    let needing: Vec<Role> = p.pools.iter().filter(|pool| pool.needs_prefix_delegation).map(|pool| pool.role).collect();
    assert_eq!(needing, [Role::Provisioner]);
    assert!(p.prefix_delegation.needed);
    assert!(p.prefix_delegation.reason.starts_with("the provisioner pool allows more pods per node"), "{}", p.prefix_delegation.reason);
    for cloud in ["aws", "gcp", "azure"] {
        let p = plan_for(1000, cloud, "");
        assert_eq!(p.prefix_delegation.needed, p.pools.iter().any(|pool| pool.needs_prefix_delegation), "{cloud}");
        assert!(!p.prefix_delegation.reason.is_empty());
    }
    // Not a plan JSON key: each pool carries its own decision and reason.
    assert!(serde_json::to_value(&p).unwrap().get("prefix_delegation").is_none());
}

/// The plan's controller has no `none`: a spec with `controller: none` has
/// no GitOps in its plan at all; the others keep their JSON spelling.
#[test]
fn gitops_controller_is_flux_or_argocd() {
    assert!(plan_for(1000, "gcp", "gitops:\n  controller: none\n").gitops.is_none());
    for (name, controller) in [("flux", Controller::Flux), ("argocd", Controller::Argocd)] {
        let p = plan_for(1000, "gcp", &format!("gitops:\n  controller: {name}\n  repo_url: https://git.acme.com/infra.git\n"));
        let g = p.gitops.as_ref().unwrap();
        assert_eq!((g.controller, g.controller.as_str()), (controller, name));
        assert_eq!(serde_json::to_value(&p).unwrap()["gitops"]["controller"], name);
    }
}
