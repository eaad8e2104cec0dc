//! What `plan.network` puts into the tree: `images.txt` (every image the
//! tree pulls, with its mirror reference), `charts.txt` (the charts to
//! mirror), the CA ClusterIssuer, and the pieces the other renderers add to
//! their values and objects (the coder image and pull secrets, the CA mount,
//! the proxy and air-gapped variables, the Terraform CLI configuration, the
//! coder-observability keys). Reads only `plan.network`; decides nothing.

use k8s_openapi::api::core::v1::{ConfigMapVolumeSource, EnvVar, LocalObjectReference, SecretVolumeSource, Volume, VolumeMount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::{Value, json};

use super::k8s::meta;
use super::{paths, yaml};
use crate::plan::{CaIssuer, ChartSource, Image, NetworkEnv, Plan};
use crate::tree::{Comment, Tree, header};

/// `coder.image` of the coder and coder-provisioner charts (and whatever
/// else builds its values from `CoderSection`, e.g. workspace proxies).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ImageValues {
    repo: String,
    tag: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pull_secrets: Vec<NameRef>,
}

#[derive(Serialize)]
pub(super) struct NameRef {
    name: String,
}

/// `coder.certs`: each Secret key mounted at /etc/ssl/certs/<name>.crt.
#[derive(Serialize)]
pub(super) struct Certs {
    secrets: Vec<SecretKey>,
}

#[derive(Serialize)]
pub(super) struct SecretKey {
    name: String,
    key: String,
}

fn pull_secret(plan: &Plan) -> Option<&str> {
    plan.network.registry.as_ref().and_then(|r| r.pull_secret.as_deref())
}

/// `coder.image` when the images come from a mirror (else the chart's own).
pub(super) fn coder_image(plan: &Plan) -> Option<ImageValues> {
    plan.network.registry.as_ref()?;
    let i = &plan.network.images["coder"];
    Some(ImageValues {
        repo: i.repository.clone(),
        tag: i.tag.clone().unwrap_or_default(),
        pull_secrets: pull_secret(plan).map(|s| NameRef { name: s.into() }).into_iter().collect(),
    })
}

/// `coder.certs` with the private CA.
pub(super) fn certs(plan: &Plan) -> Option<Certs> {
    let ca = plan.network.ca.as_ref()?;
    Some(Certs { secrets: vec![SecretKey { name: ca.secret.name.clone(), key: ca.secret.key.clone() }] })
}

/// The network's variables as the charts' `env` entries.
pub(super) fn env_vars(list: &[NetworkEnv]) -> Vec<EnvVar> {
    list.iter().map(|e| EnvVar { name: e.name.clone(), value: Some(e.value.clone()), ..EnvVar::default() }).collect()
}

/// coderd's proxy, air-gapped and Terraform variables.
pub(super) fn coderd_env(plan: &Plan) -> Vec<EnvVar> {
    env_vars(&plan.network.coderd_env)
}

/// Every provisioner's proxy and Terraform variables.
pub(super) fn provisioner_env(plan: &Plan) -> Vec<EnvVar> {
    env_vars(&plan.network.provisioner_env)
}

/// The Terraform CLI configuration for a release: its volume, mount and the
/// `extraTemplates` ConfigMap. Empty unless the release runs Terraform
/// (`coderd`: built-in provisioners) and the plan has a configuration.
pub(super) fn terraform(plan: &Plan, coderd: bool) -> (Vec<Volume>, Vec<VolumeMount>, Vec<String>) {
    let Some(t) = plan.network.terraform.as_ref().filter(|t| !coderd || t.coderd) else {
        return (Vec::new(), Vec::new(), Vec::new());
    };
    let volume = Volume {
        name: t.config_map.clone(),
        config_map: Some(ConfigMapVolumeSource { name: t.config_map.clone(), ..ConfigMapVolumeSource::default() }),
        ..Volume::default()
    };
    // The whole directory: a subPath mount would never see an update.
    let mount =
        VolumeMount { name: t.config_map.clone(), mount_path: t.mount_path.clone(), read_only: Some(true), ..VolumeMount::default() };
    let body: String = t.config.lines().map(|l| if l.is_empty() { "\n".to_string() } else { format!("    {l}\n") }).collect();
    // The chart runs each string through `tpl`: the release's namespace.
    let template = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  namespace: {{{{ .Release.Namespace }}}}\n  labels:\n    app.kubernetes.io/managed-by: coder-gen\n    app.kubernetes.io/part-of: coder\ndata:\n  {}: |\n{body}",
        t.config_map, t.file
    );
    (vec![volume], vec![mount], vec![template])
}

