//! What the user writes: the spec's wire types, exactly as the YAML has
//! them (`Raw*`, every key optional where the spec has a default, with its
//! position kept as `Spanned`), and the value vocabulary (`auto`, tiers,
//! modes, `coder.env` values) with the custom parsing and JSON Schema each
//! needs. The doc comments are the schema's descriptions (`schema.rs`).
//! Nothing is checked here beyond the shape: `validate` judges the values.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::cloud::Cloud;
use crate::diag::quote;

mod security;
mod sites;
pub use security::ReceiverKind;
pub(super) use security::{RawAlerts, RawGrafana, RawGrafanaOidc, RawSecurity};
pub use sites::SiteCloud;
pub(super) use sites::{RawProxy, RawSite};

/// `tier:` in the spec. `auto` picks the smallest tier that fits `users`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum TierChoice {
    #[default]
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "1k")]
    OneK,
    #[serde(rename = "2k")]
    TwoK,
    #[serde(rename = "3k")]
    ThreeK,
}

impl TierChoice {
    /// The catalog id of an explicit tier.
    pub fn id(self) -> Option<&'static str> {
        match self {
            TierChoice::Auto => None,
            TierChoice::OneK => Some("1k"),
            TierChoice::TwoK => Some("2k"),
            TierChoice::ThreeK => Some("3k"),
        }
    }
}

/// `coder.license:` in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum License {
    #[default]
    Premium,
    Community,
}

/// `entry.mode:` where TLS terminates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EntryMode {
    /// coderd serves TLS itself on its LoadBalancer Service (443 -> 8443).
    #[default]
    CoderdTls,
    /// An Ingress controller terminates TLS and forwards to coderd's HTTP port.
    Ingress,
    /// A Gateway API `Gateway` (written by the tree, of the spec's class)
    /// terminates TLS; the chart's HTTPRoute forwards to coderd's HTTP port.
    Gateway,
}

/// `entry.certificate.cert_manager.issuer_kind:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum IssuerKind {
    #[default]
    ClusterIssuer,
    Issuer,
}

impl IssuerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerKind::ClusterIssuer => "ClusterIssuer",
            IssuerKind::Issuer => "Issuer",
        }
    }
}

/// The ACME challenge a cert-manager issuer solves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Challenge {
    #[default]
    Dns01,
    Http01,
    /// No challenge: the issuer signs by itself (a cert-manager CA or Vault
    /// issuer), as in a network without the internet.
    None,
}

/// `auto`, `true` or `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum AutoBool {
    #[default]
    Auto,
    Set(bool),
}

