//! What applying the Terraform change does: every resource of the old and
//! new `.tf` files (hcl-edit), flattened to `argument path -> expression
//! text`, compared per resource, and each changed argument classified with
//! the resource type's lists in `catalog/impact.yaml`. Resources are matched
//! per folder (Terraform's module), so a tree with several Terraform folders
//! (sites) works unchanged.

use std::collections::{BTreeMap, BTreeSet};

use hcl_edit::structure::{Body, Structure};

use super::{Argument, Class, FileDiff, Impact, When};
use crate::catalog::impact::{ImpactRules, ResourceRole, ResourceRules, covers, listed};

/// `argument path -> expression text` of one resource.
pub type Attrs = BTreeMap<String, String>;

/// Does an argument list entry cover this argument path (see
/// `catalog::impact::covers`).
pub fn arg_covers(entry: &str, path: &str) -> bool {
    covers(entry, path)
}

/// Expression text with whitespace runs collapsed, so a reflowed list or map
/// compares equal.
fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A block's key in a path: `name[<its name argument>]` when it has one
/// (RDS `parameter`, Cloud SQL `database_flags`), else `name`, then
/// `name[1]`, … for repeats.
fn flatten(body: &Body, prefix: &str, out: &mut Attrs) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                out.insert(format!("{prefix}{}", a.key.as_str()), normalize(&a.value.to_string()));
            }
            Structure::Block(b) => {
                let ident = b.ident.as_str().to_string();
                let named = b.body.get_attribute("name").map(|a| unquote(&a.value.to_string()));
                let key = match named {
                    Some(n) => format!("{ident}[{n}]"),
                    None => {
                        let n = seen.entry(ident.clone()).or_default();
                        let key = if *n == 0 { ident.clone() } else { format!("{ident}[{n}]") };
                        *n += 1;
                        key
                    }
                };
                flatten(&b.body, &format!("{prefix}{key}."), out);
            }
        }
    }
}

/// `"x"` -> `x`; anything else as it is.
pub fn unquote(s: &str) -> String {
    let t = s.trim();
    t.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(t).to_string()
}

/// Every resource of `text`: `(type, name, arguments)`.
pub fn resources(text: &str) -> Result<Vec<(String, String, Attrs)>, String> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| e.to_string().lines().next().unwrap_or("").to_string())?;
    let mut out = Vec::new();
    for b in body.get_blocks("resource") {
        let (Some(kind), Some(name)) = (b.labels.first(), b.labels.get(1)) else { continue };
        let mut attrs = Attrs::new();
        flatten(&b.body, "", &mut attrs);
        out.push((kind.as_str().to_string(), name.as_str().to_string(), attrs));
    }
    Ok(out)
}

/// `(folder, type, name)` -> `(file, arguments)`.
type Resources = BTreeMap<(String, String, String), (String, Attrs)>;

fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The Terraform arguments `lifecycle.ignore_changes` names (`[0]` dropped).
fn ignored(attrs: &Attrs) -> Vec<String> {
    let Some(list) = attrs.get("lifecycle.ignore_changes") else { return Vec::new() };
    list.trim_matches(|c| c == '[' || c == ']').split(',').map(|s| s.trim().replace("[0]", "")).filter(|s| !s.is_empty()).collect()
}

fn is_true(attrs: &Attrs, key: &str) -> bool {
    attrs.get(key).is_some_and(|v| v == "true")
}

/// Every changed resource of the Terraform files among `files`, classified.
pub fn impacts(rules: &ImpactRules, files: &[FileDiff<'_>]) -> Vec<Impact> {
    let (mut old, mut new) = (Resources::new(), Resources::new());
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.path.ends_with(".tf")) {
        let dir = folder(f.path).to_string();
        for (side, bytes, map) in [("old", f.old, &mut old), ("new", f.new, &mut new)] {
            let Some(bytes) = bytes else { continue };
            let parsed = std::str::from_utf8(bytes).map_err(|e| e.to_string()).and_then(resources);
            match parsed {
                Ok(rs) => {
                    for (kind, name, attrs) in rs {
                        map.insert((dir.clone(), kind, name), (f.path.to_string(), attrs));
                    }
                }
                Err(e) => out.push(unknown(f.path, &format!("the {side} {} does not parse as HCL ({e})", f.path))),
            }
        }
        if f.old_unread {
            out.push(unknown(f.path, &format!("the old {} is too large to compare", f.path)));
        }
    }
    let keys: BTreeSet<&(String, String, String)> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (_, kind, name) = key;
        let target = format!("{kind}.{name}");
        let r = rules.resource(kind);
        match (old.get(key), new.get(key)) {
            (None, Some((file, _))) => out.push(impact(Class::InPlace, file, &target, r, Vec::new(), "created".into())),
            (Some((file, attrs)), None) => out.push(removed(file, &target, r, attrs)),
            (Some((_, before)), Some((file, after))) => out.extend(changed(file, &target, kind, r, before, after)),
            (None, None) => {}
        }
    }
    out
}

