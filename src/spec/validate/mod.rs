//! Raw spec -> Spec: every value judged at once, each problem located at
//! the value that causes it (line and column) with what to write instead,
//! and every default filled in. Split by section: `entry.rs` (where TLS
//! terminates and where certificates come from), `overrides.rs` (the user's
//! own files), `syntax.rs` (what a name, URL, path or version looks like).

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::raw::{RawGitops, RawObservability, RawSecrets, RawSpec};
use super::{
    At, AutoBool, AutoCount, Backup, CODER_NAMESPACE, Coder, DEFAULT_CHART_VERSION, DEFAULT_GITOPS_BRANCH, DEFAULT_KUBERNETES_VERSION,
    DEFAULT_OBSERVABILITY_CHART_VERSION, DEFAULT_POSTGRES_VERSION, DEFAULT_PROVISIONER_NAMESPACE, DEFAULT_WORKSPACE_NAMESPACE, Database,
    EnvValue, Gitops, GitopsController, Kubernetes, License, MAX_GROUPS, MAX_NAME, MAX_TAGS, MAX_USERS, MachineTypes, Observability,
    PrometheusOperator, ProvisionerGroup, SCRAPE_NAMESPACE, Secrets, SecretsManager, Spec, TierChoice, WorkspaceGroup,
};
use crate::catalog::regions;
use crate::cloud::Cloud;
use crate::diag::{Located, SpecError, quote};

mod entry;
mod network;
mod overrides;
mod security;
mod sites;
mod syntax;

use sites::Primary;

use syntax::{
    dns1123_label_problem, dns1123_subdomain_problem, https_host_ok, is_k8s_minor, is_label_key, is_semver, is_tag_part,
    normalize_repo_path,
};

/// Judge every value of a spec whose shape parsed (see the module header).
pub(super) fn validate(file: &str, raw: RawSpec) -> Result<Spec, SpecError> {
    Validator { file, errors: Vec::new() }.validate(raw, String::new())
}

/// The PostgreSQL major versions every managed service here offers.
const SUPPORTED_POSTGRES: &[u32] = &[14, 15, 16, 17];

