//! The user's spec (v1): strict parse, defaults, validation with locations.
//!
//! Unknown keys are rejected at every depth (`deny_unknown_fields`), and every
//! semantic error points at the line and column of the offending value, so a
//! user never has to guess which of two `namespace:` lines is wrong.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_saphyr::Spanned;

use crate::catalog::regions;
pub use crate::cloud::Cloud;
use crate::diag::{Located, SpecError, quote};
use crate::digest::sha256_hex;
use crate::tree::display_name;

mod schema;
mod shape;

pub use schema::{spec_schema, spec_schema_text};

/// Users above this have no validated architecture (the seeds stop at 3,000).
pub const MAX_USERS: u64 = 3000;

/// Provisioner or workspace namespaces per list: each is a quota, a Role, a
/// Helm release and an overlay to review; more is a different architecture.
pub const MAX_GROUPS: usize = 16;
/// At most this many tags per provisioner group (a bound on the input, not Coder's).
pub const MAX_TAGS: usize = 32;

/// `name` prefixes cloud resource names (see `Validator::validate`).
pub const MAX_NAME: usize = 20;

/// Spec files are short; anything this large is a mistake (or hostile).
pub const MAX_SPEC_BYTES: usize = 256 * 1024;

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
struct Decimal(u64);

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
    name: Spanned<String>,
    /// Concurrent users to size for, 1 to 3000 in decimal digits; picks the tier.
    #[schemars(with = "u64", range(min = 1, max = 3000))]
    users: Spanned<Decimal>,
    /// The cloud whose managed Kubernetes and PostgreSQL to use.
    cloud: Cloud,
    /// The cloud's region id, e.g. us-east-1 (aws), us-central1 (gcp), eastus (azure).
    #[schemars(with = "String")]
    region: Spanned<String>,
    /// The https URL users open, without a path, e.g. https://coder.example.com.
    #[schemars(with = "String", regex(pattern = "^https://"))]
    access_url: Spanned<String>,
    /// Wildcard URL for workspace apps, e.g. https://*.coder.example.com.
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^https://\*\."))]
    wildcard_access_url: Option<Spanned<String>>,
    /// `auto` (the smallest tier that fits `users`) or a tier at least that large.
    #[serde(default)]
    #[schemars(with = "Option<TierChoice>")]
    tier: Option<Spanned<TierChoice>>,
    /// The existing cluster the node pools join.
    #[serde(default)]
    kubernetes: Option<RawKubernetes>,
    /// The Coder Helm chart, licence and organization.
    #[serde(default)]
    coder: Option<RawCoder>,
    /// How users reach coderd over TLS (default: coderd terminates TLS on its
    /// LoadBalancer Service with a cert-manager certificate).
    #[serde(default)]
    entry: Option<RawEntry>,
    /// Managed PostgreSQL.
    #[serde(default)]
    database: Option<RawDatabase>,
    /// Provisioner groups, each in a namespace of its own (default: one group in coder-provisioners).
    #[serde(default)]
    #[schemars(with = "Option<Vec<RawProvisioners>>", length(min = 1, max = 16))]
    provisioners: Option<Spanned<Vec<RawProvisioners>>>,
    /// Workspace namespaces (default: coder-workspaces).
    #[serde(default)]
    #[schemars(with = "Option<Vec<RawWorkspaces>>", length(min = 1, max = 16))]
    workspaces: Option<Spanned<Vec<RawWorkspaces>>>,
    /// `auto` (on for 3k), `true`, `false`, or a map with `enabled`,
    /// `chart_version` and `prometheus_operator`.
    #[serde(default)]
    observability: Option<RawObservability>,
    /// Override a reference machine type per pool; each must be in coder-gen's catalog.
    #[serde(default)]
    machine_types: Option<RawMachineTypes>,
    /// Where the tree's secrets come from: created by hand with `kubectl`
    /// (default) or filled by the External Secrets Operator.
    #[serde(default)]
    secrets: Option<RawSecrets>,
    /// GitOps controller objects that deploy the tree from its Git repository (default: none).
    #[serde(default)]
    gitops: Option<RawGitops>,
    /// Your own settings that coder-gen merges into the generated tree and checks.
    #[serde(default)]
    overrides: Option<RawOverrides>,
}

