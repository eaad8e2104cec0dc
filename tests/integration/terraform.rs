//! The Terraform of every example, parsed (hcl-edit) and checked against the
//! Plan it came from and the providers' published schemas. `.ci/run` adds
//! `terraform fmt`, `terraform validate` (AWS) and checkov on the goldens.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use coder_gen::plan::{Plan, Pool, Role};
use coder_gen::spec::Cloud;
use coder_gen::tree::Tree;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Block, Body};

use crate::util::{examples, repo_root, yaml_files};

/// Specs the Terraform checks add to the examples (read replicas on every
/// cloud, HA off); `.ci/check-terraform.sh` renders them too.
fn variants() -> Vec<std::path::PathBuf> {
    yaml_files(&repo_root().join("tests/data/terraform-variants"))
}

/// (spec name, plan, tree) for every example and variant.
fn rendered() -> Vec<(String, Plan, Tree)> {
    examples()
        .into_iter()
        .chain(variants())
        .collect::<Vec<_>>()
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(p).unwrap();
            // The path, not the name: override files are read beside the spec.
            let plan = coder_gen::plan_from_str(&p.display().to_string(), &text).unwrap();
            let tree = coder_gen::render::render(&plan);
            (name, plan, tree)
        })
        .collect()
}

fn tf_files(tree: &Tree) -> Vec<(&str, &str)> {
    tree.iter()
        .filter(|(p, _)| p.starts_with("terraform/") && p.ends_with(".tf"))
        .map(|(p, b)| (p, std::str::from_utf8(b).expect("utf-8")))
        .collect()
}

/// Every .tf of a cloud, parsed and merged into one body (as Terraform does).
fn module(tree: &Tree) -> Body {
    let mut all = Body::new();
    for (path, text) in tf_files(tree) {
        let body = hcl_edit::parser::parse_body(text).unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        for s in body.into_iter() {
            all.push(s);
        }
    }
    all
}

fn resources<'a>(body: &'a Body, kind: &'a str) -> Vec<&'a Block> {
    body.get_blocks("resource").filter(move |b| b.labels.first().is_some_and(|l| l.as_str() == kind)).collect()
}

fn resource<'a>(body: &'a Body, kind: &str, name: &str) -> &'a Block {
    body.get_blocks("resource")
        .find(|b| b.labels.len() == 2 && b.labels[0].as_str() == kind && b.labels[1].as_str() == name)
        .unwrap_or_else(|| panic!("no resource {kind}.{name}"))
}

/// Attribute at a path of nested blocks (`["node_config", "machine_type"]`).
fn attr<'a>(block: &'a Block, path: &[&'a str]) -> &'a Expression {
    let (last, blocks) = path.split_last().unwrap();
    let mut body = &block.body;
    for b in blocks {
        body = &body.get_blocks(b).next().unwrap_or_else(|| panic!("no block {b} in {path:?}")).body;
    }
    &body.get_attribute(last).unwrap_or_else(|| panic!("no attribute {path:?}")).value
}

fn num(e: &Expression) -> u64 {
    e.as_number().and_then(|n| n.as_u64()).unwrap_or_else(|| panic!("not a number: {e:?}"))
}

fn string(e: &Expression) -> &str {
    e.as_str().unwrap_or_else(|| panic!("not a string literal: {e:?}"))
}

fn boolean(e: &Expression) -> bool {
    e.as_bool().unwrap_or_else(|| panic!("not a bool: {e:?}"))
}

fn string_map(e: &Expression) -> BTreeMap<String, String> {
    let o = e.as_object().unwrap_or_else(|| panic!("not an object: {e:?}"));
    o.iter()
        .map(|(k, v)| {
            let k = match k {
                ObjectKey::Ident(i) => i.as_str().to_string(),
                ObjectKey::Expression(e) => string(e).to_string(),
            };
            (k, string(v.expr()).to_string())
        })
        .collect()
}

/// `name`/`value` blocks (database flags, parameter group parameters) as a map.
fn name_values<'a>(blocks: impl Iterator<Item = &'a Block>) -> BTreeMap<String, String> {
    blocks
        .map(|b| {
            (string(&b.body.get_attribute("name").unwrap().value).into(), string(&b.body.get_attribute("value").unwrap().value).into())
        })
        .collect()
}

fn string_list(e: &Expression) -> Vec<String> {
    e.as_array().unwrap_or_else(|| panic!("not a list: {e:?}")).iter().map(|x| string(x).to_string()).collect()
}

