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
    // A site's values: `{site}` is its name; its files are under `sites/<name>/`.
    Rule { pattern: "sites[*].users", label: "users of site {site}", args: &[] },
    Rule { pattern: "sites[*].proxy_enabled", label: "site {site}: workspace proxy", args: &[] },
    Rule { pattern: "sites[*].proxy.replicas", label: "site {site}: proxy replicas", args: &["helm:coder:coder.replicaCount"] },
    Rule {
        pattern: "sites[*].proxy.resources.requests.cpu_millis",
        label: "site {site}: proxy CPU request (millicores)",
        args: &["helm:coder:coder.resources"],
    },
    Rule {
        pattern: "sites[*].proxy.resources.requests.memory_mib",
        label: "site {site}: proxy memory request (MiB)",
        args: &["helm:coder:coder.resources"],
    },
    Rule {
        pattern: "sites[*].provisioners[*].replicas",
        label: "site {site}: provisioners in {key}",
        args: &["helm:coder-provisioner:coder.replicaCount"],
    },
    Rule { pattern: "sites[*].pools[*].machine_type", label: "site {site}: {key} pool machine type", args: MACHINE_ARGS },
    Rule { pattern: "sites[*].pools[*].min_nodes", label: "site {site}: {key} pool nodes (min)", args: MIN_NODE_ARGS },
    Rule { pattern: "sites[*].pools[*].max_nodes", label: "site {site}: {key} pool nodes (max)", args: MAX_NODE_ARGS },
    Rule { pattern: "sites[*].workspaces[*].users", label: "site {site}: users of workspace namespace {key}", args: &[] },
    // The network the cluster lives in, and the secure defaults.
    Rule { pattern: "network.air_gapped", label: "air-gapped", args: &[] },
    Rule { pattern: "network.registry.mirror", label: "registry mirror", args: &[] },
    Rule { pattern: "network.registry.pull_secret", label: "registry pull secret", args: &[] },
    Rule { pattern: "network.charts.mirror", label: "chart mirror", args: &[] },
    Rule { pattern: "network.proxy.url", label: "HTTP proxy", args: &["helm:coder:coder.env"] },
    Rule { pattern: "network.terraform.mirror_url", label: "Terraform provider mirror (URL)", args: &[] },
    Rule { pattern: "network.terraform.mirror_path", label: "Terraform provider mirror (path)", args: &[] },
    Rule { pattern: "network.ca.secret.name", label: "private CA secret", args: &[] },
    Rule { pattern: "security.disable_path_apps", label: "path-based apps off", args: &["helm:coder:coder.env"] },
    Rule { pattern: "security.hsts.max_age_seconds", label: "HSTS max-age (seconds)", args: &["helm:coder:coder.env"] },
    Rule { pattern: "security.audit_logs_retention.days", label: "audit log retention (days)", args: &["helm:coder:coder.env"] },
    Rule { pattern: "security.connection_logs_retention.days", label: "connection log retention (days)", args: &["helm:coder:coder.env"] },
    Rule { pattern: "security.observability.grafana.login", label: "Grafana login", args: &[] },
    Rule { pattern: "security.observability.receiver.kind", label: "alert receiver", args: &[] },
    Rule { pattern: "security.observability.logs.retention_days", label: "Loki log retention (days)", args: &[] },
    Rule { pattern: "warnings[*]", label: "warning {key}", args: &[] },
];

/// The plan's sections when these rules were written. A changed value in
/// one of them that no rule names is a detail (derived numbers, reasons'
/// neighbours): counted in text and Markdown, listed in JSON. A value in any
/// other section (one added later: backups) is shown as it is.
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
    "sites",
    "network",
    "security",
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

/// The keys a pattern binds in `path`: `pools[*].machine_type` against
/// `pools[coderd].machine_type` binds `coderd`; `sites[*].pools[*].…`
/// binds the site, then the role.
fn matches_pattern(pattern: &str, path: &str) -> Option<Vec<String>> {
    let mut keys = Vec::new();
    let mut rest = path;
    let mut parts = pattern.split("[*]").peekable();
    while let Some(head) = parts.next() {
        rest = rest.strip_prefix(head)?;
        if parts.peek().is_none() {
            return rest.is_empty().then_some(keys);
        }
        let inner = rest.strip_prefix('[')?;
        let end = inner.find(']')?;
        keys.push(inner[..end].to_string());
        rest = &inner[end + 1..];
    }
    None
}

/// A rule's label with its keys: `{site}` the site (patterns under
/// `sites[*]`), `{key}` the element's own key.
fn label(rule: &Rule, keys: &[String]) -> String {
    let (site, key) = split_site(rule, keys);
    rule.label.replace("{site}", site.unwrap_or("")).replace("{key}", key)
}

/// (the site, the element's own key) of a rule's keys.
fn split_site<'a>(rule: &Rule, keys: &'a [String]) -> (Option<&'a str>, &'a str) {
    if rule.pattern.starts_with("sites[*]") {
        (keys.first().map(String::as_str), keys.get(1).map_or("", String::as_str))
    } else {
        (None, keys.first().map_or("", String::as_str))
    }
}