/// `observability:` as `auto|true|false` (the v1 form) or as a map.
#[derive(Debug)]
enum RawObservability {
    Short(AutoBool),
    Full(RawObservabilityMap),
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
                RawObservabilityMap::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawObservability::Full)
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
struct RawObservabilityMap {
    /// `auto` (on for tiers whose reference architecture asks for it: 3k),
    /// `true` or `false`.
    #[serde(default)]
    enabled: AutoBool,
    /// Version of Coder's `coder-observability` Helm chart, pinned in its
    /// helm command (default 0.6.2).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    chart_version: Option<Spanned<String>>,
    /// Also write ServiceMonitors for a Prometheus Operator you run (e.g.
    /// kube-prometheus-stack); off by default.
    #[serde(default)]
    prometheus_operator: Option<RawPrometheusOperator>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PrometheusOperator")]
struct RawPrometheusOperator {
    /// Write a ServiceMonitor per metrics endpoint.
    #[serde(default)]
    enabled: bool,
    /// Namespace the operator's Prometheus runs in (admitted to the metrics
    /// port); default `coder-observability`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    namespace: Option<Spanned<String>>,
    /// Labels every ServiceMonitor carries so the operator selects it
    /// (kube-prometheus-stack: `release: <its release name>`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    selector_labels: BTreeMap<String, Spanned<String>>,
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
struct RawSecrets {
    /// `kubectl` (default) or `external-secrets`.
    #[serde(default)]
    #[schemars(with = "Option<SecretsManager>")]
    manager: Option<Spanned<SecretsManager>>,
    /// Name of the External Secrets Operator store (required with
    /// `external-secrets`); it reads the cloud's secret manager.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    store: Option<Spanned<String>>,
    /// `ClusterSecretStore` (default) or `SecretStore` (then one per
    /// namespace, each with this name).
    #[serde(default)]
    store_kind: StoreKind,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Kubernetes")]
struct RawKubernetes {
    /// The existing cluster's name (default: `name`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    cluster_name: Option<Spanned<String>>,
    /// Kubernetes minor version, quoted: "1.30" to "1.37" (default "1.33").
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^1\.3[0-7]$"))]
    version: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Coder")]
struct RawCoder {
    /// Coder Helm chart version, e.g. "2.33.6" (the default).
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^[0-9]+\.[0-9]+\.[0-9]+$"))]
    chart_version: Option<Spanned<String>>,
    /// `premium` (default: the reference architectures' external provisioners
    /// and several coderd replicas need it) or `community`.
    #[serde(default)]
    #[schemars(with = "Option<License>")]
    license: Option<Spanned<License>>,
    /// The Coder organization provisioner keys and templates belong to
    /// (default: Coder's default organization, the one it creates on first
    /// start; the CLI picks it when no `--org` is given).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    organization: Option<Spanned<String>>,
    /// Extra coderd environment variables (OIDC, GitHub login, CA bundle, ...): a string value, or
    /// `{ secret: NAME, key: KEY }` to read it from a Secret in coderd's namespace.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, EnvValue>")]
    env: BTreeMap<String, Spanned<EnvValue>>,
}

/// `entry:` in the spec.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Entry")]
struct RawEntry {
    /// `coderd-tls` (default), `ingress` or `gateway`.
    #[serde(default)]
    #[schemars(with = "Option<EntryMode>")]
    mode: Option<Spanned<EntryMode>>,
    /// `ingress` only: the IngressClass of the controller that serves coderd.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    ingress_class: Option<Spanned<String>>,
    /// `gateway` only: the GatewayClass of the Gateway the tree writes.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    gateway_class: Option<Spanned<String>>,
    /// `ingress` and `gateway`: the namespace the ingress controller's or the
    /// gateway's proxy pods run in (the only source coderd's NetworkPolicy
    /// admits to its HTTP port).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    controller_namespace: Option<Spanned<String>>,
    /// Where the TLS certificate comes from (default: cert-manager,
    /// ClusterIssuer `letsencrypt-dns01`, DNS-01).
    #[serde(default)]
    certificate: Option<RawCertificate>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Certificate")]
struct RawCertificate {
    /// A cert-manager issuer that signs the certificate.
    #[serde(default)]
    cert_manager: Option<RawCertManager>,
    /// Or: an existing `kubernetes.io/tls` secret in namespace `coder` for the
    /// access URL's host.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    secret: Option<Spanned<String>>,
    /// With `secret` and a wildcard access URL: the secret for the wildcard
    /// host (may be the same secret if its certificate covers both).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    wildcard_secret: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CertManager")]
struct RawCertManager {
    /// The issuer's name.
    #[schemars(with = "String")]
    issuer: Spanned<String>,
    /// `ClusterIssuer` (default) or `Issuer` (then in namespace `coder`).
    #[serde(default)]
    #[schemars(with = "Option<IssuerKind>")]
    issuer_kind: Option<Spanned<IssuerKind>>,
    /// The ACME challenge the issuer solves: `dns01` (default; needed for a
    /// wildcard and for `coderd-tls`) or `http01` (`ingress` without wildcard).
    #[serde(default)]
    #[schemars(with = "Option<Challenge>")]
    challenge: Option<Spanned<Challenge>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Database")]
struct RawDatabase {
    /// PostgreSQL major version: 14, 15, 16 (default) or 17.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 14, max = 17))]
    postgres_version: Option<Spanned<u32>>,
    /// High availability: `auto` (on for 3k), `true` or `false`.
    #[serde(default)]
    ha: AutoBool,
    /// Read replicas (default 0). Coder reads and writes through one
    /// connection URL, so it never uses them; refused on AWS, where RDS cannot
    /// replicate an instance whose master password it manages.
    #[serde(default)]
    #[schemars(with = "Option<AutoCount>")]
    read_replicas: Option<Spanned<AutoCount>>,
    /// Workspace builds per day (2k threshold 500, 3k 1500).
    #[serde(default)]
    builds_per_day: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ProvisionerGroup")]
struct RawProvisioners {
    /// The group's namespace: a DNS-1123 label, not coder, default, kube-* or coder-observability.
    #[schemars(with = "String")]
    namespace: Spanned<String>,
    /// Provisioner tags, bound to the group's provisioner key.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    tags: BTreeMap<String, Spanned<String>>,
    /// Workspace namespaces this group's provisioners may create workspaces
    /// in (its RoleBindings); default: all of them. Zero-trust: give each
    /// group only its own.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    workspaces: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "WorkspaceGroup")]
struct RawWorkspaces {
    /// The namespace workspaces run in: a DNS-1123 label of its own.
    #[schemars(with = "String")]
    namespace: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "MachineTypes")]
struct RawMachineTypes {
    /// Machine type of the coderd pool.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    coderd: Option<Spanned<String>>,
    /// Machine type of the provisioner pool.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    provisioner: Option<Spanned<String>>,
    /// Machine type of the workspace pool.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    workspace: Option<Spanned<String>>,
    /// Database instance class, e.g. db.m5.xlarge (aws).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    database: Option<Spanned<String>>,
}

/// `overrides:` files of your own, relative to the spec's folder.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Overrides")]
struct RawOverrides {
    /// Helm values deep-merged over the generated values of a release: `coder` or
    /// `coder-provisioner/<namespace>` (maps merge, lists and scalars replace).
    #[serde(default)]
    helm: BTreeMap<String, RawHelmOverride>,
    /// Terraform files copied into `terraform/<cloud>/` (e.g. `backend.tf`, `tags_override.tf`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    terraform: Vec<Spanned<String>>,
    /// Per Kustomize overlay (`coder`, `provisioners-<ns>`, `workspaces-<ns>`): patches and extra objects.
    #[serde(default)]
    kustomize: BTreeMap<String, RawKustomizeOverride>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "KustomizeOverride")]
struct RawKustomizeOverride {
    /// Strategic merge patches (one object each), applied to the overlay's objects; a patch that matches
    /// no object is an error.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    patches: Vec<Spanned<String>>,
    /// Extra objects (one per file), placed in the overlay's namespace.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    resources: Vec<Spanned<String>>,
    /// JSON 6902 patches: a file with a list of operations, and the object it patches.
    #[serde(default)]
    json_patches: Vec<RawJsonPatch>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "JsonPatch")]
struct RawJsonPatch {
    /// The file with the operations (`- op: replace` ...), relative to the spec's folder.
    #[schemars(with = "String")]
    file: Spanned<String>,
    /// The kind of the overlay object it patches, e.g. `NetworkPolicy`.
    kind: String,
    /// The name of that object.
    name: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HelmOverride")]
struct RawHelmOverride {
    /// The values file, relative to the spec's folder.
    #[schemars(with = "String")]
    values: Spanned<String>,
    /// Values the plan sized that this file is meant to change, e.g. `coder.replicaCount`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    intended: Vec<Spanned<String>>,
}

/// `gitops:` where the tree is committed and which controller deploys it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Gitops")]
struct RawGitops {
    /// `none` (default), `flux` or `argocd`.
    #[schemars(with = "GitopsController")]
    controller: Spanned<GitopsController>,
    /// The Git repository the rendered tree is committed to (`https://` or `ssh://`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    repo_url: Option<Spanned<String>>,
    /// Folder of the rendered tree inside that repository, relative to its root (default: the root).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    path: Option<Spanned<String>>,
    /// Branch the controller follows (default: `main`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    branch: Option<Spanned<String>>,
    /// Flux only: a Secret in `flux-system` with the Git credentials of a private repository.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    secret_name: Option<Spanned<String>>,
}

/// `{ secret: NAME, key: KEY }` in `coder.env`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SecretKey")]
struct RawSecretKey {
    /// The Secret's name, in coderd's namespace.
    secret: String,
    /// The key inside the Secret.
    key: String,
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

/// coderd environment variables that coder-gen or the chart sets, and what
/// controls each instead: `coder.env` may not set them.
pub const RESERVED_CODER_ENV: &[(&str, &str)] = &[
    ("CODER_ACCESS_URL", "the spec's access_url"),
    ("CODER_WILDCARD_ACCESS_URL", "the spec's wildcard_access_url"),
    ("CODER_PG_CONNECTION_URL", "the database URL secret (see the tree's README)"),
    ("CODER_PG_CONN_MAX_OPEN", "the plan (sized against the database's max_connections)"),
    ("CODER_PROVISIONER_DAEMONS", "the plan (built-in provisioners per tier)"),
    ("CODER_PROMETHEUS_ENABLE", "the spec's observability"),
    ("CODER_PROMETHEUS_COLLECT_DB_METRICS", "the spec's observability"),
    (
        "CODER_OAUTH2_GITHUB_DEFAULT_PROVIDER_ENABLE",
        "coder-gen (off in production, as Coder advises; set up your own GitHub app with CODER_OAUTH2_GITHUB_CLIENT_ID)",
    ),
    ("CODER_HTTP_ADDRESS", "the coder chart"),
    ("CODER_PROMETHEUS_ADDRESS", "the coder chart"),
    ("CODER_PPROF_ADDRESS", "the coder chart"),
    ("CODER_PROVISIONER_DAEMON_PSK", "the coder chart (coder-gen uses scoped provisioner keys)"),
    ("CODER_DERP_SERVER_RELAY_URL", "the coder chart"),
    ("KUBE_POD_IP", "the coder chart"),
    ("CODER_TLS_ENABLE", "the coder chart's coder.tls"),
    ("CODER_TLS_ADDRESS", "the coder chart's coder.tls"),
    ("CODER_TLS_CERT_FILE", "the coder chart's coder.tls"),
    ("CODER_TLS_KEY_FILE", "the coder chart's coder.tls"),
];

/// More extra variables than this is a config file, not a spec.
pub const MAX_CODER_ENV: usize = 64;

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

/// `overrides.helm.<target>`: a values file of the user's. `values` is filled
/// by [`crate::overrides::read`] (I/O), never by the parser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HelmOverride {
    /// Relative to the spec's folder, normalised (`a/b.yaml`).
    pub file: At<String>,
    pub intended: Vec<At<String>>,
    /// The file's content as data, and its sha256 (not part of the spec's
    /// digest: the merged files in the tree carry it).
    #[serde(skip)]
    pub values: Option<(serde_json::Value, String)>,
}

/// A file of the user's named by `overrides.terraform` or
/// `overrides.kustomize`; `text` is filled by [`crate::overrides::read`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserFile {
    pub file: At<String>,
    #[serde(skip)]
    pub text: Option<String>,
}

/// `overrides.kustomize.<overlay>`: files of the user's; `text` is filled by
/// [`crate::overrides::read`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct KustomizeOverride {
    pub patches: Vec<UserFile>,
    pub resources: Vec<UserFile>,
    /// JSON 6902 patches with their target `(kind, name)`.
    pub json_patches: Vec<(UserFile, String, String)>,
}

/// Helm value paths the plan sizes or that carry the scheduling contract: an
/// override may change them only when it lists them as `intended`.
pub const SIZED_HELM_PATHS: &[&str] = &[
    "coder.replicaCount",
    "coder.resources",
    "coder.nodeSelector",
    "coder.tolerations",
    "coder.affinity",
    "coder.topologySpreadConstraints",
];

/// Where the rendered tree lives in Git, for the GitOps controller objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gitops {
    /// Flux or Argo CD (a spec with `controller: none` has no `Gitops`).
    pub controller: GitopsController,
    pub repo_url: String,
    /// The tree's folder in the repository: `/`-separated, no `.`/`..`
    /// segments, empty for the repository's root.
    pub path: String,
    pub branch: String,
    pub secret_name: Option<String>,
}

/// A value from the spec together with where it was written, so that later
/// stages (the plan's machine-type lookup, tier choice) can still point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub line: u64,
    pub column: u64,
}

impl<T> At<T> {
    fn from_spanned(s: Spanned<T>) -> Self {
        At { line: s.defined.line(), column: s.defined.column(), value: s.value }
    }