/// Kubernetes `NoSchedule` -> the GKE/EKS API's `NO_SCHEDULE`.
fn api_effect(k8s: &str) -> String {
    let mut o = String::new();
    for (i, c) in k8s.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            o.push('_');
        }
        o.push(c.to_ascii_uppercase());
    }
    o
}

/// `taint { key value effect }` blocks as (key, value, effect).
fn taint_blocks(body: &Body) -> Vec<(String, String, String)> {
    body.get_blocks("taint")
        .map(|t| {
            let a = |k: &str| string(&t.body.get_attribute(k).unwrap().value).to_string();
            (a("key"), a("value"), a("effect"))
        })
        .collect()
}

fn plan_taints_api(pool: &Pool) -> Vec<(String, String, String)> {
    pool.taints.iter().map(|t| (t.key.clone(), t.value.clone(), api_effect(t.effect.as_str()))).collect()
}

#[test]
fn every_example_renders_its_clouds_terraform_and_it_parses() {
    for (name, plan, tree) in rendered() {
        let dir = format!("terraform/{}/", plan.cloud);
        let files: BTreeSet<&str> = tree.paths().filter(|p| p.starts_with("terraform/")).collect();
        let mut expected: BTreeSet<String> =
            coder_gen::render::generated(&plan).terraform_names.iter().map(|f| format!("{dir}{f}")).collect();
        // The user's own files (overrides.terraform), copied.
        expected.extend(plan.overrides.terraform.iter().map(|f| format!("{dir}{}", f.name)));
        assert_eq!(files, expected.iter().map(String::as_str).collect(), "{name}: terraform files");
        for (path, text) in tf_files(&tree) {
            assert!(
                text.starts_with("# DO NOT EDIT: generated by coder-gen from ")
                    || text.starts_with("# DO NOT EDIT: copied by coder-gen from your "),
                "{name}: {path} lacks the header"
            );
            hcl_edit::parser::parse_body(text).unwrap_or_else(|e| panic!("{name}: {path} does not parse: {e}"));
        }
    }
}

