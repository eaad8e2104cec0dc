//! What changes, in domain terms: the recorded plan and the new one as JSON,
//! flattened to `path -> value` and compared. The rules below name the
//! domain's values and the Terraform arguments or Helm values that carry
//! them (to show what applying each does); every other changed value is
//! listed by its path, so a plan section added later (sites, backups) shows
//! up without new code here.

use std::collections::BTreeMap;

use serde_json::Value;

use super::terraform::arg_covers;
use super::{Change, Class, Impact, MAX_CHANGES};

/// A domain value of the plan. `pattern` is a flattened path; `[*]` stands
/// for the key of a list element (a pool's role, a namespace), which then
/// must also name the Terraform resource (`coderd`) or lie in the Helm
/// file's path (`/prov-a/`). `args`: where the value lands: a Terraform
/// argument (`instance_types`), `@NAME:ARG` (only the resource named NAME),
/// or `helm:CHART:KEY` (`version` for the chart version).
struct Rule {
    pattern: &'static str,
    label: &'static str,
    args: &'static [&'static str],
}

const MACHINE_ARGS: &[&str] = &["node_config.machine_type", "instance_types", "vm_size"];
const MIN_NODE_ARGS: &[&str] = &["autoscaling.total_min_node_count", "scaling_config.min_size", "node_count", "min_count"];
const MAX_NODE_ARGS: &[&str] = &["autoscaling.total_max_node_count", "scaling_config.max_size", "node_count", "max_count"];

const RULES: &[Rule] = &[
    Rule { pattern: "tier", label: "tier", args: &[] },
    Rule { pattern: "users", label: "users", args: &[] },
    Rule { pattern: "cloud", label: "cloud", args: &[] },
    Rule { pattern: "region", label: "region", args: &[] },
    Rule { pattern: "access_url", label: "access URL", args: &[] },
    Rule { pattern: "wildcard_access_url", label: "wildcard access URL", args: &[] },
    Rule { pattern: "chart.version", label: "Coder chart version", args: &["helm:coder:version", "helm:coder-provisioner:version"] },
    Rule { pattern: "kubernetes.version", label: "Kubernetes version", args: &[] },
    Rule { pattern: "licence.license", label: "licence", args: &[] },
    Rule { pattern: "coderd.replicas", label: "coderd replicas", args: &["helm:coder:coder.replicaCount"] },
    Rule {
        pattern: "coderd.resources.requests.cpu_millis",
        label: "coderd CPU request (millicores)",
        args: &["helm:coder:coder.resources"],
    },
    Rule { pattern: "coderd.resources.requests.memory_mib", label: "coderd memory request (MiB)", args: &["helm:coder:coder.resources"] },
    Rule { pattern: "provisioners[*].replicas", label: "provisioners in {key}", args: &["helm:coder-provisioner:coder.replicaCount"] },
    Rule { pattern: "pools[*].machine_type", label: "{key} pool machine type", args: MACHINE_ARGS },
    Rule { pattern: "pools[*].min_nodes", label: "{key} pool nodes (min)", args: MIN_NODE_ARGS },
    Rule { pattern: "pools[*].max_nodes", label: "{key} pool nodes (max)", args: MAX_NODE_ARGS },
    Rule { pattern: "pools[*].max_pods", label: "{key} pool max pods per node", args: &["max_pods_per_node", "max_pods", "user_data"] },
    Rule {
        pattern: "pools[*].disk_gb",
        label: "{key} pool node disk (GB)",
        args: &["node_config.disk_size_gb", "block_device_mappings.ebs.volume_size", "os_disk_size_gb"],
    },
    Rule { pattern: "database.instance_class", label: "database class", args: &["settings.tier", "instance_class", "sku_name"] },
    Rule {
        pattern: "database.storage_gb",
        label: "database storage (GB)",
        args: &["settings.disk_size", "allocated_storage", "storage_mb"],
    },
    Rule {
        pattern: "database.ha",
        label: "database high availability",
        args: &["settings.availability_type", "multi_az", "high_availability"],
    },
    Rule { pattern: "database.read_replicas", label: "database read replicas", args: &[] },
    Rule {
        pattern: "database.postgres_version",
        label: "PostgreSQL version",
        args: &["database_version", "engine_version", "@primary:version", "family"],
    },
    Rule {
        pattern: "database.max_connections",
        label: "database max_connections",
        args: &["settings.database_flags[max_connections]", "parameter[max_connections]", "@max_connections:value"],
    },
    Rule {
        pattern: "database.backup_retention_days",
        label: "database backup retention (days)",
        args: &["settings.backup_configuration", "backup_retention_period", "backup_retention_days"],
    },
    Rule { pattern: "observability.enabled", label: "observability", args: &[] },
    Rule {
        pattern: "observability.stack.version",
        label: "coder-observability chart version",
        args: &["helm:coder-observability:version"],
    },
    Rule {
        pattern: "observability.stack.volume_gib",
        label: "Prometheus volume (GiB)",
        args: &["helm:coder-observability:prometheus.server.persistentVolume.size"],
    },
    Rule { pattern: "entry.mode", label: "entry mode", args: &[] },
    Rule { pattern: "gitops.controller", label: "GitOps controller", args: &[] },
    Rule { pattern: "workspaces[*].users", label: "users of workspace namespace {key}", args: &[] },
    Rule { pattern: "warnings[*]", label: "warning {key}", args: &[] },
];

