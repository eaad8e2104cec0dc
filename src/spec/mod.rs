//! The user's spec (v1): strict parse, defaults, validation with locations.
//!
//! Unknown keys are rejected at every depth (`deny_unknown_fields`), and every
//! semantic error points at the line and column of the offending value, so a
//! user never has to guess which of two `namespace:` lines is wrong.
//!
//! The face of the spec: [`Spec::parse`] and the validated [`Spec`] model
//! with its value types. Inside: `raw.rs` (what the user writes, the wire
//! types), `validate/` (is it allowed; defaults), `shape.rs` (every unknown
//! key and wrong type at once), `schema.rs` (the JSON Schema of `raw.rs`).

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_saphyr::Spanned;

use crate::diag::SpecError;
use crate::digest::sha256_hex;
use crate::tree::display_name;

mod network;
mod raw;
mod raw_network;
mod schema;
mod secure;
mod shape;
mod site;
#[cfg(test)]
mod tests;
mod validate;

pub use crate::cloud::Cloud;
pub use network::{CA_KEY, ChartMirror, NETWORK_ENV, Network, PrivateCa, ProviderMirror, Proxy, RegistryMirror, ca_issuer_name};
pub use raw::{
    AutoBool, AutoCount, Challenge, EntryMode, EnvValue, GitopsController, IssuerKind, License, SecretsManager, StoreKind, TierChoice,
};
pub use schema::{spec_schema, spec_schema_text};
pub use secure::{Alerts, GrafanaOidc, ReceiverKind, Security};
pub use site::{
    DEFAULT_PROXY_ICON, MAX_SITE_NAME, SITE_TAG, Site, SiteCloud, SiteMachineTypes, SiteProxy, default_proxy_url, default_proxy_wildcard,
};

use raw::RawSpec;

/// Users above this have no validated architecture (the seeds stop at 3,000).
pub const MAX_USERS: u64 = 3000;

/// Provisioner or workspace namespaces per list: each is a quota, a Role, a
/// Helm release and an overlay to review; more is a different architecture.
pub const MAX_GROUPS: usize = 16;
/// At most this many sites: each is a cluster with a proxy, provisioners
/// and workspaces to apply and review.
pub const MAX_SITES: usize = 16;
/// At most this many tags per provisioner group (a bound on the input, not Coder's).
pub const MAX_TAGS: usize = 32;

/// `name` prefixes cloud resource names (see `validate`).
pub const MAX_NAME: usize = 20;

/// Spec files are short; anything this large is a mistake (or hostile).
pub const MAX_SPEC_BYTES: usize = 256 * 1024;

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
/// override may change them only when it lists them as `intended`. The
/// vocabulary of `intended` (checked here, at parse time); `overrides::check`
/// compares a merged values file with the generated one at these paths.
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
    pub(crate) fn from_spanned(s: Spanned<T>) -> Self {
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
    /// The primary's groups (`site:` unset); each site holds its own.
    pub provisioners: Vec<ProvisionerGroup>,
    pub workspaces: Vec<WorkspaceGroup>,
    /// Workspace sites besides the primary (left out of the digest when
    /// there are none, so a spec without sites keeps its digest).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<Site>,
    pub observability: Observability,
    pub machine_types: MachineTypes,
    pub secrets: Secrets,
    /// `None` unless `gitops.controller` is flux or argocd.
    pub gitops: Option<Gitops>,
    /// `network:` (default: the public internet; then not in the digest).
    #[serde(skip_serializing_if = "Network::is_default")]
    pub network: Network,
    /// Helm values overrides per target (`coder`, `coder-provisioner/<ns>`).
    pub helm_overrides: BTreeMap<String, HelmOverride>,
    /// Terraform files of the user's (`overrides.terraform`), in spec order.
    pub terraform_overrides: Vec<UserFile>,
    /// Kustomize patches and extra objects per overlay (`overrides.kustomize`).
    pub kustomize_overrides: BTreeMap<String, KustomizeOverride>,
    /// `security:` (secure defaults the user loosened; `None`s: defaults).
    /// Left out of the digest while default, so specs written before it
    /// keep theirs.
    #[serde(skip_serializing_if = "Security::is_default")]
    pub security: Security,
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
    /// `coder.provisioner_env`: every provisioner group's, sorted by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub provisioner_env: BTreeMap<String, EnvValue>,
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
    /// `database.backup`; left out of the digest when the spec has none, so
    /// specs written before it keep theirs.
    #[serde(skip_serializing_if = "Backup::is_default")]
    pub backup: Backup,
}

/// `database.backup` as written: every value optional (the plan fills the
/// cloud's defaults and checks each against the cloud's range), with where
/// it was written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Backup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<At<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pitr_days: Option<At<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geo_redundant: Option<At<bool>>,
}

impl Backup {
    pub fn is_default(&self) -> bool {
        *self == Backup::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionerGroup {
    pub namespace: String,
    pub tags: BTreeMap<String, String>,
    /// Workspace namespaces it serves; `None`: all.
    pub workspaces: Option<Vec<String>>,
    /// `provisioners[].env`: this group's own variables, sorted by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, EnvValue>,
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
    /// `observability.grafana.oidc`; `None`: the admin login from a Secret.
    /// (These three stay out of the digest while unset.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grafana_oidc: Option<GrafanaOidc>,
    /// `observability.alerts`; `None`: no receiver named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Alerts>,
    /// `observability.logs_retention_days`; `None`: the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs_retention_days: Option<u32>,
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

// Defaults: what a spec that leaves the key out gets. The validator fills
// them into the Spec, so they are part of its digest and live here, not in
// the plan.
pub const DEFAULT_KUBERNETES_VERSION: &str = "1.33";
/// Coder's docs name 2.33.6 as the stable chart (coder-facts.md section 3).
pub const DEFAULT_CHART_VERSION: &str = "2.33.6";
pub const DEFAULT_POSTGRES_VERSION: u32 = 16;
pub const DEFAULT_GITOPS_BRANCH: &str = "main";
pub const DEFAULT_PROVISIONER_NAMESPACE: &str = "coder-provisioners";
pub const DEFAULT_WORKSPACE_NAMESPACE: &str = "coder-workspaces";
/// The default cert-manager issuer: one that solves DNS-01, so it can sign
/// the wildcard certificate too and needs nothing listening on port 80.
pub const DEFAULT_ISSUER: &str = "letsencrypt-dns01";
/// coder/observability's latest release (its Chart.yaml, v0.6.2).
pub const DEFAULT_OBSERVABILITY_CHART_VERSION: &str = "0.6.2";

// Namespaces the tree gives coderd and Prometheus. The plan puts them there;
// the spec owns the names because it refuses a user group that takes one (and
// the spec may not ask the plan, which sits above it).
/// coderd's own namespace (and its Helm release and overlay); user groups may
/// not reuse it.
pub const CODER_NAMESPACE: &str = "coder";
/// Where Coder's observability chart installs Prometheus (its README's
/// `--namespace coder-observability`); metrics NetworkPolicies admit it.
pub const SCRAPE_NAMESPACE: &str = "coder-observability";

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
        validate::validate(file, raw)
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