/// Labels, taints, machine types, node counts, max pods, database class,
/// storage, HA, replicas and backups in the .tf equal the Plan's, for every
/// example.
#[test]
fn terraform_carries_the_plan() {
    for (name, plan, tree) in rendered() {
        let body = module(&tree);
        let db = &plan.database;
        match plan.cloud {
            Cloud::Gcp => {
                for pool in &plan.pools {
                    let r = resource(&body, "google_container_node_pool", pool.role.as_str());
                    assert_eq!(string(attr(r, &["name"])), pool.name, "{name}");
                    assert_eq!(string(attr(r, &["node_config", "machine_type"])), pool.machine_type, "{name}");
                    assert_eq!(num(attr(r, &["node_config", "disk_size_gb"])), u64::from(pool.disk_gb), "{name}");
                    assert_eq!(num(attr(r, &["max_pods_per_node"])), u64::from(pool.max_pods), "{name}");
                    // Nodes at apply: the initial count per zone, from min_nodes.
                    let initial = attr(r, &["initial_node_count"]).to_string();
                    assert!(initial.contains(&format!("ceil({} /", pool.min_nodes)), "{name}: {initial}");
                    assert_eq!(num(attr(r, &["autoscaling", "total_min_node_count"])), u64::from(pool.min_nodes), "{name}");
                    assert_eq!(num(attr(r, &["autoscaling", "total_max_node_count"])), u64::from(pool.max_nodes), "{name}");
                    assert_eq!(string_map(attr(r, &["node_config", "labels"])), pool.labels, "{name}");
                    let nc = &r.body.get_blocks("node_config").next().unwrap().body;
                    assert_eq!(taint_blocks(nc), plan_taints_api(pool), "{name}: {} taints", pool.role.as_str());
                    assert!(boolean(attr(r, &["management", "auto_repair"])) && boolean(attr(r, &["management", "auto_upgrade"])));
                    assert!(boolean(attr(r, &["node_config", "shielded_instance_config", "enable_secure_boot"])));
                    assert_eq!(string(attr(r, &["node_config", "workload_metadata_config", "mode"])), "GKE_METADATA");
                }
                let r = resource(&body, "google_sql_database_instance", "primary");
                assert_eq!(string(attr(r, &["settings", "tier"])), db.instance_class, "{name}");
                assert_eq!(num(attr(r, &["settings", "disk_size"])), u64::from(db.storage_gb), "{name}");
                assert_eq!(string(attr(r, &["settings", "disk_type"])), "PD_SSD", "{name}");
                assert_eq!(string(attr(r, &["settings", "availability_type"])), if db.ha { "REGIONAL" } else { "ZONAL" }, "{name}");
                assert_eq!(string(attr(r, &["database_version"])), format!("POSTGRES_{}", db.postgres_version), "{name}");
                assert!(!boolean(attr(r, &["settings", "ip_configuration", "ipv4_enabled"])), "{name}: private IP only");
                assert!(boolean(attr(r, &["deletion_protection"])));
                assert!(boolean(attr(r, &["settings", "backup_configuration", "point_in_time_recovery_enabled"])));
                assert_eq!(
                    num(attr(r, &["settings", "backup_configuration", "backup_retention_settings", "retained_backups"])),
                    u64::from(db.backup_retention_days)
                );
                // Cloud SQL Enterprise keeps at most 7 days of logs, fewer
                // than the kept backups.
                let logs = num(attr(r, &["settings", "backup_configuration", "transaction_log_retention_days"]));
                assert_eq!(logs, u64::from(db.point_in_time_recovery_days), "{name}");
                assert!(logs <= 7 && logs < u64::from(db.backup_retention_days), "{name}");
                let flags = name_values(r.body.get_blocks("settings").next().unwrap().body.get_blocks("database_flags"));
                assert_eq!(flags.get("max_connections"), Some(&db.max_connections.to_string()), "{name}");
                assert_replicas(&name, &body, "google_sql_database_instance", db.read_replicas);
            }
            Cloud::Aws => {
                for pool in &plan.pools {
                    let r = resource(&body, "aws_eks_node_group", pool.role.as_str());
                    assert_eq!(string_list(attr(r, &["instance_types"])), vec![pool.machine_type.clone()], "{name}");
                    if pool.autoscaling {
                        // One group per zone, scaled by the Cluster Autoscaler.
                        let expr = |path: &[&str]| attr(r, path).to_string();
                        assert!(expr(&["for_each"]).contains("var.workspace_subnet_ids_by_zone"), "{name}");
                        assert!(expr(&["node_group_name_prefix"]).contains(&format!("{}-${{each.key}}-", pool.name)), "{name}");
                        assert!(expr(&["scaling_config", "min_size"]).contains(&format!("ceil({} /", pool.min_nodes)), "{name}");
                        assert!(expr(&["scaling_config", "max_size"]).contains(&format!("ceil({} /", pool.max_nodes)), "{name}");
                        let tags = expr(&["tags"]);
                        assert!(
                            tags.contains("k8s.io/cluster-autoscaler/enabled")
                                && tags.contains("k8s.io/cluster-autoscaler/${var.cluster_name}"),
                            "{name}: {tags}"
                        );
                        assert!(plan.cluster_autoscaler.is_some(), "{name}: EKS workspace groups need the autoscaler");
                    } else {
                        assert_eq!(string(attr(r, &["node_group_name_prefix"])), format!("{}-", pool.name), "{name}");
                        assert_eq!(num(attr(r, &["scaling_config", "min_size"])), u64::from(pool.min_nodes), "{name}");
                        assert_eq!(num(attr(r, &["scaling_config", "max_size"])), u64::from(pool.max_nodes), "{name}");
                        assert_eq!(num(attr(r, &["scaling_config", "desired_size"])), u64::from(pool.min_nodes), "{name}");
                    }
                    assert_eq!(string_map(attr(r, &["labels"])), pool.labels, "{name}");
                    assert_eq!(taint_blocks(&r.body), plan_taints_api(pool), "{name}: {} taints", pool.role.as_str());
                    let lt = resource(&body, "aws_launch_template", pool.role.as_str());
                    assert_eq!(string(attr(lt, &["metadata_options", "http_tokens"])), "required", "{name}: IMDSv2");
                    assert_eq!(num(attr(lt, &["block_device_mappings", "ebs", "volume_size"])), u64::from(pool.disk_gb));
                    assert!(boolean(attr(lt, &["block_device_mappings", "ebs", "encrypted"])));
                    // max pods reaches the kubelet exactly where the ENI default differs.
                    let user_data = lt.body.get_attribute("user_data").map(|a| a.value.to_string());
                    let differs = pool.default_max_pods.is_some_and(|d| d != pool.max_pods);
                    assert_eq!(user_data.is_some(), differs, "{name}: {} launch template user_data", pool.role.as_str());
                    if let Some(u) = user_data {
                        assert!(u.contains(&format!("maxPods: {}\n", pool.max_pods)), "{name}: {u}");
                    }
                }
                let r = resource(&body, "aws_db_instance", "primary");
                assert_eq!(string(attr(r, &["instance_class"])), db.instance_class, "{name}");
                assert_eq!(num(attr(r, &["allocated_storage"])), u64::from(db.storage_gb), "{name}");
                assert_eq!(string(attr(r, &["storage_type"])), "gp3", "{name}");
                assert_eq!(boolean(attr(r, &["multi_az"])), db.ha, "{name}");
                assert!(boolean(attr(r, &["manage_master_user_password"])), "{name}");
                assert!(boolean(attr(r, &["storage_encrypted"])) && boolean(attr(r, &["deletion_protection"])));
                assert!(!boolean(attr(r, &["publicly_accessible"])));
                assert_eq!(num(attr(r, &["backup_retention_period"])), u64::from(db.backup_retention_days));
                assert!((1..=35).contains(&db.backup_retention_days), "{name}: 0 would turn automated backups off");
                // The master user comes from the plan, and is never Coder's role.
                let master = string(attr(r, &["username"]));
                assert_eq!(Some(master), plan.credentials.admin.user.as_deref(), "{name}");
                assert_ne!(master, plan.credentials.coder_role, "{name}");
                let pg = resource(&body, "aws_db_parameter_group", "postgres");
                let params = name_values(pg.body.get_blocks("parameter"));
                assert_eq!(params.get("rds.force_ssl").map(String::as_str), Some("1"), "{name}");
                assert_eq!(params.get("max_connections"), Some(&db.max_connections.to_string()), "{name}");
                // The description says where the value comes from: the
                // larger of coderd's need and RDS's default (#22).
                assert!(string(attr(pg, &["description"])).contains("the larger of what coderd needs and the RDS default"), "{name}");
                assert_replicas(&name, &body, "aws_db_instance", db.read_replicas);
            }
            Cloud::Azure => {
                for pool in &plan.pools {
                    let r = resource(&body, "azurerm_kubernetes_cluster_node_pool", pool.role.as_str());
                    assert_eq!(string(attr(r, &["vm_size"])), pool.machine_type, "{name}");
                    assert_eq!(num(attr(r, &["max_pods"])), u64::from(pool.max_pods), "{name}");
                    assert_eq!(Some(string(attr(r, &["temporary_name_for_rotation"]))), pool.rotation_name.as_deref(), "{name}");
                    assert!(pool.max_pods <= 250, "{name}: AKS allows at most 250 pods per node");
                    assert_eq!(boolean(attr(r, &["auto_scaling_enabled"])), pool.autoscaling, "{name}");
                    if pool.autoscaling {
                        assert_eq!(num(attr(r, &["min_count"])), u64::from(pool.min_nodes), "{name}");
                        assert_eq!(num(attr(r, &["max_count"])), u64::from(pool.max_nodes), "{name}");
                    } else {
                        assert_eq!(num(attr(r, &["node_count"])), u64::from(pool.max_nodes), "{name}");
                    }
                    assert_eq!(string_map(attr(r, &["node_labels"])), pool.labels, "{name}");
                    let taints: Vec<String> = pool.taints.iter().map(|t| format!("{}={}:{}", t.key, t.value, t.effect)).collect();
                    assert_eq!(string_list(attr(r, &["node_taints"])), taints, "{name}");
                    assert!(boolean(attr(r, &["host_encryption_enabled"])), "{name}");
                }
                let r = resource(&body, "azurerm_postgresql_flexible_server", "primary");
                assert_eq!(string(attr(r, &["sku_name"])), format!("GP_{}", db.instance_class), "{name}");
                assert_eq!(num(attr(r, &["storage_mb"])), u64::from(db.storage_gb) * 1024, "{name}");
                assert_eq!(r.body.get_blocks("high_availability").count() == 1, db.ha, "{name}: HA");
                if db.ha {
                    assert_eq!(string(attr(r, &["high_availability", "mode"])), "ZoneRedundant");
                }
                assert!(!boolean(attr(r, &["public_network_access_enabled"])));
                assert_eq!(num(attr(r, &["backup_retention_days"])), u64::from(db.backup_retention_days));
                assert!((7..=35).contains(&db.backup_retention_days), "{name}");
                assert_eq!(Some(boolean(attr(r, &["geo_redundant_backup_enabled"]))), db.geo_redundant_backup, "{name}");
                let mc = resource(&body, "azurerm_postgresql_flexible_server_configuration", "max_connections");
                assert_eq!(string(attr(mc, &["value"])), db.max_connections.to_string(), "{name}");
                assert_replicas(&name, &body, "azurerm_postgresql_flexible_server", db.read_replicas);
            }
        }
    }
}