/// The plan's sections when these rules were written. A changed value in
/// one of them that no rule names is a detail (derived numbers, reasons'
/// neighbours): counted in text and Markdown, listed in JSON. A value in any
/// other section (one added later: sites, backups) is shown as it is.
const KNOWN_SECTIONS: &[&str] = &[
    "format_version",
    "name",
    "spec_file",
    "spec_digest",
    "tier",
    "tier_source",
    "users",
    "max_users",
    "target_api_rps",
    "cloud",
    "region",
    "access_url",
    "wildcard_access_url",
    "kubernetes",
    "chart",
    "licence",
    "entry",
    "pools",
    "coderd",
    "provisioners",
    "workspaces",
    "database",
    "observability",
    "credentials",
    "verify",
    "bootstrap",
    "cluster_autoscaler",
    "gitops",
    "overrides",
    "notes",
    "warnings",
    "reasons",
];

/// The top-level key of a flattened path.
fn section(path: &str) -> &str {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    &path[..end]
}

/// Keys of list elements, in order of preference: a list of objects that
/// all carry one of them, with distinct values, is keyed by it.
const ID_KEYS: &[&str] = &["role", "namespace", "name", "code", "secret", "file", "topic"];

/// Values that change with every spec change or only explain others.
fn skipped(path: &str, key: &str) -> bool {
    key == "reasons" || (path.is_empty() && matches!(key, "notes" | "spec_digest" | "spec_file" | "format_version"))
}

fn flatten(v: &Value, path: &str, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if skipped(path, k) {
                    continue;
                }
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                flatten(v, &p, out);
            }
        }
        Value::Array(items) if path == "warnings" => {
            // A warning appears or goes; its wording follows the numbers.
            for w in items {
                let code = w.get("code").and_then(Value::as_str).unwrap_or("?");
                out.insert(format!("warnings[{code}]"), Value::Bool(true));
            }
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(|i| i.is_object()) => {
            let key = ID_KEYS.iter().find(|k| {
                let ids: Vec<&str> = items.iter().filter_map(|i| i.get(**k).and_then(Value::as_str)).collect();
                ids.len() == items.len() && ids.iter().collect::<std::collections::BTreeSet<_>>().len() == ids.len()
            });
            for (n, item) in items.iter().enumerate() {
                let id = key.and_then(|k| item.get(*k).and_then(Value::as_str)).map_or_else(|| n.to_string(), str::to_string);
                flatten(item, &format!("{path}[{id}]"), out);
            }
        }
        // Scalars and lists of scalars are one value each.
        _ => {
            out.insert(path.to_string(), v.clone());
        }
    }
}

/// `pools[*].machine_type` against `pools[coderd].machine_type`: the key.
fn matches_pattern(pattern: &str, path: &str) -> Option<String> {
    match pattern.split_once("[*]") {
        None => (pattern == path).then(String::new),
        Some((head, tail)) => {
            let rest = path.strip_prefix(head)?.strip_prefix('[')?;
            let end = rest.find(']')?;
            (&rest[end + 1..] == tail).then(|| rest[..end].to_string())
        }
    }
}

