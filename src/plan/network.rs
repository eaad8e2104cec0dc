//! The network the cluster lives in (`network:` in the spec): where every
//! image and chart comes from, the HTTP proxy and what stays off it, the
//! Terraform CLI configuration provisioners get, the private CA and who
//! trusts it, and what an air-gapped deployment turns off.
//!
//! Every image the tree pulls is listed here (`images`), from
//! `catalog/network.yaml`: the renderers write the mirror's references from
//! it, and `images.txt` lists it, so the two cannot drift; `.ci/check_images.py`
//! proves the real charts agree.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ClusterAutoscaler, Coderd, Controller, Ctx, Gitops, Observability, Provisioners, Reasons, SecretRef, VERIFY_NAMESPACE};
use crate::catalog::network::{self as catalog, ChartImage};
use crate::spec::{self, CA_KEY, CODER_NAMESPACE, ProviderMirror};

#[derive(Debug, Clone, Serialize)]
pub struct Network {
    /// No internet at all: telemetry, update checks, STUN, Grafana's
    /// downloads and Loki's reporting are off.
    pub air_gapped: bool,
    /// Every image the tree pulls, by component (`coder`, `postgres`,
    /// `judge`, `cluster-autoscaler`, and the coder-observability chart's).
    pub images: BTreeMap<String, Image>,
    /// The registry mirror every image comes from (`null`: the public
    /// registries).
    pub registry: Option<Registry>,
    /// Where each chart is installed from.
    pub charts: Charts,
    /// The HTTP(S) proxy coderd and provisioners use (`null`: none).
    pub proxy: Option<Proxy>,
    /// The Terraform CLI configuration mounted into every provisioner
    /// (`null`: Terraform's defaults, registry.terraform.io).
    pub terraform: Option<TerraformConfig>,
    /// The private CA (`null`: the images' public roots only).
    pub ca: Option<Ca>,
    /// What the coder-observability release turns off or leaves out.
    pub observability: ObservabilityNetwork,
    /// Variables set on coderd, after coder-gen's own and before `coder.env`.
    pub coderd_env: Vec<EnvVar>,
    /// Variables set on every provisioner.
    pub provisioner_env: Vec<EnvVar>,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct Image {
    /// What the tree's manifests and values make the cluster pull.
    pub reference: String,
    /// `reference` without its tag.
    pub repository: String,
    /// `null`: untagged (`latest`), as the chart has it.
    pub tag: Option<String>,
    /// The image as published, registry host written out (what the mirror
    /// step copies).
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Registry {
    pub mirror: String,
    /// The mirror's registry host (its first path segment, with any port):
    /// what `skopeo login` and a Docker config file name.
    pub host: String,
    /// `null`: the nodes pull without credentials.
    pub pull_secret: Option<String>,
    /// Every namespace a pod pulls in: each needs the pull secret.
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Charts {
    /// The chart mirror's URL (`null`: the public repositories).
    pub mirror: Option<String>,
    pub oci: bool,
    /// `--ca-file` of every helm command (`null`: the operator's system CAs).
    pub ca_file: Option<String>,
    /// Flux `certSecretRef` / Argo CD TLS certificate for the mirror's host.
    pub ca_secret: Option<String>,
    /// The mirror's host (Argo CD's TLS certificates are keyed by it).
    pub host: Option<String>,
    pub coder: ChartSource,
    pub provisioner: ChartSource,
    pub observability: Option<ChartSource>,
    pub cluster_autoscaler: Option<ChartSource>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartSource {
    pub chart: String,
    pub version: String,
    /// The public Helm repository the chart is published in.
    pub upstream: String,
    /// Where this tree installs it from (the mirror, or `upstream`).
    pub repository: String,
    /// `helm repo add <name> <repository>` first; `null` for an OCI mirror.
    pub repository_name: Option<String>,
    /// What `helm upgrade --install RELEASE <reference>` names.
    pub reference: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Proxy {
    pub url: String,
    /// The whole NO_PROXY, computed and the user's.
    pub no_proxy: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TerraformConfig {
    /// The ConfigMap (`extraTemplates`) holding the file.
    pub config_map: String,
    pub file: String,
    /// Where its volume is mounted; `TF_CLI_CONFIG_FILE` is `<mount_path>/<file>`.
    pub mount_path: String,
    /// The CLI configuration itself.
    pub config: String,
    /// The provider network mirror (https, ending in `/`), or
    pub mirror_url: Option<String>,
    /// the filesystem mirror's path in the provisioner pods.
    pub mirror_path: Option<String>,
    /// coderd mounts it too (it runs built-in provisioners).
    pub coderd: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ca {
    pub secret: SecretRef,
    /// Where coderd, provisioners and the verify Jobs see it (Go reads every
    /// file of /etc/ssl/certs).
    pub mount_path: String,
    /// Every namespace that needs the Secret.
    pub namespaces: Vec<String>,
    /// The CA ClusterIssuer the tree writes (`null`: none).
    pub issuer: Option<CaIssuer>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaIssuer {
    pub name: String,
    /// `kubernetes.io/tls` Secret with the CA's certificate and key.
    pub secret: String,
    /// cert-manager's cluster resource namespace, where a ClusterIssuer's
    /// Secret lives.
    pub namespace: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObservabilityNetwork {
    /// Grafana's init container fetches two dashboards from grafana.com.
    pub download_dashboards: bool,
    /// Grafana checks grafana.com for updates.
    pub grafana_update_checks: bool,
    /// Loki reports usage statistics to Grafana Labs.
    pub loki_usage_reporting: bool,
    /// Loki's `helm test` Pod is rendered (`helm test` pulls its image).
    pub helm_test: bool,
    /// The namespace's `default` ServiceAccount carries the pull secret, for
    /// the chart's pods that have no pull-secret key.
    pub default_service_account_pull_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar { name: name.into(), value: value.into() }
}

/// `ref` without its registry host (Docker's reading: a first component
/// with a dot, a port or `localhost` is the host).
fn path_of(source: &str) -> &str {
    match source.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => rest,
        _ => source,
    }
}

/// One image: from the mirror (host dropped, path and tag kept), or as
/// `written` (the source the way the tree writes it today).
fn image(mirror: Option<&str>, source_repo: &str, tag: Option<&str>, written: &str) -> Image {
    let with_tag = |repo: &str| match tag {
        Some(t) => format!("{repo}:{t}"),
        None => repo.to_string(),
    };
    let (reference, repository) = match mirror {
        Some(m) => {
            let repo = format!("{m}/{}", path_of(source_repo));
            (with_tag(&repo), repo)
        }
        None => (with_tag(written), written.to_string()),
    };
    Image { reference, repository, tag: tag.map(str::to_string), source: with_tag(source_repo) }
}

/// What the plan components before this one decided that the network reads.
pub(crate) struct Inputs<'a> {
    pub coderd: &'a Coderd,
    pub provisioners: &'a [Provisioners],
    pub observability: &'a Observability,
    pub cluster_autoscaler: Option<&'a ClusterAutoscaler>,
    pub gitops: Option<&'a Gitops>,
}

pub(crate) fn plan(ctx: &Ctx, i: &Inputs) -> Network {
    let spec = ctx.spec;
    let n = &spec.network;
    let mirror = n.registry.as_ref().map(|r| r.mirror.as_str());
    let stack = i.observability.stack.as_ref();
    let mut r = Reasons::new();
    r.insert(
        "air_gapped",
        if n.air_gapped {
            "network.air_gapped: nothing may reach the internet (the spec refused what would)".into()
        } else {
            "network.air_gapped is not set: the cluster may reach the internet".into()
        },
    );

    // Images: coder-gen's own, then the charts'.
    let mut images = BTreeMap::new();
    let coder = catalog::own("coder");
    let chart_version = &spec.coder.chart_version;
    let coder_tag = format!("v{chart_version}");
    images.insert("coder".to_string(), image(mirror, &coder.repository, Some(&coder_tag), &coder.repository));
    let pg = catalog::own("postgres");
    let pg_tag = format!("{}-alpine", spec.database.postgres_version);
    images.insert("postgres".to_string(), image(mirror, &pg.repository, Some(&pg_tag), "postgres"));
    if stack.is_some() {
        let judge = catalog::own("judge");
        images.insert("judge".to_string(), image(mirror, &judge.repository, judge.tag.as_deref(), "curlimages/curl"));
    }
    if let Some(ca) = i.cluster_autoscaler {
        images.insert("cluster-autoscaler".to_string(), autoscaler_image(ctx, ca));
    }
    // Grafana's dashboard download needs grafana.com; Loki's helm-test Pod
    // is one more image to mirror for a command the README never runs.
    let download_dashboards = !n.air_gapped;
    let helm_test = mirror.is_none();
    if let Some(s) = stack {
        // The spec refuses a mirror with a version whose images are unknown;
        // without one an unknown version lists no chart images.
        for ci in catalog::observability_images(&s.version).unwrap_or_default() {
            if (ci.id == "grafana-download-dashboards" && !download_dashboards) || (ci.id == "loki-helm-test" && !helm_test) {
                continue;
            }
            images.insert(ci.id.clone(), chart_image(mirror, ci));
        }
    }
    r.insert(
        "images",
        match mirror {
            Some(m) => format!(
                "every image from the mirror {m}: its path and tag as published, the registry host dropped (images.txt lists source and mirror); the three images coder-observability leaves untagged (latest) are pinned to the releases that were latest when its chart was cut"
            ),
            None => "the public registries, as the charts and coder-gen name them (images.txt lists them: an allow-list for an egress policy)".into(),
        },
    );

    let registry = n.registry.as_ref().map(|reg| {
        let mut namespaces = vec![CODER_NAMESPACE.to_string()];
        namespaces.extend(i.provisioners.iter().map(|g| g.namespace.clone()));
        namespaces.push(VERIFY_NAMESPACE.to_string());
        if let Some(s) = stack {
            namespaces.push(s.namespace.clone());
        }
        if let Some(a) = i.cluster_autoscaler {
            namespaces.push(a.namespace.clone());
        }
        let host = reg.mirror.split('/').next().unwrap_or(&reg.mirror).to_string();
        Registry { mirror: reg.mirror.clone(), host, pull_secret: reg.pull_secret.clone(), namespaces }
    });
    if let Some(reg) = &registry {
        r.insert(
            "registry",
            match &reg.pull_secret {
                Some(s) => format!(
                    "network.registry: every pod pulls with Secret {s}, which must exist in each namespace that pulls ({}); referenced, never written",
                    reg.namespaces.join(", ")
                ),
                None => "network.registry without pull_secret: the nodes pull from the mirror without credentials".into(),
            },
        );
    }

    let charts = charts(ctx, i, &mut r);

    let proxy = n.proxy.as_ref().map(|p| {
        let mut no_proxy = no_proxy_base(&p.cluster_cidrs);
        no_proxy.push(host_of(&spec.access_url));
        if let Some(w) = &spec.wildcard_access_url {
            // `*.apps.example.com` -> `.apps.example.com` (its subdomains).
            no_proxy.push(host_of(w).trim_start_matches('*').to_string());
        }
        if let Some(d) = &catalog::database_domain(ctx.cloud).domain {
            no_proxy.push(d.clone());
        }
        no_proxy.extend(p.no_proxy.iter().cloned());
        let mut seen = std::collections::BTreeSet::new();
        no_proxy.retain(|e| seen.insert(e.clone()));
        let db = catalog::database_domain(ctx.cloud);
        r.insert(
            "proxy",
            format!(
                "network.proxy for coderd and every provisioner (HTTP_PROXY, HTTPS_PROXY, NO_PROXY and their lower-case forms: Go reads either, curl and git only lower-case http_proxy); NO_PROXY keeps off the proxy: loopback, in-cluster service names (.svc, .cluster.local), the API server's service IP (kubelet expands $(KUBERNETES_SERVICE_HOST)), the cloud metadata address, the cluster's pod and service CIDRs (coderd replicas reach each other by pod IP), the access URL's host{} (coderd checks its own URL), {}, and network.proxy.no_proxy",
                if spec.wildcard_access_url.is_some() { " and the wildcard domain" } else { "" },
                match &db.domain {
                    Some(d) => format!("the database's domain {d} ({})", db.source),
                    None => format!("not the database, whose host is an IP known only after Terraform ({}); PostgreSQL connections never use an HTTP proxy", db.source),
                }
            ),
        );
        Proxy { url: p.url.clone(), no_proxy }
    });

    let terraform = n.terraform_providers.as_ref().map(|m| {
        let block = match m {
            ProviderMirror::Url(u) => format!("  network_mirror {{\n    url = \"{u}\"\n  }}\n"),
            ProviderMirror::Path(p) => format!("  filesystem_mirror {{\n    path = \"{p}\"\n  }}\n"),
        };
        let config = format!("provider_installation {{\n{block}}}\ndisable_checkpoint = true\n");
        r.insert(
            "terraform",
            format!(
                "network.terraform_providers: a CLI configuration (ConfigMap from the chart's extraTemplates, mounted as a directory so updates reach it; TF_CLI_CONFIG_FILE names it) with the mirror and no `direct` block, so Terraform never falls back to registry.terraform.io, and disable_checkpoint (no HashiCorp update check){}",
                if i.coderd.builtin_provisioners { "; coderd gets it too: its built-in provisioners run Terraform" } else { "" }
            ),
        );
        TerraformConfig {
            config_map: "terraform-cli-config".into(),
            file: "cli.tfrc".into(),
            mount_path: "/etc/coder-terraform".into(),
            config,
            mirror_url: match m {
                ProviderMirror::Url(u) => Some(u.clone()),
                ProviderMirror::Path(_) => None,
            },
            mirror_path: match m {
                ProviderMirror::Path(p) => Some(p.clone()),
                ProviderMirror::Url(_) => None,
            },
            coderd: i.coderd.builtin_provisioners,
        }
    });

    let ca = n.ca.as_ref().map(|c| {
        let mut namespaces = vec![CODER_NAMESPACE.to_string()];
        namespaces.extend(i.provisioners.iter().map(|g| g.namespace.clone()));
        namespaces.push(VERIFY_NAMESPACE.to_string());
        if let (Some(g), Some(_)) = (i.gitops, charts.ca_secret.as_ref())
            && g.controller == Controller::Flux
        {
            namespaces.push(g.namespace.clone());
        }
        let issuer = c.issuer_secret.as_ref().map(|s| CaIssuer {
            name: spec::ca_issuer_name(&spec.name),
            secret: s.clone(),
            namespace: "cert-manager".into(),
        });
        r.insert(
            "ca",
            format!(
                "network.ca: Secret {} (key {CA_KEY}) mounted at /etc/ssl/certs/{}.crt in coderd and provisioners (chart coder.certs.secrets) and in the verify Jobs that run Coder's CLI: Go reads every file there, so coderd, provisioners, Terraform and its providers trust it{}",
                c.secret,
                c.secret,
                match &issuer {
                    Some(iss) => format!(
                        "; ClusterIssuer {} (cert-manager CA issuer) signs the entry's certificate from Secret {} in cert-manager's cluster resource namespace ({}): no ACME server, no challenge",
                        iss.name, iss.secret, iss.namespace
                    ),
                    None => String::new(),
                }
            ),
        );
        Ca {
            secret: SecretRef { name: c.secret.clone(), key: CA_KEY.into() },
            mount_path: format!("/etc/ssl/certs/{}.crt", c.secret),
            namespaces,
            issuer,
        }
    });

    let observability = ObservabilityNetwork {
        download_dashboards,
        grafana_update_checks: !n.air_gapped,
        loki_usage_reporting: !n.air_gapped,
        helm_test,
        default_service_account_pull_secret: stack.and(n.registry.as_ref()).and_then(|r| r.pull_secret.clone()),
    };
    if stack.is_some() {
        r.insert(
            "observability",
            format!(
                "{}{}{}",
                if n.air_gapped {
                    "air-gapped: grafana.dashboards null (no init container fetching dashboards from grafana.com), Grafana's update checks and Loki's usage reporting off"
                } else {
                    "Grafana downloads two infrastructure dashboards from grafana.com at start and checks for updates; Loki reports usage (the charts' defaults)"
                },
                if helm_test { "" } else { "; loki.test null: no `helm test` Pod, one image less to mirror" },
                if observability.default_service_account_pull_secret.is_some() {
                    "; the namespace's default ServiceAccount carries the pull secret: postgres-exporter, runbook-viewer and sql-exporter have no pull-secret key and run as it"
                } else {
                    ""
                }
            ),
        );
    }

    let mut coderd_env = Vec::new();
    let mut provisioner_env = Vec::new();
    if let Some(p) = &proxy {
        for v in proxy_env(p) {
            coderd_env.push(v.clone());
            provisioner_env.push(v);
        }
    }
    if n.air_gapped {
        coderd_env.push(env("CODER_TELEMETRY_ENABLE", "false"));
        coderd_env.push(env("CODER_UPDATE_CHECK", "false"));
        coderd_env.push(env("CODER_DERP_SERVER_STUN_ADDRESSES", "disable"));
        r.insert(
            "coderd_env",
            "air-gapped (Coder's air-gap guide): telemetry and the daily update check (GitHub releases) off; STUN off (its default servers are Google's): clients then connect directly to a workspace only when they can reach it on the local network, otherwise through coderd's built-in DERP relay (slower, never broken)".into(),
        );
    }
    if let Some(t) = &terraform {
        let v = terraform_env(t);
        if t.coderd {
            coderd_env.push(v.clone());
        }
        provisioner_env.push(v);
    }

    Network {
        air_gapped: n.air_gapped,
        images,
        registry,
        charts,
        proxy,
        terraform,
        ca,
        observability,
        coderd_env,
        provisioner_env,
        reasons: r,
    }
}

/// The Cluster Autoscaler's image at `ca`'s tag (the primary's, or an EKS
/// site's: its own Kubernetes version), from the mirror if any.
pub(super) fn autoscaler_image(ctx: &Ctx, ca: &ClusterAutoscaler) -> Image {
    let mirror = ctx.spec.network.registry.as_ref().map(|r| r.mirror.as_str());
    let a = catalog::own("cluster-autoscaler");
    image(mirror, &a.repository, Some(&ca.image_tag), &a.repository)
}

/// Where the chart `chart` (catalog id `id`) at `version` is installed
/// from: the spec's chart mirror, or its public repository.
pub(super) fn chart_source(ctx: &Ctx, id: &str, chart: &str, version: &str) -> ChartSource {
    let up = catalog::chart_repo(id);
    match ctx.spec.network.charts.as_ref() {
        None => ChartSource {
            chart: chart.into(),
            version: version.into(),
            upstream: up.repository.clone(),
            repository: up.repository.clone(),
            repository_name: Some(up.name.clone()),
            reference: format!("{}/{chart}", up.name),
        },
        Some(c) if c.oci => ChartSource {
            chart: chart.into(),
            version: version.into(),
            upstream: up.repository.clone(),
            repository: c.url.clone(),
            repository_name: None,
            reference: format!("{}/{chart}", c.url),
        },
        Some(c) => ChartSource {
            chart: chart.into(),
            version: version.into(),
            upstream: up.repository.clone(),
            repository: c.url.clone(),
            repository_name: Some(MIRROR_REPO_NAME.into()),
            reference: format!("{MIRROR_REPO_NAME}/{chart}"),
        },
    }
}

/// NO_PROXY's fixed part: loopback, in-cluster service names, the API
/// server's service IP (kubelet expands the variable), the cloud metadata
/// address; then the cluster's CIDRs.
pub(super) fn no_proxy_base(cluster_cidrs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = ["localhost", "127.0.0.1", ".svc", ".cluster.local", "$(KUBERNETES_SERVICE_HOST)", "169.254.169.254"]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
    out.extend(cluster_cidrs.iter().cloned());
    out
}

/// The six proxy variables (Go reads either case; curl and git only
/// lower-case `http_proxy`).
pub(super) fn proxy_env(p: &Proxy) -> Vec<EnvVar> {
    let no_proxy = p.no_proxy.join(",");
    vec![
        env("HTTP_PROXY", &p.url),
        env("HTTPS_PROXY", &p.url),
        env("NO_PROXY", &no_proxy),
        env("http_proxy", &p.url),
        env("https_proxy", &p.url),
        env("no_proxy", &no_proxy),
    ]
}

/// `TF_CLI_CONFIG_FILE` naming the mounted CLI configuration.
pub(super) fn terraform_env(t: &TerraformConfig) -> EnvVar {
    env("TF_CLI_CONFIG_FILE", format!("{}/{}", t.mount_path, t.file))
}

fn chart_image(mirror: Option<&str>, ci: &ChartImage) -> Image {
    // Untagged in the chart: pinned when mirrored (a mirror copies one tag).
    let tag = ci.tag.as_deref().or(mirror.and(ci.pin.as_deref()));
    image(mirror, &ci.source, tag, &ci.source)
}

fn host_of(url: &str) -> String {
    let h = url.split_once("://").map_or(url, |(_, rest)| rest);
    h.split(['/', ':']).next().unwrap_or(h).to_string()
}

/// Where each chart is installed from: the spec's mirror, or its public
/// repository.
fn charts(ctx: &Ctx, i: &Inputs, r: &mut Reasons) -> Charts {
    let spec = ctx.spec;
    let m = spec.network.charts.as_ref();
    let source = |id: &str, chart: &str, version: &str| chart_source(ctx, id, chart, version);
    let v = &spec.coder.chart_version;
    let private = m.is_some_and(|c| c.private_ca);
    let ca_secret = spec.network.ca.as_ref().filter(|_| private).map(|c| c.secret.clone());
    r.insert(
        "charts",
        match m {
            None => "the charts' public Helm repositories".into(),
            Some(c) if c.oci => format!(
                "network.charts: every chart from the OCI registry {} (helm push keeps the chart's name: <url>/<chart>; Flux HelmRepository type oci, Argo CD repoURL without oci:// and a repository Secret with enableOCI){}",
                c.url,
                if private { "; its TLS certificate is signed by network.ca (helm --ca-file, Flux certSecretRef, Argo CD TLS certificate)" } else { "" }
            ),
            Some(c) => format!(
                "network.charts: every chart from the Helm repository {} (one index holding every chart){}",
                c.url,
                if private { "; its TLS certificate is signed by network.ca (helm --ca-file, Flux certSecretRef, Argo CD TLS certificate)" } else { "" }
            ),
        },
    );
    Charts {
        mirror: m.map(|c| c.url.clone()),
        oci: m.is_some_and(|c| c.oci),
        ca_file: ca_secret.as_ref().map(|_| CA_FILE.to_string()),
        host: m.map(|c| host_of(&c.url)),
        ca_secret,
        coder: source("coder", "coder", v),
        provisioner: source("coder", "coder-provisioner", v),
        observability: i.observability.stack.as_ref().map(|s| source("observability", &s.chart, &s.version)),
        cluster_autoscaler: i.cluster_autoscaler.map(|a| source("cluster-autoscaler", &a.chart, &a.chart_version)),
    }
}

/// The `helm repo add` name of an https chart mirror.
const MIRROR_REPO_NAME: &str = "charts-mirror";
/// Where the README's commands read the CA certificate from (outside the tree).
pub const CA_FILE: &str = "/path/outside/this/tree/ca.crt";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::spec_text;

    fn plan(users: u32, cloud: &str, extra: &str) -> crate::plan::Plan {
        crate::plan_from_str("spec.yaml", &(spec_text(users, cloud) + extra)).unwrap()
    }

    const MIRRORED: &str = "network:\n  registry:\n    mirror: reg.corp.example/m\n    pull_secret: pull\n";

    #[test]
    fn without_network_images_stay_as_the_tree_wrote_them() {
        let p = plan(3000, "aws", "");
        let n = &p.network;
        assert_eq!(n.images["coder"].reference, "ghcr.io/coder/coder:v2.33.6");
        assert_eq!(n.images["postgres"].reference, "postgres:16-alpine");
        assert_eq!(n.images["judge"].reference, "curlimages/curl:8.11.1");
        // The chart's untagged images stay untagged, and helm test's stays.
        assert_eq!(n.images["postgres-exporter"].tag, None);
        assert!(n.images.contains_key("loki-helm-test") && n.images.contains_key("grafana-download-dashboards"));
        assert_eq!(n.charts.coder.reference, "coder-v2/coder");
        assert_eq!(p.chart.repository, "https://helm.coder.com/v2");
        assert!(n.coderd_env.is_empty() && n.provisioner_env.is_empty() && n.terraform.is_none() && n.ca.is_none());
        assert_eq!(p.verify.image, n.images["coder"].reference);
        assert_eq!(p.credentials.setup_pod.image, n.images["postgres"].reference);
    }

    #[test]
    fn a_mirror_moves_every_image_with_an_explicit_tag_and_names_every_pulling_namespace() {
        let p = plan(3000, "aws", MIRRORED);
        let n = &p.network;
        for (id, i) in &n.images {
            assert!(i.reference.starts_with("reg.corp.example/m/"), "{id}: {}", i.reference);
            assert!(i.tag.as_deref().is_some_and(|t| t != "latest"), "{id}: no explicit tag");
        }
        assert!(!n.images.contains_key("loki-helm-test"), "helm test's Pod is left out with a mirror");
        let reg = n.registry.as_ref().unwrap();
        for ns in ["coder", "coder-provisioners", "coder-verify", "coder-observability", "kube-system"] {
            assert!(reg.namespaces.iter().any(|n| n == ns), "{ns} missing from {:?}", reg.namespaces);
        }
        assert_eq!(n.observability.default_service_account_pull_secret.as_deref(), Some("pull"));
        assert_eq!(p.verify.judge_image.as_deref(), Some("reg.corp.example/m/curlimages/curl:8.11.1"));
    }

    #[test]
    fn air_gapped_turns_off_what_calls_home_and_builtin_provisioners_get_terraform() {
        let extra = "coder:\n  license: community\nentry:\n  certificate:\n    secret: tls\nnetwork:\n  air_gapped: true\n  registry:\n    mirror: reg.corp.example/m\n  charts:\n    url: https://charts.corp.example/c\n  terraform_providers:\n    mirror_path: /plugins\n  proxy:\n    url: http://proxy.corp.example:3128\n    cluster_cidrs: [10.0.0.0/8]\n";
        let p = plan(400, "gcp", extra);
        let n = &p.network;
        let names: Vec<&str> = n.coderd_env.iter().map(|e| e.name.as_str()).collect();
        for want in [
            "HTTP_PROXY",
            "NO_PROXY",
            "no_proxy",
            "CODER_TELEMETRY_ENABLE",
            "CODER_UPDATE_CHECK",
            "CODER_DERP_SERVER_STUN_ADDRESSES",
            "TF_CLI_CONFIG_FILE",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        let t = n.terraform.as_ref().unwrap();
        assert!(t.coderd, "community: coderd runs Terraform");
        assert!(t.config.contains("filesystem_mirror") && t.config.contains("disable_checkpoint = true") && !t.config.contains("direct"));
        // GKE's Cloud SQL is an IP: no database domain in NO_PROXY.
        let np = &n.proxy.as_ref().unwrap().no_proxy;
        assert!(np.contains(&"10.0.0.0/8".to_string()) && np.contains(&"coder.acme.com".to_string()));
        assert!(!np.iter().any(|e| e.contains("rds") || e.contains("azure")));
        assert_eq!(n.charts.coder.reference, "charts-mirror/coder");
        assert_eq!(n.charts.coder.repository, "https://charts.corp.example/c");
    }

    #[test]
    fn mirror_rule_drops_the_host_and_keeps_path_and_tag() {
        let i = image(Some("reg.corp/m"), "docker.io/library/postgres", Some("16-alpine"), "postgres");
        assert_eq!(
            (i.reference.as_str(), i.source.as_str()),
            ("reg.corp/m/library/postgres:16-alpine", "docker.io/library/postgres:16-alpine")
        );
        let i = image(None, "docker.io/library/postgres", Some("16-alpine"), "postgres");
        assert_eq!(i.reference, "postgres:16-alpine");
        assert_eq!(path_of("ghcr.io/coder/coder"), "coder/coder");
        assert_eq!(path_of("kiwigrid/k8s-sidecar"), "kiwigrid/k8s-sidecar");
    }
}