fn assert_replicas(name: &str, body: &Body, kind: &str, n: u32) {
    let replicas = resources(body, kind).into_iter().filter(|b| b.labels[1].as_str() == "replica").collect::<Vec<_>>();
    if n == 0 {
        assert!(replicas.is_empty(), "{name}: no read replica planned");
    } else {
        assert_eq!(replicas.len(), 1, "{name}");
        assert_eq!(num(&replicas[0].body.get_attribute("count").unwrap().value), u64::from(n), "{name}: replica count");
    }
}

/// The examples cover every cloud, and the seed numbers are visible: 3k's
/// 256 workspace nodes and HA database, 1.5 TB rounded to 2 TiB on Azure.
#[test]
fn seed_numbers_are_visible() {
    let all = rendered();
    for cloud in [Cloud::Gcp, Cloud::Aws, Cloud::Azure] {
        let (name, plan, tree) = all.iter().find(|(_, p, _)| p.cloud == cloud && p.tier == "3k").expect("a 3k example per cloud");
        assert_eq!(plan.pool(Role::Workspace).max_nodes, 256, "{name}");
        assert!(plan.database.ha, "{name}");
        let text: String = tf_files(tree).iter().map(|(_, t)| *t).collect();
        // EKS divides the total over its per-zone groups.
        assert!(text.contains("= 256\n") || text.contains("ceil(256 / "), "{name}: 256 workspace nodes");
        if cloud == Cloud::Azure {
            assert!(text.contains("storage_mb                        = 2097152\n"), "{name}: 1.5 TB rounded up to 2 TiB");
            assert!(plan.warnings.iter().any(|w| w.code.as_str() == "azure-storage-rounded"));
            // Max pods follows need (12 + 12 spare + daemonsets), not the seed's 256.
            assert!(plan.pool(Role::Workspace).max_pods < 64, "{name}");
        }
    }
}

