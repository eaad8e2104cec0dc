//! Values for Coder's `coder-observability` chart (Prometheus, Grafana with
//! Coder's dashboards, Loki, the grafana-agent collector, the Postgres
//! exporters), written only when the plan turns observability on.
//!
//! Every key exists in the chart's `values.yaml` (a test keeps it so), except
//! two sub-chart keys named in `SUBCHART_KEYS` of that test. The database
//! host is not known until Terraform ran, so the helm command sets it.

use serde_json::{Value, json};

use super::{k8s, network, paths, yaml};
use crate::plan::{Plan, StackSecurity};
use crate::tree::{Comment, Tree, header};
use crate::yaml::merge;

/// Backtick-quoted PromQL matchers, as the chart asks ("ensure this uses
/// backticks for quotes").
fn namespaces_matcher(names: &[&str]) -> String {
    match names {
        [one] => format!("namespace=`{one}`"),
        many => format!("namespace=~`({})`", many.join("|")),
    }
}

fn values(plan: &Plan) -> Option<Value> {
    let stack = plan.observability.stack.as_ref()?;
    let exporter = plan.credentials.exporter.as_ref()?;
    let cr = &plan.credentials;
    let workspaces: Vec<&str> = plan.workspaces.iter().map(|w| w.namespace.as_str()).collect();
    // The chart takes one external provisioner namespace (its dashboards
    // append `namespace=<it>`); the first group's. Every group is scraped all
    // the same (discovery is cluster-wide), and the dashboard and alerts
    // below show each group (the plan's stack reason `provisioner_groups`).
    let provisioners = plan.provisioners.first().map_or(plan.coderd.namespace.as_str(), |g| g.namespace.as_str());
    // The collector is a DaemonSet that reads pod logs from each node, so it
    // must run on the tainted coderd and provisioner pools too.
    let tolerations: Vec<_> = plan.pools.iter().flat_map(k8s::tolerations).collect();
    let mut v = json!({
        "global": {
            "coder": {
                "controlPlaneNamespace": plan.coderd.namespace,
                "externalProvisionersNamespace": provisioners,
                // Pods are named after the charts' Deployments.
                "coderdSelector": format!("pod=~`{}.*`, pod!~`.*provisioner.*`", plan.chart.coder_chart),
                "provisionerdSelector": format!("pod=~`{}.*`", plan.chart.provisioner_chart),
                "workspacesSelector": namespaces_matcher(&workspaces),
                "alerts": {
                    "coderd": {
                        "groups": {
                            "Replicas": {
                                "thresholds": {
                                    "notify": stack.coderd_replicas_alert.notify,
                                    "warning": stack.coderd_replicas_alert.warning,
                                    "critical": stack.coderd_replicas_alert.critical,
                                },
                            },
                        },
                    },
                },
            },
            "postgres": {
                "port": 5432,
                "username": exporter.role,
                "database": cr.database,
                "sslmode": cr.sslmode,
                "mountSecret": exporter.secret.name,
            },
        },
        "grafana-agent": {
            "controller": {
                "tolerations": tolerations,
            },
        },
        "prometheus": {
            "server": {
                "retention": format!("{}d", stack.retention_days),
                "retentionSize": format!("{}GB", stack.retention_size_gb),
                "persistentVolume": {
                    "size": format!("{}Gi", stack.volume_gib),
                },
            },
        },
    });
    // Without external provisioners (community) there is no group to show.
    if !plan.provisioners.is_empty() {
        // The chart's rule files (a list: Helm replaces it whole) plus the
        // groups' alerts, written into the server's ConfigMap.
        v["prometheus"]["serverFiles"] = group_alerts(plan);
        v["grafana"] = json!({ "dashboards": group_dashboard(plan) });
    }
    Some(v)
}