fn impact(class: Class, file: &str, target: &str, r: Option<&ResourceRules>, arguments: Vec<Argument>, what: String) -> Impact {
    let (kind, name) = target.split_once('.').unwrap_or((target, ""));
    Impact {
        class,
        kind: "terraform",
        file: file.to_string(),
        target: target.to_string(),
        arguments,
        what,
        when: When::Apply,
        refused: None,
        action: None,
        source: r.map(|r| r.source.clone()),
        resource_type: Some(kind.to_string()),
        resource_name: Some(name.to_string()),
        chart: None,
    }
}

fn unknown(file: &str, why: &str) -> Impact {
    let mut i = impact(Class::Unknown, file, file, None, Vec::new(), format!("{why}: read `terraform plan`"));
    i.resource_type = None;
    i.resource_name = None;
    i
}

/// The role that counts: a read replica holds no data of its own.
fn role(r: &ResourceRules, attrs: &Attrs) -> ResourceRole {
    match &r.replica_if {
        Some(a) if attrs.contains_key(a) => ResourceRole::DatabaseSetting,
        _ => r.role,
    }
}

/// Deletion protection as the resource states it, for the refusal.
fn protection(attrs: &Attrs) -> Option<&'static str> {
    if is_true(attrs, "deletion_protection") {
        Some("deletion_protection = true")
    } else if is_true(attrs, "lifecycle.prevent_destroy") {
        Some("lifecycle.prevent_destroy = true")
    } else {
        None
    }
}

const DATA_ACTION: &str = "keep the old value; to move Coder's database for real, take a backup, restore it into a new instance and point the coder-db-url Secret at it (the tree's README, \"Upgrade Coder\"), then remove the old one by hand";

fn destroys_data(file: &str, target: &str, r: &ResourceRules, args: Vec<Argument>, attrs: &Attrs, what: &str) -> Impact {
    let mut i = impact(Class::DestroysData, file, target, Some(r), args, format!("{what}: Coder's data is lost"));
    i.refused = Some(match protection(attrs) {
        Some(p) => format!("refused by deletion protection ({p}): terraform apply fails before anything is deleted"),
        None => "nothing in the tree stops it: terraform apply deletes it".to_string(),
    });
    i.action = Some(DATA_ACTION.into());
    i
}

fn removed(file: &str, target: &str, r: Option<&ResourceRules>, attrs: &Attrs) -> Impact {
    let Some(r) = r else {
        return impact(
            Class::Unknown,
            file,
            target,
            None,
            Vec::new(),
            "removed: coder-gen has no data for this resource type; read `terraform plan`".into(),
        );
    };
    match role(r, attrs) {
        ResourceRole::Database => destroys_data(file, target, r, Vec::new(), attrs, "removed"),
        ResourceRole::NodePool => impact(
            Class::NodePoolReplacement,
            file,
            target,
            Some(r),
            Vec::new(),
            "removed: its nodes are drained and deleted, its pods move".into(),
        ),
        _ => impact(Class::InPlace, file, target, Some(r), Vec::new(), "removed".into()),
    }
}

/// The numeric size of an expression (`512`, `"612Gi"`), for grows-only checks.
pub fn size(s: &str) -> Option<f64> {
    let t = unquote(s);
    let (num, unit) = t.split_at(t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len()));
    let n: f64 = num.parse().ok()?;
    let m = match unit {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "K" | "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => return None,
    };
    Some(n * m)
}

/// A changed argument whose size grows, shrinks, or is not a size.
pub enum Growth {
    Grows,
    Shrinks,
    Unknown,
}

pub fn growth(from: Option<&str>, to: Option<&str>) -> Growth {
    match (from.and_then(size), to.and_then(size)) {
        (Some(a), Some(b)) if b >= a => Growth::Grows,
        (Some(_), Some(_)) => Growth::Shrinks,
        _ => Growth::Unknown,
    }
}

/// One class's share of a resource's change: its arguments, what they do,
/// when, a refusal and what to do.
type Grouped = (Vec<Argument>, BTreeSet<String>, When, Option<String>, Option<String>);