/// No secret value anywhere: nothing that looks like a password, key or
/// token has a literal value; passwords come only from RDS itself or from a
/// sensitive, ephemeral variable without a default.
#[test]
fn no_secret_in_terraform() {
    fn walk(body: &Body, path: &str, bad: &mut Vec<String>) {
        for a in body.attributes() {
            let k = a.key.as_str();
            // (`http_tokens` is IMDSv2's mode, not a token.)
            let secretish = (["password", "secret", "private_key"].iter().any(|s| k.contains(s)) || k == "token" || k.ends_with("_token"))
                && !k.ends_with("_version")
                && !k.ends_with("_kms_key_id");
            let literal = a.value.is_str() || a.value.is_string_template() || a.value.is_number();
            if secretish && literal {
                bad.push(format!("{path}.{k}"));
            }
        }
        for b in body.blocks() {
            if b.ident.as_str() == "variable"
                && b.labels.first().is_some_and(|l| l.as_str().contains("password") && !l.as_str().ends_with("_version"))
            {
                assert!(b.body.get_attribute("default").is_none(), "{path}: password variable with a default");
                assert_eq!(
                    b.body.get_attribute("sensitive").and_then(|a| a.value.as_bool()),
                    Some(true),
                    "{path}: password variable not sensitive"
                );
                assert_eq!(
                    b.body.get_attribute("ephemeral").and_then(|a| a.value.as_bool()),
                    Some(true),
                    "{path}: password variable not ephemeral"
                );
            }
            let labels: Vec<&str> = b.labels.iter().map(|l| l.as_str()).collect();
            walk(&b.body, &format!("{path}.{}{labels:?}", b.ident.as_str()), bad);
        }
    }
    for (name, _, tree) in rendered() {
        let mut bad = Vec::new();
        walk(&module(&tree), &name, &mut bad);
        assert!(bad.is_empty(), "literal secrets: {bad:?}");
    }
}

// --- provider schemas -------------------------------------------------------

#[derive(serde::Deserialize)]
struct Schema {
    #[serde(rename = "_source")]
    source: String,
    meta_arguments: Vec<String>,
    resources: BTreeMap<String, BlockSchema>,
}

#[derive(serde::Deserialize)]
struct BlockSchema {
    arguments: BTreeSet<String>,
    required: BTreeSet<String>,
    blocks: BTreeMap<String, BlockSchema>,
}