impl<'de> Deserialize<'de> for AutoBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AutoBool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`auto`, `true` or `false`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<AutoBool, E> {
                Ok(AutoBool::Set(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AutoBool, E> {
                match v {
                    "auto" => Ok(AutoBool::Auto),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for AutoBool {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AutoBool".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // What `deserialize` accepts: the string `auto` or a YAML boolean.
        schemars::json_schema!({ "default": "auto", "anyOf": [{ "const": "auto" }, { "type": "boolean" }] })
    }
}

/// `auto` or a whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum AutoCount {
    #[default]
    Auto,
    Set(u32),
}

impl<'de> Deserialize<'de> for AutoCount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AutoCount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`auto` or a whole number from 0 to 5")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AutoCount, E> {
                match u32::try_from(v) {
                    Ok(n) if n <= 5 => Ok(AutoCount::Set(n)),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AutoCount, E> {
                match u64::try_from(v) {
                    Ok(u) => self.visit_u64(u),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AutoCount, E> {
                match v {
                    "auto" => Ok(AutoCount::Auto),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `users:` as written: decimal digits only. YAML would also read `0x1F4`,
/// `0o764`, `0b111`, `+500` and `1_000` as numbers; a size is not written
/// that way, so those are refused rather than guessed at.
#[derive(Debug)]
pub(super) struct Decimal(pub(super) u64);

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number in decimal digits, such as 500")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
                match v.parse::<u64>() {
                    Ok(n) if digits(v) => Ok(Decimal(n)),
                    // Too large for u64, or negative: a range problem, not a spelling one.
                    _ if digits(v) || v.strip_prefix('-').is_some_and(digits) => {
                        Err(E::custom(format!("users is {}, outside 1..=3000", quote(v))))
                    }
                    _ => Err(E::custom(format!("users is {}: write the number of users in decimal digits, such as 500", quote(v)))),
                }
            }
        }
        d.deserialize_str(V)
    }
}

impl JsonSchema for AutoCount {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AutoCount".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "default": "auto",
            "anyOf": [{ "const": "auto" }, { "type": "integer", "minimum": 0, "maximum": 5 }]
        })
    }
}

/// The raw document, exactly as written. Field order is the order the
/// reference in the README documents.
///
/// These types are also the source of the JSON Schema (`coder-gen schema`,
/// `spec/schema.rs`): a key added here appears there, with its doc comment as
/// the description. `Spanned<T>` fields say `#[schemars(with = "T")]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "coder-gen spec (v1)",
    description = "A Coder deployment for coder-gen: `coder-gen render spec.yaml -o out/`. Reference: README, 'The spec'."
)]
pub(crate) struct RawSpec {
    /// Deployment name: a DNS-1123 label of at most 20 characters; prefixes cloud resource names.
    #[schemars(with = "String", length(min = 1, max = 20), regex(pattern = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"))]
    pub(super) name: Spanned<String>,
    /// Concurrent users to size for, 1 to 3000 in decimal digits; picks the tier.
    #[schemars(with = "u64", range(min = 1, max = 3000))]
    pub(super) users: Spanned<Decimal>,
    /// The cloud whose managed Kubernetes and PostgreSQL to use.
    pub(super) cloud: Cloud,
    /// The cloud's region id, e.g. us-east-1 (aws), us-central1 (gcp), eastus (azure).
    #[schemars(with = "String")]
    pub(super) region: Spanned<String>,
    /// The https URL users open, without a path, e.g. https://coder.example.com.
    #[schemars(with = "String", regex(pattern = "^https://"))]
    pub(super) access_url: Spanned<String>,
    /// Wildcard URL for workspace apps, e.g. https://*.coder.example.com.
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^https://\*\."))]
    pub(super) wildcard_access_url: Option<Spanned<String>>,
    /// `auto` (the smallest tier that fits `users`) or a tier at least that large.
    #[serde(default)]
    #[schemars(with = "Option<TierChoice>")]
    pub(super) tier: Option<Spanned<TierChoice>>,
    /// The existing cluster the node pools join.
    #[serde(default)]
    pub(super) kubernetes: Option<RawKubernetes>,
    /// The Coder Helm chart, licence and organization.
    #[serde(default)]
    pub(super) coder: Option<RawCoder>,
    /// How users reach coderd over TLS (default: coderd terminates TLS on its
    /// LoadBalancer Service with a cert-manager certificate).
    #[serde(default)]
    pub(super) entry: Option<RawEntry>,
    /// Managed PostgreSQL.
    #[serde(default)]
    pub(super) database: Option<RawDatabase>,
    /// Provisioner groups, each in a namespace of its own (default: one group in coder-provisioners).
    #[serde(default)]
    #[schemars(with = "Option<Vec<RawProvisioners>>", length(min = 1, max = 16))]
    pub(super) provisioners: Option<Spanned<Vec<RawProvisioners>>>,
    /// Workspace namespaces (default: coder-workspaces).
    #[serde(default)]
    #[schemars(with = "Option<Vec<RawWorkspaces>>", length(min = 1, max = 16))]
    pub(super) workspaces: Option<Spanned<Vec<RawWorkspaces>>>,
    /// `auto` (on for 3k), `true`, `false`, or a map with `enabled`,
    /// `chart_version` and `prometheus_operator`.
    #[serde(default)]
    pub(super) observability: Option<RawObservability>,
    /// Override a reference machine type per pool; each must be in coder-gen's catalog.
    #[serde(default)]
    pub(super) machine_types: Option<RawMachineTypes>,
    /// Where the tree's secrets come from: created by hand with `kubectl`
    /// (default) or filled by the External Secrets Operator.
    #[serde(default)]
    pub(super) secrets: Option<RawSecrets>,
    /// GitOps controller objects that deploy the tree from its Git repository (default: none).
    #[serde(default)]
    pub(super) gitops: Option<RawGitops>,
    /// The network the cluster lives in: registry and chart mirrors, HTTP
    /// proxy, Terraform provider mirror, private CA, air-gapped (default: the
    /// public internet).
    #[serde(default)]
    pub(super) network: Option<super::raw_network::RawNetwork>,
    /// Your own settings that coder-gen merges into the generated tree and checks.
    #[serde(default)]
    pub(super) overrides: Option<RawOverrides>,
    /// Workspace sites besides the primary: other regions, clusters, clouds
    /// or on-prem clusters, each with its own provisioners, workspaces and
    /// (by default in another region) a workspace proxy. coderd and the
    /// database stay in the primary; `users` stays the total.
    #[serde(default)]
    #[schemars(with = "Option<Vec<RawSite>>", length(min = 1, max = 16))]
    pub(super) sites: Option<Spanned<Vec<RawSite>>>,
    /// Secure defaults you may loosen (each change is a plan warning): path
    /// apps, HSTS, audit and connection log retention, trusted proxies.
    #[serde(default)]
    pub(super) security: Option<RawSecurity>,
}

