//! The user's spec (v1): strict parse, defaults, validation with locations.
//!
//! Unknown keys are rejected at every depth (`deny_unknown_fields`), and every
//! semantic error points at the line and column of the offending value, so a
//! user never has to guess which of two `namespace:` lines is wrong.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_saphyr::Spanned;

use crate::error::{Located, SpecError};

/// Users above this have no validated architecture (the seeds stop at 3,000).
pub const MAX_USERS: u64 = 3000;

/// Provisioner or workspace namespaces per list: each is a quota, a Role, a
/// Helm release and an overlay to review; more is a different architecture.
pub const MAX_GROUPS: usize = 16;

/// Spec files are short; anything this large is a mistake (or hostile).
pub const MAX_SPEC_BYTES: usize = 256 * 1024;

pub use crate::cloud::Cloud;

/// `tier:` in the spec. `auto` picks the smallest tier that fits `users`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
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

/// `auto`, `true` or `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

/// `auto` or a whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

/// The raw document, exactly as written. Field order is the order the
/// reference in the README documents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: Spanned<String>,
    users: Spanned<u64>,
    cloud: Cloud,
    region: Spanned<String>,
    access_url: Spanned<String>,
    #[serde(default)]
    wildcard_access_url: Option<Spanned<String>>,
    #[serde(default)]
    tier: Option<Spanned<TierChoice>>,
    #[serde(default)]
    kubernetes: Option<RawKubernetes>,
    #[serde(default)]
    coder: Option<RawCoder>,
    #[serde(default)]
    database: Option<RawDatabase>,
    #[serde(default)]
    provisioners: Option<Spanned<Vec<RawProvisioners>>>,
    #[serde(default)]
    workspaces: Option<Spanned<Vec<RawWorkspaces>>>,
    #[serde(default)]
    observability: AutoBool,
    #[serde(default)]
    machine_types: Option<RawMachineTypes>,
    /// GitOps controller objects that deploy the tree from its Git repository (default: none).
    #[serde(default)]
    gitops: Option<RawGitops>,
    /// Your own settings that coder-gen merges into the generated tree and checks.
    #[serde(default)]
    overrides: Option<RawOverrides>,
}