/// Prometheus rules: a group with fewer provisioner daemons than its
/// replicas warns, one with none is critical (`or vector(0)`: a group whose
/// pods are all gone has no series at all).
fn group_alerts(plan: &Plan) -> Value {
    let mut rules = Vec::new();
    for g in &plan.provisioners {
        let daemons = format!(
            "(sum(coderd_provisionerd_num_daemons{{pod=~`{}.*`, namespace=`{}`}}) or vector(0))",
            plan.chart.provisioner_chart, g.namespace
        );
        for (severity, expr, summary) in [
            (
                "warning",
                format!("{daemons} < {}", g.replicas),
                format!("fewer than {} provisioner daemons are up in {}", g.replicas, g.namespace),
            ),
            ("critical", format!("{daemons} < 1"), format!("no provisioner daemon is up in {}: its builds stay pending", g.namespace)),
        ] {
            rules.push(json!({
                "alert": "ProvisionerGroupDaemons",
                "expr": expr,
                "for": "5m",
                "labels": { "severity": severity, "namespace": g.namespace },
                "annotations": { "summary": summary },
            }));
        }
    }
    json!({
        "prometheus.yml": { "rule_files": ["/etc/config/alerts/*.yaml", format!("/etc/config/{GROUP_RULES}")] },
        GROUP_RULES: { "groups": [{ "name": "Provisioner groups (coder-gen)", "rules": rules }] },
    })
}

/// Where the groups' rules go in the Prometheus server's ConfigMap.
const GROUP_RULES: &str = "coder-gen-provisioner-groups.yml";

/// A Grafana dashboard in the chart's `Coder` folder with every group side
/// by side: daemons, jobs, CPU, memory and logs by namespace.
fn group_dashboard(plan: &Plan) -> Value {
    // The provisioner pods of the groups picked in the `group` variable
    // (all by default): short queries, whatever the namespaces.
    let sel = format!("pod=~`{}.*`, namespace=~`$group`", plan.chart.provisioner_chart);
    let groups: Vec<&str> = plan.provisioners.iter().map(|g| g.namespace.as_str()).collect();
    let group_var = json!({
        "name": "group",
        "label": "Provisioner group",
        "type": "custom",
        "query": groups.join(","),
        "multi": true,
        "includeAll": true,
        "current": { "selected": true, "text": ["All"], "value": ["$__all"] },
        "options": groups.iter().map(|g| json!({ "selected": false, "text": g, "value": g })).collect::<Vec<_>>(),
    });
    let prometheus = json!({ "type": "prometheus", "uid": "prometheus" });
    let panel = |id: u32, title: &str, expr: String, unit: &str| {
        json!({
            "id": id,
            "type": "timeseries",
            "title": title,
            "datasource": prometheus,
            "gridPos": { "h": 8, "w": 12, "x": if id % 2 == 1 { 0 } else { 12 }, "y": (id - 1) / 2 * 8 },
            "fieldConfig": { "defaults": { "unit": unit }, "overrides": [] },
            "targets": [{ "refId": "A", "datasource": prometheus, "expr": expr, "legendFormat": "{{namespace}}" }],
        })
    };
    let panels = vec![
        panel(1, "Provisioner daemons per group", format!("sum by (namespace) (coderd_provisionerd_num_daemons{{{sel}}})"), "none"),
        panel(2, "Jobs running per group", format!("sum by (namespace) (coderd_provisionerd_jobs_current{{{sel}}})"), "none"),
        panel(3, "CPU per group", format!("sum by (namespace) (rate(container_cpu_usage_seconds_total{{{sel}}}[5m]))"), "none"),
        panel(4, "Memory per group", format!("sum by (namespace) (container_memory_working_set_bytes{{{sel}}})"), "bytes"),
        json!({
            "id": 5,
            "type": "logs",
            "title": "Provisioner logs, every group",
            "datasource": { "type": "loki", "uid": "loki" },
            "gridPos": { "h": 12, "w": 24, "x": 0, "y": 16 },
            "targets": [{ "refId": "A", "datasource": { "type": "loki", "uid": "loki" }, "expr": format!("{{{sel}}}") }],
        }),
    ];
    let dashboard = json!({
        "uid": "coder-gen-provisioner-groups",
        "title": "Provisioner groups",
        "tags": ["coder", "coder-gen"],
        "schemaVersion": 39,
        "time": { "from": "now-12h", "to": "now" },
        "refresh": "30s",
        "templating": { "list": [group_var] },
        "panels": panels,
    });
    // The grafana sub-chart writes `json` into ConfigMap
    // `grafana-dashboards-coder` and mounts it as one file in the `coder`
    // provider's folder (/var/lib/grafana/dashboards/coder).
    // Pretty: a multi-line string becomes a YAML block of short lines.
    let text = serde_json::to_string_pretty(&dashboard).expect("plain data always serializes to JSON");
    json!({ "coder": { "coder-gen-provisioner-groups": { "json": text } } })
}

