//! `coder-gen explain SPEC PATH[:KEY]`: the plan entry and reason behind a
//! generated file, a YAML key (`coder.resources.requests.cpu`) or a Terraform
//! attribute (`google_container_node_pool.workspace.max_pods_per_node`).
//! It reads the Plan and the rendered Tree only; an unknown file or key is
//! an error (exit 2) that says what exists.

use std::fmt::Write;

use serde_json::Value;

use crate::plan::Plan;
use crate::render::{cell, values_file};
use crate::tree::Tree;

/// Which part of the plan a file is rendered from: a JSON path into
/// `plan --format json` and its value.
struct Anchor {
    path: String,
    value: Value,
}

fn anchor(plan: &Value, file: &str) -> Anchor {
    let parts: Vec<&str> = file.split('/').collect();
    // A site's files: the same layout inside `sites/<name>/`, read from
    // `.sites[i]`, the proxy taking coderd's place.
    if let ["sites", name, rest @ ..] = parts.as_slice()
        && let Some(i) = plan["sites"].as_array().and_then(|a| a.iter().position(|s| s["name"] == *name))
    {
        let site = &plan["sites"][i];
        let prefix = format!(".sites[{i}]");
        return local(site, &prefix, rest, "proxy").unwrap_or_else(|| match rest {
            ["verify", ..] => Anchor { path: format!("{prefix}.verify"), value: site["verify"].clone() },
            ["entry", ..] => Anchor { path: format!("{prefix}.proxy"), value: site["proxy"].clone() },
            _ => Anchor { path: prefix.clone(), value: site.clone() },
        });
    }
    local(plan, "", &parts, "coderd").unwrap_or_else(|| Anchor { path: ".".into(), value: plan.clone() })
}

/// The anchor of a file inside one tree (the primary's, or a site's whose
/// plan is `section` at `prefix`); `coder` is the `coder` chart's section
/// there (`coderd`, a site's `proxy`).
fn local(section: &Value, prefix: &str, parts: &[&str], coder: &str) -> Option<Anchor> {
    let index_of = |list: &str, ns: &str| {
        section[list].as_array().and_then(|a| a.iter().position(|g| g["namespace"] == ns)).map(|i| (format!("{prefix}.{list}[{i}]"), i))
    };
    let at = |path: String, value: &Value| Some(Anchor { path, value: value.clone() });
    match parts {
        ["helm", "coder", _] => at(format!("{prefix}.{coder}"), &section[coder]),
        ["kustomize", "overlays", dir, _] if *dir == "coder" || *dir == "proxy" => at(format!("{prefix}.{coder}"), &section[coder]),
        ["helm", "cluster-autoscaler", _] => at(format!("{prefix}.cluster_autoscaler"), &section["cluster_autoscaler"]),
        ["helm", "coder-provisioner", ns, _] => index_of("provisioners", ns).and_then(|(p, i)| at(p, &section["provisioners"][i])),
        ["kustomize", "overlays", dir, _] => dir
            .strip_prefix("provisioners-")
            .and_then(|ns| index_of("provisioners", ns).and_then(|(p, i)| at(p, &section["provisioners"][i])))
            .or_else(|| {
                dir.strip_prefix("workspaces-")
                    .and_then(|ns| index_of("workspaces", ns).and_then(|(p, i)| at(p, &section["workspaces"][i])))
            }),
        // The network's files: the primary's lists and CLI configuration,
        // and a CA ClusterIssuer (the primary's, or a site's own).
        ["images.txt" | "charts.txt" | "terraform.tfrc"] => at(format!("{prefix}.network"), &section["network"]),
        ["entry", f] if f.starts_with("clusterissuer-") => at(format!("{prefix}.network"), &section["network"]),
        ["terraform", _, "node_pools.tf"] => at(format!("{prefix}.pools"), &section["pools"]),
        ["terraform", _, "database.tf"] => at(format!("{prefix}.database"), &section["database"]),
        _ => None,
    }
}