/// The coder-observability values `plan.network` decides, merged over the
/// generated ones: the mirror (registry-wide keys where the sub-charts have
/// them, else each image's repository), pull secrets in the form each
/// sub-chart reads, and what an air-gapped or mirrored tree turns off.
pub(super) fn observability_values(plan: &Plan) -> Value {
    let n = &plan.network;
    let mut v = json!({});
    let o = &n.observability;
    if !o.download_dashboards {
        // Removes the init container that curls dashboards from grafana.com.
        v["grafana"]["dashboards"] = Value::Null;
    }
    if !o.grafana_update_checks {
        v["grafana"]["grafana.ini"]["analytics"] = json!({ "check_for_updates": false, "check_for_plugin_updates": false });
    }
    if !o.loki_usage_reporting {
        v["loki"]["loki"]["analytics"] = json!({ "reporting_enabled": false });
    }
    if !o.helm_test {
        // `loki.test.enabled: false` does not remove the Pod (loki 6.7.4
        // reads only `with .Values.test`): null does.
        v["loki"]["test"] = Value::Null;
    }
    let Some(reg) = &n.registry else { return v };
    let img = |id: &str| &n.images[id];
    let repo = |id: &str| json!({ "repository": img(id).repository });
    let repo_tag = |id: &str| json!({ "repository": img(id).repository, "tag": img(id).tag });
    v["global"]["imageRegistry"] = json!(reg.mirror);
    v["global"]["image"]["registry"] = json!(reg.mirror);
    v["global"]["postgres"]["exporter"]["image"] = json!(img("postgres-exporter").reference);
    v["runbookViewer"]["image"] = json!(img("runbook-viewer").reference);
    v["sqlExporter"]["image"] = json!(img("sql-exporter").reference);
    v["prometheus"]["server"]["image"] = repo("prometheus");
    v["prometheus"]["configmapReload"]["prometheus"]["image"] = repo("prometheus-config-reloader");
    v["prometheus"]["alertmanager"]["image"] = repo("alertmanager");
    v["loki"]["sidecar"]["image"] = repo("loki-sidecar");
    v["loki"]["memcached"]["image"] = repo("memcached");
    v["loki"]["memcachedExporter"]["image"] = repo("memcached-exporter");
    // With their tags: the check renders without the minio sub-chart where
    // it is missing and reads these two from the values.
    v["loki"]["minio"]["image"] = repo_tag("minio");
    v["loki"]["minio"]["mcImage"] = repo_tag("minio-mc");
    if let Some(s) = &reg.pull_secret {
        let by_name = json!([{ "name": s }]);
        // Strings: grafana, kube-state-metrics, node-exporter and MinIO
        // (which renders `name: map[...]` from the other form).
        v["global"]["imagePullSecrets"] = json!([s]);
        // Maps: grafana-agent only (strings render an invalid list).
        v["global"]["image"]["pullSecrets"] = by_name.clone();
        v["prometheus"]["imagePullSecrets"] = by_name.clone();
        v["prometheus"]["alertmanager"]["imagePullSecrets"] = by_name.clone();
        // Loki's own list cannot serve both its pods and memcached: its
        // ServiceAccounts carry it to every Loki pod instead.
        v["loki"]["serviceAccount"]["imagePullSecrets"] = by_name;
    }
    v
}

/// ` --ca-file <file>` for a helm command that reads the chart mirror, or
/// nothing.
pub(super) fn helm_ca_flag(plan: &Plan) -> String {
    plan.network.charts.ca_file.as_ref().map(|f| format!(" --ca-file {f}")).unwrap_or_default()
}

/// The `# helm repo add` comment line a values file's header needs for
/// `src` (none for an OCI mirror).
pub(super) fn helm_repo_add_comment(plan: &Plan, src: &ChartSource) -> String {
    match &src.repository_name {
        Some(name) => format!("#   helm repo add {name} {}{}\n", src.repository, helm_ca_flag(plan)),
        None => String::new(),
    }
}