/// `observability:` as `auto|true|false` (the v1 form) or as a map.
#[derive(Debug)]
pub(super) enum RawObservability {
    Short(AutoBool),
    /// Boxed: the map is large next to the short form.
    Full(Box<RawObservabilityMap>),
}

impl<'de> Deserialize<'de> for RawObservability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawObservability;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`auto`, `true`, `false` or a map with `enabled`, `chart_version`, `prometheus_operator`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawObservability, E> {
                Ok(RawObservability::Short(AutoBool::Set(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawObservability, E> {
                match v {
                    "auto" => Ok(RawObservability::Short(AutoBool::Auto)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawObservability, A::Error> {
                RawObservabilityMap::deserialize(de::value::MapAccessDeserializer::new(map)).map(|m| RawObservability::Full(Box::new(m)))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawObservability {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ObservabilityChoice".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // What `deserialize` accepts: the v1 short form or the map.
        let short = g.subschema_for::<AutoBool>();
        let full = g.subschema_for::<RawObservabilityMap>();
        schemars::json_schema!({ "anyOf": [short, full] })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Observability")]
pub(super) struct RawObservabilityMap {
    /// `auto` (on for tiers whose reference architecture asks for it: 3k),
    /// `true` or `false`.
    #[serde(default)]
    pub(super) enabled: AutoBool,
    /// Version of Coder's `coder-observability` Helm chart, pinned in its
    /// helm command (default 0.6.2).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) chart_version: Option<Spanned<String>>,
    /// Also write ServiceMonitors for a Prometheus Operator you run (e.g.
    /// kube-prometheus-stack); off by default.
    #[serde(default)]
    pub(super) prometheus_operator: Option<RawPrometheusOperator>,
    /// How people log in to Grafana: an admin from Secret `grafana-admin`
    /// (default), or OIDC. Never anonymous.
    #[serde(default)]
    pub(super) grafana: Option<RawGrafana>,
    /// Where Alertmanager sends alerts (default: nowhere, a plan warning).
    #[serde(default)]
    pub(super) alerts: Option<RawAlerts>,
    /// Days Loki keeps logs, at most 3650 (default 30); 0 keeps them until its
    /// volume fills, below 30 is a plan warning.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(max = 3650))]
    pub(super) logs_retention_days: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PrometheusOperator")]
pub(super) struct RawPrometheusOperator {
    /// Write a ServiceMonitor per metrics endpoint.
    #[serde(default)]
    pub(super) enabled: bool,
    /// Namespace the operator's Prometheus runs in (admitted to the metrics
    /// port); default `coder-observability`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) namespace: Option<Spanned<String>>,
    /// Labels every ServiceMonitor carries so the operator selects it
    /// (kube-prometheus-stack: `release: <its release name>`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub(super) selector_labels: BTreeMap<String, Spanned<String>>,
}

/// How the tree's secrets are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum SecretsManager {
    /// Created by hand with the README's `kubectl create secret` steps.
    #[default]
    #[serde(rename = "kubectl")]
    Kubectl,
    /// `ExternalSecret` objects of the External Secrets Operator fill them
    /// from the cloud's secret manager.
    #[serde(rename = "external-secrets")]
    ExternalSecrets,
}

/// The kind of the External Secrets Operator store the tree refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum StoreKind {
    #[default]
    ClusterSecretStore,
    SecretStore,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::ClusterSecretStore => "ClusterSecretStore",
            StoreKind::SecretStore => "SecretStore",
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Secrets")]
pub(super) struct RawSecrets {
    /// `kubectl` (default) or `external-secrets`.
    #[serde(default)]
    #[schemars(with = "Option<SecretsManager>")]
    pub(super) manager: Option<Spanned<SecretsManager>>,
    /// Name of the External Secrets Operator store (required with
    /// `external-secrets`); it reads the cloud's secret manager.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) store: Option<Spanned<String>>,
    /// `ClusterSecretStore` (default) or `SecretStore` (then one per
    /// namespace, each with this name).
    #[serde(default)]
    pub(super) store_kind: StoreKind,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Kubernetes")]
pub(super) struct RawKubernetes {
    /// The existing cluster's name (default: `name`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) cluster_name: Option<Spanned<String>>,
    /// Kubernetes minor version, quoted: "1.30" to "1.37" (default "1.33").
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^1\.3[0-7]$"))]
    pub(super) version: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Coder")]
pub(super) struct RawCoder {
    /// Coder Helm chart version, e.g. "2.33.6" (the default).
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^[0-9]+\.[0-9]+\.[0-9]+$"))]
    pub(super) chart_version: Option<Spanned<String>>,
    /// `premium` (default: the reference architectures' external provisioners
    /// and several coderd replicas need it) or `community`.
    #[serde(default)]
    #[schemars(with = "Option<License>")]
    pub(super) license: Option<Spanned<License>>,
    /// The Coder organization provisioner keys and templates belong to
    /// (default: Coder's default organization, the one it creates on first
    /// start; the CLI picks it when no `--org` is given).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) organization: Option<Spanned<String>>,
    /// Extra coderd environment variables (OIDC, GitHub login, CA bundle, ...): a string value, or
    /// `{ secret: NAME, key: KEY }` to read it from a Secret in coderd's namespace.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, EnvValue>")]
    pub(super) env: BTreeMap<String, Spanned<EnvValue>>,
    /// Environment variables for every provisioner group (Terraform settings,
    /// cloud credentials, ...): a string, or `{ secret: NAME, key: KEY }` read from a
    /// Secret in each group's namespace. A group's own `env` wins.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, EnvValue>")]
    pub(super) provisioner_env: BTreeMap<String, Spanned<EnvValue>>,
}

/// `entry:` in the spec.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Entry")]
pub(super) struct RawEntry {
    /// `coderd-tls` (default), `ingress` or `gateway`.
    #[serde(default)]
    #[schemars(with = "Option<EntryMode>")]
    pub(super) mode: Option<Spanned<EntryMode>>,
    /// `ingress` only: the IngressClass of the controller that serves coderd.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) ingress_class: Option<Spanned<String>>,
    /// `gateway` only: the GatewayClass of the Gateway the tree writes.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) gateway_class: Option<Spanned<String>>,
    /// `ingress` and `gateway`: the namespace the ingress controller's or the
    /// gateway's proxy pods run in (the only source coderd's NetworkPolicy
    /// admits to its HTTP port).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) controller_namespace: Option<Spanned<String>>,
    /// Where the TLS certificate comes from (default: cert-manager,
    /// ClusterIssuer `letsencrypt-dns01`, DNS-01).
    #[serde(default)]
    pub(super) certificate: Option<RawCertificate>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Certificate")]
pub(super) struct RawCertificate {
    /// A cert-manager issuer that signs the certificate.
    #[serde(default)]
    pub(super) cert_manager: Option<RawCertManager>,
    /// Or: an existing `kubernetes.io/tls` secret in namespace `coder` for the
    /// access URL's host.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) secret: Option<Spanned<String>>,
    /// With `secret` and a wildcard access URL: the secret for the wildcard
    /// host (may be the same secret if its certificate covers both).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) wildcard_secret: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CertManager")]
pub(super) struct RawCertManager {
    /// The issuer's name.
    #[schemars(with = "String")]
    pub(super) issuer: Spanned<String>,
    /// `ClusterIssuer` (default) or `Issuer` (then in namespace `coder`).
    #[serde(default)]
    #[schemars(with = "Option<IssuerKind>")]
    pub(super) issuer_kind: Option<Spanned<IssuerKind>>,
    /// The ACME challenge the issuer solves: `dns01` (default; needed for a
    /// wildcard and for `coderd-tls`), `http01` (`ingress` without wildcard)
    /// or `none` (a CA or Vault issuer: no ACME, no challenge).
    #[serde(default)]
    #[schemars(with = "Option<Challenge>")]
    pub(super) challenge: Option<Spanned<Challenge>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Database")]
pub(super) struct RawDatabase {
    /// PostgreSQL major version: 14, 15, 16 (default) or 17.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 14, max = 17))]
    pub(super) postgres_version: Option<Spanned<u32>>,
    /// High availability: `auto` (on for 3k), `true` or `false`.
    #[serde(default)]
    pub(super) ha: AutoBool,
    /// Read replicas (default 0). Coder reads and writes through one
    /// connection URL, so it never uses them; refused on AWS, where RDS cannot
    /// replicate an instance whose master password it manages.
    #[serde(default)]
    #[schemars(with = "Option<AutoCount>")]
    pub(super) read_replicas: Option<Spanned<AutoCount>>,
    /// Workspace builds per day (2k threshold 500, 3k 1500).
    #[serde(default)]
    pub(super) builds_per_day: Option<u32>,
    /// Automated backups and point-in-time recovery (default: 14 days of
    /// backups; point-in-time recovery over the last 7 days on Cloud SQL, over
    /// the whole retention on RDS and Azure).
    #[serde(default)]
    pub(super) backup: Option<RawBackup>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Backup")]
pub(super) struct RawBackup {
    /// Days of automated backups kept: RDS 1-35, Azure 7-35, Cloud SQL 2-365
    /// (one backup a day, more than `pitr_days`). Default 14.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1, max = 365))]
    pub(super) retention_days: Option<Spanned<u32>>,
    /// How far back point-in-time recovery reaches, in days. Cloud SQL: 1-7
    /// (Enterprise edition keeps at most 7 days of transaction logs; default
    /// 7, and below `retention_days`). RDS and Azure recover to any point in
    /// the backup retention: leave it out, or give `retention_days`.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1, max = 35))]
    pub(super) pitr_days: Option<Spanned<u32>>,
    /// Azure only: keep a copy of the backups in the region's pair. Decided
    /// when the server is created (changing it later replaces the server), and
    /// only in regions with a pair. Default: true where the region has a pair.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub(super) geo_redundant: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ProvisionerGroup")]
pub(super) struct RawProvisioners {
    /// The group's namespace: a DNS-1123 label, not coder, default, kube-* or coder-observability.
    #[schemars(with = "String")]
    pub(super) namespace: Spanned<String>,
    /// Provisioner tags, bound to the group's provisioner key.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub(super) tags: BTreeMap<String, Spanned<String>>,
    /// Workspace namespaces this group's provisioners may create workspaces
    /// in (its RoleBindings); default: all of them. Zero-trust: give each
    /// group only its own.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub(super) workspaces: Option<Vec<Spanned<String>>>,
    /// The site (`sites[].name`) whose cluster this group runs in; default: the primary.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) site: Option<Spanned<String>>,
    /// This group's own environment variables, over `coder.provisioner_env`:
    /// a string, or `{ secret: NAME, key: KEY }` in the group's namespace.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, EnvValue>")]
    pub(super) env: BTreeMap<String, Spanned<EnvValue>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "WorkspaceGroup")]
pub(super) struct RawWorkspaces {
    /// The namespace workspaces run in: a DNS-1123 label of its own.
    #[schemars(with = "String")]
    pub(super) namespace: Spanned<String>,
    /// The site (`sites[].name`) whose cluster this group runs in; default: the primary.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) site: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "MachineTypes")]
pub(super) struct RawMachineTypes {
    /// Machine type of the coderd pool.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) coderd: Option<Spanned<String>>,
    /// Machine type of the provisioner pool.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) provisioner: Option<Spanned<String>>,
    /// Machine type of the workspace pool.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) workspace: Option<Spanned<String>>,
    /// Database instance class, e.g. db.m5.xlarge (aws).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) database: Option<Spanned<String>>,
}

/// `overrides:` files of your own, relative to the spec's folder.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Overrides")]
pub(super) struct RawOverrides {
    /// Helm values deep-merged over the generated values of a release: `coder` or
    /// `coder-provisioner/<namespace>` (maps merge, lists and scalars replace).
    #[serde(default)]
    pub(super) helm: BTreeMap<String, RawHelmOverride>,
    /// Terraform files copied into `terraform/<cloud>/` (e.g. `backend.tf`, `tags_override.tf`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(super) terraform: Vec<Spanned<String>>,
    /// Per Kustomize overlay (`coder`, `provisioners-<ns>`, `workspaces-<ns>`): patches and extra objects.
    #[serde(default)]
    pub(super) kustomize: BTreeMap<String, RawKustomizeOverride>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "KustomizeOverride")]
pub(super) struct RawKustomizeOverride {
    /// Strategic merge patches (one object each), applied to the overlay's objects; a patch that matches
    /// no object is an error.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(super) patches: Vec<Spanned<String>>,
    /// Extra objects (one per file), placed in the overlay's namespace.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(super) resources: Vec<Spanned<String>>,
    /// JSON 6902 patches: a file with a list of operations, and the object it patches.
    #[serde(default)]
    pub(super) json_patches: Vec<RawJsonPatch>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "JsonPatch")]
pub(super) struct RawJsonPatch {
    /// The file with the operations (`- op: replace` ...), relative to the spec's folder.
    #[schemars(with = "String")]
    pub(super) file: Spanned<String>,
    /// The kind of the overlay object it patches, e.g. `NetworkPolicy`.
    pub(super) kind: String,
    /// The name of that object.
    pub(super) name: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HelmOverride")]
pub(super) struct RawHelmOverride {
    /// The values file, relative to the spec's folder.
    #[schemars(with = "String")]
    pub(super) values: Spanned<String>,
    /// Values the plan sized that this file is meant to change, e.g. `coder.replicaCount`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(super) intended: Vec<Spanned<String>>,
}

/// `gitops:` where the tree is committed and which controller deploys it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Gitops")]
pub(super) struct RawGitops {
    /// `none` (default), `flux` or `argocd`.
    #[schemars(with = "GitopsController")]
    pub(super) controller: Spanned<GitopsController>,
    /// The Git repository the rendered tree is committed to (`https://` or `ssh://`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) repo_url: Option<Spanned<String>>,
    /// Folder of the rendered tree inside that repository, relative to its root (default: the root).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) path: Option<Spanned<String>>,
    /// Branch the controller follows (default: `main`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) branch: Option<Spanned<String>>,
    /// Flux only: a Secret in `flux-system` with the Git credentials of a private repository.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(super) secret_name: Option<Spanned<String>>,
}

/// `{ secret: NAME, key: KEY }` in `coder.env`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SecretKey")]
pub(super) struct RawSecretKey {
    /// The Secret's name, in coderd's namespace.
    pub(super) secret: String,
    /// The key inside the Secret.
    pub(super) key: String,
}

/// One `coder.env` value: a literal string, or a reference to a Secret's key
/// (the value never enters the tree).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvValue {
    Value(String),
    SecretRef { secret: String, key: String },
}

impl JsonSchema for EnvValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EnvValue".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // What `deserialize` accepts: a string, or `{ secret, key }`.
        let secret = g.subschema_for::<RawSecretKey>();
        schemars::json_schema!({ "anyOf": [{ "type": "string" }, secret] })
    }
}

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnvValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string (quote numbers and booleans) or `{ secret: NAME, key: KEY }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EnvValue, E> {
                Ok(EnvValue::Value(v.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<EnvValue, A::Error> {
                let r = RawSecretKey::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(EnvValue::SecretRef { secret: r.secret, key: r.key })
            }
        }
        d.deserialize_any(V)
    }
}

/// `gitops.controller`: which GitOps controller's objects the tree carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GitopsController {
    #[default]
    None,
    Flux,
    Argocd,
}

impl GitopsController {
    pub fn as_str(self) -> &'static str {
        match self {
            GitopsController::None => "none",
            GitopsController::Flux => "flux",
            GitopsController::Argocd => "argocd",
        }
    }
}