fn check_block(body: &Body, schema: &BlockSchema, meta: &[String], path: &str, errors: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    for a in body.attributes() {
        let k = a.key.as_str();
        if !seen.insert(k.to_string()) {
            errors.push(format!("{path}: duplicate attribute {k}"));
        }
        if !schema.arguments.contains(k) && !meta.iter().any(|m| m == k) {
            let hint = if schema.blocks.contains_key(k) { " (it is a block)" } else { "" };
            errors.push(format!("{path}: unknown argument {k}{hint}"));
        }
    }
    for b in body.blocks() {
        let k = b.ident.as_str();
        if meta.iter().any(|m| m == k) {
            continue; // lifecycle
        }
        match schema.blocks.get(k) {
            Some(s) => check_block(&b.body, s, &[], &format!("{path}.{k}"), errors),
            None => {
                let hint = if schema.arguments.contains(k) { " (it is an argument)" } else { "" };
                errors.push(format!("{path}: unknown block {k}{hint}"));
            }
        }
    }
    for r in &schema.required {
        if !body.has_attribute(r) && !body.has_blocks(r) {
            errors.push(format!("{path}: missing required {r}"));
        }
    }
}

fn check_against_schema(label: &str, body: &Body, schema: &Schema) -> Vec<String> {
    let mut errors = Vec::new();
    for b in body.get_blocks("resource") {
        let kind = b.labels[0].as_str();
        let name = b.labels.get(1).map_or("", |l| l.as_str());
        match schema.resources.get(kind) {
            Some(s) => check_block(&b.body, s, &schema.meta_arguments, &format!("{label}: {kind}.{name}"), &mut errors),
            None => errors.push(format!("{label}: resource type {kind} is not in the extracted schema ({})", schema.source)),
        }
    }
    errors
}

