//! The region ids of each cloud (`catalog/regions.yaml`), so that a region of
//! another cloud or a typo is refused with a "did you mean" before anything
//! renders. Names only: nothing is sized from them.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::cloud::Cloud;

const REGIONS_YAML: &str = include_str!("../../catalog/regions.yaml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloudRegions {
    #[allow(dead_code)] // documentation in the data file
    source: String,
    regions: Vec<String>,
    /// Azure: each paired region and its pair (geo-redundant backups go
    /// there); a region without a line has none.
    #[serde(default)]
    pairs: BTreeMap<String, String>,
    #[allow(dead_code)] // documentation in the data file
    #[serde(default)]
    pairs_source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Regions {
    gcp: CloudRegions,
    aws: CloudRegions,
    azure: CloudRegions,
}

fn all() -> &'static Regions {
    static REGIONS: OnceLock<Regions> = OnceLock::new();
    REGIONS.get_or_init(|| super::from_yaml(REGIONS_YAML).expect("catalog/regions.yaml is valid (tested)"))
}

/// The region ids of `cloud`, as listed in the catalog.
pub fn of(cloud: Cloud) -> &'static [String] {
    let r = all();
    match cloud {
        Cloud::Gcp => &r.gcp.regions,
        Cloud::Aws => &r.aws.regions,
        Cloud::Azure => &r.azure.regions,
    }
}

/// Whether `region` is one of `cloud`'s.
pub fn contains(cloud: Cloud, region: &str) -> bool {
    of(cloud).iter().any(|r| r == region)
}

/// The region `region`'s pair on `cloud` (Azure's region pairs), if it has
/// one.
pub fn pair(cloud: Cloud, region: &str) -> Option<&'static str> {
    let r = all();
    let c = match cloud {
        Cloud::Gcp => &r.gcp,
        Cloud::Aws => &r.aws,
        Cloud::Azure => &r.azure,
    };
    c.pairs.get(region).map(String::as_str)
}

/// The other cloud that has a region of this exact name, if any.
pub fn other_cloud(cloud: Cloud, region: &str) -> Option<Cloud> {
    [Cloud::Gcp, Cloud::Aws, Cloud::Azure].into_iter().find(|c| *c != cloud && contains(*c, region))
}

/// The closest region id of `cloud`, if it is close enough to be a typo
/// (`us-east1` for `us-east-1` on AWS, `eastus` for `East US` on Azure).
pub fn suggest(cloud: Cloud, region: &str) -> Option<&'static str> {
    // Azure's display names ("East US") map to ids by dropping case and spaces.
    let normal: String = region.to_ascii_lowercase().chars().filter(|c| !c.is_whitespace() && *c != '_').collect();
    let (best, distance) = of(cloud)
        .iter()
        .map(|r| (r.as_str(), strsim::levenshtein(&normal, r).min(strsim::levenshtein(region, r))))
        .min_by_key(|(r, d)| (*d, *r))?;
    // A third of the name may differ: catches a dropped or extra '-', a
    // wrong digit, a swapped word; not an unrelated region.
    (distance <= (best.len() / 3).max(1)).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_load_and_are_distinct() {
        for cloud in [Cloud::Gcp, Cloud::Aws, Cloud::Azure] {
            let list = of(cloud);
            assert!(list.len() > 30, "{cloud}: {}", list.len());
            let distinct: std::collections::BTreeSet<&String> = list.iter().collect();
            assert_eq!(distinct.len(), list.len(), "{cloud}: a region is listed twice");
        }
        // The examples' regions.
        assert!(contains(Cloud::Aws, "us-east-1") && contains(Cloud::Gcp, "us-central1") && contains(Cloud::Azure, "eastus"));
    }

    /// Every paired region is one of Azure's (its pair may be a restricted
    /// region the list leaves out, e.g. swedensouth); the pairs are mostly
    /// mutual; nonpaired regions have none.
    #[test]
    fn azure_pairs() {
        let pairs = &all().azure.pairs;
        assert!(pairs.len() > 30);
        for (region, pair) in pairs {
            assert!(contains(Cloud::Azure, region), "{region} is not an Azure region");
            assert_ne!(region, pair);
        }
        assert_eq!(pair(Cloud::Azure, "eastus"), Some("westus"));
        assert_eq!(pair(Cloud::Azure, "westeurope"), Some("northeurope"));
        assert_eq!(pair(Cloud::Azure, "polandcentral"), None);
        assert_eq!(pair(Cloud::Azure, "israelcentral"), None);
        assert!(all().gcp.pairs.is_empty() && all().aws.pairs.is_empty());
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest(Cloud::Aws, "us-east1"), Some("us-east-1"));
        assert_eq!(suggest(Cloud::Gcp, "us-central-1"), Some("us-central1"));
        assert_eq!(suggest(Cloud::Azure, "East US"), Some("eastus"));
        assert_eq!(suggest(Cloud::Azure, "westeurop"), Some("westeurope"));
        assert_eq!(suggest(Cloud::Aws, "mars-north-9000"), None);
        assert_eq!(other_cloud(Cloud::Aws, "us-central1"), Some(Cloud::Gcp));
        assert_eq!(other_cloud(Cloud::Gcp, "us-central1"), None);
    }
}
