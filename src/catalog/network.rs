//! What a restricted network needs to know (`catalog/network.yaml`): every
//! image the charts pull at the versions coder-gen pins, the public chart
//! repositories, the managed databases' host domains and the public hosts
//! an air-gapped spec may not name. Data only, each entry with its source.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::cloud::Cloud;

const NETWORK_YAML: &str = include_str!("../../catalog/network.yaml");

/// An image coder-gen writes itself, or whose tag the plan decides.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnImage {
    pub repository: String,
    /// Fixed tag; `None` where the plan derives it (chart, Kubernetes or
    /// PostgreSQL version).
    #[serde(default)]
    pub tag: Option<String>,
    pub source: String,
}

/// One image a chart renders.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartImage {
    pub id: String,
    /// The repository as Docker resolves it (host written out).
    pub source: String,
    /// The chart's tag; `None`: the chart leaves it untagged (`latest`).
    pub tag: Option<String>,
    /// The tag a mirrored tree pins where the chart has none.
    #[serde(default)]
    pub pin: Option<String>,
    /// The values keys that move it (documentation).
    #[allow(dead_code)]
    pub keys: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartRepo {
    pub repository: String,
    pub name: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseDomain {
    pub domain: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicHosts {
    pub registries: Vec<String>,
    pub charts: Vec<String>,
    pub git: Vec<String>,
    pub terraform: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Network {
    own: BTreeMap<String, OwnImage>,
    observability: BTreeMap<String, Vec<ChartImage>>,
    charts: BTreeMap<String, ChartRepo>,
    database_domains: BTreeMap<String, DatabaseDomain>,
    public_hosts: PublicHosts,
}

fn all() -> &'static Network {
    static NETWORK: OnceLock<Network> = OnceLock::new();
    NETWORK.get_or_init(|| super::from_yaml(NETWORK_YAML).expect("catalog/network.yaml is valid (tested)"))
}

/// `coder`, `postgres`, `judge`, `cluster-autoscaler`.
pub fn own(id: &str) -> &'static OwnImage {
    all().own.get(id).unwrap_or_else(|| panic!("catalog/network.yaml has no own image {id} (tested)"))
}

/// Every image of the coder-observability chart at `version`, if coder-gen
/// knows that version.
pub fn observability_images(version: &str) -> Option<&'static [ChartImage]> {
    all().observability.get(version).map(Vec::as_slice)
}

/// The coder-observability versions whose images coder-gen knows.
pub fn observability_versions() -> Vec<&'static str> {
    all().observability.keys().map(String::as_str).collect()
}

/// `coder`, `observability`, `cluster-autoscaler`: the public repository.
pub fn chart_repo(id: &str) -> &'static ChartRepo {
    all().charts.get(id).unwrap_or_else(|| panic!("catalog/network.yaml has no chart repository {id} (tested)"))
}

pub fn database_domain(cloud: Cloud) -> &'static DatabaseDomain {
    let key = cloud.to_string();
    all().database_domains.get(&key).unwrap_or_else(|| panic!("catalog/network.yaml has no database domain for {key} (tested)"))
}

pub fn public_hosts() -> &'static PublicHosts {
    &all().public_hosts
}

/// Whether `host` (no port) is one of the public hosts of `list`, or a
/// subdomain of one (`*.github.io` counts for `github.io` entries).
pub fn is_public(list: &[String], host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    list.iter().any(|h| host == *h || host.ends_with(&format!(".{h}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_every_lookup_resolves() {
        for id in ["coder", "postgres", "judge", "cluster-autoscaler"] {
            assert!(!own(id).repository.is_empty());
        }
        for id in ["coder", "observability", "cluster-autoscaler"] {
            assert!(chart_repo(id).repository.starts_with("https://"));
        }
        for cloud in [Cloud::Gcp, Cloud::Aws, Cloud::Azure] {
            assert!(!database_domain(cloud).source.is_empty());
        }
        let images = observability_images("0.6.2").expect("the default version is known");
        assert_eq!(images.len(), 22, "the 22 images of coder-observability 0.6.2 (facts section 1)");
        // Every untagged image has a pin, every tagged one none; ids distinct.
        for i in images {
            assert!(i.tag.is_some() != i.pin.is_some(), "{}", i.id);
            assert!(i.source.split('/').next().is_some_and(|h| h.contains('.')), "{}: host written out", i.source);
        }
        let ids: std::collections::BTreeSet<_> = images.iter().map(|i| &i.id).collect();
        assert_eq!(ids.len(), images.len());
        assert!(is_public(&public_hosts().charts, "helm.coder.com") && !is_public(&public_hosts().charts, "charts.corp.example"));
        assert!(is_public(&public_hosts().git, "GitHub.com"));
    }
}