/// cluster-autoscaler's `image.repository` and `image.pullSecrets`
/// (strings: the chart writes `- name: {{ . }}`), with a mirror; `image`:
/// the primary's or a site's (`network.images` / `sites[].network.images`).
pub(super) fn autoscaler_image(plan: &Plan, image: Option<&Image>) -> (Option<String>, Vec<String>) {
    match (&plan.network.registry, image) {
        (Some(_), Some(i)) => (Some(i.repository.clone()), pull_secret(plan).map(str::to_string).into_iter().collect()),
        _ => (None, Vec::new()),
    }
}

/// Pull secrets of a pod or ServiceAccount coder-gen writes.
pub(super) fn pull_secrets(plan: &Plan) -> Option<Vec<LocalObjectReference>> {
    pull_secret(plan).map(|s| vec![LocalObjectReference { name: s.to_string() }])
}

/// The CA as a volume and its mount at /etc/ssl/certs/<name>.crt (as the
/// charts' `coder.certs` mount it), for the verify Jobs.
pub(super) fn ca_volume(plan: &Plan) -> Option<(Volume, VolumeMount)> {
    let ca = plan.network.ca.as_ref()?;
    let name = format!("ca-cert-{}", ca.secret.name);
    let volume = Volume {
        name: name.clone(),
        secret: Some(SecretVolumeSource { secret_name: Some(ca.secret.name.clone()), ..SecretVolumeSource::default() }),
        ..Volume::default()
    };
    let mount = VolumeMount {
        name,
        mount_path: ca.mount_path.clone(),
        sub_path: Some(ca.secret.key.clone()),
        read_only: Some(true),
        ..VolumeMount::default()
    };
    Some((volume, mount))
}

/// cert-manager `ClusterIssuer` of kind CA: only the fields written here.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterIssuer {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: IssuerSpec,
}

#[derive(Serialize)]
struct IssuerSpec {
    ca: CaIssuerSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CaIssuerSpec {
    secret_name: String,
}

/// The namespace's `default` ServiceAccount with the pull secret.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DefaultServiceAccount {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    image_pull_secrets: Vec<LocalObjectReference>,
}

/// `kustomize/observability/serviceaccount-default.yaml`, if the plan puts
/// the pull secret on the observability namespace's `default`
/// ServiceAccount: (file name, text).
pub(super) fn observability_default_service_account(plan: &Plan) -> Option<(&'static str, String)> {
    let secret = plan.network.observability.default_service_account_pull_secret.as_ref()?;
    let ns = &plan.observability.stack.as_ref()?.namespace;
    let sa = DefaultServiceAccount {
        api_version: "v1",
        kind: "ServiceAccount",
        metadata: meta("default", Some(ns)),
        image_pull_secrets: vec![LocalObjectReference { name: secret.clone() }],
    };
    Some(("serviceaccount-default.yaml", yaml::document(&plan.spec_file, &sa)))
}

pub fn render(plan: &Plan, tree: &mut Tree) {
    let n = &plan.network;
    // images.txt: normalised sources (what an allow-list or `skopeo copy`
    // needs), with the mirror reference beside each when mirrored.
    // One list for the whole tree (one mirror to fill): the sites' images too.
    let mut lines: Vec<String> = n
        .images
        .values()
        .chain(plan.sites.iter().flat_map(|s| s.network.images.values()))
        .map(|i| if n.registry.is_some() { format!("{} {}", i.source, i.reference) } else { i.source.clone() })
        .collect();
    lines.sort();
    lines.dedup();
    let intro = match &n.registry {
        Some(r) => format!(
            "# Every image this tree pulls: SOURCE MIRROR, one per line (the README's first step copies each:\n# skopeo copy --all docker://SOURCE docker://MIRROR). Mirror rule: {}/<path>:<tag>.\n",
            r.mirror
        ),
        None => "# Every image this tree pulls, one per line: an allow-list for an egress policy, or what to copy\n# into a registry mirror (set network.registry in the spec to pull from one).\n".to_string(),
    };
    tree.insert(paths::IMAGES, format!("{}{intro}{}\n", header(Comment::Hash, &plan.spec_file), lines.join("\n")));

    if n.charts.mirror.is_some() {
        let c = &n.charts;
        let mut rows: Vec<String> = [Some(&c.coder), Some(&c.provisioner), c.observability.as_ref(), c.cluster_autoscaler.as_ref()]
            .into_iter()
            .flatten()
            .chain(plan.sites.iter().filter_map(|s| s.network.cluster_autoscaler_chart.as_ref()))
            .map(|s| format!("{} {} {}", s.upstream, s.chart, s.version))
            .collect();
        rows.sort();
        rows.dedup();
        let text = format!(
            "{}# Every chart this tree installs: REPOSITORY CHART VERSION, one per line (the README's first step\n# pulls each and pushes it to {}).\n{}\n",
            header(Comment::Hash, &plan.spec_file),
            c.mirror.as_deref().unwrap_or(""),
            rows.join("\n")
        );
        tree.insert(paths::CHARTS, text);
    }

    // The operator's `terraform init` takes providers from the same network
    // mirror (a filesystem mirror lives in the provisioner pods instead).
    if let Some(t) = n.terraform.as_ref().filter(|t| t.mirror_url.is_some()) {
        tree.insert(paths::TERRAFORM_CLI_CONFIG, format!("{}{}", header(Comment::Hash, &plan.spec_file), t.config));
    }

    if let Some(issuer) = n.ca.as_ref().and_then(|c| c.issuer.as_ref()) {
        tree.insert(paths::cluster_issuer(&issuer.name), cluster_issuer(plan, issuer));
    }
}

