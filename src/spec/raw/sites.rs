//! What the user writes under `sites:` (the wire types, as `raw.rs` has the
//! rest): a workspace site besides the primary, its cloud or on-prem
//! cluster, its users and its workspace proxy. Judged by
//! `validate/sites.rs`.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::{AutoBool, Decimal, RawCertificate, RawKubernetes};
use crate::cloud::Cloud;

/// `sites[].cloud`: a cloud whose managed Kubernetes the site's node pools
/// join (Terraform), or `onprem`: an existing cluster coder-gen does not
/// provision (Helm and Kustomize only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SiteCloud {
    Gcp,
    Aws,
    Azure,
    Onprem,
}

impl SiteCloud {
    pub fn as_str(self) -> &'static str {
        match self {
            SiteCloud::Gcp => "gcp",
            SiteCloud::Aws => "aws",
            SiteCloud::Azure => "azure",
            SiteCloud::Onprem => "onprem",
        }
    }

    /// The cloud, or `None` on-prem.
    pub fn cloud(self) -> Option<Cloud> {
        match self {
            SiteCloud::Gcp => Some(Cloud::Gcp),
            SiteCloud::Aws => Some(Cloud::Aws),
            SiteCloud::Azure => Some(Cloud::Azure),
            SiteCloud::Onprem => None,
        }
    }
}

impl fmt::Display for SiteCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Site")]
pub(in crate::spec) struct RawSite {
    /// The site's name: a DNS-1123 label of at most 12 characters. It tags the
    /// site's provisioner keys (`site=<name>`), names its proxy and its
    /// folder `sites/<name>/`.
    #[schemars(with = "String", length(min = 1, max = 12), regex(pattern = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"))]
    pub(in crate::spec) name: Spanned<String>,
    /// `gcp`, `aws`, `azure` (node pools in that cloud's existing cluster), or
    /// `onprem` (an existing cluster coder-gen does not provision).
    #[schemars(with = "SiteCloud")]
    pub(in crate::spec) cloud: Spanned<SiteCloud>,
    /// Cloud sites: the cloud's region id (refused on-prem).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(in crate::spec) region: Option<Spanned<String>>,
    /// Users whose workspaces run here, in decimal digits; part of the
    /// top-level `users` (the primary keeps the rest).
    #[schemars(with = "u64", range(min = 1, max = 3000))]
    pub(in crate::spec) users: Spanned<Decimal>,
    /// The site's existing cluster (default name `<name>-<site>`; default
    /// version: the primary's).
    #[serde(default)]
    pub(in crate::spec) kubernetes: Option<RawKubernetes>,
    /// The site's workspace proxy: `auto` (on for an on-prem site and for a
    /// cloud site in another cloud or region), `true`, `false`, or a map.
    #[serde(default)]
    pub(in crate::spec) proxy: Option<RawProxy>,
    /// Override the site's machine types per pool (cloud sites; each must be
    /// in coder-gen's catalog for the site's cloud).
    #[serde(default)]
    pub(in crate::spec) machine_types: Option<RawSiteMachineTypes>,
    /// With `network.proxy`: the site cluster's pod and service CIDRs, kept
    /// off the proxy (the proxy's replicas relay to each other by pod IP);
    /// default: `network.proxy.cluster_cidrs`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>", length(min = 1))]
    pub(in crate::spec) cluster_cidrs: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `sites[].proxy` as `auto|true|false` or as a map (which turns it on).
#[derive(Debug)]
pub(in crate::spec) enum RawProxy {
    Short(AutoBool),
    Full(Box<RawProxyMap>),
}

impl<'de> Deserialize<'de> for RawProxy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawProxy;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`auto`, `true`, `false` or a map with `access_url`, `wildcard_access_url`, ...")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawProxy, E> {
                Ok(RawProxy::Short(AutoBool::Set(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawProxy, E> {
                match v {
                    "auto" => Ok(RawProxy::Short(AutoBool::Auto)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawProxy, A::Error> {
                RawProxyMap::deserialize(de::value::MapAccessDeserializer::new(map)).map(|m| RawProxy::Full(Box::new(m)))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawProxy {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ProxyChoice".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // What `deserialize` accepts: the short form or the map.
        let short = g.subschema_for::<AutoBool>();
        let full = g.subschema_for::<RawProxyMap>();
        schemars::json_schema!({ "anyOf": [short, full] })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SiteProxy")]
pub(in crate::spec) struct RawProxyMap {
    /// The proxy's own https URL (default: `https://<site>.<primary host>`).
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = "^https://"))]
    pub(in crate::spec) access_url: Option<Spanned<String>>,
    /// Its wildcard URL for workspace apps, `https://*.` + a host (default:
    /// `https://*.<proxy host>`).
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^https://\*\."))]
    pub(in crate::spec) wildcard_access_url: Option<Spanned<String>>,
    /// The name users see in the dashboard's region picker (default: the site's name).
    #[serde(default)]
    #[schemars(with = "Option<String>", length(min = 1, max = 64))]
    pub(in crate::spec) display_name: Option<Spanned<String>>,
    /// The picker's icon, a path Coder serves (default: /emojis/1f310.png, a globe).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(in crate::spec) icon: Option<Spanned<String>>,
    /// Where the proxy's TLS certificate comes from (default: cert-manager in
    /// the site's cluster, ClusterIssuer `letsencrypt-dns01` with DNS-01, or
    /// the tree's CA ClusterIssuer when `network.ca.issuer_secret` is set).
    #[serde(default)]
    pub(in crate::spec) certificate: Option<RawCertificate>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SiteMachineTypes")]
pub(in crate::spec) struct RawSiteMachineTypes {
    /// Machine type of the proxy pool (default: the tier's coderd type).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(in crate::spec) proxy: Option<Spanned<String>>,
    /// Machine type of the provisioner pool.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(in crate::spec) provisioner: Option<Spanned<String>>,
    /// Machine type of the workspace pool.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(in crate::spec) workspace: Option<Spanned<String>>,
}