fn load_schema(provider: &str) -> Schema {
    let p = repo_root().join(format!("tests/data/provider-schemas/{provider}.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// google and azurerm have no provider binary offline; their published
/// schemas (extracted by scripts/extract-provider-schemas.py) stand in for
/// `terraform validate`.
#[test]
fn google_and_azurerm_arguments_match_the_provider_schemas() {
    let schemas = [(Cloud::Gcp, load_schema("google")), (Cloud::Azure, load_schema("azurerm"))];
    let mut errors = Vec::new();
    let mut checked = 0;
    for (name, plan, tree) in rendered() {
        if let Some((_, schema)) = schemas.iter().find(|(c, _)| *c == plan.cloud) {
            errors.extend(check_against_schema(&name, &module(&tree), schema));
            checked += 1;
        }
    }
    assert!(checked >= 6, "every gcp and azure example is checked");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// The checker itself catches what it exists to catch.
#[test]
fn schema_check_rejects_unknown_and_missing_arguments() {
    let schema = load_schema("google");
    let tf = "resource \"google_container_node_pool\" \"x\" {\n  clusterr = \"c\"\n  node_config {\n    machine_typo = \"n1\"\n  }\n  management = {}\n}\n";
    let errors = check_against_schema("t", &hcl_edit::parser::parse_body(tf).unwrap(), &schema);
    let text = errors.join("\n");
    assert!(text.contains("unknown argument clusterr"), "{text}");
    assert!(text.contains("unknown argument machine_typo"), "{text}");
    assert!(text.contains("missing required cluster"), "{text}");
    assert!(text.contains("unknown argument management (it is a block)"), "{text}");
}

// --- terraform fmt ----------------------------------------------------------

fn terraform_available() -> bool {
    Command::new("terraform").arg("version").output().is_ok_and(|o| o.status.success())
}

/// Freshly rendered output is exactly what `terraform fmt` writes.
#[test]
#[ignore = "needs `terraform` on PATH; .ci/run runs it"]
fn terraform_fmt_accepts_rendered_output() {
    crate::util::require(terraform_available(), "`terraform` on PATH", "install Terraform (>= 1.11)");
    let tmp = crate::util::tempdir();
    for (name, _, tree) in rendered() {
        for (path, text) in tf_files(&tree) {
            let p = tmp.path().join(name.trim_end_matches(".yaml")).join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
        }
    }
    let cfg = tmp.path().join("empty.tfrc");
    std::fs::write(&cfg, "").unwrap();
    let out = Command::new("terraform")
        .args(["fmt", "-check", "-diff", "-recursive"])
        .arg(tmp.path())
        .env("TF_CLI_CONFIG_FILE", &cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "terraform fmt would change the rendered output:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(Path::new(&tmp.path().join("1k-gcp/terraform/gcp/node_pools.tf")).exists(), "files were written where fmt looked");
}

/// (key, value, effect)
type TaintParts = (String, String, String);

/// The scheduling contract end to end: what the Helm values select and
/// tolerate is exactly what the Terraform pools carry (both sides read from
/// the rendered files, not from the Plan).
#[test]
fn helm_scheduling_matches_terraform_pools() {
    for (name, plan, tree) in rendered() {
        let body = module(&tree);
        let mut values = vec![("coderd", "helm/coder/values.yaml".to_string())];
        values.extend(plan.provisioners.iter().map(|g| ("provisioner", format!("helm/coder-provisioner/{}/values.yaml", g.namespace))));
        for (role, path) in values {
            let v: serde_json::Value = serde_saphyr::from_str(tree.get_str(&path).unwrap()).unwrap();
            let selector: BTreeMap<String, String> =
                serde_json::from_value(v["coder"]["nodeSelector"].clone()).unwrap_or_else(|e| panic!("{name}: {path}: {e}"));
            let tolerations: Vec<TaintParts> = v["coder"]["tolerations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    assert_eq!(t["operator"], "Equal", "{name}: {path}");
                    let s = |k: &str| t[k].as_str().unwrap().to_string();
                    (s("key"), s("value"), s("effect"))
                })
                .collect();
            // Terraform's side, in Kubernetes spelling.
            let (labels, taints): (BTreeMap<String, String>, Vec<TaintParts>) = match plan.cloud {
                Cloud::Gcp => {
                    let r = resource(&body, "google_container_node_pool", role);
                    let nc = &r.body.get_blocks("node_config").next().unwrap().body;
                    (string_map(attr(r, &["node_config", "labels"])), taint_blocks(nc))
                }
                Cloud::Aws => {
                    let r = resource(&body, "aws_eks_node_group", role);
                    (string_map(attr(r, &["labels"])), taint_blocks(&r.body))
                }
                Cloud::Azure => {
                    let r = resource(&body, "azurerm_kubernetes_cluster_node_pool", role);
                    let taints = string_list(attr(r, &["node_taints"]))
                        .iter()
                        .map(|t| {
                            // `key=value:Effect`
                            let (kv, effect) = t.split_once(':').unwrap();
                            let (k, v) = kv.split_once('=').unwrap();
                            (k.to_string(), v.to_string(), api_effect(effect))
                        })
                        .collect();
                    (string_map(attr(r, &["node_labels"])), taints)
                }
            };
            for (k, v) in &selector {
                assert_eq!(labels.get(k), Some(v), "{name}: {path} selects {k}={v}, which the {role} pool does not carry");
            }
            let helm_taints: Vec<_> = tolerations.into_iter().map(|(k, v, e)| (k, v, api_effect(&e))).collect();
            assert_eq!(helm_taints, taints, "{name}: {path} tolerations vs the {role} pool's taints");
            assert!(!selector.is_empty() && !taints.is_empty(), "{name}: {role} is pinned and tainted");
        }
    }
}

/// The launch template's comment and the README follow the plan's
/// `needs_prefix_delegation`: a workspace type whose ENI default (234) is
/// above EKS's limit (110) caps max pods without prefix delegation; a
/// provisioner type whose ENI default (m5.large: 29) is below its need (30
/// provisioners + spare + daemonsets) needs it.
#[test]
fn prefix_delegation_is_read_from_the_plan() {
    let text = std::fs::read_to_string(repo_root().join("tests/data/terraform-variants/aws-m5-4xlarge-workspace.yaml")).unwrap();
    let plan = coder_gen::plan_from_str("spec.yaml", &text).unwrap();
    let ws = plan.pool(coder_gen::plan::Role::Workspace);
    assert_eq!((ws.machine_type.as_str(), ws.default_max_pods, ws.max_pods), ("m5.4xlarge", Some(234), 110));
    assert!(ws.override_max_pods && !ws.needs_prefix_delegation);
    let prov = plan.pool(coder_gen::plan::Role::Provisioner);
    assert_eq!((prov.machine_type.as_str(), prov.default_max_pods), ("m5.large", Some(29)));
    assert!(prov.needs_prefix_delegation && prov.override_max_pods && prov.max_pods == prov.max_pods_need);
    let coderd_pool = plan.pool(coder_gen::plan::Role::Coderd);
    assert!(!coderd_pool.needs_prefix_delegation && !coderd_pool.override_max_pods, "t3.large's 35 cover coderd's need");

    let tree = coder_gen::render::render(&plan);
    let tf = tf_files(&tree).into_iter().find(|(p, _)| p.ends_with("node_pools.tf")).unwrap().1;
    let section = |role: &str| {
        let start = tf.find(&format!("resource \"aws_launch_template\" \"{role}\"")).unwrap();
        let end = tf[start..].find("resource \"aws_eks_node_group\"").unwrap();
        &tf[start..start + end]
    };
    let workspace = section("workspace");
    assert!(workspace.contains("maxPods: 110"), "{workspace}");
    assert!(!workspace.contains("prefix delegation"), "{workspace}");
    assert!(section("provisioner").contains("VPC CNI prefix delegation"));
    assert!(section("provisioner").contains(&format!("maxPods: {}\n", prov.max_pods)));
    assert!(!section("coderd").contains("maxPods"), "the ENI default stays");
}

// --- sites --------------------------------------------------------------------

/// Every .tf of one site's `terraform/<cloud>/`, parsed and merged.
fn site_module(tree: &Tree, site: &str) -> Body {
    let mut all = Body::new();
    for (path, bytes) in tree.iter().filter(|(p, _)| p.starts_with(&format!("sites/{site}/terraform/")) && p.ends_with(".tf")) {
        let text = std::str::from_utf8(bytes).unwrap();
        assert!(text.starts_with("# DO NOT EDIT: generated by coder-gen from "), "{path} lacks the header");
        for s in hcl_edit::parser::parse_body(text).unwrap_or_else(|e| panic!("{path} does not parse: {e}")).into_iter() {
            all.push(s);
        }
    }
    all
}

/// Each cloud site's Terraform: its pools exactly as its plan sizes them
/// (names, machine types, node counts, labels, taints), no database, and
/// google and azurerm arguments as the providers' schemas have them.
#[test]
fn site_terraform_carries_each_sites_plan() {
    let schemas = [(Cloud::Gcp, load_schema("google")), (Cloud::Azure, load_schema("azurerm"))];
    let mut checked = BTreeSet::new();
    let mut errors = Vec::new();
    for (name, plan, tree) in rendered() {
        for site in plan.sites.iter() {
            let Some(cloud) = site.cloud.cloud() else {
                assert!(
                    tree.paths().all(|p| !p.starts_with(&format!("sites/{}/terraform", site.name))),
                    "{name}: on-prem has no Terraform"
                );
                continue;
            };
            let body = site_module(&tree, &site.name);
            let label = format!("{name} site {}", site.name);
            assert!(resources(&body, "aws_db_instance").is_empty() && resources(&body, "google_sql_database_instance").is_empty());
            for pool in &site.pools {
                match cloud {
                    Cloud::Gcp => {
                        let r = resource(&body, "google_container_node_pool", pool.role.as_str());
                        assert_eq!(string(attr(r, &["name"])), pool.name, "{label}");
                        assert_eq!(string(attr(r, &["node_config", "machine_type"])), pool.machine_type, "{label}");
                        assert_eq!(num(attr(r, &["autoscaling", "total_max_node_count"])), u64::from(pool.max_nodes), "{label}");
                        assert_eq!(num(attr(r, &["max_pods_per_node"])), u64::from(pool.max_pods), "{label}");
                        assert_eq!(string_map(attr(r, &["node_config", "labels"])), pool.labels, "{label}");
                    }
                    Cloud::Aws => {
                        let r = resource(&body, "aws_eks_node_group", pool.role.as_str());
                        assert_eq!(string_list(attr(r, &["instance_types"])), vec![pool.machine_type.clone()], "{label}");
                        assert_eq!(string_map(attr(r, &["labels"])), pool.labels, "{label}");
                        assert_eq!(taint_blocks(&r.body), plan_taints_api(pool), "{label}");
                        if !pool.autoscaling {
                            assert_eq!(num(attr(r, &["scaling_config", "max_size"])), u64::from(pool.max_nodes), "{label}");
                        }
                    }
                    Cloud::Azure => {
                        let r = resource(&body, "azurerm_kubernetes_cluster_node_pool", pool.role.as_str());
                        assert_eq!(string(attr(r, &["vm_size"])), pool.machine_type, "{label}");
                        assert_eq!(num(attr(r, &["max_pods"])), u64::from(pool.max_pods), "{label}");
                        assert_eq!(string_map(attr(r, &["node_labels"])), pool.labels, "{label}");
                    }
                }
            }
            if let Some((_, schema)) = schemas.iter().find(|(c, _)| *c == cloud) {
                errors.extend(check_against_schema(&label, &body, schema));
            }
            checked.insert(cloud);
        }
    }
    assert_eq!(checked.len(), 3, "the examples have a site on every cloud");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
