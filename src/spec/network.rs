//! The validated `network:` section: the network the cluster lives in.
//! Everything is optional; the default is the public internet (nothing set).

use serde::Serialize;

/// The validated `network:` section.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Network {
    pub air_gapped: bool,
    pub registry: Option<RegistryMirror>,
    pub charts: Option<ChartMirror>,
    pub proxy: Option<Proxy>,
    pub terraform_providers: Option<ProviderMirror>,
    pub ca: Option<PrivateCa>,
}

impl Network {
    /// Nothing set: left out of the spec's digest, so specs without
    /// `network:` keep the digest they had before the section existed.
    pub fn is_default(&self) -> bool {
        *self == Network::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryMirror {
    /// `host[:port][/path]`, no scheme, no trailing slash.
    pub mirror: String,
    pub pull_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChartMirror {
    /// `oci://host/path` or `https://host/path`, no trailing slash.
    pub url: String,
    pub oci: bool,
    /// Its TLS certificate is signed by `network.ca`.
    pub private_ca: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proxy {
    pub url: String,
    pub cluster_cidrs: Vec<String>,
    pub no_proxy: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderMirror {
    /// `network_mirror { url }`: https, ends in `/`.
    Url(String),
    /// `filesystem_mirror { path }`: absolute path in the provisioner pods.
    Path(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivateCa {
    /// Secret with key `ca.crt`.
    pub secret: String,
    /// `kubernetes.io/tls` Secret of the CA (certificate and key) in
    /// cert-manager's namespace, for the tree's CA ClusterIssuer.
    pub issuer_secret: Option<String>,
}

/// The ClusterIssuer the tree writes for `network.ca.issuer_secret`.
pub fn ca_issuer_name(name: &str) -> String {
    format!("{name}-ca")
}

/// The key of the CA certificate in `network.ca.secret` (Flux's
/// `certSecretRef` and cert-manager name it so too).
pub const CA_KEY: &str = "ca.crt";

/// Environment variables the `network:` section owns, and the key that
/// sets them: `coder.env` (and any other env the spec takes) may not set
/// them. `true`: owned only when `network.air_gapped` is.
pub const NETWORK_ENV: &[(&str, &str, bool)] = &[
    ("HTTP_PROXY", "network.proxy", false),
    ("HTTPS_PROXY", "network.proxy", false),
    ("NO_PROXY", "network.proxy (its cluster_cidrs and no_proxy)", false),
    ("http_proxy", "network.proxy", false),
    ("https_proxy", "network.proxy", false),
    ("no_proxy", "network.proxy (its cluster_cidrs and no_proxy)", false),
    ("TF_CLI_CONFIG_FILE", "network.terraform_providers", false),
    ("CODER_TELEMETRY_ENABLE", "network.air_gapped", true),
    ("CODER_UPDATE_CHECK", "network.air_gapped", true),
    ("CODER_DERP_SERVER_STUN_ADDRESSES", "network.air_gapped", true),
];