    /// A value that the spec did not write (a default).
    pub fn default_value(value: T) -> Self {
        At { value, line: 0, column: 0 }
    }
}

/// Only the value: where it was written is not part of the spec's meaning.
impl<T: Serialize> Serialize for At<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

/// The validated spec with every default filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spec {
    /// The spec file's name as the user gave it (for headers and messages).
    #[serde(skip)]
    pub file: String,
    pub name: String,
    pub users: At<u32>,
    pub cloud: Cloud,
    pub region: String,
    pub access_url: String,
    pub wildcard_access_url: Option<String>,
    pub tier: At<TierChoice>,
    pub kubernetes: Kubernetes,
    pub coder: Coder,
    pub entry: Entry,
    pub database: Database,
    pub provisioners: Vec<ProvisionerGroup>,
    pub workspaces: Vec<WorkspaceGroup>,
    pub observability: Observability,
    pub machine_types: MachineTypes,
    pub secrets: Secrets,
    /// `None` unless `gitops.controller` is flux or argocd.
    pub gitops: Option<Gitops>,
    /// Helm values overrides per target (`coder`, `coder-provisioner/<ns>`).
    pub helm_overrides: BTreeMap<String, HelmOverride>,
    /// Terraform files of the user's (`overrides.terraform`), in spec order.
    pub terraform_overrides: Vec<UserFile>,
    /// Kustomize patches and extra objects per overlay (`overrides.kustomize`).
    pub kustomize_overrides: BTreeMap<String, KustomizeOverride>,
    /// sha256 of the spec's canonical form, for the manifest: set by the
    /// caller that read the text (`crate::spec_from_str`), empty until then.
    #[serde(skip)]
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kubernetes {
    pub cluster_name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coder {
    pub chart_version: String,
    pub license: License,
    /// `None`: Coder's default organization.
    pub organization: Option<String>,
    /// `coder.env`, sorted by name.
    pub env: BTreeMap<String, EnvValue>,
}

/// The validated `entry:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub mode: EntryMode,
    pub ingress_class: Option<String>,
    pub gateway_class: Option<String>,
    pub controller_namespace: Option<String>,
    pub certificate: CertificateSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CertificateSource {
    CertManager { issuer: String, kind: IssuerKind, challenge: Challenge },
    Secrets { secret: String, wildcard_secret: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Database {
    pub postgres_version: u32,
    pub ha: AutoBool,
    pub read_replicas: AutoCount,
    /// Where `read_replicas` was set (line, column), for plan errors.
    #[serde(skip)]
    pub read_replicas_at: Option<(u64, u64)>,
    pub builds_per_day: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionerGroup {
    pub namespace: String,
    pub tags: BTreeMap<String, String>,
    /// Workspace namespaces it serves; `None`: all.
    pub workspaces: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceGroup {
    pub namespace: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observability {
    pub enabled: AutoBool,
    pub chart_version: String,
    pub prometheus_operator: Option<PrometheusOperator>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrometheusOperator {
    pub namespace: String,
    pub selector_labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Secrets {
    pub manager: SecretsManager,
    /// Set exactly when `manager` is `ExternalSecrets`.
    pub store: Option<String>,
    pub store_kind: StoreKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct MachineTypes {
    pub coderd: Option<At<String>>,
    pub provisioner: Option<At<String>>,
    pub workspace: Option<At<String>>,
    pub database: Option<At<String>>,
}

pub const DEFAULT_KUBERNETES_VERSION: &str = "1.33";
/// Coder's docs name 2.33.6 as the stable chart (coder-facts.md section 3).
pub const DEFAULT_CHART_VERSION: &str = "2.33.6";
pub const DEFAULT_POSTGRES_VERSION: u32 = 16;
pub const DEFAULT_GITOPS_BRANCH: &str = "main";
pub const DEFAULT_PROVISIONER_NAMESPACE: &str = "coder-provisioners";
pub const DEFAULT_WORKSPACE_NAMESPACE: &str = "coder-workspaces";
/// coderd's own namespace; user groups may not reuse it.
pub const CODER_NAMESPACE: &str = "coder";
/// Where Coder's observability chart installs Prometheus (its README's
/// `--namespace coder-observability`); metrics NetworkPolicies admit it.
pub const SCRAPE_NAMESPACE: &str = "coder-observability";
/// The default cert-manager issuer: one that solves DNS-01, so it can sign
/// the wildcard certificate too and needs nothing listening on port 80.
pub const DEFAULT_ISSUER: &str = "letsencrypt-dns01";
pub const SUPPORTED_POSTGRES: &[u32] = &[14, 15, 16, 17];
/// coder/observability's latest release (its Chart.yaml, v0.6.2).
pub const DEFAULT_OBSERVABILITY_CHART_VERSION: &str = "0.6.2";

impl Spec {
    /// Parse and validate a spec. `file` is used only in messages.
    /// `digest` is left empty: the caller that read the text sets it
    /// (`crate::spec_from_str`).
    pub fn parse(file: &str, text: &str) -> Result<Spec, SpecError> {
        // The name reaches messages and every generated file's header.
        let file = &display_name(file);
        if text.len() > MAX_SPEC_BYTES {
            return Err(too_large(file));
        }
        let options = serde_saphyr::options! { strict_booleans: true };
        let raw: RawSpec = match serde_saphyr::from_str_with_options(text, options) {
            Ok(raw) => raw,
            Err(e) => return Err(shape_failure(file, text, &e)),
        };
        Validator { file, errors: Vec::new() }.validate(raw, String::new())
    }
}

/// The spec's digest for the manifest: sha256 of the validated Spec's
/// canonical form (compact JSON, defaults filled in, without the file name
/// and without where each value was written). Comments, key order, quoting,
/// blank lines and moving a key do not change it; changing a value does.
pub fn digest(spec: &Spec) -> String {
    let canonical = serde_json::to_vec(spec).expect("the validated spec always serializes to JSON");
    sha256_hex(&canonical)
}

/// A spec above [`MAX_SPEC_BYTES`] (found while reading or parsing).
pub fn too_large(file: &str) -> SpecError {
    SpecError::new(
        file,
        None,
        format!("the spec is larger than {MAX_SPEC_BYTES} bytes (256 KiB), the most a spec may be"),
        "a coder-gen spec is a few lines of YAML; check that the right file was given",
    )
}

/// The typed parse failed: say why, at every place at once where possible.
/// Tabs in indentation first (the parser locates them a line early), then
/// every unknown key and wrong type (`shape`), else the parser's own error
/// with its wording fixed where it would mislead.
fn shape_failure(file: &str, text: &str, e: &serde_saphyr::Error) -> SpecError {
    let tabs = shape::indentation_tabs(text);
    if !tabs.is_empty() {
        return SpecError::Invalid { file: file.to_string(), errors: tabs };
    }
    if let Some(errors) = shape::errors(text, spec_schema())
        && !errors.is_empty()
    {
        return SpecError::Invalid { file: file.to_string(), errors };
    }
    // from_yaml rewords the parser's own advice (duplicate key, ...).
    SpecError::from_yaml(file, e)
}

struct Validator<'a> {
    file: &'a str,
    errors: Vec<Located>,
}

impl Validator<'_> {
    fn err<T>(&mut self, at: &Spanned<T>, message: String, help: &str) {
        self.errors.push(Located { line: at.defined.line(), column: at.defined.column(), message, help: help.to_string() });
    }

    /// A DNS-1123 label of at most `max` characters (63 for Kubernetes
    /// names; less where the value prefixes longer names).
    fn dns_label<'s>(&mut self, what: &str, s: &'s Spanned<String>, max: usize, why_max: &str) -> &'s str {
        let len = s.value.chars().count();
        if len > max {
            self.err(
                s,
                format!("{what} {} is {len} characters long; the most is {max}", quote(&s.value)),
                &format!("use at most {max} characters{why_max}"),
            );
        }
        // The length is reported above, against the limit that applies here.
        if let Some(problem) = dns1123_label_problem(&s.value)
            && !problem.starts_with("it is longer than")
        {
            self.err(
                s,
                format!("{what} {} is not a DNS-1123 label: {problem}", quote(&s.value)),
                &format!("use 1 to {max} lower-case letters, digits and '-', starting with a letter and ending with a letter or digit"),
            );
        }
        &s.value
    }

    fn validate(mut self, raw: RawSpec, digest: String) -> Result<Spec, SpecError> {
        // Cloud resource names are `<name>-<role>` (longest role: `provisioners`,
        // plus a replica suffix); Azure node pools allow only 12 characters, so
        // the name must stay short for everything to fit.
        self.dns_label("name", &raw.name, MAX_NAME, ": it prefixes cloud resource names, which have tight length limits");

        let users_n = raw.users.value.0;
        let users = match u32::try_from(users_n) {
            Ok(u) if (1..=MAX_USERS).contains(&users_n) => u,
            _ => {
                let help = if users_n > MAX_USERS {
                    "Coder's validated architectures stop at 3,000 users; size a larger deployment with Coder's guidance, not this tool"
                } else {
                    "set users to a whole number from 1 to 3000"
                };
                self.err(&raw.users, format!("users is {users_n}, outside 1..=3000"), help);
                1
            }
        };

        if raw.region.value.trim().is_empty() || raw.region.value.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
            self.err(
                &raw.region,
                format!("region {} is not a region name", quote(&raw.region.value)),
                "use the cloud's region id, e.g. us-east-1 (aws), us-central1 (gcp), eastus (azure)",
            );
        } else {
            self.region(raw.cloud, &raw.region);
        }

        let access_url = self.https_url("access_url", &raw.access_url, false);
        let wildcard_access_url = raw.wildcard_access_url.as_ref().map(|w| self.https_url("wildcard_access_url", w, true));

        let tier = raw.tier.map(At::from_spanned).unwrap_or_else(|| At::default_value(TierChoice::Auto));

        let kubernetes = {
            let k = raw.kubernetes;
            let cluster_name = match k.as_ref().and_then(|k| k.cluster_name.as_ref()) {
                Some(c) => self.dns_label("kubernetes.cluster_name", c, 63, "").to_string(),
                None => raw.name.value.clone(),
            };
            let version = match k.as_ref().and_then(|k| k.version.as_ref()) {
                Some(v) => {
                    if !is_k8s_minor(&v.value) {
                        self.err(
                            v,
                            format!("kubernetes.version {} is not a supported minor version", quote(&v.value)),
                            "quote a minor version from \"1.30\" to \"1.37\", e.g. version: \"1.33\"",
                        );
                    }
                    v.value.clone()
                }
                None => DEFAULT_KUBERNETES_VERSION.to_string(),
            };
            Kubernetes { cluster_name, version }
        };

        let (raw_chart, raw_license, raw_org, raw_env) = match raw.coder {
            Some(c) => (c.chart_version, c.license, c.organization, c.env),
            None => (None, None, None, BTreeMap::new()),
        };
        let coder = Coder {
            chart_version: match raw_chart {
                Some(v) => {
                    if !is_semver(&v.value) {
                        self.err(
                            &v,
                            format!("coder.chart_version {} is not a release version", quote(&v.value)),
                            "quote a Coder release like \"2.33.6\" (see helm search repo coder-v2/coder --versions)",
                        );
                    }
                    v.value
                }
                None => DEFAULT_CHART_VERSION.to_string(),
            },
            license: raw_license.map(|l| l.value).unwrap_or_default(),
            organization: raw_org.map(|o| self.dns_label("coder.organization", &o, 63, "").to_string()),
            env: self.coder_env(raw_env),
        };
        let entry = self.entry(raw.entry, raw.wildcard_access_url.is_some());

        let database = match raw.database {
            Some(d) => {
                let postgres_version = match d.postgres_version {
                    Some(v) => {
                        if !SUPPORTED_POSTGRES.contains(&v.value) {
                            self.err(
                                &v,
                                format!("database.postgres_version {} is not supported", v.value),
                                "use 14, 15, 16 or 17: versions every managed service here offers",
                            );
                        }
                        v.value
                    }
                    None => DEFAULT_POSTGRES_VERSION,
                };
                let read_replicas_at = d.read_replicas.as_ref().map(|r| (r.defined.line(), r.defined.column()));
                Database {
                    postgres_version,
                    ha: d.ha,
                    read_replicas: d.read_replicas.map_or(AutoCount::Auto, |r| r.value),
                    read_replicas_at,
                    builds_per_day: d.builds_per_day,
                }
            }
            None => Database {
                postgres_version: DEFAULT_POSTGRES_VERSION,
                ha: AutoBool::Auto,
                read_replicas: AutoCount::Auto,
                read_replicas_at: None,
                builds_per_day: None,
            },
        };

        let mut seen: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut served: Vec<Vec<Spanned<String>>> = Vec::new();
        let provisioners = match raw.provisioners {
            Some(list) => {
                if list.value.is_empty() {
                    self.err(
                        &list,
                        "provisioners is an empty list".into(),
                        "remove the key for one default group, or list at least one namespace",
                    );
                }
                let mut out = Vec::new();
                for (i, p) in list.value.into_iter().enumerate() {
                    if i == MAX_GROUPS {
                        self.too_many_groups("provisioners", &p.namespace);
                    }
                    self.namespace(&p.namespace, &mut seen);
                    let mut tags = BTreeMap::new();
                    // Pointed at the first tag past the limit, in the file's order.
                    let mut written: Vec<&Spanned<String>> = p.tags.values().collect();
                    written.sort_by_key(|v| (v.defined.line(), v.defined.column()));
                    if let Some(first_extra) = written.get(MAX_TAGS) {
                        self.err(
                            first_extra,
                            format!("a provisioner group has {} tags, more than {MAX_TAGS}", p.tags.len()),
                            &format!("give each group at most {MAX_TAGS} tags: tags only route jobs to provisioners"),
                        );
                    }
                    for (k, v) in p.tags {
                        if !is_tag_part(&k) {
                            self.err(
                                &v,
                                format!("provisioner tag key {} is not allowed", quote(&k)),
                                "use letters, digits, '-', '_' and '.' (at most 63)",
                            );
                        }
                        if !is_tag_part(&v.value) {
                            self.err(
                                &v,
                                format!("provisioner tag value {} is not allowed", quote(&v.value)),
                                "use letters, digits, '-', '_' and '.' (at most 63)",
                            );
                        }
                        tags.insert(k, v.value);
                    }
                    let workspaces = p.workspaces.as_ref().map(|w| w.iter().map(|n| n.value.clone()).collect());
                    if let Some(w) = p.workspaces {
                        if w.is_empty() {
                            self.err(
                                &p.namespace,
                                format!("provisioner group {} serves no workspace namespace (workspaces: [])", quote(&p.namespace.value)),
                                "list the workspace namespaces it may create workspaces in, or remove `workspaces` for all",
                            );
                        }
                        served.push(w);
                    }
                    out.push(ProvisionerGroup { namespace: p.namespace.value, tags, workspaces });
                }
                out
            }
            None => vec![ProvisionerGroup { namespace: DEFAULT_PROVISIONER_NAMESPACE.into(), tags: BTreeMap::new(), workspaces: None }],
        };
        let workspaces = match raw.workspaces {
            Some(list) => {
                if list.value.is_empty() {
                    self.err(&list, "workspaces is an empty list".into(), "remove the key for one default namespace, or list at least one");
                }
                let mut out = Vec::new();
                for (i, w) in list.value.into_iter().enumerate() {
                    if i == MAX_GROUPS {
                        self.too_many_groups("workspaces", &w.namespace);
                    }
                    self.namespace(&w.namespace, &mut seen);
                    out.push(WorkspaceGroup { namespace: w.namespace.value });
                }
                out
            }
            None => vec![WorkspaceGroup { namespace: DEFAULT_WORKSPACE_NAMESPACE.into() }],
        };
        // Every namespace a provisioner group names is a workspace namespace.
        for w in served.iter().flatten() {
            if !workspaces.iter().any(|g| g.namespace == w.value) {
                let known = workspaces.iter().map(|g| g.namespace.as_str()).collect::<Vec<_>>().join(", ");
                self.err(
                    w,
                    format!("provisioners[].workspaces names {}, which is not a workspace namespace", quote(&w.value)),
                    &format!("use one of the workspace namespaces: {known}"),
                );
            }
        }
        // Every workspace namespace is served by some group, or its builds
        // could never create a workspace there.
        if provisioners.iter().all(|p| p.workspaces.is_some()) {
            for g in &workspaces {
                if !provisioners.iter().any(|p| p.workspaces.as_ref().is_some_and(|w| w.contains(&g.namespace))) {
                    let at = served.iter().flatten().next();
                    if let Some(at) = at {
                        self.err(
                            at,
                            format!("workspace namespace {} is served by no provisioner group", quote(&g.namespace)),
                            "add it to some provisioners[].workspaces, or remove `workspaces` from a group to serve all",
                        );
                    }
                }
            }
        }
        let machine_types = match raw.machine_types {
            Some(m) => {
                let check = |s: Option<Spanned<String>>| s.map(At::from_spanned);
                MachineTypes {
                    coderd: check(m.coderd),
                    provisioner: check(m.provisioner),
                    workspace: check(m.workspace),
                    database: check(m.database),
                }
            }
            None => MachineTypes::default(),
        };

        let observability = self.observability(raw.observability);
        let secrets = self.secrets(raw.secrets);

        let gitops = raw.gitops.and_then(|g| self.gitops(g));
        let (helm_overrides, terraform_overrides, kustomize_overrides) = match raw.overrides {
            Some(o) => (
                self.helm_overrides(o.helm, &provisioners),
                self.terraform_overrides(o.terraform),
                self.kustomize_overrides(o.kustomize, &provisioners, &workspaces),
            ),
            None => (BTreeMap::new(), Vec::new(), BTreeMap::new()),
        };

        if !self.errors.is_empty() {
            self.errors.sort_by_key(|e| (e.line, e.column));
            return Err(SpecError::Invalid { file: self.file.to_string(), errors: self.errors });
        }
        Ok(Spec {
            file: self.file.to_string(),
            name: raw.name.value,
            users: At { value: users, line: raw.users.defined.line(), column: raw.users.defined.column() },
            cloud: raw.cloud,
            region: raw.region.value,
            access_url,
            wildcard_access_url,
            tier,
            kubernetes,
            coder,
            entry,
            database,
            provisioners,
            workspaces,
            observability,
            machine_types,
            secrets,
            gitops,
            helm_overrides,
            terraform_overrides,
            kustomize_overrides,
            digest,
        })
    }

    fn observability(&mut self, raw: Option<RawObservability>) -> Observability {
        let default =
            |enabled| Observability { enabled, chart_version: DEFAULT_OBSERVABILITY_CHART_VERSION.to_string(), prometheus_operator: None };
        let m = match raw {
            None => return default(AutoBool::Auto),
            Some(RawObservability::Short(b)) => return default(b),
            Some(RawObservability::Full(m)) => m,
        };
        let chart_version = match m.chart_version {
            Some(v) => {
                if !is_semver(&v.value) {
                    self.err(
                        &v,
                        format!("observability.chart_version {} is not a release version", quote(&v.value)),
                        "quote a coder-observability chart release like \"0.6.2\" (helm search repo coder-observability --versions)",
                    );
                }
                v.value
            }
            None => DEFAULT_OBSERVABILITY_CHART_VERSION.to_string(),
        };
        let prometheus_operator = match m.prometheus_operator {
            Some(p) if p.enabled => {
                let namespace = match &p.namespace {
                    Some(ns) => self.dns_label("observability.prometheus_operator.namespace", ns, 63, "").to_string(),
                    None => SCRAPE_NAMESPACE.to_string(),
                };
                let mut selector_labels = BTreeMap::new();
                for (k, v) in p.selector_labels {
                    if !is_label_key(&k) || !(v.value.is_empty() || is_tag_part(&v.value)) {
                        self.err(
                            &v,
                            format!("selector label {} is not a Kubernetes label", quote(&format!("{k}: {}", v.value))),
                            "use a label key like `release` or `example.com/team` and a value of at most 63 letters, digits, '-', '_' or '.'",
                        );
                    }
                    selector_labels.insert(k, v.value);
                }
                Some(PrometheusOperator { namespace, selector_labels })
            }
            _ => None,
        };
        Observability { enabled: m.enabled, chart_version, prometheus_operator }
    }

    fn secrets(&mut self, raw: Option<RawSecrets>) -> Secrets {
        let Some(raw) = raw else { return Secrets::default() };
        let manager = raw.manager.as_ref().map_or(SecretsManager::Kubectl, |m| m.value);
        let store = match (&raw.manager, raw.store) {
            (Some(m), None) if m.value == SecretsManager::ExternalSecrets => {
                self.err(
                    m,
                    "secrets.manager is external-secrets but secrets.store is not set".into(),
                    "name the External Secrets Operator store that reads your cloud's secret manager, e.g. store: coder",
                );
                None
            }
            (_, Some(s)) if manager == SecretsManager::ExternalSecrets => {
                self.dns_label("secrets.store", &s, 63, "");
                Some(s.value)
            }
            (_, Some(s)) => {
                self.err(
                    &s,
                    "secrets.store is set but secrets.manager is not external-secrets".into(),
                    "set manager: external-secrets, or remove store",
                );
                None
            }
            (_, None) => None,
        };
        Secrets { manager, store, store_kind: raw.store_kind }
    }

    /// `entry:`: every combination that cannot serve the URLs over TLS is an
    /// error at the key that makes it so.
    fn entry(&mut self, raw: Option<RawEntry>, wildcard: bool) -> Entry {
        let raw =
            raw.unwrap_or(RawEntry { mode: None, ingress_class: None, gateway_class: None, controller_namespace: None, certificate: None });
        let mode = raw.mode.as_ref().map(|m| m.value).unwrap_or_default();
        let ingress_class = raw.ingress_class.as_ref().map(|c| {
            if mode != EntryMode::Ingress {
                self.err(c, "entry.ingress_class is only used with `mode: ingress`".into(), "remove it, or set `mode: ingress`");
            }
            self.dns_label("entry.ingress_class", c, 63, "").to_string()
        });
        let gateway_class = raw.gateway_class.as_ref().map(|c| {
            if mode != EntryMode::Gateway {
                self.err(c, "entry.gateway_class is only used with `mode: gateway`".into(), "remove it, or set `mode: gateway`");
            }
            self.dns_label("entry.gateway_class", c, 63, "").to_string()
        });
        let controller_namespace = raw.controller_namespace.as_ref().map(|n| {
            if mode == EntryMode::CoderdTls {
                self.err(
                    n,
                    "entry.controller_namespace is only used with `mode: ingress` or `mode: gateway`".into(),
                    "remove it: with coderd-tls users reach coderd directly",
                );
            }
            self.dns_label("entry.controller_namespace", n, 63, "").to_string()
        });
        if let Some(m) = raw.mode.as_ref().filter(|_| mode != EntryMode::CoderdTls) {
            // Each mode's own key, example and proxy in its message.
            let (class_missing, mode_name, key, class, proxy) = match mode {
                EntryMode::Ingress => {
                    (ingress_class.is_none(), "ingress", "ingress_class", "nginx", "ingress controller's pods (e.g. ingress-nginx)")
                }
                _ => (gateway_class.is_none(), "gateway", "gateway_class", "eg", "gateway's proxy pods (e.g. envoy-gateway-system)"),
            };
            if class_missing {
                self.err(
                    m,
                    format!("`mode: {mode_name}` needs entry.{key}"),
                    &format!("name the class of your {mode_name} controller, e.g. {key}: {class}"),
                );
            }
            if controller_namespace.is_none() {
                self.err(
                    m,
                    format!("`mode: {mode_name}` needs entry.controller_namespace"),
                    &format!("name the namespace the {proxy} run in: coderd's NetworkPolicy admits only it to its HTTP port"),
                );
            }
        }
        let certificate = match raw.certificate {
            None => CertificateSource::CertManager {
                issuer: DEFAULT_ISSUER.into(),
                kind: IssuerKind::ClusterIssuer,
                challenge: Challenge::Dns01,
            },
            Some(c) => match (c.cert_manager, c.secret) {
                (Some(cm), None) => {
                    if let Some(w) = &c.wildcard_secret {
                        self.err(
                            w,
                            "entry.certificate.wildcard_secret needs entry.certificate.secret".into(),
                            "name both secrets, or use cert_manager alone",
                        );
                    }
                    let challenge = cm.challenge.as_ref().map(|c| c.value).unwrap_or_default();
                    if let Some(ch) = cm.challenge.as_ref().filter(|c| c.value == Challenge::Http01) {
                        if wildcard {
                            self.err(
                                ch,
                                "a wildcard certificate cannot be obtained with an HTTP-01 challenge".into(),
                                "use an issuer that solves DNS-01 (challenge: dns01), or name existing secrets instead",
                            );
                        }
                        if mode == EntryMode::Gateway {
                            self.err(
                                ch,
                                "with `mode: gateway` coder-gen writes no HTTP-01 solver route".into(),
                                "use an issuer that solves DNS-01 (challenge: dns01), or name existing secrets instead",
                            );
                        }
                        if mode == EntryMode::CoderdTls {
                            self.err(
                                ch,
                                "with `mode: coderd-tls` nothing answers an HTTP-01 challenge on port 80".into(),
                                "use an issuer that solves DNS-01 (challenge: dns01), or `mode: ingress`",
                            );
                        }
                    }
                    let name = self.dns_label("entry.certificate.cert_manager.issuer", &cm.issuer, 63, "").to_string();
                    CertificateSource::CertManager { issuer: name, kind: cm.issuer_kind.map(|k| k.value).unwrap_or_default(), challenge }
                }
                (None, Some(secret)) => {
                    let name = self.dns_label("entry.certificate.secret", &secret, 63, "").to_string();
                    let wildcard_secret = match &c.wildcard_secret {
                        Some(w) => {
                            if !wildcard {
                                self.err(
                                    w,
                                    "entry.certificate.wildcard_secret is set but there is no wildcard_access_url".into(),
                                    "remove it, or set wildcard_access_url",
                                );
                            }
                            Some(self.dns_label("entry.certificate.wildcard_secret", w, 63, "").to_string())
                        }
                        None => {
                            if wildcard {
                                self.err(
                                    &secret,
                                    "wildcard_access_url is set but no certificate for it is named".into(),
                                    "add wildcard_secret: the secret whose certificate covers the wildcard host (the same secret if it covers both)",
                                );
                            }
                            None
                        }
                    };
                    CertificateSource::Secrets { secret: name, wildcard_secret }
                }
                (Some(cm), Some(secret)) => {
                    self.err(
                        &secret,
                        "entry.certificate names both cert_manager and secret".into(),
                        "choose one way to get the certificate",
                    );
                    let _ = cm;
                    CertificateSource::Secrets { secret: secret.value, wildcard_secret: None }
                }
                (None, None) => {
                    if let Some(w) = &c.wildcard_secret {
                        self.err(w, "entry.certificate.wildcard_secret needs entry.certificate.secret".into(), "name both secrets");
                    }
                    CertificateSource::CertManager {
                        issuer: DEFAULT_ISSUER.into(),
                        kind: IssuerKind::ClusterIssuer,
                        challenge: Challenge::Dns01,
                    }
                }
            },
        };
        Entry { mode, ingress_class, gateway_class, controller_namespace, certificate }
    }

    fn helm_overrides(
        &mut self,
        raw: BTreeMap<String, RawHelmOverride>,
        provisioners: &[ProvisionerGroup],
    ) -> BTreeMap<String, HelmOverride> {
        let mut targets = vec![CODER_NAMESPACE.to_string()];
        targets.extend(provisioners.iter().map(|g| format!("coder-provisioner/{}", g.namespace)));
        let mut out = BTreeMap::new();
        for (target, o) in raw {
            if !targets.contains(&target) {
                self.err(
                    &o.values,
                    format!("overrides.helm has no release {}", quote(&target)),
                    &format!("use one of: {}", targets.join(", ")),
                );
            }
            let file = match normalize_repo_path(&o.values.value) {
                Some(f) if !f.is_empty() => f,
                _ => {
                    self.err(
                        &o.values,
                        format!("overrides.helm.{target}.values {} is not a file inside the spec's folder", quote(&o.values.value)),
                        "give a path relative to the spec's folder, without `..`, e.g. overrides/coder-values.yaml",
                    );
                    String::new()
                }
            };
            let mut intended = Vec::new();
            for i in o.intended {
                if !SIZED_HELM_PATHS.contains(&i.value.as_str()) {
                    self.err(
                        &i,
                        format!("{} is not a value the plan sizes", quote(&i.value)),
                        &format!("intended lists only sized values: {}", SIZED_HELM_PATHS.join(", ")),
                    );
                }
                intended.push(At::from_spanned(i));
            }
            let at = At { value: file, line: o.values.defined.line(), column: o.values.defined.column() };
            out.insert(target, HelmOverride { file: at, intended, values: None });
        }
        out
    }

    fn kustomize_overrides(
        &mut self,
        raw: BTreeMap<String, RawKustomizeOverride>,
        provisioners: &[ProvisionerGroup],
        workspaces: &[WorkspaceGroup],
    ) -> BTreeMap<String, KustomizeOverride> {
        let mut overlays = vec![CODER_NAMESPACE.to_string()];
        overlays.extend(provisioners.iter().map(|g| format!("provisioners-{}", g.namespace)));
        overlays.extend(workspaces.iter().map(|g| format!("workspaces-{}", g.namespace)));
        let mut out = BTreeMap::new();
        for (overlay, o) in raw {
            let mut names = Vec::new();
            // An unknown overlay is said once, at its first file.
            let mut unknown = !overlays.contains(&overlay);
            let mut files = |list: Vec<Spanned<String>>, what: &str, this: &mut Self| -> Vec<UserFile> {
                let mut v = Vec::new();
                for f in list {
                    if std::mem::take(&mut unknown) {
                        this.err(
                            &f,
                            format!("overrides.kustomize has no overlay {}", quote(&overlay)),
                            &format!("use one of: {}", overlays.join(", ")),
                        );
                    }
                    match normalize_repo_path(&f.value).filter(|p| (p.ends_with(".yaml") || p.ends_with(".yml")) && !p.is_empty()) {
                        Some(file) => {
                            let name = file.rsplit('/').next().unwrap_or(&file).to_string();
                            if names.contains(&name) {
                                this.err(
                                    &f,
                                    format!("overrides.kustomize.{overlay} names two files called {name}"),
                                    "each file is copied into the overlay under its own name: rename one",
                                );
                            }
                            names.push(name);
                            v.push(UserFile { file: At { value: file, line: f.defined.line(), column: f.defined.column() }, text: None });
                        }
                        None => this.err(
                            &f,
                            format!(
                                "overrides.kustomize.{overlay}.{what} {} is not a .yaml file inside the spec's folder",
                                quote(&f.value)
                            ),
                            "give a path relative to the spec's folder, without `..`, e.g. kustomize/coder-patch.yaml",
                        ),
                    }
                }
                v
            };
            let patches = files(o.patches, "patches", self);
            let resources = files(o.resources, "resources", self);
            let targets: Vec<(String, String)> = o.json_patches.iter().map(|j| (j.kind.clone(), j.name.clone())).collect();
            let json_files = files(o.json_patches.into_iter().map(|j| j.file).collect(), "json_patches", self);
            let json_patches = json_files.into_iter().zip(targets).map(|(f, (k, n))| (f, k, n)).collect();
            out.insert(overlay, KustomizeOverride { patches, resources, json_patches });
        }
        out
    }

    fn terraform_overrides(&mut self, raw: Vec<Spanned<String>>) -> Vec<UserFile> {
        let mut out: Vec<UserFile> = Vec::new();
        for f in raw {
            let file = normalize_repo_path(&f.value).filter(|p| p.ends_with(".tf") && !p.is_empty());
            let Some(file) = file else {
                self.err(
                    &f,
                    format!("overrides.terraform {} is not a .tf file inside the spec's folder", quote(&f.value)),
                    "give a path relative to the spec's folder, without `..`, ending in .tf, e.g. terraform/backend.tf",
                );
                continue;
            };
            let name = file.rsplit('/').next().unwrap_or(&file).to_string();
            if out.iter().any(|o| o.file.value.rsplit('/').next() == Some(name.as_str())) {
                self.err(
                    &f,
                    format!("overrides.terraform names two files called {name}"),
                    "each file is copied into terraform/<cloud>/ under its own name: rename one",
                );
            }
            out.push(UserFile { file: At { value: file, line: f.defined.line(), column: f.defined.column() }, text: None });
        }
        out
    }

    fn coder_env(&mut self, raw: BTreeMap<String, Spanned<EnvValue>>) -> BTreeMap<String, EnvValue> {
        let mut out = BTreeMap::new();
        for (i, (name, v)) in raw.into_iter().enumerate() {
            if i == MAX_CODER_ENV {
                self.err(
                    &v,
                    format!("coder.env sets more than {MAX_CODER_ENV} variables"),
                    "put bulk configuration in a Secret or ConfigMap",
                );
            }
            let valid_name = !name.is_empty()
                && name.len() <= 256
                && !name.as_bytes()[0].is_ascii_digit()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid_name {
                self.err(
                    &v,
                    format!("coder.env name {} is not an environment variable name", quote(&name)),
                    "use letters, digits and '_', not starting with a digit, e.g. CODER_OIDC_ISSUER_URL",
                );
            }
            if let Some((_, by)) = RESERVED_CODER_ENV.iter().find(|(n, _)| *n == name) {
                self.err(&v, format!("coder.env cannot set {name}"), &format!("it is set by {by}; remove it from coder.env"));
            }
            match &v.value {
                EnvValue::Value(s) if s.len() > 4096 || s.contains('\0') => {
                    self.err(
                        &v,
                        format!("coder.env {name} is not a usable value"),
                        "use at most 4096 characters; put large values in a Secret",
                    );
                }
                EnvValue::SecretRef { secret, key } => {
                    if let Some(problem) = dns1123_subdomain_problem(secret) {
                        self.err(
                            &v,
                            format!("coder.env {name}: secret {} is not a Secret name: {problem}", quote(secret)),
                            "name a Secret in coderd's namespace: lower-case letters, digits, '-' and '.'",
                        );
                    }
                    if key.is_empty()
                        || key.len() > 253
                        || !key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                    {
                        self.err(
                            &v,
                            format!("coder.env {name}: key {} is not a Secret key", quote(key)),
                            "use letters, digits, '-', '_' and '.' (at most 253)",
                        );
                    }
                }
                EnvValue::Value(_) => {}
            }
            out.insert(name, v.value);
        }
        out
    }

    fn gitops(&mut self, g: RawGitops) -> Option<Gitops> {
        const SAFE: &str = "use letters, digits, '.', '_', '-' and '/'";
        let controller = g.controller.value;
        if controller == GitopsController::None {
            return None;
        }
        let repo_url = match &g.repo_url {
            Some(u) => {
                let ok = ["https://", "ssh://"].iter().any(|p| u.value.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
                    && u.value.len() <= 2048
                    && !u.value.chars().any(|c| c.is_whitespace() || c.is_control());
                if !ok {
                    self.err(
                        u,
                        format!("gitops.repo_url {} is not a Git URL", quote(&u.value)),
                        "use the repository's https:// or ssh:// URL (Flux accepts no scp-style git@host:path), e.g. https://github.com/acme/infra.git",
                    );
                }
                u.value.clone()
            }
            None => {
                self.err(
                    &g.controller,
                    "gitops.controller needs gitops.repo_url".into(),
                    "add repo_url: the https:// or ssh:// URL of the Git repository the rendered tree is committed to",
                );
                String::new()
            }
        };
        let path = match &g.path {
            Some(p) => match normalize_repo_path(&p.value) {
                Some(n) => n,
                None => {
                    self.err(
                        p,
                        format!("gitops.path {} is not a folder inside the repository", quote(&p.value)),
                        &format!("give the tree's folder relative to the repository's root, without `..`; {SAFE}"),
                    );
                    String::new()
                }
            },
            None => String::new(),
        };
        let branch = match &g.branch {
            Some(b) => {
                let v = &b.value;
                let ok = !v.is_empty()
                    && v.len() <= 255
                    && !v.starts_with(['-', '/'])
                    && !v.ends_with(['/', '.'])
                    && !v.contains("..")
                    && !v.contains("//")
                    && v.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'/'));
                if !ok {
                    self.err(b, format!("gitops.branch {} is not a branch name", quote(v)), &format!("{SAFE}, e.g. main"));
                }
                v.clone()
            }
            None => DEFAULT_GITOPS_BRANCH.to_string(),
        };
        let secret_name = match &g.secret_name {
            Some(s) if controller == GitopsController::Argocd => {
                self.err(
                    s,
                    "gitops.secret_name is for Flux".into(),
                    "remove it: Argo CD finds a repository's credentials by its URL (a repository Secret in the argocd namespace)",
                );
                None
            }
            Some(s) => Some(self.dns_label("gitops.secret_name", s, 63, "").to_string()),
            None => None,
        };
        Some(Gitops { controller, repo_url, path, branch, secret_name })
    }

    /// Pointed at the first namespace past the limit.
    fn too_many_groups(&mut self, key: &str, first_extra: &Spanned<String>) {
        self.err(
            first_extra,
            format!("{key} lists more than {MAX_GROUPS} namespaces"),
            &format!("list at most {MAX_GROUPS}: each group gets its own quota, RBAC, Helm release and overlay"),
        );
    }

    fn namespace(&mut self, ns: &Spanned<String>, seen: &mut BTreeMap<String, (u64, u64)>) {
        self.dns_label("namespace", ns, 63, "");
        if ns.value == CODER_NAMESPACE {
            self.err(
                ns,
                "namespace `coder` is coderd's own".into(),
                "give provisioners and workspaces namespaces of their own (zero-trust)",
            );
        }
        // coder-gen labels, quotas and default-denies every group namespace:
        // never do that to Kubernetes' own namespaces or to the observability
        // stack's (Coder's coder/observability chart installs there).
        if ns.value == "default" || ns.value.starts_with("kube-") || ns.value == SCRAPE_NAMESPACE {
            self.err(
                ns,
                format!("namespace {} is not coder-gen's to manage", quote(&ns.value)),
                "choose a namespace of its own for this group (`default`, `kube-*` and `coder-observability` are reserved)",
            );
        }
        if let Some((l, c)) = seen.get(&ns.value).copied() {
            self.err(
                ns,
                format!("namespace {} is already used at line {l}, column {c}", quote(&ns.value)),
                "every provisioner and workspace group needs a namespace of its own",
            );
        } else {
            seen.insert(ns.value.clone(), (ns.defined.line(), ns.defined.column()));
        }
    }

    /// The region must be one of the cloud's (catalog/regions.yaml).
    fn region(&mut self, cloud: Cloud, region: &Spanned<String>) {
        let r = region.value.as_str();
        if regions::contains(cloud, r) {
            return;
        }
        let example = match cloud {
            Cloud::Aws => "us-east-1",
            Cloud::Gcp => "us-central1",
            Cloud::Azure => "eastus",
        };
        let a = if cloud == Cloud::Gcp { "a" } else { "an" };
        let other = regions::other_cloud(cloud, r);
        // Another cloud's region is rarely a typo of this cloud's: suggest
        // only a one-character slip there (us-east1 -> us-east-1).
        let suggestion = regions::suggest(cloud, r).filter(|s| other.is_none() || strsim::levenshtein(r, s) <= 1);
        let help = match (other, suggestion) {
            (Some(other), Some(s)) => format!("did you mean `{s}`? (`{r}` is a {other} region; or set `cloud: {other}`)"),
            (Some(other), None) => format!("`{r}` is a {other} region: set `cloud: {other}`, or use {a} {cloud} region such as {example}"),
            (None, Some(s)) => format!("did you mean `{s}`?"),
            (None, None) => {
                format!("use {a} {cloud} region id such as {example}; coder-gen's list is catalog/regions.yaml (report a region it lacks)")
            }
        };
        self.err(region, format!("region {} is not {a} {cloud} region", quote(r)), &help);
    }

    fn https_url(&mut self, what: &str, s: &Spanned<String>, wildcard: bool) -> String {
        let v = s.value.trim_end_matches('/');
        let ok = https_host_ok(v, wildcard);
        // A plain https URL where a wildcard is wanted: say exactly that.
        if !ok && wildcard && https_host_ok(v, false) {
            let host = v.strip_prefix("https://").unwrap_or(v);
            self.err(
                s,
                format!("{what} {} has no wildcard", quote(&s.value)),
                &format!("start the host with `*.`: workspace apps get subdomains of it, e.g. https://*.{host}"),
            );
            return v.to_string();
        }
        if !ok {
            let help = if wildcard {
                "use an https URL with a leading wildcard, e.g. https://*.coder.example.com"
            } else {
                "use the https URL users open, e.g. https://coder.example.com (no path)"
            };
            self.err(s, format!("{what} {} is not an https URL", quote(&s.value)), help);
        } else if let Some(port) = v.strip_prefix("https://").and_then(|h| h.split_once(':')).map(|(_, p)| p).filter(|p| *p != "443") {
            // Every entry mode serves TLS on 443 (coderd's Service, the
            // ingress controller, the Gateway's listeners).
            self.err(
                s,
                format!("{what} {} names port {}, but the entry serves https on 443", quote(&s.value), quote(port)),
                "drop the port from the URL",
            );
        }
        v.to_string()
    }
}

/// Whether `v` is `https://<host>[:port]` (with `wildcard`, `https://*.<host>`).
fn https_host_ok(v: &str, wildcard: bool) -> bool {
    match v.strip_prefix("https://") {
        Some(h) if !h.is_empty() && !h.contains(['/', '?', '#', ' ', '@']) => {
            let h = h.split(':').next().unwrap_or("");
            let h = if wildcard { h.strip_prefix("*.").unwrap_or("") } else { h };
            !h.is_empty()
                && h.split('.').all(|l| dns1123_label_problem(&l.to_ascii_lowercase()).is_none() || l.chars().all(|c| c.is_ascii_digit()))
        }
        _ => false,
    }
}

/// `path` as `a/b` (no leading `./`, no trailing `/`, empty for the root),
/// or `None` if it leaves the repository or has characters the controllers'
/// path fields would need quoted.
fn normalize_repo_path(path: &str) -> Option<String> {
    if path.len() > 1024 || path.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => return None,
            s if s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-')) => parts.push(s),
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// Why `s` is not an RFC 1123 subdomain (a Secret's name), or `None`.
fn dns1123_subdomain_problem(s: &str) -> Option<&'static str> {
    if s.len() > 253 {
        return Some("it is longer than 253 characters");
    }
    s.split('.').find_map(dns1123_label_problem)
}

/// Why `s` is not an RFC 1123 label, or `None` if it is one.
pub fn dns1123_label_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        return Some("it is empty");
    }
    if s.len() > 63 {
        return Some("it is longer than 63 characters");
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Some("only lower-case letters, digits and '-' are allowed");
    }
    if !s.as_bytes()[0].is_ascii_lowercase() {
        return Some("it must start with a letter");
    }
    if s.ends_with('-') {
        return Some("it must end with a letter or digit");
    }
    None
}

fn is_k8s_minor(s: &str) -> bool {
    match s.split_once('.') {
        Some(("1", minor)) => minor.parse::<u32>().is_ok_and(|m| (30..=37).contains(&m)) && !minor.starts_with('0'),
        _ => false,
    }
}

fn is_semver(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A Kubernetes label key: optional DNS prefix and `/`, then a name.
fn is_label_key(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    prefix.is_none_or(|p| !p.is_empty() && p.len() <= 253 && p.split('.').all(|l| dns1123_label_problem(l).is_none()))
        && is_tag_part(name)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_tag_part(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63 && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "name: acme\nusers: 1800\ncloud: aws\nregion: us-east-1\naccess_url: https://coder.acme.com\n";

    fn parse(s: &str) -> Result<Spec, SpecError> {
        Spec::parse("spec.yaml", s)
    }

    fn first_error(s: &str) -> Located {
        match parse(s) {
            Err(SpecError::Invalid { errors, .. }) => errors[0].clone(),
            Err(SpecError::Yaml { error, .. }) => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn minimal_spec_gets_defaults() {
        let s = parse(MIN).unwrap();
        assert_eq!(s.users.value, 1800);
        assert_eq!(s.kubernetes.cluster_name, "acme");
        assert_eq!(s.kubernetes.version, "1.33");
        assert_eq!(s.coder.chart_version, DEFAULT_CHART_VERSION);
        assert_eq!(s.provisioners[0].namespace, "coder-provisioners");
        assert_eq!(s.workspaces[0].namespace, "coder-workspaces");
        assert_eq!(s.tier.value, TierChoice::Auto);
        // The digest is the caller's (`crate::spec_from_str`), of the parsed spec.
        assert!(s.digest.is_empty());
    }

    #[test]
    fn unknown_nested_key_is_located_and_lists_valid_keys() {
        let e = first_error(&format!("{MIN}database:\n  ha: true\n  replicas: 2\n"));
        assert_eq!((e.line, e.column), (8, 3));
        assert_eq!(e.message, "unknown key `replicas` in `database`");
        assert_eq!(e.help, "The keys in `database` are: builds_per_day, ha, postgres_version, read_replicas");
    }

    /// Every error of `s`, whole.
    fn all_errors(s: &str) -> Vec<Located> {
        parse(s).expect_err("expected errors").errors().to_vec()
    }

    fn located(line: u64, column: u64, message: &str, help: &str) -> Located {
        Located { line, column, message: message.into(), help: help.into() }
    }

    const TOP_KEYS: &str = "access_url, cloud, coder, database, entry, gitops, kubernetes, machine_types, name, observability, overrides, provisioners, \
                            region, secrets, tier, users, wildcard_access_url, workspaces";

    #[test]
    fn every_unknown_key_and_type_error_is_listed_at_once() {
        let spec = format!("{MIN}userz: 3\ndatabse:\n  ha: true\nobservability: yes\n").replace("users: 1800", "users: 1,800");
        assert_eq!(
            all_errors(&spec),
            [
                located(
                    2,
                    8,
                    "`users` is `1,800`; expected a whole number from 1 to 3000",
                    "write the number without separators, e.g. `users: 1800`"
                ),
                located(
                    6,
                    1,
                    "unknown key `userz` at the top level",
                    &format!("did you mean `users`? The keys at the top level are: {TOP_KEYS}")
                ),
                located(
                    7,
                    1,
                    "unknown key `databse` at the top level",
                    &format!("did you mean `database`? The keys at the top level are: {TOP_KEYS}")
                ),
                located(
                    9,
                    16,
                    "`observability` is `yes`; expected `auto`, `true`, `false` or a mapping of keys",
                    "YAML 1.1 words like `yes` are not booleans here: write `true` or `false`"
                ),
            ]
        );
    }

    #[test]
    fn nested_shape_errors_are_all_listed() {
        let spec = format!("{MIN}provisioners:\n  - namespace: a\n    tag: {{a: b}}\n  - nmspace: b\nworkspaces: x\ncloud_x: 1\n");
        let errors = all_errors(&spec);
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert_eq!(
            errors[0],
            located(
                8,
                5,
                "unknown key `tag` in `provisioners[0]`",
                "did you mean `tags`? The keys in `provisioners[0]` are: namespace, tags, workspaces"
            )
        );
        assert_eq!(
            errors[3],
            located(
                10,
                13,
                "`workspaces` is `x`; expected a list",
                "give `workspaces` a list (see `coder-gen schema` or README, 'The spec')"
            )
        );
    }

    #[test]
    fn duplicate_key_says_what_to_do() {
        assert_eq!(
            all_errors(&format!("{MIN}name: other\n")),
            [located(6, 1, "the key `name` is written twice in the same mapping", "write each key once; remove or merge the other one")]
        );
    }

    #[test]
    fn wildcard_without_a_wildcard_says_so() {
        assert_eq!(
            all_errors(&format!("{MIN}wildcard_access_url: https://coder.acme.com\n")),
            [located(
                6,
                22,
                "wildcard_access_url `https://coder.acme.com` has no wildcard",
                "start the host with `*.`: workspace apps get subdomains of it, e.g. https://*.coder.acme.com"
            )]
        );
    }

    #[test]
    fn a_tab_is_reported_on_its_own_line() {
        // saphyr alone reports this tab at the end of line 6.
        assert_eq!(
            all_errors(&format!("{MIN}kubernetes:\n\tversion: \"1.33\"\n")),
            [located(7, 1, "a tab in the indentation", "indent with spaces: YAML does not allow tabs for indentation")]
        );
    }

    #[test]
    fn a_bad_version_shows_the_line_as_written() {
        let spec = format!("{MIN}kubernetes:\n  version: \"1.29\"\n");
        let err = parse(&spec).unwrap_err();
        assert_eq!(
            err.render(&spec),
            "error: spec.yaml:7:12: kubernetes.version `1.29` is not a supported minor version\n  |\n7 |   version: \"1.29\"\n  |            ^\n  \
             = help: quote a minor version from \"1.30\" to \"1.37\", e.g. version: \"1.33\"\n"
        );
    }

    #[test]
    fn name_hints_give_the_name_limit() {
        assert_eq!(
            all_errors(&MIN.replace("acme", "Acme")),
            [located(
                1,
                7,
                "name `Acme` is not a DNS-1123 label: only lower-case letters, digits and '-' are allowed",
                "use 1 to 20 lower-case letters, digits and '-', starting with a letter and ending with a letter or digit"
            )]
        );
        assert_eq!(
            all_errors(&MIN.replace("acme", "a-very-long-deployment-name")),
            [located(
                1,
                7,
                "name `a-very-long-deployment-name` is 27 characters long; the most is 20",
                "use at most 20 characters: it prefixes cloud resource names, which have tight length limits"
            )]
        );
    }

    #[test]
    fn region_must_be_the_clouds() {
        assert_eq!(
            all_errors(&MIN.replace("us-east-1", "us-central1")),
            [located(
                4,
                9,
                "region `us-central1` is not an aws region",
                "`us-central1` is a gcp region: set `cloud: gcp`, or use an aws region such as us-east-1"
            )]
        );
        assert_eq!(
            all_errors(&MIN.replace("us-east-1", "us-east1")),
            [located(
                4,
                9,
                "region `us-east1` is not an aws region",
                "did you mean `us-east-1`? (`us-east1` is a gcp region; or set `cloud: gcp`)"
            )]
        );
        let azure = MIN.replace("aws", "azure").replace("us-east-1", "westeurop");
        assert_eq!(all_errors(&azure), [located(4, 9, "region `westeurop` is not an azure region", "did you mean `westeurope`?")]);
        assert_eq!(
            all_errors(&MIN.replace("us-east-1", "mars-1")),
            [located(
                4,
                9,
                "region `mars-1` is not an aws region",
                "use an aws region id such as us-east-1; coder-gen's list is catalog/regions.yaml (report a region it lacks)"
            )]
        );
    }

    #[test]
    fn unknown_top_level_key_is_rejected() {
        let e = first_error(&format!("{MIN}userz: 3\n"));
        assert_eq!(e.line, 6);
        assert!(e.message.contains("userz"));
    }

    #[test]
    fn users_out_of_range_points_at_value() {
        let e = first_error(&MIN.replace("1800", "3001"));
        assert_eq!((e.line, e.column), (2, 8));
        assert!(e.help.contains("3,000"));
        let e = first_error(&MIN.replace("1800", "0"));
        assert!(e.message.contains("outside"));
    }

    #[test]
    fn names_and_namespaces_are_dns_labels_and_distinct() {
        let e = first_error(&MIN.replace("acme", "Acme"));
        assert_eq!((e.line, e.column), (1, 7));
        let spec = format!("{MIN}provisioners:\n  - namespace: a\nworkspaces:\n  - namespace: a\n");
        let e = first_error(&spec);
        assert_eq!(e.line, 9);
        assert!(e.message.contains("already used at line 7"), "{}", e.message);
        let e = first_error(&format!("{MIN}workspaces:\n  - namespace: coder\n"));
        assert!(e.message.contains("coderd's own"));
        let many: String = (0..17).map(|i| format!("  - namespace: ws{i}\n")).collect();
        let e = first_error(&format!("{MIN}workspaces:\n{many}"));
        assert_eq!((e.line, e.column), (23, 16));
        assert!(e.message.contains("more than 16"), "{}", e.message);
        for reserved in ["default", "kube-system", "kube-public", "coder-observability"] {
            let e = first_error(&format!("{MIN}provisioners:\n  - namespace: {reserved}\n"));
            assert_eq!((e.line, e.column), (7, 16), "{reserved}");
            assert!(e.message.contains("not coder-gen's to manage"), "{reserved}: {}", e.message);
        }
    }

    #[test]
    fn access_url_must_be_https() {
        let e = first_error(&MIN.replace("https://coder.acme.com", "http://coder.acme.com"));
        assert_eq!(e.line, 5);
        assert!(first_error(&format!("{MIN}wildcard_access_url: https://coder.acme.com\n")).message.contains("wildcard"));
        assert!(parse(&format!("{MIN}wildcard_access_url: https://*.coder.acme.com\n")).is_ok());
        assert!(first_error(&MIN.replace("coder.acme.com", "coder.acme.com:8443")).message.contains("443"));
        assert!(parse(&MIN.replace("coder.acme.com", "coder.acme.com:443")).is_ok());
    }

    #[test]
    fn entry_and_licence_defaults_and_located_errors() {
        let s = parse(MIN).unwrap();
        assert_eq!(s.entry.mode, EntryMode::CoderdTls);
        assert_eq!(s.coder.license, License::Premium);
        assert_eq!(s.coder.organization, None);
        assert!(matches!(s.entry.certificate, CertificateSource::CertManager { challenge: Challenge::Dns01, .. }));
        let w = format!("{MIN}wildcard_access_url: https://*.apps.acme.com\n");
        // A wildcard cannot come from HTTP-01 (line 9: the challenge value).
        let e = first_error(&format!(
            "{w}entry:\n  mode: ingress\n  ingress_class: nginx\n  controller_namespace: ingress-nginx\n  certificate:\n    cert_manager:\n      issuer: le\n      challenge: http01\n"
        ));
        assert_eq!((e.line, e.column), (14, 18), "{e:?}");
        assert!(e.message.contains("wildcard"), "{}", e.message);
        // Named secrets with a wildcard need the wildcard's secret.
        let e = first_error(&format!("{w}entry:\n  certificate:\n    secret: my-tls\n"));
        assert_eq!((e.line, e.column), (9, 13));
        assert!(e.help.contains("wildcard_secret"));
        // coderd-tls cannot answer HTTP-01.
        let e = first_error(&format!("{MIN}entry:\n  certificate:\n    cert_manager:\n      issuer: le\n      challenge: http01\n"));
        assert!(e.message.contains("coderd-tls"), "{}", e.message);
        // ingress needs a class and the controller's namespace.
        match parse(&format!("{MIN}entry:\n  mode: ingress\n")) {
            Err(SpecError::Invalid { errors, .. }) => assert_eq!(errors.len(), 2, "{errors:?}"),
            other => panic!("{other:?}"),
        }
        // gateway needs its class and namespace, and no HTTP-01.
        match parse(&format!("{MIN}entry:\n  mode: gateway\n  ingress_class: nginx\n")) {
            Err(SpecError::Invalid { errors, .. }) => assert_eq!(errors.len(), 3, "{errors:?}"),
            other => panic!("{other:?}"),
        }
        let e = first_error(&format!(
            "{MIN}entry:\n  mode: gateway\n  gateway_class: eg\n  controller_namespace: envoy-gateway-system\n  certificate:\n    cert_manager:\n      issuer: le\n      challenge: http01\n"
        ));
        assert!(e.message.contains("gateway"), "{}", e.message);
        let e = first_error(&format!("{MIN}entry:\n  ingress_class: nginx\n"));
        assert!(e.message.contains("only used with `mode: ingress`"));
        let e = first_error(&format!("{MIN}coder:\n  license: enterprise\n"));
        assert!(e.message.contains("enterprise"), "{}", e.message);
        let ok =
            parse(&format!("{w}coder:\n  license: community\nentry:\n  certificate:\n    secret: a\n    wildcard_secret: a\n")).unwrap();
        assert_eq!(ok.coder.license, License::Community);
    }

    #[test]
    fn bad_cloud_and_yaml11_booleans_are_rejected() {
        assert!(first_error(&MIN.replace("aws", "ibm")).message.contains("ibm"));
        assert!(parse(&format!("{MIN}observability: yes\n")).is_err());
        assert_eq!(parse(&format!("{MIN}observability: true\n")).unwrap().observability.enabled, AutoBool::Set(true));
    }

    #[test]
    fn observability_map_and_secrets() {
        let s = parse(&format!(
            "{MIN}observability:\n  enabled: true\n  chart_version: \"0.6.1\"\n  prometheus_operator:\n    enabled: true\n    selector_labels: {{ release: kps }}\n"
        ))
        .unwrap();
        assert_eq!(s.observability.enabled, AutoBool::Set(true));
        assert_eq!(s.observability.chart_version, "0.6.1");
        let op = s.observability.prometheus_operator.unwrap();
        assert_eq!((op.namespace.as_str(), op.selector_labels["release"].as_str()), ("coder-observability", "kps"));
        let e = first_error(&format!("{MIN}observability:\n  enable: true\n"));
        assert_eq!((e.line, e.column), (7, 3));
        assert!(e.message.contains("enable"), "{}", e.message);
        let e = first_error(&format!(
            "{MIN}observability:\n  prometheus_operator:\n    enabled: true\n    selector_labels: {{ \"a b\": x }}\n"
        ));
        assert!(e.message.contains("not a Kubernetes label"), "{}", e.message);
        assert_eq!(parse(MIN).unwrap().secrets.manager, SecretsManager::Kubectl);
        let e = first_error(&format!("{MIN}secrets:\n  manager: external-secrets\n"));
        assert!(e.message.contains("secrets.store"), "{}", e.message);
        let s = parse(&format!("{MIN}secrets:\n  manager: external-secrets\n  store: aws-sm\n")).unwrap();
        assert_eq!((s.secrets.store.as_deref(), s.secrets.store_kind), (Some("aws-sm"), StoreKind::ClusterSecretStore));
        assert!(is_label_key("release") && is_label_key("example.com/team") && !is_label_key("a b") && !is_label_key("/x"));
    }

    #[test]
    fn every_error_is_reported_not_just_the_first() {
        match parse(&MIN.replace("acme", "ACME").replace("1800", "9000")) {
            Err(SpecError::Invalid { errors, .. }) => assert_eq!(errors.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        for input in ["", "---", "[]", "~", "name: [", "a: &a [*a]", "\u{0}", "users: 1e999", "name: !!binary aGk="] {
            let _ = parse(input);
        }
        let big = "x".repeat(MAX_SPEC_BYTES + 1);
        assert!(parse(&big).is_err());
    }

    #[test]
    fn a_flood_of_shape_errors_is_summarised_and_aliases_are_bounded() {
        let wide: String = (0..2000).map(|i| format!("k{i}: {i}\n")).collect();
        let errors = all_errors(&wide);
        assert_eq!(errors.len(), 51, "50 shown, then a summary");
        // 2000 unknown keys and 5 missing required keys.
        assert_eq!(errors[50].message, "1955 more problems like these are not shown");
        // 10^8 nodes if expanded; the second pass gives up at once instead.
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", ")));
        }
        let t = std::time::Instant::now();
        assert!(parse(&bomb).is_err());
        assert!(t.elapsed() < std::time::Duration::from_secs(5), "{:?}", t.elapsed());
    }

    #[test]
    fn coder_env_values_and_secret_refs() {
        let s = parse(&format!(
            "{MIN}coder:\n  env:\n    CODER_OIDC_ISSUER_URL: https://login.acme.com\n    CODER_OIDC_CLIENT_SECRET: {{ secret: coder-oidc, key: client-secret }}\n"
        ))
        .unwrap();
        assert_eq!(s.coder.env["CODER_OIDC_ISSUER_URL"], EnvValue::Value("https://login.acme.com".into()));
        assert_eq!(
            s.coder.env["CODER_OIDC_CLIENT_SECRET"],
            EnvValue::SecretRef { secret: "coder-oidc".into(), key: "client-secret".into() }
        );
        let e = first_error(&format!("{MIN}coder:\n  env:\n    CODER_PG_CONN_MAX_OPEN: \"50\"\n"));
        assert_eq!((e.line, e.column), (8, 29));
        assert!(e.help.contains("the plan"), "{}", e.help);
        let e = first_error(&format!("{MIN}coder:\n  env:\n    CODER_ACCESS_URL: https://x.acme.com\n"));
        assert!(e.help.contains("access_url"), "{}", e.help);
        assert!(first_error(&format!("{MIN}coder:\n  env:\n    1BAD: x\n")).message.contains("not an environment variable name"));
        let e = first_error(&format!("{MIN}coder:\n  env:\n    CODER_X: true\n"));
        assert!(e.message.contains("quote"), "{}", e.message);
        let e = first_error(&format!("{MIN}coder:\n  env:\n    CODER_X: {{ secret: Bad_Name, key: k }}\n"));
        assert!(e.message.contains("not a Secret name"), "{}", e.message);
        assert!(parse(&format!("{MIN}coder:\n  env:\n    CODER_X: {{ secret: s, key: k, value: v }}\n")).is_err());
    }

    #[test]
    fn gitops_is_checked_and_normalised() {
        assert_eq!(parse(MIN).unwrap().gitops, None);
        assert_eq!(parse(&format!("{MIN}gitops:\n  controller: none\n")).unwrap().gitops, None);
        let g =
            parse(&format!("{MIN}gitops:\n  controller: flux\n  repo_url: https://git.acme.com/infra.git\n  path: ./clusters//prod/\n"))
                .unwrap()
                .gitops
                .unwrap();
        assert_eq!((g.controller, g.path.as_str(), g.branch.as_str()), (GitopsController::Flux, "clusters/prod", "main"));
        let e = first_error(&format!("{MIN}gitops:\n  controller: argocd\n"));
        assert_eq!((e.line, e.column), (7, 15));
        assert!(e.message.contains("repo_url"), "{}", e.message);
        let e = first_error(&format!("{MIN}gitops:\n  controller: flux\n  repo_url: git@github.com:acme/infra.git\n"));
        assert_eq!(e.line, 8);
        let e = first_error(&format!("{MIN}gitops:\n  controller: flux\n  repo_url: https://g/x.git\n  path: a/../../etc\n"));
        assert_eq!((e.line, e.column), (9, 9));
        let e = first_error(&format!("{MIN}gitops:\n  controller: flux\n  repo_url: https://g/x.git\n  branch: -x\n"));
        assert!(e.message.contains("branch"), "{}", e.message);
        let e = first_error(&format!("{MIN}gitops:\n  controller: argocd\n  repo_url: https://g/x.git\n  secret_name: git\n"));
        assert!(e.message.contains("Flux"), "{}", e.message);
        assert!(first_error(&format!("{MIN}gitops:\n  controller: jenkins\n")).message.contains("jenkins"));
    }

    #[test]
    fn label_rules() {
        assert!(dns1123_label_problem("coder-ws-1").is_none());
        assert!(dns1123_label_problem("1abc").is_some());
        assert!(dns1123_label_problem("abc-").is_some());
        assert!(dns1123_label_problem(&"a".repeat(64)).is_some());
        assert!(is_k8s_minor("1.33") && !is_k8s_minor("1.3") && !is_k8s_minor("2.0") && !is_k8s_minor("1.033"));
        assert!(is_semver("2.33.6") && !is_semver("2.33") && !is_semver("v2.33.6"));
    }

    #[test]
    fn provisioner_workspace_mapping_is_checked() {
        let base = format!("{MIN}workspaces:\n  - namespace: ws-a\n  - namespace: ws-b\n");
        let ok = format!("{base}provisioners:\n  - namespace: p-a\n    workspaces: [ws-a]\n  - namespace: p-b\n    workspaces: [ws-b]\n");
        let s = parse(&ok).unwrap();
        assert_eq!(s.provisioners[0].workspaces, Some(vec!["ws-a".to_string()]));
        // Unknown namespace: located at the name, listing the choices.
        let bad = format!("{base}provisioners:\n  - namespace: p-a\n    workspaces: [ws-a, ws-c]\n");
        let Err(SpecError::Invalid { errors, .. }) = parse(&bad) else { panic!("expected errors") };
        let e = errors.iter().find(|e| e.message.contains("`ws-c`")).expect("unknown namespace reported");
        assert!(e.help.contains("ws-a, ws-b"), "{e:?}");
        assert_eq!((e.line, e.column), (11, 24));
        // A workspace namespace no group serves.
        let unserved = format!("{base}provisioners:\n  - namespace: p-a\n    workspaces: [ws-a]\n");
        assert!(first_error(&unserved).message.contains("`ws-b` is served by no provisioner group"));
        // Default: all.
        assert_eq!(parse(&base).unwrap().provisioners[0].workspaces, None);
    }

    #[test]
    fn spec_digest_ignores_formatting_but_not_values() {
        let d = |text: &str| crate::spec_from_str("spec.yaml", text).unwrap().digest;
        let base = "name: acme\nusers: 1800\ncloud: aws\nregion: us-east-1\naccess_url: https://coder.acme.com\n";
        let reformatted = "# my deployment\ncloud: aws   # cloud\n\nname: \"acme\"\nusers: 1800\nregion: 'us-east-1'\naccess_url: https://coder.acme.com\n";
        assert_eq!(d(base), d(reformatted));
        assert_eq!(d(base).len(), 64);
        assert_ne!(d(base), d(&base.replace("1800", "1700")));
        // Spelling out a default is the same spec.
        assert_eq!(d(base), d(&format!("{base}tier: auto\n")));
        // The file name is not part of it.
        assert_eq!(d(base), crate::spec_from_str("other.yaml", base).unwrap().digest);
    }
}