/// Every changed value, domain rules first; at most [`MAX_CHANGES`], and
/// how many more there were.
pub fn changes(old: &Value, new: &Value) -> (Vec<Change>, usize) {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten(old, "", &mut a);
    flatten(new, "", &mut b);
    // A value that is null on one side and missing on the other did not
    // change (a section that was null and is now an object, or back).
    let value = |m: &BTreeMap<String, Value>, p: &str| m.get(p).filter(|v| !v.is_null()).cloned();
    let mut paths: Vec<&String> = a.keys().chain(b.keys()).filter(|p| value(&a, p) != value(&b, p)).collect();
    paths.sort();
    paths.dedup();
    let mut ruled: Vec<(usize, Change)> = Vec::new();
    let mut rest = Vec::new();
    for p in paths {
        let (from, to) = (a.get(p).cloned().unwrap_or(Value::Null), b.get(p).cloned().unwrap_or(Value::Null));
        let hit = RULES.iter().enumerate().find_map(|(i, r)| matches_pattern(r.pattern, p).map(|k| (i, r, k)));
        match hit {
            Some((i, r, keys)) => {
                let label = label(r, &keys);
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
        let Some((rule, keys)) = RULES.iter().find_map(|r| matches_pattern(r.pattern, &c.path).map(|k| (r, k))) else { continue };
        let (site, key) = split_site(rule, &keys);
        let mut classes: Vec<Class> = impacts.iter().filter(|i| carries(rule, site, key, i)).map(|i| i.class).collect();
        classes.sort();
        classes.dedup();
        classes.reverse();
        c.classes = classes;
    }
}

/// Whether `impact` carries `rule`'s value: a site's value only in that
/// site's files, the primary's only outside `sites/`.
fn carries(rule: &Rule, site: Option<&str>, key: &str, impact: &Impact) -> bool {
    let here = match site {
        Some(s) => impact.file.starts_with(&format!("sites/{s}/")),
        None => !impact.file.starts_with("sites/"),
    };
    here && rule.args.iter().any(|arg| {
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
    fn a_section_turned_on_shows_its_domain_values_not_null_to_missing() {
        // Observability on: the chart's mirror entry goes from null to an
        // object; the null itself is no change, the images are details.
        let old = json!({"network": {"air_gapped": false, "charts": {"observability": null}, "images": {}}});
        let new = json!({"network": {"air_gapped": true, "charts": {"observability": {"version": "0.6.2"}}, "images": {"loki": {"tag": "3.1.0"}}}});
        let (c, _) = changes(&old, &new);
        let got: Vec<(&str, &str, &str)> = c.iter().map(|c| (c.path.as_str(), c.label.as_str(), c.kind)).collect();
        assert_eq!(
            got,
            [
                ("network.air_gapped", "air-gapped", "domain"),
                ("network.charts.observability.version", "network.charts.observability.version", "detail"),
                ("network.images.loki.tag", "network.images.loki.tag", "detail")
            ]
        );
    }

    #[test]
    fn patterns_bind_the_keys() {
        let keys = |p: &str, path: &str| matches_pattern(p, path).map(|k| k.join(" "));
        assert_eq!(keys("pools[*].machine_type", "pools[coderd].machine_type").as_deref(), Some("coderd"));
        assert_eq!(keys("pools[*].machine_type", "pools[coderd].max_pods"), None);
        assert_eq!(keys("tier", "tier").as_deref(), Some(""));
        assert_eq!(keys("tier", "tiers"), None);
        assert_eq!(keys("sites[*].pools[*].machine_type", "sites[eu].pools[proxy].machine_type").as_deref(), Some("eu proxy"));
        // The primary's pools rule does not take a site's pool.
        assert_eq!(keys("pools[*].machine_type", "sites[eu].pools[proxy].machine_type"), None);
    }

    #[test]
    fn site_values_are_named_and_carried_by_the_sites_files_only() {
        let old = json!({"sites": [{"name": "eu", "users": 500, "proxy": {"replicas": 2}, "pools": [{"role": "workspace", "machine_type": "a"}]}]});
        let new = json!({"sites": [{"name": "eu", "users": 700, "proxy": {"replicas": 3}, "pools": [{"role": "workspace", "machine_type": "b"}]}]});
        let (mut c, _) = changes(&old, &new);
        let labels: Vec<&str> = c.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["users of site eu", "site eu: proxy replicas", "site eu: workspace pool machine type"]);
        let helm = |file: &str| Impact {
            class: Class::Rolling,
            kind: "helm",
            file: file.into(),
            target: String::new(),
            arguments: vec![super::super::Argument { name: "coder.replicaCount".into(), from: None, to: None }],
            what: String::new(),
            when: super::super::When::Apply,
            refused: None,
            action: None,
            source: None,
            resource_type: None,
            resource_name: None,
            chart: Some("coder".into()),
        };
        // The primary's coderd values carry no site's proxy replicas.
        link(&mut c, &[helm("helm/coder/values.yaml")]);
        assert!(c[1].classes.is_empty());
        link(&mut c, &[helm("sites/eu/helm/coder/values.yaml")]);
        assert_eq!(c[1].classes, [Class::Rolling]);
    }

    #[test]
    fn a_hostile_record_is_bounded() {
        let old = Value::Object((0..2000).map(|i| (format!("k{i}"), json!(i))).collect());
        let (c, more) = changes(&old, &json!({}));
        assert_eq!((c.len(), more), (MAX_CHANGES, 2000 - MAX_CHANGES));
    }
}