/// The stack's secure defaults (`plan.security.observability`), merged over
/// the values above: Grafana's login, Alertmanager's receiver and its
/// mounted Secret, Loki's retention and object-store login. Lists replace
/// the chart's (receivers, Loki's extraArgs), maps merge.
fn security_values(s: &StackSecurity) -> Value {
    let g = &s.grafana;
    let mut grafana = json!({
        "env": { "GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION": g.disable_initial_admin_creation },
        "grafana.ini": { "auth.anonymous": { "enabled": g.anonymous } },
    });
    if let Some(a) = &g.admin {
        grafana["admin"] = json!({ "existingSecret": a.secret, "userKey": a.user_key, "passwordKey": a.password_key });
    }
    if let Some(o) = &g.oidc {
        grafana["envValueFrom"] =
            json!({ o.client_secret_env: { "secretKeyRef": { "name": o.client_secret.name, "key": o.client_secret.key } } });
        let mut oauth = json!({
            "enabled": true,
            "client_id": o.client_id,
            "scopes": o.scopes,
            "auth_url": o.auth_url,
            "token_url": o.token_url,
            "api_url": o.api_url,
        });
        if let Some(path) = &o.role_attribute_path {
            oauth["role_attribute_path"] = json!(path);
        }
        let ini = &mut grafana["grafana.ini"];
        ini["auth"] = json!({ "disable_login_form": o.disable_login_form });
        ini["auth.generic_oauth"] = oauth;
        ini["server"] = json!({ "root_url": o.root_url });
    }
    let mut v = json!({ "grafana": grafana });
    if let Some(r) = &s.receiver {
        let mut integration = json!({ r.file_field: r.file, "send_resolved": r.send_resolved });
        if let Some(c) = &r.channel {
            integration["channel"] = json!(c);
        }
        v["prometheus"] = json!({
            "alertmanager": {
                "config": {
                    "receivers": [{ "name": r.name, format!("{}_configs", r.kind.as_str()): [integration] }],
                    "route": { "receiver": r.name },
                },
                "extraSecretMounts": [{ "name": "receiver", "mountPath": r.mount_path, "secretName": r.secret.name, "readOnly": true }],
            },
        });
    }
    let l = &s.logs;
    let store = &l.object_store_secret;
    let from_secret = json!([{ "secretRef": { "name": store.name } }]);
    // `-config.expand-env` lets Loki read `${rootUser}`/`${rootPassword}` from
    // the Secret's variables; the chart's `-log.level=debug` is kept where it
    // set one (the list replaces the chart's).
    let mut loki = json!({
        "minio": {
            "existingSecret": store.name,
            "rootUser": format!("${{{}}}", store.user_key),
            "rootPassword": format!("${{{}}}", store.password_key),
            "users": l.minio_users,
        },
        "write": { "extraArgs": ["-log.level=debug", "-config.expand-env=true"], "extraEnvFrom": from_secret },
        "read": { "extraArgs": ["-config.expand-env=true"], "extraEnvFrom": from_secret },
        "backend": { "extraArgs": ["-log.level=debug", "-config.expand-env=true"], "extraEnvFrom": from_secret },
    });
    if let Some(period) = &l.retention_period {
        loki["loki"] = json!({
            "limits_config": { "retention_period": period },
            "compactor": { "retention_enabled": true, "delete_request_store": l.delete_request_store },
        });
    }
    v["loki"] = loki;
    v
}