/// The plan field a rendered key carries, by the key's own name.
fn field_for(leaf: &str) -> Option<&'static str> {
    Some(match leaf {
        "replicaCount" => "replicas",
        "resources" | "requests" | "limits" | "cpu" | "memory" => "resources",
        "nodeSelector" | "labels" | "node_labels" => "labels",
        "tolerations" | "taint" | "node_taints" => "taints",
        "max_pods_per_node" | "max_pods" | "maxPods" => "max_pods",
        "user_data" => "override_max_pods",
        "machine_type" | "vm_size" | "instance_types" => "machine_type",
        "total_min_node_count" | "min_size" | "min_count" | "desired_size" | "initial_node_count" => "min_nodes",
        "total_max_node_count" | "max_size" | "max_count" | "node_count" => "max_nodes",
        "disk_size_gb" | "volume_size" | "os_disk_size_gb" => "disk_gb",
        "volume_type" | "os_disk_type" => "disk_type",
        "temporary_name_for_rotation" => "rotation_name",
        "tier" | "instance_class" | "sku_name" => "sku",
        "disk_size" | "allocated_storage" | "storage_mb" => "storage_gb",
        "storage_type" | "storage_tier" => "storage_type",
        "availability_type" | "multi_az" | "high_availability" => "nodes",
        "max_connections" => "max_connections",
        "retained_backups" | "backup_retention_period" | "backup_retention_days" => "backup_retention_days",
        "disk_autoresize_limit" | "max_allocated_storage" => "storage_autogrow_limit_gb",
        "transaction_log_retention_days" => "point_in_time_recovery_days",
        "geo_redundant_backup_enabled" => "geo_redundant_backup",
        "monitoring_interval" => "monitoring_interval_seconds",
        "performance_insights_retention_period" => "performance_insights_retention_days",
        "database_version" | "engine_version" | "version" => "postgres_version",
        "hard" | "pods" | "requests.cpu" | "requests.memory" | "limits.memory" => "quota",
        "defaultRequest" => "default_request",
        "default" => "default_limit",
        "maxLimitRequestRatio" => "memory_limit_request_ratio",
        "subjects" => "workspace_namespaces",
        "tag" => "image_tag",
        _ => return None,
    })
}

/// Does `key` exist in `text` (YAML: a dotted path, where a key may itself
/// contain dots, like `prometheus.io/port`; Terraform: `TYPE.NAME.ATTR...`,
/// or a bare attribute name)? Returns its segments.
fn find_key(file: &str, text: &str, key: &str) -> Result<Vec<String>, String> {
    let segs: Vec<&str> = key.split('.').collect();
    if file.ends_with(".yaml") {
        let docs: Value = serde_saphyr::from_str(text).map_err(|e| format!("{file} is not one YAML document: {e}"))?;
        let mut v = &docs;
        let mut found = Vec::new();
        let mut i = 0;
        while i < segs.len() {
            // The longest run of segments that is a key here (keys may hold dots).
            let next = (i + 1..=segs.len()).rev().find_map(|j| {
                let k = segs[i..j].join(".");
                let child = match (v, k.parse::<usize>()) {
                    (Value::Array(a), Ok(n)) => a.get(n),
                    (Value::Object(m), _) => m.get(&k),
                    _ => None,
                };
                child.map(|c| (j, k, c))
            });
            let Some((j, k, child)) = next else {
                let keys = v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default();
                return Err(format!("no key `{key}` in {file} (at `{}`; keys there: {keys})", segs[i]));
            };
            found.push(k);
            v = child;
            i = j;
        }
        return Ok(found);
    }
    let owned = || segs.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    if file.ends_with(".tf") {
        let (block, rest) = match segs.as_slice() {
            [kind, name, rest @ ..] if text.contains(&format!("\"{kind}\" \"{name}\" {{")) => {
                let start = text.find(&format!("\"{kind}\" \"{name}\" {{")).unwrap_or(0);
                let end = text[start..].find("\n}\n").map_or(text.len(), |e| start + e);
                (&text[start..end], rest)
            }
            _ => (text, segs.as_slice()),
        };
        let has = |a: &str| {
            block.lines().any(|l| {
                let t = l.trim_start();
                t.starts_with(&format!("{a} ")) || t.starts_with(&format!("{a}:")) || l.contains(&format!("\"{a}\""))
            })
        };
        if rest.is_empty() || !rest.iter().all(|a| has(a)) {
            return Err(format!(
                "no attribute `{key}` in {file}: give TYPE.NAME.ATTR (e.g. the resource's type and name as written in the file) or a bare attribute name"
            ));
        }
        return Ok(owned());
    }
    // Markdown and other text: the key must at least occur.
    if text.contains(key) { Ok(owned()) } else { Err(format!("`{key}` does not occur in {file}")) }
}

