//! The checks on the user's files once the plan exists, against what
//! coder-gen generates without them ([`crate::render::Generated`]): only keys
//! the real charts have, no sized value changed unless the spec marks it
//! `intended`, Kustomize patches that match a generated object, and no sized
//! Terraform argument in an `*_override.tf`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diag::{Located, SpecError};
use crate::plan::Plan;
use crate::render::Generated;
use crate::spec::SIZED_HELM_PATHS;
use crate::yaml::{get, json_ops, merge};

/// Key lists of the charts' values.yaml (see tests/integration/chart_keys.rs,
/// which derives them from the reference charts).
const CODER_KEYS: &str = include_str!("../../tests/data/chart-keys/coder.txt");
const PROVISIONER_KEYS: &str = include_str!("../../tests/data/chart-keys/coder-provisioner.txt");

/// Every check, in order (Helm values, Kustomize files, Terraform files);
/// the first kind with a problem reports all of its problems.
pub fn check(plan: &Plan, spec_file: &str, generated: &Generated) -> Result<(), SpecError> {
    helm(plan, spec_file, &generated.helm)?;
    kustomize(plan, spec_file, &generated.kustomize)?;
    terraform(plan, spec_file, &generated.terraform_names)
}

/// Kinds whose numbers the plan sized (quotas, LimitRange defaults): a patch
/// may not change them.
const SIZED_KINDS: &[&str] = &["ResourceQuota", "LimitRange"];

/// The checks on Kustomize files: a patch must match an object of its
/// overlay (a patch that matches nothing is an error, not a silent no-op)
/// and may not touch a sized object; an extra object must not take a
/// generated object's kind and name. `generated` lists `(kind, name)` per
/// overlay.
fn kustomize(plan: &Plan, spec_file: &str, generated: &BTreeMap<String, Vec<(String, String, Value)>>) -> Result<(), SpecError> {
    let mut errors = Vec::new();
    for (overlay, files) in &plan.overrides.kustomize {
        let full = generated.get(overlay).cloned().unwrap_or_default();
        let objects: Vec<(String, String)> = full.iter().map(|(k, n, _)| (k.clone(), n.clone())).collect();
        let list = || objects.iter().map(|(k, n)| format!("{k}/{n}")).collect::<Vec<_>>().join(", ");
        for f in files {
            let at = |message: String, help: String| Located { line: f.source.line, column: f.source.column, message, help };
            let id = (f.object_kind.clone(), f.object_name.clone());
            let exists = objects.contains(&id);
            if (f.patch || f.json_patch) && !exists {
                errors.push(at(
                    format!(
                        "overrides.kustomize.{overlay}: patch {} matches nothing ({}/{} is not in the overlay)",
                        f.source.file, id.0, id.1
                    ),
                    format!("patch one of: {}", list()),
                ));
            } else if (f.patch || f.json_patch) && SIZED_KINDS.contains(&id.0.as_str()) {
                errors.push(at(
                    format!("overrides.kustomize.{overlay}: patch {} changes {}/{}, which the plan sized", f.source.file, id.0, id.1),
                    "change the spec instead (users, workspaces, provisioners)".into(),
                ));
            } else if f.json_patch && exists {
                // Operations that need an existing path fail at `kustomize build`
                // when it is missing: refuse them here, where the spec is.
                let object = full.iter().find(|(k, n, _)| (k, n) == (&id.0, &id.1)).map(|(_, _, v)| v).filter(|v| !v.is_null());
                for (op, path) in json_ops(&f.source.text).unwrap_or_default() {
                    if matches!(op.as_str(), "remove" | "replace" | "test") && object.is_some_and(|o| o.pointer(&path).is_none()) {
                        errors.push(at(
                            format!("overrides.kustomize.{overlay}: {} `{op} {path}` matches nothing in {}/{}", f.source.file, id.0, id.1),
                            "point the operation at a path the generated object has (see the tree's file), or use `add`".into(),
                        ));
                    }
                }
            } else if !f.patch && exists {
                errors.push(at(
                    format!("overrides.kustomize.{overlay}: {} adds {}/{}, which coder-gen already writes", f.source.file, id.0, id.1),
                    "give your object a name of its own, or list the file under patches to change the generated one".into(),
                ));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecError::Invalid { file: spec_file.to_string(), errors }) }
}

fn chart_keys(target: &str) -> BTreeMap<&'static str, bool> {
    let text = if target == "coder" { CODER_KEYS } else { PROVISIONER_KEYS };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| match l.strip_suffix(" *") {
            Some(k) => (k, true),
            None => (l, false),
        })
        .collect()
}

/// Every key path in `user` must be one of the chart's (below a `*` key
/// anything goes).
fn unknown_keys(prefix: &str, user: &Value, keys: &BTreeMap<&str, bool>, out: &mut Vec<(String, Vec<String>)>) {
    let Value::Object(map) = user else { return };
    for (k, v) in map {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match keys.get(path.as_str()) {
            Some(true) => {}
            Some(false) => unknown_keys(&path, v, keys, out),
            None => {
                let depth = path.matches('.').count();
                let siblings = keys
                    .keys()
                    .filter(|c| c.matches('.').count() == depth && (prefix.is_empty() || c.starts_with(&format!("{prefix}."))))
                    .map(|c| c.rsplit('.').next().unwrap_or(c).to_string())
                    .collect();
                out.push((path, siblings));
            }
        }
    }
}

