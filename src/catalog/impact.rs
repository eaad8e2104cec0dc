//! `catalog/impact.yaml`: what applying a change of the tree does, per
//! Terraform resource type (which arguments force a replacement, rotate a
//! pool, roll its nodes, restart the database, only grow, cannot be undone)
//! and per Helm release, each with its provider-doc source. Data only: the
//! review summary (`review`) and the tests apply it. Parsed on first use,
//! apart from the rest of the catalog, so `plan` and `render` never pay for it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::from_yaml;

const IMPACT_YAML: &str = include_str!("../../catalog/impact.yaml");

/// What a replacement or removal of a resource means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceRole {
    /// Nodes: a replacement moves every pod.
    NodePool,
    /// Holds Coder's data: a replacement or removal destroys it.
    Database,
    /// Settings of the database (parameters, replicas, administrators).
    DatabaseSetting,
    /// What a node pool's nodes are built from.
    NodeTemplate,
    Other,
}

/// One resource type's lists (see the comment at the top of the YAML file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceRules {
    pub role: ResourceRole,
    #[serde(default)]
    pub replaces: Vec<String>,
    #[serde(default)]
    pub rotates: Vec<String>,
    #[serde(default)]
    pub rolls_nodes: Vec<String>,
    #[serde(default)]
    pub restarts: Vec<String>,
    /// Only for resources whose `name` argument is one of these (a
    /// configuration resource whose parameter is static).
    #[serde(default)]
    pub restarts_only_names: Vec<String>,
    #[serde(default)]
    pub pending_reboot: Vec<String>,
    /// Blocks (e.g. RDS `parameter`) whose change applies at the next reboot
    /// when the block says `apply_method = "pending-reboot"`.
    #[serde(default)]
    pub pending_reboot_blocks: Option<String>,
    #[serde(default)]
    pub grows_only: Vec<String>,
    #[serde(default)]
    pub one_way: Vec<String>,
    #[serde(default)]
    pub deferred: Vec<String>,
    #[serde(default)]
    pub deferred_unless: Option<String>,
    #[serde(default)]
    pub replica_if: Option<String>,
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
    pub source: String,
}

/// Does the list entry `entry` cover the flattened argument `path`: the
/// path itself, anything below it, or `*`.
pub fn covers(entry: &str, path: &str) -> bool {
    entry == "*" || path == entry || path.strip_prefix(entry).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// Is `path` covered by any entry of `list`.
pub fn listed(list: &[String], path: &str) -> bool {
    list.iter().any(|e| covers(e, path))
}

impl ResourceRules {
    /// The note for `path` (the most specific entry covering it).
    pub fn note(&self, path: &str) -> Option<&str> {
        self.notes.iter().filter(|(k, _)| covers(k, path)).max_by_key(|(k, _)| k.len()).map(|(_, v)| v.as_str())
    }
}

/// A Helm release's rules, matched by the values file's path.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelmRules {
    /// A file (`helm/coder/values.yaml`) or, ending in `/`, every file below;
    /// a `*` segment matches any one folder (`sites/*/helm/coder/values.yaml`).
    pub path: String,
    pub chart: String,
    /// The Helm release's name when the folder does not say it (a site's
    /// proxy: folder `coder`, release `coder-proxy`).
    #[serde(default)]
    pub release: Option<String>,
    #[serde(default)]
    pub migrates_database: bool,
    #[serde(default)]
    pub in_place: Vec<String>,
    #[serde(default)]
    pub grows_only: Vec<String>,
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
    pub source: String,
}

impl HelmRules {
    /// Does this rule's path match the tree path `file`, at the tree's root
    /// or under a folder (`sites/<name>/helm/coder/values.yaml`).
    pub fn matches(&self, file: &str) -> bool {
        if self.path.contains('*') {
            // Segment by segment from the tree's root, `*` for any one.
            let (want, have): (Vec<&str>, Vec<&str>) = (self.path.split('/').collect(), file.split('/').collect());
            return want.len() == have.len() && want.iter().zip(&have).all(|(w, h)| *w == "*" || w == h);
        }
        let at = |p: &str| file == p || file.ends_with(&format!("/{p}"));
        match self.path.strip_suffix('/') {
            Some(dir) => file.starts_with(&self.path) || file.contains(&format!("/{dir}/")),
            None => at(&self.path),
        }
    }
}

/// What applying any other file does, by path prefix.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRules {
    pub prefix: String,
    pub what: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactRules {
    pub terraform: BTreeMap<String, ResourceRules>,
    pub helm: Vec<HelmRules>,
    pub files: Vec<FileRules>,
}

impl ImpactRules {
    /// The embedded `catalog/impact.yaml` (a test proves it parses).
    pub fn embedded() -> &'static ImpactRules {
        static RULES: OnceLock<ImpactRules> = OnceLock::new();
        RULES.get_or_init(|| Self::parse().expect("embedded catalog/impact.yaml is valid (tested)"))
    }

    fn parse() -> Result<ImpactRules, String> {
        let rules: ImpactRules = from_yaml(IMPACT_YAML).map_err(|e| format!("impact.yaml: {e}"))?;
        for (kind, r) in &rules.terraform {
            if r.source.trim().is_empty() {
                return Err(format!("impact.yaml: {kind} has no source"));
            }
            if r.deferred.iter().any(|_| r.deferred_unless.is_none()) {
                return Err(format!("impact.yaml: {kind}: deferred needs deferred_unless"));
            }
        }
        Ok(rules)
    }

    pub fn resource(&self, kind: &str) -> Option<&ResourceRules> {
        self.terraform.get(kind)
    }

    pub fn helm_for(&self, file: &str) -> Option<&HelmRules> {
        self.helm.iter().find(|h| h.matches(file))
    }

    pub fn file_for(&self, file: &str) -> Option<&FileRules> {
        self.files.iter().find(|f| file.starts_with(&f.prefix) || file.contains(&format!("/{}", f.prefix)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_rules_parse_and_every_entry_has_a_source() {
        let r = ImpactRules::parse().unwrap();
        assert!(r.terraform.values().all(|t| !t.source.is_empty()));
        assert!(r.helm.iter().all(|h| !h.source.is_empty()));
        assert!(r.resource("aws_db_instance").unwrap().deferred_unless.as_deref() == Some("apply_immediately"));
    }

    #[test]
    fn entries_cover_their_path_and_below() {
        assert!(covers("node_config.machine_type", "node_config.machine_type"));
        assert!(covers("settings", "settings.tier"));
        assert!(covers("parameter", "parameter[max_connections].value"));
        assert!(covers("*", "anything"));
        assert!(!covers("name", "name_prefix"));
        assert!(!covers("settings.tier", "settings"));
    }

    #[test]
    fn helm_rules_match_at_the_root_and_in_a_folder() {
        let r = ImpactRules::parse().unwrap();
        assert_eq!(r.helm_for("helm/coder/values.yaml").unwrap().chart, "coder");
        assert_eq!(r.helm_for("sites/eu/helm/coder/values.yaml").unwrap().chart, "coder");
        assert_eq!(r.helm_for("helm/coder-provisioner/ns/values.yaml").unwrap().chart, "coder-provisioner");
        assert!(r.helm_for("helm/coderx/values.yaml").is_none());
        assert!(r.file_for("kustomize/overlays/coder/namespace.yaml").is_some());
        assert!(r.file_for("README.md").is_none());
    }
}