/// The explanation for `target` (`PATH` or `PATH:KEY`), or a message saying
/// what exists.
pub fn explain(plan: &Plan, tree: &Tree, target: &str) -> Result<String, String> {
    let json = serde_json::to_value(plan).map_err(|e| e.to_string())?;
    let (file, key) = match target.split_once(':') {
        Some((f, k)) => (f.trim_end_matches('/'), Some(k)),
        None => (target.trim_end_matches('/'), None),
    };
    let text = tree.get_str(file).ok_or_else(|| {
        let files: Vec<&str> = tree.iter().map(|(p, _)| p).collect();
        format!("`{file}` is not a file this spec generates; it generates:\n  {}", files.join("\n  "))
    })?;
    let a = anchor(&json, file);
    let mut o = String::new();
    let _ = writeln!(o, "{target}");
    let _ = writeln!(o, "  rendered from: plan{} (coder-gen plan --format json)", a.path);
    let Some(key) = key else {
        let _ = writeln!(o, "  what this file carries, with the reasons (SIZING.md has every number):");
        reasons(&mut o, &a.path, &a.value);
        return Ok(o);
    };
    let segs = find_key(file, text, key)?;
    // A sized value the user's values file takes over (`intended`): the
    // number in the file is theirs, not the plan's.
    let dotted = segs.join(".");
    for (target, h) in &plan.overrides.helm {
        if values_file(target) == file && h.intended.iter().any(|i| dotted == *i || dotted.starts_with(&format!("{i}."))) {
            let _ = writeln!(
                o,
                "  from your file: {} (overrides.helm.{target}, listed as intended); the plan's own value and reason follow",
                h.file
            );
        }
    }
    // The most specific key segment the plan names, searched from the end.
    let field = segs.iter().rev().find_map(|s| field_for(s));
    // Terraform node pools: `TYPE.ROLE...` selects that role's pool.
    let (path, section) = match (&a.value, segs.get(1)) {
        (Value::Array(pools), Some(role)) if a.path.ends_with(".pools") => match pools.iter().position(|p| p["role"] == role.as_str()) {
            Some(i) => (format!("{}[{i}]", a.path), pools[i].clone()),
            None => (a.path.clone(), a.value.clone()),
        },
        _ => (a.path.clone(), a.value.clone()),
    };
    match field.and_then(|f| section.get("reasons").and_then(|r| r.get(f)).map(|r| (f, r))) {
        Some((f, r)) => {
            let _ = writeln!(o, "  plan{path}.{f} = {}", cell(&section[f]));
            let _ = writeln!(o, "  why: {}", cell(r));
        }
        None => {
            let _ = writeln!(o, "  no single plan field names this key; the plan entry it comes from:");
            reasons(&mut o, &path, &section);
        }
    }
    Ok(o)
}