/// Every changed value, domain rules first; at most [`MAX_CHANGES`], and
/// how many more there were.
pub fn changes(old: &Value, new: &Value) -> (Vec<Change>, usize) {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten(old, "", &mut a);
    flatten(new, "", &mut b);
    let mut paths: Vec<&String> = a.keys().chain(b.keys()).filter(|p| a.get(*p) != b.get(*p)).collect();
    paths.sort();
    paths.dedup();
    let mut ruled: Vec<(usize, Change)> = Vec::new();
    let mut rest = Vec::new();
    for p in paths {
        let (from, to) = (a.get(p).cloned().unwrap_or(Value::Null), b.get(p).cloned().unwrap_or(Value::Null));
        let hit = RULES.iter().enumerate().find_map(|(i, r)| matches_pattern(r.pattern, p).map(|k| (i, r, k)));
        match hit {
            Some((i, r, key)) => {
                let label = r.label.replace("{key}", &key);
                ruled.push((i, Change { path: p.clone(), label, kind: "domain", from, to, classes: Vec::new() }));
            }
            None => {
                let kind = if KNOWN_SECTIONS.contains(&section(p)) { "detail" } else { "section" };
                rest.push(Change { path: p.clone(), label: p.clone(), kind, from, to, classes: Vec::new() });
            }
        }
    }
    ruled.sort_by_key(|(i, c)| (*i, c.path.clone()));
    // New sections before details: they are what no rule knows yet.
    rest.sort_by_key(|c| c.kind != "section");
    let mut all: Vec<Change> = ruled.into_iter().map(|(_, c)| c).chain(rest).collect();
    let more = all.len().saturating_sub(MAX_CHANGES);
    all.truncate(MAX_CHANGES);
    (all, more)
}

/// Give each domain change the classes of the impacts that carry it.
pub fn link(changes: &mut [Change], impacts: &[Impact]) {
    for c in changes.iter_mut() {
        let Some((rule, key)) = RULES.iter().find_map(|r| matches_pattern(r.pattern, &c.path).map(|k| (r, k))) else { continue };
        let mut classes: Vec<Class> = impacts.iter().filter(|i| carries(rule, &key, i)).map(|i| i.class).collect();
        classes.sort();
        classes.dedup();
        classes.reverse();
        c.classes = classes;
    }
}

fn carries(rule: &Rule, key: &str, impact: &Impact) -> bool {
    rule.args.iter().any(|arg| {
        if let Some(helm) = arg.strip_prefix("helm:") {
            let Some((chart, value)) = helm.split_once(':') else { return false };
            return impact.kind == "helm"
                && impact.chart.as_deref() == Some(chart)
                && (key.is_empty() || impact.file.contains(&format!("/{key}/")))
                && impact.arguments.iter().any(|a| arg_covers(value, &a.name));
        }
        if impact.kind != "terraform" {
            return false;
        }
        let name = impact.resource_name.as_deref().unwrap_or("");
        let (only, arg) = match arg.strip_prefix('@').and_then(|a| a.split_once(':')) {
            Some((n, a)) => (Some(n), a),
            None => (None, *arg),
        };
        only.is_none_or(|n| n == name)
            && (key.is_empty() || name == key || name.starts_with(&format!("{key}_")))
            && impact.arguments.iter().any(|a| arg_covers(arg, &a.name))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_are_keyed_by_their_elements_ids_and_reasons_are_left_out() {
        let old = json!({"tier": "1k", "reasons": {"tier": "x"}, "pools": [{"role": "coderd", "machine_type": "a", "reasons": {}}], "notes": [1]});
        let new = json!({"tier": "2k", "reasons": {"tier": "y"}, "pools": [{"role": "coderd", "machine_type": "b"}], "notes": [2], "sites": [{"name": "eu", "replicas": 2}]});
        let (c, more) = changes(&old, &new);
        let got: Vec<(&str, &str)> = c.iter().map(|c| (c.path.as_str(), c.label.as_str())).collect();
        assert_eq!(more, 0);
        // Rules first in their order, then the rest (a new section) by path.
        assert_eq!(
            got,
            [
                ("tier", "tier"),
                ("pools[coderd].machine_type", "coderd pool machine type"),
                ("sites[eu].name", "sites[eu].name"),
                ("sites[eu].replicas", "sites[eu].replicas")
            ]
        );
        assert_eq!(c[3].from, Value::Null);
    }

    #[test]
    fn patterns_bind_the_key() {
        assert_eq!(matches_pattern("pools[*].machine_type", "pools[coderd].machine_type").as_deref(), Some("coderd"));
        assert_eq!(matches_pattern("pools[*].machine_type", "pools[coderd].max_pods"), None);
        assert_eq!(matches_pattern("tier", "tier").as_deref(), Some(""));
        assert_eq!(matches_pattern("tier", "tiers"), None);
    }

    #[test]
    fn a_hostile_record_is_bounded() {
        let old = Value::Object((0..2000).map(|i| (format!("k{i}"), json!(i))).collect());
        let (c, more) = changes(&old, &json!({}));
        assert_eq!((c.len(), more), (MAX_CHANGES, 2000 - MAX_CHANGES));
    }
}