/// coderd environment variables that coder-gen or the chart sets, and what
/// controls each instead: `coder.env` may not set them.
const RESERVED_CODER_ENV: &[(&str, &str)] = &[
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
const MAX_CODER_ENV: usize = 64;

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
        let network_at = network::Positions::of(&raw);
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
            // Only a name that is otherwise valid: one message per problem.
            let name_ok = raw.name.value.chars().count() <= MAX_NAME && dns1123_label_problem(&raw.name.value).is_none();
            if raw.cloud == Cloud::Aws && name_ok {
                self.eks_node_group_prefix(&raw.name, &raw.name.value, &raw.region.value, "name");
            }
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

        let (raw_chart, raw_license, raw_org, raw_env, raw_provisioner_env) = match raw.coder {
            Some(c) => (c.chart_version, c.license, c.organization, c.env, c.provisioner_env),
            None => (None, None, None, BTreeMap::new(), BTreeMap::new()),
        };
        let community = raw_license.as_ref().is_some_and(|l| l.value == License::Community);
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
            env: self.coder_env(raw_env, network_at.air_gapped()),
            provisioner_env: self.provisioner_env("coder.provisioner_env", raw_provisioner_env, community, network_at.air_gapped()),
        };
        let mut entry = self.entry(raw.entry, raw.wildcard_access_url.is_some());

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
                let backup = d.backup.map_or_else(Backup::default, |b| Backup {
                    retention_days: b.retention_days.map(At::from_spanned),
                    pitr_days: b.pitr_days.map(At::from_spanned),
                    geo_redundant: b.geo_redundant.map(At::from_spanned),
                });
                Database {
                    postgres_version,
                    ha: d.ha,
                    read_replicas: d.read_replicas.map_or(AutoCount::Auto, |r| r.value),
                    read_replicas_at,
                    builds_per_day: d.builds_per_day,
                    backup,
                }
            }
            None => Database {
                postgres_version: DEFAULT_POSTGRES_VERSION,
                ha: AutoBool::Auto,
                read_replicas: AutoCount::Auto,
                read_replicas_at: None,
                builds_per_day: None,
                backup: Backup::default(),
            },
        };

        let mut seen: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        // Every group with the site it names (`None`: the primary), and the
        // workspace namespaces each provisioner group lists, with its site.
        let mut served: Vec<(Option<String>, Vec<Spanned<String>>)> = Vec::new();
        let mut site_refs: Vec<Spanned<String>> = Vec::new();
        let provisioners: Vec<(Option<String>, ProvisionerGroup)> = match raw.provisioners {
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
                        self.site_tag(&k, &v, p.site.as_ref());
                        tags.insert(k, v.value);
                    }
                    let site = p.site.as_ref().map(|s| s.value.clone());
                    site_refs.extend(p.site);
                    let workspaces = p.workspaces.as_ref().map(|w| w.iter().map(|n| n.value.clone()).collect());
                    if let Some(w) = p.workspaces {
                        if w.is_empty() {
                            self.err(
                                &p.namespace,
                                format!("provisioner group {} serves no workspace namespace (workspaces: [])", quote(&p.namespace.value)),
                                "list the workspace namespaces it may create workspaces in, or remove `workspaces` for all",
                            );
                        }
                        served.push((site.clone(), w));
                    }
                    let env = self.provisioner_env("provisioners[].env", p.env, community, network_at.air_gapped());
                    out.push((site, ProvisionerGroup { namespace: p.namespace.value, tags, workspaces, env }));
                }
                out
            }
            None => Vec::new(),
        };
        let workspaces: Vec<(Option<String>, WorkspaceGroup)> = match raw.workspaces {
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
                    let site = w.site.as_ref().map(|s| s.value.clone());
                    site_refs.extend(w.site);
                    out.push((site, WorkspaceGroup { namespace: w.namespace.value }));
                }
                out
            }
            None => Vec::new(),
        };
        // The primary keeps a group of each kind: the default one where the
        // spec lists none of its own.
        let mut provisioners = provisioners;
        if !provisioners.iter().any(|(s, _)| s.is_none()) {
            self.primary_default("provisioner", DEFAULT_PROVISIONER_NAMESPACE, &seen);
            let g = ProvisionerGroup {
                namespace: DEFAULT_PROVISIONER_NAMESPACE.into(),
                tags: BTreeMap::new(),
                workspaces: None,
                env: BTreeMap::new(),
            };
            provisioners.insert(0, (None, g));
        }
        let mut workspaces = workspaces;
        if !workspaces.iter().any(|(s, _)| s.is_none()) {
            self.primary_default("workspace", DEFAULT_WORKSPACE_NAMESPACE, &seen);
            workspaces.insert(0, (None, WorkspaceGroup { namespace: DEFAULT_WORKSPACE_NAMESPACE.into() }));
        }
        let primary = Primary {
            name: &raw.name.value,
            users,
            license: coder.license,
            access_url: &access_url,
            wildcard_access_url: wildcard_access_url.as_deref(),
            cloud: raw.cloud,
            region: &raw.region.value,
            kubernetes: &kubernetes,
        };
        let sites = self.sites(raw.sites, &primary, &seen, &site_refs);
        let (provisioners, site_provisioners): (Vec<_>, Vec<_>) = provisioners.into_iter().partition(|(s, _)| s.is_none());
        let (workspaces, site_workspaces): (Vec<_>, Vec<_>) = workspaces.into_iter().partition(|(s, _)| s.is_none());
        let provisioners: Vec<ProvisionerGroup> = provisioners.into_iter().map(|(_, g)| g).collect();
        let workspaces: Vec<WorkspaceGroup> = workspaces.into_iter().map(|(_, g)| g).collect();
        let sites = self.site_groups(sites, site_provisioners, site_workspaces, &mut seen);
        // Per location (the primary, each site): every namespace a
        // provisioner group names is a workspace namespace there, and every
        // workspace namespace there is served by some group.
        self.served(None, &provisioners, &workspaces, &served, !sites.is_empty());
        for site in &sites {
            self.served(Some(&site.name.value), &site.provisioners, &site.workspaces, &served, true);
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
        let security = self.security(raw.security, entry.mode);

        let gitops = raw.gitops.and_then(|g| self.gitops(g));
        let network = self.network(
            raw.network,
            &network_at,
            network::Context { name: &raw.name.value, entry: &mut entry, gitops: gitops.as_ref(), observability: &observability },
        );
        let mut sites = sites;
        self.sites_in_network(&mut sites, &network, network_at.air_gapped_at(), &primary);
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
            sites,
            observability,
            machine_types,
            secrets,
            gitops,
            network,
            helm_overrides,
            terraform_overrides,
            kustomize_overrides,
            security,
            digest,
        })
    }

    fn observability(&mut self, raw: Option<RawObservability>) -> Observability {
        let default = |enabled| Observability {
            enabled,
            chart_version: DEFAULT_OBSERVABILITY_CHART_VERSION.to_string(),
            prometheus_operator: None,
            grafana_oidc: None,
            alerts: None,
            logs_retention_days: None,
        };
        let m = match raw {
            None => return default(AutoBool::Auto),
            Some(RawObservability::Short(b)) => return default(b),
            Some(RawObservability::Full(m)) => *m,
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
        let (grafana_oidc, alerts, logs_retention_days) =
            self.observability_security(m.enabled, m.grafana, m.alerts, m.logs_retention_days);
        Observability { enabled: m.enabled, chart_version, prometheus_operator, grafana_oidc, alerts, logs_retention_days }
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

    fn coder_env(&mut self, raw: BTreeMap<String, Spanned<EnvValue>>, air_gapped: bool) -> BTreeMap<String, EnvValue> {
        let reserved =
            |name: &str| RESERVED_CODER_ENV.iter().chain(security::RESERVED_BY_SECURITY).find(|(n, _)| *n == name).map(|(_, by)| *by);
        self.env_vars("coder.env", raw, reserved, "coderd's namespace", air_gapped)
    }

    /// Environment variables written under `what` (`coder.env`, ...): names,
    /// values and Secret references checked, `reserved` names refused with
    /// the key that sets them, and the names `network:` owns (some only when
    /// air-gapped); a Secret is read in `namespace`.
    fn env_vars(
        &mut self,
        what: &str,
        raw: BTreeMap<String, Spanned<EnvValue>>,
        reserved: impl Fn(&str) -> Option<&'static str>,
        namespace: &str,
        air_gapped: bool,
    ) -> BTreeMap<String, EnvValue> {
        let mut out = BTreeMap::new();
        for (i, (name, v)) in raw.into_iter().enumerate() {
            if i == MAX_CODER_ENV {
                self.err(&v, format!("{what} sets more than {MAX_CODER_ENV} variables"), "put bulk configuration in a Secret or ConfigMap");
            }
            let valid_name = !name.is_empty()
                && name.len() <= 256
                && !name.as_bytes()[0].is_ascii_digit()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid_name {
                self.err(
                    &v,
                    format!("{what} name {} is not an environment variable name", quote(&name)),
                    "use letters, digits and '_', not starting with a digit, e.g. CODER_OIDC_ISSUER_URL",
                );
            }
            if let Some(by) = reserved(&name) {
                self.err(&v, format!("{what} cannot set {name}"), &format!("it is set by {by}; remove it from {what}"));
            }
            self.network_env(what, &name, &v, air_gapped);
            match &v.value {
                EnvValue::Value(s) if s.len() > 4096 || s.contains('\0') => {
                    self.err(
                        &v,
                        format!("{what} {name} is not a usable value"),
                        "use at most 4096 characters; put large values in a Secret",
                    );
                }
                EnvValue::SecretRef { secret, key } => {
                    if let Some(problem) = dns1123_subdomain_problem(secret) {
                        self.err(
                            &v,
                            format!("{what} {name}: secret {} is not a Secret name: {problem}", quote(secret)),
                            &format!("name a Secret in {namespace}: lower-case letters, digits, '-' and '.'"),
                        );
                    }
                    if key.is_empty()
                        || key.len() > 253
                        || !key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                    {
                        self.err(
                            &v,
                            format!("{what} {name}: key {} is not a Secret key", quote(key)),
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

    /// EKS node group names have at most 63 characters, and Terraform adds a
    /// 26-character unique suffix to `node_group_name_prefix`, so a prefix may
    /// have 37 (terraform-provider-aws, internal/service/eks/node_group.go:
    /// `StringLenBetween(0, 63-id.UniqueIDSuffixLength)`). The longest prefix
    /// the tree writes is a workspace group's, `<pools>-workspace-<zone>-`,
    /// whose zone is the region and one letter (us-west-2a). `terraform
    /// validate` cannot see it (the zone comes from a variable): `plan` would
    /// fail, so the spec does.
    fn eks_node_group_prefix(&mut self, at: &Spanned<String>, pools: &str, region: &str, what: &str) {
        const MAX_PREFIX: usize = 63 - 26;
        let longest = [format!("{pools}-workspace-{region}a-"), format!("{pools}-provisioner-")]
            .into_iter()
            .max_by_key(String::len)
            .unwrap_or_default();
        if longest.len() > MAX_PREFIX {
            let over = longest.len() - MAX_PREFIX;
            self.err(
                at,
                format!(
                    "on AWS this makes the node group name prefix `{longest}`, {} characters; EKS allows 37 (63 minus the 26 Terraform appends)",
                    longest.len()
                ),
                &format!("shorten {what} by at least {over} character(s)"),
            );
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
