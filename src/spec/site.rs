//! The validated `sites:`: workspace sites besides the primary, each with
//! its own cluster, users, groups and workspace proxy. coderd, the database
//! and the tier stay in the primary.

use serde::Serialize;

pub use super::raw::SiteCloud;
use super::{At, AutoBool, CertificateSource, Kubernetes, ProvisionerGroup, WorkspaceGroup};

/// At most this many characters in a site's name: it goes into cloud
/// resource names (`<name>-<site>-<role>`), namespaces and tags.
pub const MAX_SITE_NAME: usize = 12;
/// `<name>-<site>` at most this long: the longest pool name,
/// `<name>-<site>-provisioner`, then fits GKE's 40 characters.
pub const MAX_SITE_PREFIX: usize = 28;
/// The tag every site group's provisioner key carries (`site=<name>`).
pub const SITE_TAG: &str = "site";
/// The icon of a proxy in the dashboard's picker: a globe from the emojis
/// Coder serves.
pub const DEFAULT_PROXY_ICON: &str = "/emojis/1f310.png";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    pub name: At<String>,
    pub cloud: SiteCloud,
    /// Cloud sites only.
    pub region: Option<String>,
    pub users: At<u32>,
    pub kubernetes: Kubernetes,
    pub proxy: SiteProxy,
    pub machine_types: SiteMachineTypes,
    /// The site's groups: the spec's groups that name it, or one default
    /// group of each kind (`coder-provisioners-<site>`, `coder-workspaces-<site>`).
    /// Provisioner tags include `site: <name>`.
    pub provisioners: Vec<ProvisionerGroup>,
    pub workspaces: Vec<WorkspaceGroup>,
    /// The site cluster's pod and service CIDRs for its NO_PROXY (`None`:
    /// `network.proxy.cluster_cidrs`). Left out of the digest when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_cidrs: Option<At<Vec<String>>>,
}

impl Site {
    /// Whether the site runs a workspace proxy: as the spec says, or (`auto`)
    /// wherever its users are away from the primary (another cloud or
    /// region, or on-prem).
    pub fn proxy_on(&self, primary_cloud: crate::cloud::Cloud, primary_region: &str) -> bool {
        match self.proxy.enabled {
            AutoBool::Set(v) => v,
            AutoBool::Auto => self.cloud.cloud() != Some(primary_cloud) || self.region.as_deref() != Some(primary_region),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteProxy {
    /// `auto`: on for an on-prem site and a cloud site in another cloud or
    /// region than the primary (the plan decides, with its reason).
    pub enabled: AutoBool,
    /// `None`: derived from the primary's host (see [`default_proxy_url`]).
    pub access_url: Option<String>,
    pub wildcard_access_url: Option<String>,
    pub display_name: Option<String>,
    pub icon: Option<String>,
    pub certificate: CertificateSource,
    /// Where the spec names the certificate's source (`None`: the default);
    /// not part of the spec's meaning.
    #[serde(skip)]
    pub certificate_at: Option<(u64, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SiteMachineTypes {
    pub proxy: Option<At<String>>,
    pub provisioner: Option<At<String>>,
    pub workspace: Option<At<String>>,
}

/// A proxy's URL when the spec gives none: the site's name as a subdomain
/// of the primary's host (`https://coder.example.com` ->
/// `https://eu.coder.example.com`), as Coder's docs name proxies.
pub fn default_proxy_url(primary_access_url: &str, site: &str) -> String {
    let host = primary_access_url.strip_prefix("https://").unwrap_or(primary_access_url);
    format!("https://{site}.{host}")
}

/// A proxy's wildcard URL when the spec gives none: `*.` + its host.
pub fn default_proxy_wildcard(proxy_access_url: &str) -> String {
    let host = proxy_access_url.strip_prefix("https://").unwrap_or(proxy_access_url);
    format!("https://*.{host}")
}