/// `overrides:` files of your own, relative to the spec's folder.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverrides {
    /// Helm values deep-merged over the generated values of a release: `coder` or
    /// `coder-provisioner/<namespace>` (maps merge, lists and scalars replace).
    #[serde(default)]
    helm: BTreeMap<String, RawHelmOverride>,
    /// Terraform files copied into `terraform/<cloud>/` (e.g. `backend.tf`, `tags_override.tf`).
    #[serde(default)]
    terraform: Vec<Spanned<String>>,
    /// Per Kustomize overlay (`coder`, `provisioners-<ns>`, `workspaces-<ns>`): patches and extra objects.
    #[serde(default)]
    kustomize: BTreeMap<String, RawKustomizeOverride>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKustomizeOverride {
    /// Strategic merge patches (one object each), applied to the overlay's objects; a patch that matches
    /// no object is an error.
    #[serde(default)]
    patches: Vec<Spanned<String>>,
    /// Extra objects (one per file), placed in the overlay's namespace.
    #[serde(default)]
    resources: Vec<Spanned<String>>,
    /// JSON 6902 patches: a file with a list of operations, and the object it patches.
    #[serde(default)]
    json_patches: Vec<RawJsonPatch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJsonPatch {
    /// The file with the operations (`- op: replace` ...), relative to the spec's folder.
    file: Spanned<String>,
    /// The kind of the overlay object it patches, e.g. `NetworkPolicy`.
    kind: String,
    /// The name of that object.
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHelmOverride {
    /// The values file, relative to the spec's folder.
    values: Spanned<String>,
    /// Values the plan sized that this file is meant to change, e.g. `coder.replicaCount`.
    #[serde(default)]
    intended: Vec<Spanned<String>>,
}

/// `gitops:` where the tree is committed and which controller deploys it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGitops {
    /// `none` (default), `flux` or `argocd`.
    controller: Spanned<GitopsController>,
    /// The Git repository the rendered tree is committed to (`https://` or `ssh://`).
    #[serde(default)]
    repo_url: Option<Spanned<String>>,
    /// Folder of the rendered tree inside that repository, relative to its root (default: the root).
    #[serde(default)]
    path: Option<Spanned<String>>,
    /// Branch the controller follows (default: `main`).
    #[serde(default)]
    branch: Option<Spanned<String>>,
    /// Flux only: a Secret in `flux-system` with the Git credentials of a private repository.
    #[serde(default)]
    secret_name: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKubernetes {
    #[serde(default)]
    cluster_name: Option<Spanned<String>>,
    #[serde(default)]
    version: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoder {
    #[serde(default)]
    chart_version: Option<Spanned<String>>,
    /// Extra coderd environment variables (OIDC, GitHub login, CA bundle, ...): a string value, or
    /// `{ secret: NAME, key: KEY }` to read it from a Secret in coderd's namespace.
    #[serde(default)]
    env: BTreeMap<String, Spanned<EnvValue>>,
}

/// `{ secret: NAME, key: KEY }` in `coder.env`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    #[serde(default)]
    postgres_version: Option<Spanned<u32>>,
    #[serde(default)]
    ha: AutoBool,
    #[serde(default)]
    read_replicas: AutoCount,
    #[serde(default)]
    builds_per_day: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvisioners {
    namespace: Spanned<String>,
    #[serde(default)]
    tags: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkspaces {
    namespace: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMachineTypes {
    #[serde(default)]
    coderd: Option<Spanned<String>>,
    #[serde(default)]
    provisioner: Option<Spanned<String>>,
    #[serde(default)]
    workspace: Option<Spanned<String>>,
    #[serde(default)]
    database: Option<Spanned<String>>,
}

/// `gitops.controller`: which GitOps controller's objects the tree carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmOverride {
    /// Relative to the spec's folder, normalised (`a/b.yaml`).
    pub file: At<String>,
    pub intended: Vec<At<String>>,
    /// The file's content as data, and its sha256.
    pub values: Option<(serde_json::Value, String)>,
}

/// A file of the user's named by `overrides.terraform` or
/// `overrides.kustomize`; `text` is filled by [`crate::overrides::read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFile {
    pub file: At<String>,
    pub text: Option<String>,
}

/// `overrides.kustomize.<overlay>`: files of the user's; `text` is filled by
/// [`crate::overrides::read`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The validated spec with every default filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The spec file's name as the user gave it (for headers and messages).
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
    pub database: Database,
    pub provisioners: Vec<ProvisionerGroup>,
    pub workspaces: Vec<WorkspaceGroup>,
    pub observability: AutoBool,
    pub machine_types: MachineTypes,
    /// `None` unless `gitops.controller` is flux or argocd.
    pub gitops: Option<Gitops>,
    /// Helm values overrides per target (`coder`, `coder-provisioner/<ns>`).
    pub helm_overrides: BTreeMap<String, HelmOverride>,
    /// Terraform files of the user's (`overrides.terraform`), in spec order.
    pub terraform_overrides: Vec<UserFile>,
    /// Kustomize patches and extra objects per overlay (`overrides.kustomize`).
    pub kustomize_overrides: BTreeMap<String, KustomizeOverride>,
    /// sha256 of the spec's bytes, for the manifest.
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kubernetes {
    pub cluster_name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coder {
    pub chart_version: String,
    /// `coder.env`, sorted by name.
    pub env: BTreeMap<String, EnvValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    pub postgres_version: u32,
    pub ha: AutoBool,
    pub read_replicas: AutoCount,
    pub builds_per_day: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionerGroup {
    pub namespace: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceGroup {
    pub namespace: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
pub const SUPPORTED_POSTGRES: &[u32] = &[14, 15, 16, 17];

impl Spec {
    /// Parse and validate a spec. `file` is used only in messages.
    pub fn parse(file: &str, text: &str) -> Result<Spec, SpecError> {
        if text.len() > MAX_SPEC_BYTES {
            return Err(SpecError::new(
                file,
                None,
                format!("the spec is {} bytes; a spec is at most {MAX_SPEC_BYTES} bytes", text.len()),
                "a coder-gen spec is a few lines of YAML; check that the right file was given",
            ));
        }
        let options = serde_saphyr::options! { strict_booleans: true };
        let raw: RawSpec = serde_saphyr::from_str_with_options(text, options).map_err(|e| SpecError::from_yaml(file, &e))?;
        let digest = crate::digest::sha256_hex(text.as_bytes());
        Validator { file, errors: Vec::new() }.validate(raw, digest)
    }
}

struct Validator<'a> {
    file: &'a str,
    errors: Vec<Located>,
}

impl Validator<'_> {
    fn err<T>(&mut self, at: &Spanned<T>, message: String, help: &str) {
        self.errors.push(Located { line: at.defined.line(), column: at.defined.column(), message, help: help.to_string() });
    }

    fn dns_label<'s>(&mut self, what: &str, s: &'s Spanned<String>) -> &'s str {
        if let Some(problem) = dns1123_label_problem(&s.value) {
            self.err(
                s,
                format!("{what} `{}` is not a DNS-1123 label: {problem}", s.value.escape_debug()),
                "use 1 to 63 lower-case letters, digits and '-', starting with a letter and ending with a letter or digit",
            );
        }
        &s.value
    }

    fn validate(mut self, raw: RawSpec, digest: String) -> Result<Spec, SpecError> {
        self.dns_label("name", &raw.name);
        // Cloud resource names are `<name>-<role>` (longest role: `provisioners`,
        // plus a replica suffix); Azure node pools allow only 12 characters, so
        // the name must stay short for everything to fit.
        if raw.name.value.len() > 20 {
            self.err(
                &raw.name,
                format!("name `{}` is {} characters long", raw.name.value, raw.name.value.len()),
                "use at most 20 characters: it prefixes cloud resource names, which have tight length limits",
            );
        }

        let users = match u32::try_from(raw.users.value) {
            Ok(u) if (1..=MAX_USERS).contains(&raw.users.value) => u,
            _ => {
                let help = if raw.users.value > MAX_USERS {
                    "Coder's validated architectures stop at 3,000 users; size a larger deployment with Coder's guidance, not this tool"
                } else {
                    "set users to a whole number from 1 to 3000"
                };
                self.err(&raw.users, format!("users is {}, outside 1..=3000", raw.users.value), help);
                1
            }
        };

        if raw.region.value.trim().is_empty() || raw.region.value.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
            self.err(
                &raw.region,
                format!("region `{}` is not a region name", raw.region.value.escape_debug()),
                "use the cloud's region id, e.g. us-east-1 (aws), us-central1 (gcp), eastus (azure)",
            );
        }

        let access_url = self.https_url("access_url", &raw.access_url, false);
        let wildcard_access_url = raw.wildcard_access_url.as_ref().map(|w| self.https_url("wildcard_access_url", w, true));

        let tier = raw.tier.map(At::from_spanned).unwrap_or_else(|| At::default_value(TierChoice::Auto));

        let kubernetes = {
            let k = raw.kubernetes;
            let cluster_name = match k.as_ref().and_then(|k| k.cluster_name.as_ref()) {
                Some(c) => self.dns_label("kubernetes.cluster_name", c).to_string(),
                None => raw.name.value.clone(),
            };
            let version = match k.as_ref().and_then(|k| k.version.as_ref()) {
                Some(v) => {
                    if !is_k8s_minor(&v.value) {
                        self.err(
                            v,
                            format!("kubernetes.version `{}` is not a supported minor version", v.value.escape_debug()),
                            "quote a minor version from \"1.30\" to \"1.37\", e.g. version: \"1.33\"",
                        );
                    }
                    v.value.clone()
                }
                None => DEFAULT_KUBERNETES_VERSION.to_string(),
            };
            Kubernetes { cluster_name, version }
        };

        let (raw_chart_version, raw_env) = match raw.coder {
            Some(c) => (c.chart_version, c.env),
            None => (None, BTreeMap::new()),
        };
        let coder = Coder {
            chart_version: match raw_chart_version {
                Some(v) => {
                    if !is_semver(&v.value) {
                        self.err(
                            &v,
                            format!("coder.chart_version `{}` is not a release version", v.value.escape_debug()),
                            "quote a Coder release like \"2.33.6\" (see helm search repo coder-v2/coder --versions)",
                        );
                    }
                    v.value
                }
                None => DEFAULT_CHART_VERSION.to_string(),
            },
            env: self.coder_env(raw_env),
        };

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
                Database { postgres_version, ha: d.ha, read_replicas: d.read_replicas, builds_per_day: d.builds_per_day }
            }
            None => Database {
                postgres_version: DEFAULT_POSTGRES_VERSION,
                ha: AutoBool::Auto,
                read_replicas: AutoCount::Auto,
                builds_per_day: None,
            },
        };

        let mut seen: BTreeMap<String, (u64, u64)> = BTreeMap::new();
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
                    for (k, v) in p.tags {
                        if !is_tag_part(&k) {
                            self.err(
                                &v,
                                format!("provisioner tag key `{}` is not allowed", k.escape_debug()),
                                "use letters, digits, '-', '_' and '.' (at most 63)",
                            );
                        }
                        if !is_tag_part(&v.value) {
                            self.err(
                                &v,
                                format!("provisioner tag value `{}` is not allowed", v.value.escape_debug()),
                                "use letters, digits, '-', '_' and '.' (at most 63)",
                            );
                        }
                        tags.insert(k, v.value);
                    }
                    out.push(ProvisionerGroup { namespace: p.namespace.value, tags });
                }
                out
            }
            None => vec![ProvisionerGroup { namespace: DEFAULT_PROVISIONER_NAMESPACE.into(), tags: BTreeMap::new() }],
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
            database,
            provisioners,
            workspaces,
            observability: raw.observability,
            machine_types,
            gitops,
            helm_overrides,
            terraform_overrides,
            kustomize_overrides,
            digest,
        })
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
                    format!("overrides.helm has no release `{}`", target.escape_debug()),
                    &format!("use one of: {}", targets.join(", ")),
                );
            }
            let file = match normalize_repo_path(&o.values.value) {
                Some(f) if !f.is_empty() => f,
                _ => {
                    self.err(
                        &o.values,
                        format!(
                            "overrides.helm.{target}.values `{}` is not a file inside the spec's folder",
                            o.values.value.escape_debug()
                        ),
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
                        format!("`{}` is not a value the plan sizes", i.value.escape_debug()),
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
            let mut files = |list: Vec<Spanned<String>>, what: &str, this: &mut Self| -> Vec<UserFile> {
                let mut v = Vec::new();
                for f in list {
                    if !overlays.contains(&overlay) {
                        this.err(
                            &f,
                            format!("overrides.kustomize has no overlay `{}`", overlay.escape_debug()),
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
                                "overrides.kustomize.{overlay}.{what} `{}` is not a .yaml file inside the spec's folder",
                                f.value.escape_debug()
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
                    format!("overrides.terraform `{}` is not a .tf file inside the spec's folder", f.value.escape_debug()),
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
                    format!("coder.env name `{}` is not an environment variable name", name.escape_debug()),
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
                            format!("coder.env {name}: secret `{}` is not a Secret name: {problem}", secret.escape_debug()),
                            "name a Secret in coderd's namespace: lower-case letters, digits, '-' and '.'",
                        );
                    }
                    if key.is_empty()
                        || key.len() > 253
                        || !key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                    {
                        self.err(
                            &v,
                            format!("coder.env {name}: key `{}` is not a Secret key", key.escape_debug()),
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
                        format!("gitops.repo_url `{}` is not a Git URL", u.value.escape_debug()),
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
                        format!("gitops.path `{}` is not a folder inside the repository", p.value.escape_debug()),
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
                    self.err(b, format!("gitops.branch `{}` is not a branch name", v.escape_debug()), &format!("{SAFE}, e.g. main"));
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
            Some(s) => Some(self.dns_label("gitops.secret_name", s).to_string()),
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
        self.dns_label("namespace", ns);
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
                format!("namespace `{}` is not coder-gen's to manage", ns.value),
                "choose a namespace of its own for this group (`default`, `kube-*` and `coder-observability` are reserved)",
            );
        }
        if let Some((l, c)) = seen.get(&ns.value).copied() {
            self.err(
                ns,
                format!("namespace `{}` is already used at line {l}, column {c}", ns.value),
                "every provisioner and workspace group needs a namespace of its own",
            );
        } else {
            seen.insert(ns.value.clone(), (ns.defined.line(), ns.defined.column()));
        }
    }

    fn https_url(&mut self, what: &str, s: &Spanned<String>, wildcard: bool) -> String {
        let v = s.value.trim_end_matches('/');
        let host = v.strip_prefix("https://");
        let ok = match host {
            Some(h) if !h.is_empty() && !h.contains(['/', '?', '#', ' ', '@']) => {
                let h = h.split(':').next().unwrap_or("");
                let h = if wildcard { h.strip_prefix("*.").unwrap_or("") } else { h };
                !h.is_empty()
                    && h.split('.')
                        .all(|l| dns1123_label_problem(&l.to_ascii_lowercase()).is_none() || l.chars().all(|c| c.is_ascii_digit()))
            }
            _ => false,
        };
        if !ok {
            let help = if wildcard {
                "use an https URL with a leading wildcard, e.g. https://*.coder.example.com"
            } else {
                "use the https URL users open, e.g. https://coder.example.com (no path)"
            };
            self.err(s, format!("{what} `{}` is not an https URL", s.value.escape_debug()), help);
        }
        v.to_string()
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
        assert_eq!(s.digest.len(), 64);
    }

    #[test]
    fn unknown_nested_key_is_located_and_lists_valid_keys() {
        let e = first_error(&format!("{MIN}database:\n  ha: true\n  replicas: 2\n"));
        assert_eq!((e.line, e.column), (8, 3));
        assert!(e.message.contains("replicas"), "{}", e.message);
        assert!(e.message.contains("read_replicas"), "{}", e.message);
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
    }

    #[test]
    fn bad_cloud_and_yaml11_booleans_are_rejected() {
        assert!(first_error(&MIN.replace("aws", "ibm")).message.contains("ibm"));
        assert!(parse(&format!("{MIN}observability: yes\n")).is_err());
        assert_eq!(parse(&format!("{MIN}observability: true\n")).unwrap().observability, AutoBool::Set(true));
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
}
