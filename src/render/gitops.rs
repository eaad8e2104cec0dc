//! GitOps controller objects (Flux or Argo CD) that deploy the tree from its
//! Git repository: the Kustomize overlays first, then coderd, then the
//! provisioners, with the pinned chart version and the tree's own values
//! files. Typed as local serde structs with only the fields written here;
//! `.ci/check-gitops.sh` checks them against the controllers' CRD schemas
//! (required fields, types and unknown fields).
//!
//! Every object in the controller's namespace is named `<name>-<what>`, so two
//! deployments can share one controller.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::k8s;
use super::paths;
use super::yaml;
use crate::plan::{Controller, Gitops, NamespacedSecret, Plan, Site, SiteGitops};
use crate::tree::Tree;

/// In-cluster API server, Argo CD's name for "this cluster".
const IN_CLUSTER: &str = "https://kubernetes.default.svc";
/// helm-controller (Flux 2.4+) re-reconciles a release when a ConfigMap with
/// this label changes, so a values change in Git reaches the release.
const FLUX_WATCH_LABEL: (&str, &str) = ("reconcile.fluxcd.io/watch", "Enabled");
const ARGO_SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";
/// The key under which a values file is stored in its ConfigMap.
const VALUES_KEY: &str = "values.yaml";
/// The GitOps name of a chart mirror (`<name>-charts-mirror`).
const CHART_MIRROR: &str = "charts-mirror";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: S,
}

#[derive(Serialize)]
struct NameRef {
    name: String,
}

#[derive(Serialize)]
struct KindRef {
    kind: &'static str,
    name: String,
}

// --- Flux -----------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GitRepositorySpec {
    interval: String,
    url: String,
    #[serde(rename = "ref")]
    reference: GitRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_ref: Option<NameRef>,
}