/// Terraform arguments and blocks that carry a sized number or the
/// scheduling contract (node counts, max pods, machine and database classes,
/// storage, HA, pool labels and taints). A `*_override.tf` may not set them
/// in a resource: change the spec (users, machine_types, database) instead.
const SIZED_TERRAFORM: &[&str] = &[
    "node_count",
    "min_size",
    "max_size",
    "desired_size",
    "min_count",
    "max_count",
    "total_min_node_count",
    "total_max_node_count",
    "scaling_config",
    "autoscaling",
    "max_pods",
    "max_pods_per_node",
    "machine_type",
    "instance_types",
    "vm_size",
    "sku_name",
    "instance_class",
    "tier",
    "edition",
    "allocated_storage",
    "max_allocated_storage",
    "storage_mb",
    "storage_tier",
    "disk_size",
    "disk_size_gb",
    "os_disk_size_gb",
    "volume_size",
    "availability_type",
    "multi_az",
    "high_availability",
    "count",
    "labels",
    "node_labels",
    "taint",
    "node_taints",
];

fn sized_in(body: &hcl_edit::structure::Body, out: &mut Vec<String>) {
    for s in body.iter() {
        if let Some(a) = s.as_attribute() {
            if SIZED_TERRAFORM.contains(&a.key.as_str()) {
                out.push(a.key.to_string());
            }
        } else if let Some(b) = s.as_block() {
            if SIZED_TERRAFORM.contains(&b.ident.as_str()) {
                out.push(b.ident.to_string());
            }
            sized_in(&b.body, out);
        }
    }
}

/// The checks on Terraform files: a name of their own in the tree, and no
/// sized argument set by an override file. `generated` are the names
/// coder-gen writes into `terraform/<cloud>/`.
fn terraform(plan: &Plan, spec_file: &str, generated: &[String]) -> Result<(), SpecError> {
    let mut errors = Vec::new();
    for f in &plan.overrides.terraform {
        let at = |message: String, help: String| Located { line: f.source.line, column: f.source.column, message, help };
        if generated.contains(&f.name) {
            errors.push(at(
                format!("overrides.terraform: {} would replace coder-gen's {}", f.source.file, f.name),
                format!(
                    "rename it (e.g. {}); to change a generated resource use a file ending in _override.tf",
                    f.name.replace(".tf", "_extra.tf")
                ),
            ));
        }
        if !f.name.ends_with("_override.tf") && f.name != "override.tf" {
            continue;
        }
        let Ok(body) = hcl_edit::parser::parse_body(&f.source.text) else { continue };
        for s in body.iter() {
            let Some(b) = s.as_block() else { continue };
            if b.ident.as_str() != "resource" {
                continue;
            }
            let mut sized = Vec::new();
            sized_in(&b.body, &mut sized);
            let labels: Vec<String> = b.labels.iter().map(|l| l.as_str().to_string()).collect();
            for key in sized {
                errors.push(at(
                    format!("overrides.terraform: {} sets `{key}` in resource {}, a number or placement the plan sized", f.source.file, labels.join(".")),
                    "change the spec instead (users, tier, machine_types, database); override files may set tags, networking and other unsized settings".into(),
                ));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecError::Invalid { file: spec_file.to_string(), errors }) }
}

/// The checks on merged values: chart keys, and sized values changed only
/// where the spec says `intended`. `generated` is what coder-gen writes
/// without the override, per target.
fn helm(plan: &Plan, spec_file: &str, generated: &BTreeMap<String, Value>) -> Result<(), SpecError> {
    let mut errors = Vec::new();
    for (target, o) in &plan.overrides.helm {
        let at = |message: String, help: String| Located { line: o.line, column: o.column, message, help };
        let Some(base) = generated.get(target) else { continue };
        let mut unknown = Vec::new();
        unknown_keys("", &o.values, &chart_keys(target), &mut unknown);
        for (path, siblings) in unknown {
            errors.push(at(
                format!(
                    "{}: `{path}` is not a value of the {} chart",
                    o.file,
                    if target == "coder" { "coder" } else { "coder-provisioner" }
                ),
                format!("valid keys here: {}", siblings.join(", ")),
            ));
        }
        let mut merged = base.clone();
        merge(&mut merged, &o.values);
        if get(&merged, "coder.env") != get(base, "coder.env") {
            errors.push(at(
                format!(
                    "{}: sets `coder.env`, which would replace the generated environment (access URL, database, sized settings)",
                    o.file
                ),
                if target == "coder" {
                    "remove it and add your variables with the spec's coder.env".into()
                } else {
                    "remove it and add your variables with the spec's provisioners[].env (this group) or coder.provisioner_env (every group)".into()
                },
            ));
        }
        for path in SIZED_HELM_PATHS {
            if get(&merged, path) != get(base, path) && !o.intended.iter().any(|i| i == path) {
                errors.push(at(
                    format!("{}: changes `{path}`, which the plan sized or schedules (plan: {})", o.file, get(base, path).map_or("unset".into(), Value::to_string)),
                    format!("remove it, or list `{path}` under overrides.helm.{target}.intended to take the value from your file (the plan then says so)"),
                ));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecError::Invalid { file: spec_file.to_string(), errors }) }
}
