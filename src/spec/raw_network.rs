//! `network:` as the user writes it: the network the cluster lives in
//! (registry and chart mirrors, HTTP proxy, Terraform provider mirror,
//! private CA, air-gapped). Shape only; `validate/network.rs` judges the
//! values. The doc comments are the schema's descriptions.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Network")]
pub(super) struct RawNetwork {
    /// `true`: the cluster has no internet at all. Turns off telemetry, the
    /// update check, STUN, Grafana's dashboard downloads and update checks
    /// and Loki's usage reporting, and refuses anything left that needs the
    /// internet (an ACME issuer, public charts or images, no provider mirror).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub(super) air_gapped: Option<Spanned<bool>>,
    /// Pull every image from a registry mirror: `<mirror>/<path>:<tag>`.
    #[serde(default)]
    pub(super) registry: Option<RawRegistry>,
    /// Install every chart from a mirror (OCI registry or HTTPS Helm repository).
    #[serde(default)]
    pub(super) charts: Option<RawCharts>,
    /// An HTTP(S) proxy for coderd and every provisioner.
    #[serde(default)]
    pub(super) proxy: Option<RawProxy>,
    /// Where provisioners' Terraform gets providers: a mirror only, never
    /// registry.terraform.io.
    #[serde(default)]
    pub(super) terraform_providers: Option<RawProviderMirror>,
    /// A private CA that coderd, provisioners and the verify Jobs trust, and
    /// that may sign the entry's certificate.
    #[serde(default)]
    pub(super) ca: Option<RawCa>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RegistryMirror")]
pub(super) struct RawRegistry {
    /// Image prefix without scheme or trailing slash, starting with the registry host, e.g. registry.corp.example/mirror.
    #[schemars(with = "String")]
    pub(super) mirror: Spanned<String>,
    /// A `kubernetes.io/dockerconfigjson` Secret of that name in every
    /// namespace that pulls (created by hand; the tree names it only).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) pull_secret: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ChartMirror")]
pub(super) struct RawCharts {
    /// `oci://registry.corp.example/charts` (charts pushed with `helm push`) or `https://charts.corp.example/coder` (one Helm repository holding every chart).
    #[schemars(with = "String")]
    pub(super) url: Spanned<String>,
    /// The mirror's TLS certificate is signed by `network.ca` (helm
    /// `--ca-file`, Flux `certSecretRef`, Argo CD's TLS certificates).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub(super) private_ca: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Proxy")]
pub(super) struct RawProxy {
    /// `http://host:port` (or https://): HTTP_PROXY and HTTPS_PROXY, without credentials.
    #[schemars(with = "String")]
    pub(super) url: Spanned<String>,
    /// The cluster's pod and service CIDRs, e.g. 10.0.0.0/8: coderd replicas reach each other by pod IP, Terraform the API server by service IP.
    #[schemars(with = "Vec<String>", length(min = 1))]
    pub(super) cluster_cidrs: Spanned<Vec<Spanned<String>>>,
    /// More hosts, domains (.corp.example), IPs or CIDRs to reach directly,
    /// added to the computed NO_PROXY.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(super) no_proxy: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ProviderMirror")]
pub(super) struct RawProviderMirror {
    /// A provider network mirror: https, ending in `/`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) mirror_url: Option<Spanned<String>>,
    /// Or: an absolute path in the provisioner pods holding a filesystem
    /// mirror (`terraform providers mirror` layout).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) mirror_path: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PrivateCa")]
pub(super) struct RawCa {
    /// A Secret with the CA certificate under key `ca.crt`, in every namespace that trusts it (created by hand; the tree names it only).
    #[schemars(with = "String")]
    pub(super) secret: Spanned<String>,
    /// Optional: a `kubernetes.io/tls` Secret with the CA's certificate and
    /// key in cert-manager's namespace; the tree writes a CA ClusterIssuer
    /// from it that signs the entry's certificate (no ACME).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) issuer_secret: Option<Spanned<String>>,
}