#[derive(Serialize)]
struct GitRef {
    branch: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HelmRepositorySpec {
    /// `oci` for a chart mirror in an OCI registry (then `url` is
    /// `oci://...` and the chart's name comes from the HelmRelease).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    type_: Option<&'static str>,
    interval: String,
    url: String,
    /// A Secret with `ca.crt`: the mirror's private CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    cert_secret_ref: Option<NameRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FluxKustomizationSpec {
    interval: String,
    path: String,
    prune: bool,
    source_ref: KindRef,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<NameRef>,
    /// Objects that must exist and be ready before this Kustomization is
    /// (and so before whatever `dependsOn` it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    health_checks: Vec<HealthCheck>,
    /// How soon a failed (e.g. not yet healthy) reconciliation is retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_interval: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HealthCheck {
    api_version: &'static str,
    kind: &'static str,
    name: String,
    namespace: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HelmReleaseSpec {
    interval: String,
    release_name: String,
    target_namespace: String,
    /// Helm keeps its release records in the release's namespace, as
    /// `helm upgrade --namespace` does, so the README's commands and Flux see
    /// the same release.
    storage_namespace: String,
    chart: HelmChartTemplate,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<NameRef>,
    install: Install,
    values_from: Vec<ValuesReference>,
}

#[derive(Serialize)]
struct Install {
    remediation: Remediation,
}

/// Negative: retry the first install until it succeeds (the operator
/// creates the secrets the pods need after Flux has created the namespaces).
#[derive(Serialize)]
struct Remediation {
    retries: i32,
}

#[derive(Serialize)]
struct HelmChartTemplate {
    spec: HelmChartTemplateSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HelmChartTemplateSpec {
    chart: String,
    version: String,
    source_ref: KindRef,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ValuesReference {
    kind: &'static str,
    name: String,
    values_key: &'static str,
}

/// A `kustomization.yaml` (kustomize's own file, not Flux's Kustomization).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KustomizeFile {
    api_version: &'static str,
    kind: &'static str,
    resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    config_map_generator: Vec<ConfigMapGenerator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generator_options: Option<GeneratorOptions>,
}

impl KustomizeFile {
    fn new(resources: Vec<String>) -> KustomizeFile {
        KustomizeFile {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            resources,
            config_map_generator: Vec::new(),
            generator_options: None,
        }
    }
}

#[derive(Serialize)]
struct ConfigMapGenerator {
    name: String,
    namespace: String,
    files: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeneratorOptions {
    /// HelmRelease `valuesFrom` names the ConfigMap literally; kustomize would
    /// not rewrite that reference to a hashed name.
    disable_name_suffix_hash: bool,
    labels: BTreeMap<String, String>,
}

// --- Argo CD --------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationSpec {
    project: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<ApplicationSource>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sources: Vec<ApplicationSource>,
    destination: Destination,
    sync_policy: SyncPolicy,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct ApplicationSource {
    #[serde(rename = "repoURL")]
    repo_url: String,
    target_revision: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chart: Option<String>,
    /// Names this source so another source's `valueFiles` can read from it
    /// as `$<ref>/...`.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    helm: Option<ApplicationHelm>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationHelm {
    release_name: String,
    value_files: Vec<String>,
}

/// Where an Application deploys: this cluster (`server`), or a cluster
/// registered in Argo CD by `name` (a site's).
#[derive(Serialize)]
struct Destination {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
}

impl Destination {
    fn to(cluster: Option<&str>, namespace: Option<String>) -> Destination {
        match cluster {
            Some(c) => Destination { name: Some(c.to_string()), server: None, namespace },
            None => Destination { name: None, server: Some(IN_CLUSTER), namespace },
        }
    }
}

#[derive(Serialize)]
struct SyncPolicy {
    automated: Automated,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Automated {
    prune: bool,
    self_heal: bool,
}

// --------------------------------------------------------------------------

/// `rel` inside the tree as a path from the repository's root.
fn in_repo(g: &Gitops, rel: &str) -> String {
    if g.path.is_empty() { rel.to_string() } else { format!("{}/{rel}", g.path) }
}

/// One release the controller installs, in order.
struct Release {
    /// `<name>-coder`, `<name>-provisioner-<namespace>`.
    object_name: String,
    release: String,
    chart: String,
    namespace: String,
    values: String,
}

/// One cluster's wiring: the primary's, or a site's.
struct Wiring {
    /// The controller objects' folder in the tree.
    dir: String,
    /// Object names start with it: `<name>` or `<name>-<site>`.
    prefix: String,
    /// The Kustomize folder the controller applies first.
    kustomize: String,
    releases: Vec<Release>,
    /// Releases after the first wait for it (the primary's provisioners
    /// connect to coderd); a site's releases only need the primary.
    chain: bool,
    /// Argo CD: the registered cluster's name (`None`: in-cluster).
    cluster: Option<String>,
    /// Flux: Secrets the Kustomize tree's Kustomization waits for (coderd's;
    /// a site's releases retry their install until theirs exist).
    health_checks: Vec<NamespacedSecret>,
}

fn releases(plan: &Plan) -> Vec<Release> {
    let c = &plan.coderd;
    let mut out = vec![Release {
        object_name: format!("{}-coder", plan.name),
        release: c.release.clone(),
        chart: plan.chart.coder_chart.clone(),
        namespace: c.namespace.clone(),
        values: paths::CODER_VALUES.into(),
    }];
    for g in &plan.provisioners {
        out.push(Release {
            object_name: format!("{}-provisioner-{}", plan.name, g.namespace),
            release: g.release.clone(),
            chart: plan.chart.provisioner_chart.clone(),
            namespace: g.namespace.clone(),
            values: paths::provisioner_values(&g.namespace),
        });
    }
    out
}

fn primary(plan: &Plan) -> Wiring {
    Wiring {
        dir: paths::GITOPS_FLUX.into(),
        prefix: plan.name.clone(),
        kustomize: paths::KUSTOMIZE_ROOT.into(),
        releases: releases(plan),
        chain: true,
        cluster: None,
        health_checks: plan.gitops.as_ref().map(|g| g.coderd_secrets.clone()).unwrap_or_default(),
    }
}

/// A site's wiring: its proxy, then its provisioner groups, into its own
/// cluster, from the site's folder of the same repository.
fn site_wiring(plan: &Plan, site: &Site, g: &SiteGitops, controller_dir: &str) -> Wiring {
    let root = paths::site_dir(&site.name);
    let prefix = format!("{}-{}", plan.name, site.name);
    let mut releases = Vec::new();
    if let Some(x) = &site.proxy {
        releases.push(Release {
            object_name: format!("{prefix}-proxy"),
            release: x.release.clone(),
            chart: plan.chart.coder_chart.clone(),
            namespace: x.namespace.clone(),
            values: format!("{root}/{}", paths::CODER_VALUES),
        });
    }
    for p in &site.provisioners {
        releases.push(Release {
            object_name: format!("{prefix}-provisioner-{}", p.namespace),
            release: p.release.clone(),
            chart: plan.chart.provisioner_chart.clone(),
            namespace: p.namespace.clone(),
            values: format!("{root}/{}", paths::provisioner_values(&p.namespace)),
        });
    }
    Wiring {
        dir: format!("{root}/{controller_dir}"),
        prefix,
        kustomize: format!("{root}/{}", paths::KUSTOMIZE_ROOT),
        releases,
        chain: false,
        cluster: Some(g.cluster.clone()),
        health_checks: Vec::new(),
    }
}

pub fn render(plan: &Plan, tree: &mut Tree) {
    let Some(g) = &plan.gitops else { return };
    match g.controller {
        Controller::Flux => {
            flux(plan, g, &primary(plan), tree);
            // A path per cluster: each site's own Flux applies its folder.
            for site in &plan.sites {
                if let Some(sg) = &site.gitops {
                    flux(plan, g, &site_wiring(plan, site, sg, paths::GITOPS_FLUX), tree);
                }
            }
        }
        Controller::Argocd => argocd(plan, g, tree),
    }
}

fn meta(name: &str, g: &Gitops) -> ObjectMeta {
    k8s::meta(name, Some(&g.namespace))
}

fn put<T: Serialize>(plan: &Plan, tree: &mut Tree, path: String, value: &T) {
    tree.insert(path, yaml::document(&plan.spec_file, value));
}

fn flux(plan: &Plan, g: &Gitops, w: &Wiring, tree: &mut Tree) {
    let dir = w.dir.as_str();
    let git = KindRef { kind: "GitRepository", name: w.prefix.clone() };
    let source = |name: &str| KindRef { kind: "GitRepository", name: name.to_string() };
    let kustomize_ks = format!("{}-kustomize", w.prefix);
    let releases_ks = format!("{}-releases", w.prefix);
    let charts = &plan.network.charts;
    let helm_repo = format!("{}-{}", w.prefix, charts.coder.repository_name.as_deref().unwrap_or(CHART_MIRROR));

    put(
        plan,
        tree,
        format!("{dir}/gitrepository.yaml"),
        &Object {
            api_version: "source.toolkit.fluxcd.io/v1",
            kind: "GitRepository",
            metadata: meta(&git.name, g),
            spec: GitRepositorySpec {
                interval: g.interval.clone(),
                url: g.repo_url.clone(),
                reference: GitRef { branch: g.branch.clone() },
                secret_ref: g.secret_name.as_ref().map(|n| NameRef { name: n.clone() }),
            },
        },
    );
    put(
        plan,
        tree,
        format!("{dir}/helmrepository.yaml"),
        &Object {
            api_version: "source.toolkit.fluxcd.io/v1",
            kind: "HelmRepository",
            metadata: meta(&helm_repo, g),
            spec: HelmRepositorySpec {
                type_: charts.oci.then_some("oci"),
                interval: g.chart_interval.clone(),
                url: charts.coder.repository.clone(),
                cert_secret_ref: charts.ca_secret.as_ref().map(|n| NameRef { name: n.clone() }),
            },
        },
    );
    let ks = |name: &str, path: String, depends_on: Vec<NameRef>| Object {
        api_version: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        metadata: meta(name, g),
        spec: FluxKustomizationSpec {
            interval: g.interval.clone(),
            path: format!("./{}", in_repo(g, &path)),
            prune: true,
            source_ref: source(&git.name),
            depends_on,
            health_checks: Vec::new(),
            retry_interval: None,
        },
    };
    // This folder applies itself, like `flux bootstrap`'s flux-system.
    put(plan, tree, format!("{dir}/kustomization-gitops.yaml"), &ks(&format!("{}-gitops", w.prefix), dir.into(), Vec::new()));
    // The Kustomize tree is ready only once the secrets the first release's
    // pods read exist, so the releases (which depend on it) never start
    // without them.
    let mut kustomize = ks(&kustomize_ks, w.kustomize.clone(), Vec::new());
    kustomize.spec.health_checks = w
        .health_checks
        .iter()
        .map(|s| HealthCheck { api_version: "v1", kind: "Secret", name: s.name.clone(), namespace: s.namespace.clone() })
        .collect();
    if !kustomize.spec.health_checks.is_empty() {
        kustomize.spec.retry_interval = Some("1m");
    }
    put(plan, tree, format!("{dir}/kustomization-kustomize.yaml"), &kustomize);
    put(
        plan,
        tree,
        format!("{dir}/kustomization-releases.yaml"),
        &ks(&releases_ks, format!("{dir}/releases"), vec![NameRef { name: kustomize_ks.clone() }]),
    );
    let files = [
        "gitrepository.yaml",
        "helmrepository.yaml",
        "kustomization-gitops.yaml",
        "kustomization-kustomize.yaml",
        "kustomization-releases.yaml",
    ];
    put(plan, tree, format!("{dir}/kustomization.yaml"), &KustomizeFile::new(files.iter().map(|f| (*f).to_string()).collect()));

    // releases/: one HelmRelease per release, values from ConfigMaps that
    // kustomize generates from the tree's values files (Flux builds with
    // load restrictions off, inside the Git source).
    let rel_dir = format!("{dir}/releases");
    let to_root = "../".repeat(rel_dir.split('/').count());
    let all = &w.releases;
    let mut kf = KustomizeFile::new(Vec::new());
    for (i, r) in all.iter().enumerate() {
        let values_cm = format!("{}-values", r.object_name);
        let depends_on = if i == 0 || !w.chain { Vec::new() } else { vec![NameRef { name: all[0].object_name.clone() }] };
        let file = format!("helmrelease-{}.yaml", r.object_name.strip_prefix(&format!("{}-", w.prefix)).unwrap_or(&r.object_name));
        put(
            plan,
            tree,
            format!("{rel_dir}/{file}"),
            &Object {
                api_version: "helm.toolkit.fluxcd.io/v2",
                kind: "HelmRelease",
                metadata: meta(&r.object_name, g),
                spec: HelmReleaseSpec {
                    interval: g.interval.clone(),
                    release_name: r.release.clone(),
                    target_namespace: r.namespace.clone(),
                    storage_namespace: r.namespace.clone(),
                    chart: HelmChartTemplate {
                        spec: HelmChartTemplateSpec {
                            chart: r.chart.clone(),
                            version: plan.chart.version.clone(),
                            source_ref: KindRef { kind: "HelmRepository", name: helm_repo.clone() },
                        },
                    },
                    depends_on,
                    install: Install { remediation: Remediation { retries: -1 } },
                    values_from: vec![ValuesReference { kind: "ConfigMap", name: values_cm.clone(), values_key: VALUES_KEY }],
                },
            },
        );
        kf.resources.push(file);
        kf.config_map_generator.push(ConfigMapGenerator {
            name: values_cm,
            namespace: g.namespace.clone(),
            files: vec![format!("{VALUES_KEY}={to_root}{}", r.values)],
        });
    }
    let mut labels = k8s::common_labels();
    labels.insert(FLUX_WATCH_LABEL.0.into(), FLUX_WATCH_LABEL.1.into());
    kf.generator_options = Some(GeneratorOptions { disable_name_suffix_hash: true, labels });
    put(plan, tree, format!("{rel_dir}/kustomization.yaml"), &kf);
}

fn argocd(plan: &Plan, g: &Gitops, tree: &mut Tree) {
    let dir = paths::GITOPS_ARGOCD;
    let apps_dir = format!("{dir}/apps");
    let automated = || SyncPolicy { automated: Automated { prune: true, self_heal: true } };
    let git_source = |path: Option<String>| ApplicationSource {
        repo_url: g.repo_url.clone(),
        target_revision: g.branch.clone(),
        path,
        ..ApplicationSource::default()
    };
    let app =
        |metadata: ObjectMeta, spec: ApplicationSpec| Object { api_version: "argoproj.io/v1alpha1", kind: "Application", metadata, spec };

    // The one object applied by hand: it syncs apps/, whose Applications run
    // in sync-wave order.
    put(
        plan,
        tree,
        format!("{dir}/application.yaml"),
        &app(
            meta(&plan.name, g),
            ApplicationSpec {
                project: "default",
                source: Some(git_source(Some(in_repo(g, &apps_dir)))),
                sources: Vec::new(),
                destination: Destination::to(None, Some(g.namespace.clone())),
                sync_policy: automated(),
            },
        ),
    );
    let mut w = primary(plan);
    w.dir = dir.into();
    let mut files = argocd_apps(plan, g, &w, &apps_dir, tree);
    // An Application per site cluster: each syncs the site's own apps/
    // (whose Applications target the site's cluster by name), after the
    // primary's releases.
    for site in &plan.sites {
        let Some(sg) = &site.gitops else { continue };
        let sw = site_wiring(plan, site, sg, paths::GITOPS_ARGOCD);
        let site_apps = format!("{}/apps", sw.dir);
        argocd_apps(plan, g, &sw, &site_apps, tree);
        let file = format!("application-site-{}.yaml", site.name);
        put(
            plan,
            tree,
            format!("{apps_dir}/{file}"),
            &app(
                wave(&sw.prefix, 3, g),
                ApplicationSpec {
                    project: "default",
                    source: Some(git_source(Some(in_repo(g, &site_apps)))),
                    sources: Vec::new(),
                    destination: Destination::to(None, Some(g.namespace.clone())),
                    sync_policy: automated(),
                },
            ),
        );
        files.push(file);
    }
    put(plan, tree, format!("{apps_dir}/kustomization.yaml"), &KustomizeFile::new(files));
}

fn wave(name: &str, wave: u32, g: &Gitops) -> ObjectMeta {
    let mut m = meta(name, g);
    m.annotations = Some(BTreeMap::from([(ARGO_SYNC_WAVE.to_string(), wave.to_string())]));
    m
}

/// The Applications of one cluster in `apps_dir`, in sync waves: the
/// Kustomize folder (0), the first release (1), the others (2). Returns
/// their files.
fn argocd_apps(plan: &Plan, g: &Gitops, w: &Wiring, apps_dir: &str, tree: &mut Tree) -> Vec<String> {
    let automated = || SyncPolicy { automated: Automated { prune: true, self_heal: true } };
    let git_source = |path: Option<String>, reference: Option<String>| ApplicationSource {
        repo_url: g.repo_url.clone(),
        target_revision: g.branch.clone(),
        path,
        reference,
        ..ApplicationSource::default()
    };
    let app =
        |metadata: ObjectMeta, spec: ApplicationSpec| Object { api_version: "argoproj.io/v1alpha1", kind: "Application", metadata, spec };
    let cluster = w.cluster.as_deref();
    let mut files = vec!["application-kustomize.yaml".to_string()];
    // Argo CD names an OCI Helm source without `oci://` and finds it OCI
    // through a repository Secret (configuration only, no credential).
    let charts = &plan.network.charts;
    let chart_repo = charts.coder.repository.strip_prefix("oci://").unwrap_or(&charts.coder.repository).to_string();
    // One repository Secret per Argo CD (the primary's apps/): the sites'
    // Applications are synced by the same Argo CD.
    if charts.oci && w.cluster.is_none() {
        let mut m = wave(&format!("{}-{CHART_MIRROR}", plan.name), 0, g);
        m.labels.get_or_insert_with(BTreeMap::new).insert("argocd.argoproj.io/secret-type".into(), "repository".into());
        let secret = Secret {
            metadata: m,
            string_data: Some(BTreeMap::from([
                ("enableOCI".to_string(), "true".to_string()),
                ("name".to_string(), format!("{}-{CHART_MIRROR}", plan.name)),
                ("type".to_string(), "helm".to_string()),
                ("url".to_string(), chart_repo.clone()),
            ])),
            ..Secret::default()
        };
        let file = "repository-charts-mirror.yaml";
        put(plan, tree, format!("{apps_dir}/{file}"), &secret);
        files.push(file.to_string());
    }
    put(
        plan,
        tree,
        format!("{apps_dir}/application-kustomize.yaml"),
        &app(
            wave(&format!("{}-kustomize", w.prefix), 0, g),
            ApplicationSpec {
                project: "default",
                source: Some(git_source(Some(in_repo(g, &w.kustomize)), None)),
                sources: Vec::new(),
                destination: Destination::to(cluster, None),
                sync_policy: automated(),
            },
        ),
    );
    for (i, r) in w.releases.iter().enumerate() {
        let file = format!("application-{}.yaml", r.object_name.strip_prefix(&format!("{}-", w.prefix)).unwrap_or(&r.object_name));
        let chart = ApplicationSource {
            repo_url: chart_repo.clone(),
            target_revision: plan.chart.version.clone(),
            chart: Some(r.chart.clone()),
            helm: Some(ApplicationHelm {
                release_name: r.release.clone(),
                value_files: vec![format!("$values/{}", in_repo(g, &r.values))],
            }),
            ..ApplicationSource::default()
        };
        put(
            plan,
            tree,
            format!("{apps_dir}/{file}"),
            &app(
                wave(&r.object_name, if i == 0 { 1 } else { 2 }, g),
                ApplicationSpec {
                    project: "default",
                    source: None,
                    sources: vec![chart, git_source(None, Some("values".into()))],
                    destination: Destination::to(cluster, Some(r.namespace.clone())),
                    sync_policy: automated(),
                },
            ),
        );
        files.push(file);
    }
    if w.cluster.is_some() {
        put(plan, tree, format!("{apps_dir}/kustomization.yaml"), &KustomizeFile::new(files.clone()));
    }
    files
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::test_support::spec_text;
    use crate::tree::Tree;

    fn spec() -> String {
        spec_text(1000, "gcp") + "provisioners:\n  - namespace: prov-a\n  - namespace: prov-b\n"
    }

    fn render(gitops: &str) -> Tree {
        crate::render_str("spec.yaml", &format!("{}{gitops}", spec())).unwrap()
    }

    fn object(tree: &Tree, path: &str) -> Value {
        serde_saphyr::from_str(tree.get_str(path).unwrap_or_else(|| panic!("no {path}"))).unwrap()
    }

    fn strip<'a>(path: &'a str, prefix: &str) -> &'a str {
        path.strip_prefix(prefix).unwrap_or_else(|| panic!("{path} is not under {prefix}"))
    }

    #[test]
    fn no_controller_no_objects() {
        for gitops in ["", "gitops:\n  controller: none\n"] {
            assert!(render(gitops).paths().all(|p| !p.starts_with("gitops/")), "{gitops}");
        }
    }

    /// coderd's release starts only once the secrets its pods read exist:
    /// the Kustomize tree's Kustomization health-checks them and the
    /// releases depend on it (#22: the OIDC secret came after coderd).
    #[test]
    fn flux_holds_coderd_back_until_its_secrets_exist() {
        let tree = crate::render_str(
            "spec.yaml",
            &format!(
                "{}coder:\n  env:\n    CODER_OIDC_CLIENT_SECRET: {{ secret: coder-oidc, key: client-secret }}\ngitops:\n  controller: flux\n  repo_url: https://g.example/r.git\n",
                spec()
            ),
        )
        .unwrap();
        let ks = object(&tree, "gitops/flux/kustomization-kustomize.yaml");
        let checks: Vec<(&str, &str, &str)> = ks["spec"]["healthChecks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["kind"].as_str().unwrap(), c["namespace"].as_str().unwrap(), c["name"].as_str().unwrap()))
            .collect();
        assert_eq!(checks, [("Secret", "coder", "coder-db-url"), ("Secret", "coder", "coder-oidc")]);
        assert_eq!(object(&tree, "gitops/flux/kustomization-releases.yaml")["spec"]["dependsOn"][0]["name"], "acme-kustomize");
    }

    #[test]
    fn flux_points_at_paths_in_the_tree_in_order() {
        let tree = render("gitops:\n  controller: flux\n  repo_url: https://g.example/r.git\n  path: deploy/coder\n");
        let ks = |f: &str| object(&tree, &format!("gitops/flux/{f}"));
        for f in ["kustomization-gitops.yaml", "kustomization-kustomize.yaml", "kustomization-releases.yaml"] {
            let dir = strip(ks(f)["spec"]["path"].as_str().unwrap(), "./deploy/coder/").to_string();
            assert!(tree.get(&format!("{dir}/kustomization.yaml")).is_some(), "{f}: {dir}");
        }
        assert_eq!(ks("kustomization-releases.yaml")["spec"]["dependsOn"][0]["name"], "acme-kustomize");
        let listed = ks("kustomization.yaml")["resources"].as_array().unwrap().len();
        assert_eq!(tree.paths().filter(|p| p.starts_with("gitops/flux/") && p.matches('/').count() == 2).count(), listed + 1);

        let rel = object(&tree, "gitops/flux/releases/kustomization.yaml");
        for g in rel["configMapGenerator"].as_array().unwrap() {
            let file = g["files"][0].as_str().unwrap();
            let target = strip(file, "values.yaml=../../../");
            assert!(tree.get(target).is_some(), "{file}");
        }
        let coder = object(&tree, "gitops/flux/releases/helmrelease-coder.yaml");
        assert!(coder["spec"].get("dependsOn").is_none());
        assert_eq!(coder["spec"]["chart"]["spec"]["version"], "2.33.6");
        for ns in ["prov-a", "prov-b"] {
            let p = object(&tree, &format!("gitops/flux/releases/helmrelease-provisioner-{ns}.yaml"));
            assert_eq!(p["spec"]["dependsOn"][0]["name"], "acme-coder");
            assert_eq!((p["spec"]["targetNamespace"].as_str(), p["spec"]["storageNamespace"].as_str()), (Some(ns), Some(ns)));
            assert_eq!(p["spec"]["releaseName"], "coder-provisioner");
        }
    }

    #[test]
    fn argocd_waves_and_value_files_in_the_tree() {
        let tree = render("gitops:\n  controller: argocd\n  repo_url: ssh://git@g.example/r.git\n  branch: release/1\n");
        let root = object(&tree, "gitops/argocd/application.yaml");
        assert_eq!(root["spec"]["source"]["path"], "gitops/argocd/apps");
        assert_eq!(root["spec"]["source"]["targetRevision"], "release/1");
        let apps = object(&tree, "gitops/argocd/apps/kustomization.yaml");
        let mut waves = Vec::new();
        for f in apps["resources"].as_array().unwrap() {
            let a = object(&tree, &format!("gitops/argocd/apps/{}", f.as_str().unwrap()));
            waves.push(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"].as_str().unwrap().to_string());
            match a["spec"].get("sources") {
                Some(sources) => {
                    let values = sources[0]["helm"]["valueFiles"][0].as_str().unwrap();
                    assert!(tree.get(strip(values, "$values/")).is_some(), "{values}");
                    assert_eq!(sources[1]["ref"], "values");
                }
                None => assert!(tree.get(&format!("{}/kustomization.yaml", a["spec"]["source"]["path"].as_str().unwrap())).is_some()),
            }
        }
        assert_eq!(waves, ["0", "1", "2", "2"]);
    }
}
