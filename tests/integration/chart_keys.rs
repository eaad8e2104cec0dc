//! The Helm values use only keys the real charts have.
//!
//! `tests/data/chart-keys/*.txt` lists every key path of the charts'
//! `values.yaml` (coder-facts.md: `helm/coder/values.yaml` @7d30b778 and
//! `helm/provisioner/values.yaml` @d6299c01). A path marked `*` takes any
//! value below it (lists, free-form maps, and Kubernetes objects the chart
//! passes through with `toYaml`); the others are the chart's own structure.
//! The lists are derived from `../shared/reference/*.yaml` by
//! `chart_key_lists_match_the_reference_charts` (it needs `../shared`, so it
//! is `#[ignore]`d in plain `cargo test` and run by `.ci/run`; bless with
//! `UPDATE_GOLDEN=1 cargo test -- --ignored chart_key_lists`), so they cannot
//! drift from the charts we checked.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::util::{examples, repo_root, require, shared_dir};

/// Maps with chart defaults that are nevertheless Kubernetes objects passed
/// through verbatim (libcoder `_coder.yaml`: `toYaml .Values.coder.affinity`,
/// `toYaml .Values.coder.securityContext`).
const PASS_THROUGH: &[&str] = &["coder.affinity", "coder.securityContext"];

const CHARTS: &[(&str, &str)] = &[("coder", "coder-chart-values.yaml"), ("coder-provisioner", "provisioner-chart-values.yaml")];

fn derive(prefix: &str, v: &Value, out: &mut BTreeMap<String, bool>) {
    let Value::Object(map) = v else { return };
    for (k, child) in map {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        let structured = matches!(child, Value::Object(m) if !m.is_empty()) && !PASS_THROUGH.contains(&path.as_str());
        out.insert(path.clone(), !structured);
        if structured {
            derive(&path, child, out);
        }
    }
}

fn list_text(keys: &BTreeMap<String, bool>, source: &str) -> String {
    let mut s = format!("# Key paths of the chart's values.yaml, derived from {source}.\n# `*`: any value below this key.\n");
    for (k, open) in keys {
        s.push_str(k);
        if *open {
            s.push_str(" *");
        }
        s.push('\n');
    }
    s
}