/// The CA ClusterIssuer `issuer` as a document (the primary's cluster, or a
/// site's: a ClusterIssuer is per cluster).
pub(super) fn cluster_issuer(plan: &Plan, issuer: &CaIssuer) -> String {
    let object = ClusterIssuer {
        api_version: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: meta(&issuer.name, None),
        spec: IssuerSpec { ca: CaIssuerSpec { secret_name: issuer.secret.clone() } },
    };
    yaml::document(&plan.spec_file, &object)
}

#[cfg(test)]
mod tests {
    use crate::test_support::spec_text;

    const NETWORK: &str = "observability: true\nnetwork:\n  registry:\n    mirror: reg.corp.example/m\n    pull_secret: pull\n  ca:\n    secret: corp-ca\n    issuer_secret: corp-ca-pair\n  terraform_providers:\n    mirror_url: https://tf.corp.example/p/\n  proxy:\n    url: http://proxy.corp.example:3128\n    cluster_cidrs: [10.0.0.0/8]\n";

    #[test]
    fn images_txt_lists_source_and_mirror_of_every_image() {
        let tree = crate::render_str("spec.yaml", &format!("{}{NETWORK}", spec_text(1000, "aws"))).unwrap();
        let text = tree.get_str("images.txt").unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(lines.contains(&"ghcr.io/coder/coder:v2.33.6 reg.corp.example/m/coder/coder:v2.33.6"), "{text}");
        assert!(lines.contains(&"docker.io/library/postgres:16-alpine reg.corp.example/m/library/postgres:16-alpine"));
        // coder-observability (21: no helm-test Pod with a mirror), judge, autoscaler, coder, postgres.
        assert_eq!(lines.len(), 25, "{text}");
        assert!(lines.iter().all(|l| l.split(' ').nth(1).is_some_and(|m| m.starts_with("reg.corp.example/m/"))));
        assert!(tree.get_str("entry/clusterissuer-acme-ca.yaml").unwrap().contains("secretName: corp-ca-pair"));
        let plain = crate::render_str("spec.yaml", &spec_text(1000, "aws")).unwrap();
        let text = plain.get_str("images.txt").unwrap();
        assert!(text.lines().any(|l| l == "ghcr.io/coder/coder:v2.33.6"), "{text}");
        assert!(plain.get_str("charts.txt").is_none());
    }

    fn yaml(tree: &crate::tree::Tree, path: &str) -> serde_json::Value {
        serde_saphyr::from_str(tree.get_str(path).unwrap_or_else(|| panic!("no {path}"))).unwrap()
    }