/// The impacts of one resource whose arguments changed: one per class.
fn changed(file: &str, target: &str, kind: &str, r: Option<&ResourceRules>, before: &Attrs, after: &Attrs) -> Vec<Impact> {
    let ignore = ignored(after);
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| before.get(*k) != after.get(*k) && !k.starts_with("lifecycle."))
        .filter(|k| !ignore.iter().any(|i| covers(i, k)))
        .collect();
    if changed.is_empty() {
        return Vec::new();
    }
    let arg = |k: &String| Argument { name: k.clone(), from: before.get(k).cloned(), to: after.get(k).cloned() };
    let Some(r) = r else {
        let args = changed.iter().map(|k| arg(k)).collect();
        return vec![impact(
            Class::Unknown,
            file,
            target,
            None,
            args,
            format!("coder-gen has no data on {kind} in catalog/impact.yaml: read `terraform plan`"),
        )];
    };
    let role = role(r, before);
    let deferred = r.deferred_unless.as_ref().is_some_and(|flag| !is_true(after, flag));
    let name_arg = after.get("name").map(|n| unquote(n)).unwrap_or_default();
    let mut by_class: BTreeMap<Class, Grouped> = BTreeMap::new();
    let mut add = |class: Class, a: Argument, what: String, when: When, refused: Option<String>, action: Option<String>| {
        let e = by_class.entry(class).or_insert_with(|| (Vec::new(), BTreeSet::new(), when, None, None));
        if !e.0.iter().any(|x| x.name == a.name) {
            e.0.push(a);
        }
        e.1.insert(what);
        // The latest moment wins: a deferred change lands later.
        if when != When::Apply {
            e.2 = when;
        }
        e.3 = e.3.take().or(refused);
        e.4 = e.4.take().or(action);
    };
    let window = |k: &str| if deferred && listed(&r.deferred, k) { When::MaintenanceWindow } else { When::Apply };
    for k in changed {
        let note = r.note(k).map(|n| format!(" ({n})")).unwrap_or_default();
        if listed(&r.replaces, k) {
            match role {
                ResourceRole::Database => {
                    let i = destroys_data(file, target, r, vec![arg(k)], after, &format!("{k} forces a new resource"));
                    add(i.class, arg(k), i.what, When::Apply, i.refused, i.action);
                }
                ResourceRole::NodePool => {
                    let how = if is_true(after, "lifecycle.create_before_destroy") {
                        "create_before_destroy starts the new pool first, then the old one is drained and deleted"
                    } else {
                        "the old pool is deleted before the new one starts: capacity drops meanwhile"
                    };
                    add(Class::NodePoolReplacement, arg(k), format!("{k} forces a new node pool: {how}"), When::Apply, None, None);
                }
                ResourceRole::NodeTemplate => {
                    add(
                        Class::Rolling,
                        arg(k),
                        format!("{k} forces a new template: the pool's nodes are replaced one at a time"),
                        When::Apply,
                        None,
                        None,
                    );
                }
                ResourceRole::DatabaseSetting if r.pending_reboot_blocks.is_some() => add(
                    Class::DatabaseRestart,
                    arg(k),
                    format!("{k} forces a new group: the database uses it after its next reboot"),
                    When::NextReboot,
                    None,
                    Some("reboot the database in a quiet hour (aws rds reboot-db-instance)".into()),
                ),
                ResourceRole::DatabaseSetting | ResourceRole::Other => {
                    add(
                        Class::InPlace,
                        arg(k),
                        format!("{k} forces a new resource: destroyed and created again{note}"),
                        When::Apply,
                        None,
                        None,
                    );
                }
            }
            continue;
        }
        if listed(&r.rotates, k) {
            let (what, refused) = if after.contains_key("temporary_name_for_rotation") {
                (format!("{k} rotates the pool through temporary_name_for_rotation: its nodes are replaced without cordon and drain"), None)
            } else {
                (
                    format!("{k} needs temporary_name_for_rotation"),
                    Some("the provider refuses to change it without temporary_name_for_rotation".into()),
                )
            };
            add(Class::NodePoolReplacement, arg(k), what, When::Apply, refused, None);
            continue;
        }
        let mut classified = false;
        let static_param = r.restarts_only_names.is_empty() || r.restarts_only_names.contains(&name_arg);
        if listed(&r.restarts, k) && static_param {
            let when = window(k);
            let what = match when {
                When::MaintenanceWindow => format!(
                    "{k}: the database restarts (downtime) at its next maintenance window, not at apply ({} is not set){note}",
                    r.deferred_unless.as_deref().unwrap_or("")
                ),
                _ => format!("{k}: the database restarts (downtime){note}"),
            };
            add(Class::DatabaseRestart, arg(k), what, when, None, Some("apply in a maintenance window; take a backup first".into()));
            classified = true;
        }
        let reboot_block = r.pending_reboot_blocks.as_ref().is_some_and(|b| {
            covers(b, k) && {
                // The block's own apply_method: `parameter[x].value` -> `parameter[x].apply_method`.
                let block = k.rsplit_once('.').map_or(k.as_str(), |(b, _)| b);
                after.get(&format!("{block}.apply_method")).is_some_and(|m| unquote(m) == "pending-reboot")
            }
        });
        if listed(&r.pending_reboot, k) || reboot_block {
            add(
                Class::DatabaseRestart,
                arg(k),
                format!("{k} takes effect only when the database next reboots{note}"),
                When::NextReboot,
                None,
                Some("reboot the database in a quiet hour (aws rds reboot-db-instance)".into()),
            );
            classified = true;
        }
        if listed(&r.grows_only, k) {
            match growth(before.get(k).map(String::as_str), after.get(k).map(String::as_str)) {
                Growth::Grows => {
                    add(Class::Irreversible, arg(k), format!("{k} grows: it can never shrink again{note}"), window(k), None, None)
                }
                Growth::Shrinks => add(
                    Class::Irreversible,
                    arg(k),
                    format!("{k} shrinks{note}"),
                    window(k),
                    Some(format!("{k} can never shrink: terraform apply fails")),
                    Some("keep the larger size; a smaller database means restoring a backup into a new, smaller instance".into()),
                ),
                Growth::Unknown => {
                    add(Class::Unknown, arg(k), format!("{k} changes and is not a size coder-gen can compare"), window(k), None, None)
                }
            }
            classified = true;
        }
        if listed(&r.one_way, k) {
            add(
                Class::Irreversible,
                arg(k),
                format!("{k} cannot be undone{note}"),
                window(k),
                None,
                Some("take a backup first: the only way back is a restore".into()),
            );
            classified = true;
        }
        if listed(&r.rolls_nodes, k) {
            add(
                Class::Rolling,
                arg(k),
                format!("{k} changes in place: the pool's nodes are replaced one at a time (pods restart)"),
                When::Apply,
                None,
                None,
            );
            classified = true;
        }
        if !classified {
            add(Class::InPlace, arg(k), "updated in place".into(), window(k), None, None);
        }
    }
    by_class
        .into_iter()
        .map(|(class, (args, whats, when, refused, action))| {
            let mut i = impact(class, file, target, Some(r), args, whats.into_iter().collect::<Vec<_>>().join("; "));
            i.when = when;
            i.refused = refused;
            i.action = action;
            i
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(text: &str) -> Attrs {
        resources(text).unwrap().remove(0).2
    }

    #[test]
    fn named_blocks_are_keyed_by_name_and_whitespace_does_not_count() {
        let a = attrs(
            "resource \"t\" \"n\" {\n  x = [\"a\",\n \"b\"]\n  parameter {\n    name = \"max_connections\"\n    value = \"10\"\n  }\n  taint {\n    key = \"k\"\n  }\n  taint {\n    key = \"j\"\n  }\n}\n",
        );
        assert_eq!(a["x"], "[\"a\", \"b\"]");
        assert_eq!(a["parameter[max_connections].value"], "\"10\"");
        assert_eq!((a["taint.key"].as_str(), a["taint[1].key"].as_str()), ("\"k\"", "\"j\""));
    }

    #[test]
    fn sizes_compare_with_units() {
        assert!(matches!(growth(Some("512"), Some("1024")), Growth::Grows));
        assert!(matches!(growth(Some("\"612Gi\""), Some("\"1Ti\"")), Growth::Grows));
        assert!(matches!(growth(Some("1024"), Some("512")), Growth::Shrinks));
        assert!(matches!(growth(Some("var.x"), Some("512")), Growth::Unknown));
    }

    #[test]
    fn hostile_terraform_is_unknown_not_a_panic() {
        let rules = ImpactRules::embedded();
        for bad in [&b"resource \"a\" {"[..], b"\xff\xfe", b"resource {}", b"resource \"x\" \"y\" \"z\" { a = }"] {
            let files = [FileDiff { path: "terraform/aws/x.tf", old: Some(bad), new: Some(b"# nothing\n"), old_unread: false }];
            let out = impacts(rules, &files);
            assert!(out.iter().all(|i| i.class == Class::Unknown || i.kind == "terraform"), "{bad:?}");
        }
    }
}