fn load_list(chart: &str) -> BTreeMap<String, bool> {
    let path = repo_root().join("tests/data/chart-keys").join(format!("{chart}.txt"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| match l.strip_suffix(" *") {
            Some(k) => (k.to_string(), true),
            None => (l.to_string(), false),
        })
        .collect()
}

/// Needs the shared reference charts, which are not part of the repository.
#[test]
#[ignore = "needs ../shared/reference (or $CODER_GEN_SHARED/reference); .ci/run runs it"]
fn chart_key_lists_match_the_reference_charts() {
    let reference = shared_dir().join("reference");
    require(
        CHARTS.iter().all(|(_, file)| reference.join(file).is_file()),
        &format!("the Coder charts' values files in {}", reference.display()),
        "put the shared material at ../shared or set CODER_GEN_SHARED",
    );
    for (chart, file) in CHARTS {
        let text = std::fs::read_to_string(reference.join(file)).unwrap();
        let values: Value = serde_saphyr::from_str(&text).unwrap();
        let mut keys = BTreeMap::new();
        derive("", &values, &mut keys);
        let expected = list_text(&keys, &format!("../shared/reference/{file}"));
        let path = repo_root().join("tests/data/chart-keys").join(format!("{chart}.txt"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(committed, expected, "{} is stale: rerun with UPDATE_GOLDEN=1", path.display());
    }
}

/// Every key path in `v` must be in `keys`; descend only below structured keys.
/// `null` at a known key is fine: Helm deletes the chart's default there.
fn unknown_keys(prefix: &str, v: &Value, keys: &BTreeMap<String, bool>, out: &mut Vec<String>) {
    let Value::Object(map) = v else {
        out.push(format!("{prefix} (expected a map)"));
        return;
    };
    for (k, child) in map {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match keys.get(&path) {
            None => out.push(path),
            Some(true) => {}
            Some(false) if child.is_null() => {}
            Some(false) => unknown_keys(&path, child, keys, out),
        }
    }
}

#[test]
fn helm_values_use_only_chart_keys() {
    let mut checked = 0;
    for spec in examples() {
        let text = std::fs::read_to_string(&spec).unwrap();
        let tree = coder_gen::render_str(&spec.display().to_string(), &text).unwrap();
        for (path, bytes) in tree.iter() {
            // The primary's releases, and every site's (`sites/<name>/helm/...`).
            let local = path.strip_prefix("sites/").and_then(|p| p.split_once('/')).map_or(path, |(_, rest)| rest);
            let chart = if local == "helm/coder/values.yaml" {
                "coder"
            } else if local.starts_with("helm/coder-provisioner/") {
                "coder-provisioner"
            } else {
                continue;
            };
            let values: Value = serde_saphyr::from_str(std::str::from_utf8(bytes).unwrap()).unwrap();
            let mut bad = Vec::new();
            unknown_keys("", &values, &load_list(chart), &mut bad);
            assert!(bad.is_empty(), "{}: {path} uses keys the {chart} chart does not have: {bad:?}", spec.display());
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} values files checked");
}

#[test]
fn an_unknown_key_is_caught() {
    let keys = load_list("coder");
    let mut bad = Vec::new();
    let v: Value =
        serde_json::json!({"coder": {"replicaCount": 2, "resources": {"x": 1}, "serviceAccount": {"workspacePerm": false}}, "nope": 1});
    unknown_keys("", &v, &keys, &mut bad);
    assert_eq!(bad, ["coder.serviceAccount.workspacePerm", "nope"]);
}

/// Keys of coder-observability's sub-charts that its own `values.yaml` does
/// not list (Helm passes `<alias>.*` to the sub-chart), each with where it is
/// defined. Nothing else outside the chart's own keys is allowed.
const OBSERVABILITY_SUBCHART_KEYS: &[(&str, &str)] = &[
    // The collector is a DaemonSet reading pod logs on every node: it must
    // tolerate the coderd and provisioner pools' taints.
    ("grafana-agent.controller.tolerations", "grafana/helm-charts grafana-agent 0.37.0 values.yaml: controller.tolerations"),
    // Time-based retention next to the chart's own retentionSize.
    ("prometheus.server.retention", "prometheus-community/helm-charts prometheus 25.24.2 values.yaml: server.retention"),
    // Secure defaults (issue #24), each rendered with the sub-charts by .ci/check_observability.py.
    // Grafana's admin from a Secret, or the OIDC client secret from one.
    ("grafana.admin.userKey", "grafana/helm-charts grafana 7.3.12 values.yaml: admin.userKey"),
    ("grafana.admin.passwordKey", "grafana/helm-charts grafana 7.3.12 values.yaml: admin.passwordKey"),
    ("grafana.envValueFrom", "grafana/helm-charts grafana 7.3.12 values.yaml: envValueFrom"),
    // grafana.ini is free-form: every section is written into the file.
    ("grafana.grafana.ini.auth", "grafana 7.3.12 values.yaml: grafana.ini (any section; Grafana's [auth])"),
    ("grafana.grafana.ini.auth.generic_oauth", "grafana 7.3.12 values.yaml: grafana.ini (Grafana's [auth.generic_oauth])"),
    ("grafana.grafana.ini.server", "grafana 7.3.12 values.yaml: grafana.ini (Grafana's [server])"),
    // Alertmanager's receiver, and the Secret it reads the URL or key from.
    ("prometheus.alertmanager.config", "prometheus-community/helm-charts alertmanager 1.11.0 values.yaml: config"),
    ("prometheus.alertmanager.extraSecretMounts", "prometheus-community/helm-charts alertmanager 1.11.0 values.yaml: extraSecretMounts"),
    // Loki's retention, and its object store's login from a Secret.
    ("loki.loki.limits_config", "grafana/loki production/helm/loki 6.7.4 values.yaml: loki.limits_config"),
    ("loki.loki.compactor", "grafana/loki production/helm/loki 6.7.4 values.yaml: loki.compactor"),
    ("loki.write.extraEnvFrom", "grafana/loki production/helm/loki 6.7.4 values.yaml: write.extraEnvFrom"),
    ("loki.read.extraArgs", "grafana/loki production/helm/loki 6.7.4 values.yaml: read.extraArgs"),
    ("loki.read.extraEnvFrom", "grafana/loki production/helm/loki 6.7.4 values.yaml: read.extraEnvFrom"),
    ("loki.backend.extraEnvFrom", "grafana/loki production/helm/loki 6.7.4 values.yaml: backend.extraEnvFrom"),
    ("loki.minio.existingSecret", "minio/minio helm/minio 4.0.15 values.yaml: existingSecret"),
    ("loki.minio.rootUser", "minio/minio helm/minio 4.0.15 values.yaml: rootUser (set by the loki chart too)"),
    ("loki.minio.rootPassword", "minio/minio helm/minio 4.0.15 values.yaml: rootPassword (set by the loki chart too)"),
    ("loki.minio.users", "minio/minio helm/minio 4.0.15 values.yaml: users"),
    // The provisioner groups' alerts: serverFiles.<file> is written into the
    // server's ConfigMap at /etc/config/<file> (templates/cm.yaml).
    (
        "prometheus.serverFiles.coder-gen-provisioner-groups.yml",
        "prometheus-community/helm-charts prometheus 25.24.2 templates/cm.yaml: every serverFiles key becomes a file",
    ),
    // The provisioner groups' dashboard: dashboards.<provider>.<name>.json
    // becomes a file in the provider's folder.
    ("grafana.dashboards.coder", "grafana/helm-charts grafana 7.3.12 templates/dashboards-json-configmap.yaml and _pod.tpl"),
];

/// `tests/data/chart-keys/coder-observability.txt` is derived from the
/// chart's values.yaml in `../shared/charts/coder-observability/` (bless with
/// `UPDATE_GOLDEN=1`); the other tests use the committed list.
#[test]
#[ignore = "needs ../shared/charts (or $CODER_GEN_SHARED/charts); .ci/run runs it"]
fn observability_key_list_matches_the_chart() {
    let values_path = shared_dir().join("charts/coder-observability/values.yaml");
    require(
        values_path.is_file(),
        &format!("the coder-observability chart's values.yaml at {}", values_path.display()),
        "put the shared material at ../shared or set CODER_GEN_SHARED",
    );
    let values: Value = serde_saphyr::from_str(&std::fs::read_to_string(&values_path).unwrap()).unwrap();
    let mut keys = BTreeMap::new();
    derive("", &values, &mut keys);
    let expected = list_text(&keys, "../shared/charts/coder-observability/values.yaml (chart 0.6.2)");
    let path = repo_root().join("tests/data/chart-keys/coder-observability.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), expected, "{} is stale: rerun with UPDATE_GOLDEN=1", path.display());
}

/// The sub-chart keys `network:` writes (mirror, pull secrets, air-gapped),
/// each verified by rendering the full stack (../shared/docs/
/// restricted-networks-facts.md section 1, .ci/check_images.py on the
/// airgap-* trees).
const NETWORK_SUBCHART_KEYS: &[(&str, &str)] = &[
    ("global.imageRegistry", "grafana 7.3.12, kube-state-metrics 5.21.0, prometheus-node-exporter 4.37.0: global.imageRegistry"),
    ("global.imagePullSecrets", "the same charts and minio 4.0.15: global.imagePullSecrets (strings)"),
    ("global.image", "loki 6.7.4 global.image.registry; grafana-agent 0.37.0 global.image.registry and .pullSecrets"),
    ("prometheus.imagePullSecrets", "prometheus 25.24.2 values.yaml: imagePullSecrets"),
    ("prometheus.server.image", "prometheus 25.24.2 values.yaml: server.image.repository"),
    ("prometheus.configmapReload.prometheus.image", "prometheus 25.24.2 values.yaml: configmapReload.prometheus.image"),
    ("prometheus.alertmanager.image", "alertmanager 1.11.0 values.yaml: image.repository"),
    ("prometheus.alertmanager.imagePullSecrets", "alertmanager 1.11.0 values.yaml: imagePullSecrets"),
    ("loki.serviceAccount", "loki 6.7.4 values.yaml: serviceAccount.imagePullSecrets"),
    ("loki.sidecar.image", "loki 6.7.4 values.yaml: sidecar.image.repository"),
    ("loki.memcached", "loki 6.7.4 values.yaml: memcached.image.repository"),
    ("loki.memcachedExporter", "loki 6.7.4 values.yaml: memcachedExporter.image.repository"),
    ("loki.minio.image", "minio 4.0.15 values.yaml: image.repository, image.tag"),
    ("loki.minio.mcImage", "minio 4.0.15 values.yaml: mcImage.repository, mcImage.tag"),
    ("loki.loki.analytics", "loki 6.7.4 values.yaml: loki.analytics (reporting_enabled)"),
    ("grafana.grafana.ini.analytics.check_for_updates", "grafana.ini [analytics] (Grafana 10.4 configuration docs)"),
    ("grafana.grafana.ini.analytics.check_for_plugin_updates", "grafana.ini [analytics] (Grafana 10.4 configuration docs)"),
];

#[test]
fn observability_values_use_only_chart_keys() {
    let mut keys = load_list("coder-observability");
    for (k, _) in OBSERVABILITY_SUBCHART_KEYS.iter().chain(NETWORK_SUBCHART_KEYS) {
        assert!(!keys.contains_key(*k), "{k} is in the chart's own values now: drop it from OBSERVABILITY_SUBCHART_KEYS");
        keys.insert((*k).to_string(), true);
    }
    let mut checked = 0;
    for spec in examples() {
        let text = std::fs::read_to_string(&spec).unwrap();
        let tree = coder_gen::render_str(&spec.display().to_string(), &text).unwrap();
        let Some(file) = tree.get_str("helm/coder-observability/values.yaml") else { continue };
        let values: Value = serde_saphyr::from_str(file).unwrap();
        let mut bad = Vec::new();
        unknown_keys("", &values, &keys, &mut bad);
        assert!(bad.is_empty(), "{}: keys the coder-observability chart does not have: {bad:?}", spec.display());
        // The exporter's password arrives by secret only.
        assert!(values["global"]["postgres"].get("password").is_none(), "{}", spec.display());
        assert!(values["global"]["postgres"]["mountSecret"].is_string(), "{}", spec.display());
        checked += 1;
    }
    // Every 3k example, plus the 1k opt-in.
    assert!(checked >= 4, "only {checked} observability values files checked");
}