/// Every `field = value: reason` of a plan object (or of each object in a
/// list of them).
fn reasons(o: &mut String, path: &str, v: &Value) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                reasons(o, &format!("{path}[{i}]"), item);
            }
        }
        Value::Object(m) => {
            if let Some(r) = m.get("reasons").and_then(Value::as_object) {
                for (k, why) in r {
                    let _ = writeln!(o, "  plan{path}.{k} = {}\n      why: {}", m.get(k).map_or_else(String::new, cell), cell(why));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Role;
    use crate::plan_from_str;
    use crate::render::render;
    use crate::test_support::spec_text;

    fn setup(spec: &str) -> (Plan, Tree) {
        let plan = plan_from_str("spec.yaml", spec).unwrap();
        let tree = render(&plan);
        (plan, tree)
    }

    fn spec() -> String {
        spec_text(3000, "gcp")
    }

    #[test]
    fn terraform_attribute_names_the_plan_field_and_reason() {
        let (plan, tree) = setup(&spec());
        let out = explain(&plan, &tree, "terraform/gcp/node_pools.tf:google_container_node_pool.workspace.max_pods_per_node").unwrap();
        let ws = plan.pool(Role::Workspace);
        assert!(out.contains(&format!("plan.pools[2].max_pods = {}", ws.max_pods)), "{out}");
        assert!(out.contains(&ws.reasons["max_pods"]), "{out}");
        let db = explain(&plan, &tree, "terraform/gcp/database.tf:google_sql_database_instance.primary.settings.tier").unwrap();
        assert!(db.contains(&format!("plan.database.sku = {}", plan.database.sku)), "{db}");
    }

    #[test]
    fn site_files_anchor_in_their_site() {
        let sites = "sites:\n  - name: eu\n    cloud: aws\n    region: eu-west-1\n    users: 800\n";
        let (plan, tree) = setup(&format!("{}{sites}", spec()));
        let eu = &plan.sites[0];
        let out = explain(&plan, &tree, "sites/eu/helm/coder/values.yaml:coder.replicaCount").unwrap();
        assert!(out.contains("rendered from: plan.sites[0].proxy"), "{out}");
        assert!(out.contains(&eu.proxy.as_ref().unwrap().reasons["replicas"]), "{out}");
        let tf =
            explain(&plan, &tree, "sites/eu/terraform/aws/node_pools.tf:aws_eks_node_group.workspace.scaling_config.max_size").unwrap();
        assert!(tf.contains(&format!("plan.sites[0].pools[2].max_nodes = {}", eu.pool(Role::Workspace).max_nodes)), "{tf}");
        let ns = format!("sites/eu/helm/coder-provisioner/{}/values.yaml:coder.replicaCount", eu.provisioners[0].namespace);
        assert!(explain(&plan, &tree, &ns).unwrap().contains("plan.sites[0].provisioners[0].replicas"));
        assert!(explain(&plan, &tree, "sites/eu/verify/create-workspaces/job.yaml").unwrap().contains("plan.sites[0].verify"));
        // The network's files: the tree's lists, a site's own ClusterIssuer.
        assert!(explain(&plan, &tree, "images.txt").unwrap().contains("rendered from: plan.network"));
        let ca = "network:\n  ca:\n    secret: corp-ca\n    issuer_secret: corp-ca-pair\n";
        let (plan, tree) = setup(&format!("{}{sites}{ca}", spec()));
        let out = explain(&plan, &tree, "sites/eu/entry/clusterissuer-acme-ca.yaml").unwrap();
        assert!(out.contains("rendered from: plan.sites[0].network"), "{out}");
    }

    #[test]
    fn yaml_key_and_whole_file() {
        let (plan, tree) = setup(&spec());
        let out = explain(&plan, &tree, "helm/coder/values.yaml:coder.resources.requests.cpu").unwrap();
        assert!(out.contains("plan.coderd.resources = ") && out.contains(&plan.coderd.reasons["resources"]), "{out}");
        let file = explain(&plan, &tree, "helm/coder/values.yaml").unwrap();
        assert!(file.contains("plan.coderd.replicas = 4"), "{file}");
    }

    #[test]
    fn unknown_file_or_key_says_what_exists() {
        let (plan, tree) = setup(&spec());
        let e = explain(&plan, &tree, "helm/nope.yaml").unwrap_err();
        assert!(e.contains("helm/coder/values.yaml"), "{e}");
        let e = explain(&plan, &tree, "helm/coder/values.yaml:coder.nope").unwrap_err();
        assert!(e.contains("no key `coder.nope`") && e.contains("resources"), "{e}");
        let e = explain(&plan, &tree, "terraform/gcp/node_pools.tf:google_container_node_pool.workspace.nope").unwrap_err();
        assert!(e.contains("no attribute"), "{e}");
    }

    /// Every YAML leaf of every cloud's tree answers with a plan entry. A
    /// key present in several clouds' trees is asked once, in the first:
    /// the answer is chosen by the key, so asking again only repeats it.
    #[test]
    fn every_yaml_key_of_the_tree_is_explained() {
        fn leaves(v: &Value, prefix: &str, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, c) in m {
                        leaves(c, &if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, out);
                    }
                }
                Value::Array(a) => {
                    for (i, c) in a.iter().enumerate() {
                        leaves(c, &format!("{prefix}.{i}"), out);
                    }
                }
                _ => out.push(prefix.to_string()),
            }
        }
        let mut asked = std::collections::HashSet::new();
        for cloud in ["gcp", "aws", "azure"] {
            let (plan, tree) = setup(&spec_text(3000, cloud));
            for (path, bytes) in tree.iter() {
                if !path.ends_with(".yaml") {
                    continue;
                }
                let v: Value = serde_saphyr::from_str(std::str::from_utf8(bytes).unwrap()).unwrap();
                let mut keys = Vec::new();
                leaves(&v, "", &mut keys);
                for k in keys.iter().filter(|k| !k.split('.').any(|s| s.contains(':'))) {
                    if !asked.insert(format!("{path}:{k}")) {
                        continue;
                    }
                    let out = explain(&plan, &tree, &format!("{path}:{k}")).unwrap_or_else(|e| panic!("{path}:{k}: {e}"));
                    assert!(out.contains("why: "), "{path}:{k}: {out}");
                }
            }
        }
    }

    /// Every top-level attribute of every node pool and database resource
    /// answers with a reason, on every cloud.
    #[test]
    fn every_pool_and_database_attribute_is_explained() {
        for cloud in ["gcp", "aws", "azure"] {
            let (plan, tree) = setup(&spec_text(3000, cloud));
            for file in ["node_pools.tf", "database.tf"] {
                let path = format!("terraform/{cloud}/{file}");
                let body = hcl_edit::parser::parse_body(tree.get_str(&path).unwrap()).unwrap();
                let mut checked = 0;
                for b in body.get_blocks("resource") {
                    let (kind, name) = (b.labels[0].as_str(), b.labels[1].as_str());
                    for a in b.body.attributes() {
                        let target = format!("{path}:{kind}.{name}.{}", a.key.as_str());
                        let out = explain(&plan, &tree, &target).unwrap_or_else(|e| panic!("{target}: {e}"));
                        assert!(out.contains("why: "), "{target}: {out}");
                        checked += 1;
                    }
                }
                assert!(checked > 3, "{path}");
            }
        }
    }
}