    #[test]
    fn values_jobs_and_gitops_read_the_network() {
        let spec = format!(
            "{}{NETWORK}  charts:\n    url: oci://reg.corp.example/charts\n    private_ca: true\ngitops:\n  controller: argocd\n  repo_url: https://git.corp.example/r.git\n",
            spec_text(1000, "aws")
        );
        let tree = crate::render_str("spec.yaml", &spec).unwrap();
        for path in ["helm/coder/values.yaml", "helm/coder-provisioner/coder-provisioners/values.yaml"] {
            let v = yaml(&tree, path);
            let c = &v["coder"];
            assert_eq!(c["image"]["repo"], "reg.corp.example/m/coder/coder", "{path}");
            assert_eq!(c["image"]["pullSecrets"][0]["name"], "pull", "{path}");
            assert_eq!(c["certs"]["secrets"][0], serde_json::json!({"name": "corp-ca", "key": "ca.crt"}), "{path}");
            assert!(tree.get_str(path).unwrap().contains("oci://reg.corp.example/charts/coder"), "{path}: helm command");
            assert!(tree.get_str(path).unwrap().contains("--ca-file /path/outside/this/tree/ca.crt"), "{path}");
        }
        // Premium: only provisioners run Terraform.
        let coder = yaml(&tree, "helm/coder/values.yaml");
        assert!(coder.get("extraTemplates").is_none() && coder["coder"].get("volumes").is_none());
        let prov = yaml(&tree, "helm/coder-provisioner/coder-provisioners/values.yaml");
        assert!(prov["extraTemplates"][0].as_str().unwrap().contains("https://tf.corp.example/p/"));
        assert_eq!(prov["coder"]["volumeMounts"][0]["mountPath"], "/etc/coder-terraform");
        let auto = yaml(&tree, "helm/cluster-autoscaler/values.yaml");
        assert_eq!(auto["image"]["repository"], "reg.corp.example/m/autoscaling/cluster-autoscaler");
        assert_eq!(auto["image"]["pullSecrets"][0], "pull", "strings: the chart writes `- name: {{ . }}`");
        // Verify Jobs: the CA on Coder's CLI, none on the judge; the pull secret on their ServiceAccount.
        let job = yaml(&tree, "verify/create-workspaces/job.yaml");
        let c = &job["spec"]["template"]["spec"]["containers"][0];
        assert!(c["volumeMounts"].as_array().unwrap().iter().any(|m| m["mountPath"] == "/etc/ssl/certs/corp-ca.crt"));
        let judge = yaml(&tree, "verify/judge/job.yaml");
        assert_eq!(judge["spec"]["template"]["spec"]["containers"][0]["volumeMounts"].as_array().unwrap().len(), 1);
        assert_eq!(yaml(&tree, "verify/serviceaccount.yaml")["imagePullSecrets"][0]["name"], "pull");
        // Argo CD: an OCI source without `oci://`, registered by a repository Secret.
        let app = yaml(&tree, "gitops/argocd/apps/application-coder.yaml");
        assert_eq!(app["spec"]["sources"][0]["repoURL"], "reg.corp.example/charts");
        let repo = yaml(&tree, "gitops/argocd/apps/repository-charts-mirror.yaml");
        assert_eq!(repo["stringData"]["enableOCI"], "true");
        assert_eq!(repo["metadata"]["labels"]["argocd.argoproj.io/secret-type"], "repository");
        let obs = yaml(&tree, "helm/coder-observability/values.yaml");
        assert_eq!(obs["global"]["imagePullSecrets"][0], "pull", "strings for grafana, kube-state-metrics, node-exporter, MinIO");
        assert_eq!(obs["global"]["image"]["pullSecrets"][0]["name"], "pull", "maps for grafana-agent");
        assert_eq!(obs["loki"]["minio"]["image"]["tag"], "RELEASE.2022-09-17T00-09-45Z");
        assert!(tree.get_str("kustomize/observability/serviceaccount-default.yaml").unwrap().contains("name: pull"));
    }

    #[test]
    fn flux_reads_an_oci_mirror_with_its_ca() {
        let spec = format!(
            "{}network:\n  charts:\n    url: oci://reg.corp.example/charts\n    private_ca: true\n  ca:\n    secret: corp-ca\ngitops:\n  controller: flux\n  repo_url: https://git.corp.example/r.git\n",
            spec_text(1000, "gcp")
        );
        let tree = crate::render_str("spec.yaml", &spec).unwrap();
        let repo = yaml(&tree, "gitops/flux/helmrepository.yaml");
        assert_eq!(repo["spec"]["type"], "oci");
        assert_eq!(repo["spec"]["url"], "oci://reg.corp.example/charts");
        assert_eq!(repo["spec"]["certSecretRef"]["name"], "corp-ca");
        let plan = crate::plan_from_str("spec.yaml", &spec).unwrap();
        assert!(plan.network.ca.as_ref().unwrap().namespaces.iter().any(|n| n == "flux-system"));
    }
}