pub fn render(plan: &Plan, tree: &mut Tree) {
    let (Some(stack), Some(mut v), Some(src)) = (&plan.observability.stack, values(plan), &plan.network.charts.observability) else {
        return;
    };
    // The network's keys (mirror, pull secrets, air-gapped) over the rest.
    merge(&mut v, &network::observability_values(plan));
    if let Some(s) = &plan.security.observability {
        merge(&mut v, &security_values(s));
    }
    let host = plan.credentials.admin.host_output.as_str();
    let usage = format!(
        "# Apply from the tree's root, after the database step (README) created secret {secret} in {ns}:\n\
         {repo_add}\
         #   helm upgrade --install {release} {reference} \\\n\
         #     --namespace {ns} --version {version} -f {path}{ca} \\\n\
         #     --set-string global.postgres.hostname=\"$(terraform -chdir={tf} output -raw {host})\"\n\
         # Grafana: kubectl -n {ns} port-forward svc/{grafana} 3000:80, then http://localhost:3000\n",
        secret = plan.credentials.exporter.as_ref().map_or("", |e| e.secret.name.as_str()),
        ns = stack.namespace,
        repo_add = network::helm_repo_add_comment(plan, src),
        reference = src.reference,
        ca = network::helm_ca_flag(plan),
        release = stack.release,
        version = stack.version,
        path = paths::OBSERVABILITY_VALUES,
        tf = paths::terraform_dir(plan.cloud),
        grafana = stack.grafana_service,
    );
    tree.insert(paths::OBSERVABILITY_VALUES, format!("{}{usage}{}", header(Comment::Hash, &plan.spec_file), yaml::to_yaml(&v)));
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::plan_from_str;
    use crate::test_support::spec_text;

    const GROUPS: &str =
        "provisioners:\n  - namespace: prov-a\n  - namespace: prov-b\nworkspaces:\n  - namespace: ws-a\n  - namespace: ws-b\n";

    fn values(spec: &str) -> Option<Value> {
        let plan = plan_from_str("spec.yaml", spec).unwrap();
        let tree = super::super::render(&plan);
        tree.get_str("helm/coder-observability/values.yaml").map(|t| serde_saphyr::from_str(t).unwrap())
    }

    fn spec() -> String {
        spec_text(3000, "aws") + GROUPS
    }

    #[test]
    fn namespaces_exporter_and_tolerations_follow_the_plan() {
        let v = values(&spec()).unwrap();
        let c = &v["global"]["coder"];
        assert_eq!(c["controlPlaneNamespace"], "coder");
        assert_eq!(c["externalProvisionersNamespace"], "prov-a");
        assert_eq!(c["workspacesSelector"], "namespace=~`(ws-a|ws-b)`");
        let pg = &v["global"]["postgres"];
        assert_eq!((pg["username"].as_str(), pg["sslmode"].as_str()), (Some("coder_observability"), Some("require")));
        assert_eq!(pg["mountSecret"], "coder-observability-db");
        assert!(pg.get("password").is_none());
        let t: Vec<&str> =
            v["grafana-agent"]["controller"]["tolerations"].as_array().unwrap().iter().map(|t| t["value"].as_str().unwrap()).collect();
        assert_eq!(t, ["coderd", "provisioner"]);
        assert_eq!(v["prometheus"]["server"]["retention"], "180d");
        // 4 coderd at 3k: one down notifies, two warn, none left is critical.
        let t = &c["alerts"]["coderd"]["groups"]["Replicas"]["thresholds"];
        assert_eq!((t["notify"].as_u64(), t["warning"].as_u64(), t["critical"].as_u64()), (Some(4), Some(2), Some(1)));
    }

    /// Every provisioner group is visible: the chart's panels take one
    /// namespace, so the tree adds a dashboard and alerts over all groups.
    #[test]
    fn every_provisioner_group_has_a_dashboard_and_alerts() {
        let v = values(&spec()).unwrap();
        let files = &v["prometheus"]["serverFiles"];
        let rule_files: Vec<&str> = files["prometheus.yml"]["rule_files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        assert_eq!(rule_files, ["/etc/config/alerts/*.yaml", "/etc/config/coder-gen-provisioner-groups.yml"], "the chart's own rules stay");
        let rules = files["coder-gen-provisioner-groups.yml"]["groups"][0]["rules"].as_array().unwrap();
        for ns in ["prov-a", "prov-b"] {
            let mine: Vec<&Value> = rules.iter().filter(|r| r["labels"]["namespace"] == ns).collect();
            assert_eq!(mine.len(), 2, "{ns}: warning and critical");
            assert!(mine.iter().all(|r| r["expr"].as_str().unwrap().contains(&format!("namespace=`{ns}`"))), "{ns}");
        }
        let json = v["grafana"]["dashboards"]["coder"]["coder-gen-provisioner-groups"]["json"].as_str().unwrap();
        let dashboard: Value = serde_json::from_str(json).unwrap();
        let exprs: Vec<&str> = dashboard["panels"].as_array().unwrap().iter().map(|p| p["targets"][0]["expr"].as_str().unwrap()).collect();
        assert!(exprs.iter().all(|e| e.contains("namespace=~`$group`")), "{exprs:?}");
        let group = &dashboard["templating"]["list"][0];
        assert_eq!(
            (group["name"].as_str(), group["query"].as_str(), group["includeAll"].as_bool()),
            (Some("group"), Some("prov-a,prov-b"), Some(true))
        );
        // Community: no groups, no group dashboard or rules (Grafana still
        // gets its secure login).
        let community = values(&format!("{}observability: true\ncoder:\n  license: community\n", spec_text(800, "aws"))).unwrap();
        assert!(community["prometheus"].get("serverFiles").is_none() && community["grafana"].get("dashboards").is_none());
    }

    #[test]
    fn off_below_3k_unless_asked() {
        let small = spec_text(800, "aws") + GROUPS;
        assert!(values(&small).is_none());
        let v = values(&format!("{small}observability: true\n")).unwrap();
        assert_eq!(v["global"]["coder"]["workspacesSelector"], "namespace=~`(ws-a|ws-b)`");
    }

    #[test]
    fn the_stack_logs_in_from_secrets_and_routes_alerts() {
        let v = values(&spec()).unwrap();
        let g = &v["grafana"];
        assert_eq!(g["admin"]["existingSecret"], "grafana-admin");
        // The grafana chart writes the admin env from the Secret only while this is false.
        assert_eq!(g["env"]["GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION"], false);
        assert_eq!(g["grafana.ini"]["auth.anonymous"]["enabled"], false);
        let l = &v["loki"];
        assert_eq!(l["loki"]["limits_config"]["retention_period"], "720h");
        assert_eq!(l["loki"]["compactor"]["delete_request_store"], "s3");
        assert_eq!(l["minio"]["existingSecret"], "loki-minio");
        assert_eq!(l["minio"]["rootUser"], "${rootUser}");
        assert_eq!(l["minio"]["users"], serde_json::json!([]));
        for part in ["write", "read", "backend"] {
            assert!(l[part]["extraArgs"].as_array().unwrap().iter().any(|a| a == "-config.expand-env=true"), "{part}");
            assert_eq!(l[part]["extraEnvFrom"][0]["secretRef"]["name"], "loki-minio", "{part}");
        }
        // No receiver named: the chart's default stays (and the plan warns).
        assert!(v["prometheus"].get("alertmanager").is_none());

        let oidc = "observability:\n  grafana:\n    oidc:\n      url: https://grafana.acme.com\n      client_id: grafana\n      client_secret: { secret: g, key: s }\n      auth_url: https://id.acme.com/a\n      token_url: https://id.acme.com/t\n      api_url: https://id.acme.com/u\n  alerts:\n    receiver: pagerduty\n";
        let v = values(&format!("{}{oidc}", spec())).unwrap();
        let g = &v["grafana"];
        assert!(g.get("admin").is_none());
        assert_eq!(
            g["envValueFrom"]["GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET"]["secretKeyRef"],
            serde_json::json!({ "name": "g", "key": "s" })
        );
        let ini = &g["grafana.ini"];
        assert_eq!(ini["auth"]["disable_login_form"], true);
        assert_eq!(ini["auth.generic_oauth"]["client_id"], "grafana");
        assert!(ini["auth.generic_oauth"].get("client_secret").is_none(), "the chart refuses a literal secret");
        assert_eq!(ini["server"]["root_url"], "https://grafana.acme.com");
        let am = &v["prometheus"]["alertmanager"];
        let receiver = &am["config"]["receivers"][0];
        assert_eq!(receiver["name"], "pagerduty");
        assert_eq!(receiver["pagerduty_configs"][0]["routing_key_file"], "/etc/alertmanager-receiver/routing-key");
        assert_eq!(am["config"]["route"]["receiver"], "pagerduty");
        let mount = &am["extraSecretMounts"][0];
        assert_eq!((mount["secretName"].as_str(), mount["readOnly"].as_bool()), (Some("alertmanager-receiver"), Some(true)));
    }
}
