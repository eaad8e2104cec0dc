//! Values for Coder's `coder-observability` chart (Prometheus, Grafana with
//! Coder's dashboards, Loki, the grafana-agent collector, the Postgres
//! exporters), written only when the plan turns observability on.
//!
//! Every key exists in the chart's `values.yaml` (a test keeps it so), except
//! two sub-chart keys named in `SUBCHART_KEYS` of that test. The database
//! host is not known until Terraform ran, so the helm command sets it.

use serde_json::{Value, json};

use super::{k8s, network, paths, yaml};
use crate::plan::Plan;
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
    // the same (discovery is cluster-wide).
    let provisioners = plan.provisioners.first().map_or(plan.coderd.namespace.as_str(), |g| g.namespace.as_str());
    // The collector is a DaemonSet that reads pod logs from each node, so it
    // must run on the tainted coderd and provisioner pools too.
    let tolerations: Vec<_> = plan.pools.iter().flat_map(k8s::tolerations).collect();
    Some(json!({
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
    }))
}

pub fn render(plan: &Plan, tree: &mut Tree) {
    let (Some(stack), Some(mut v), Some(src)) = (&plan.observability.stack, values(plan), &plan.network.charts.observability) else {
        return;
    };
    // The network's keys (mirror, pull secrets, air-gapped) over the rest.
    merge(&mut v, &network::observability_values(plan));
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

    #[test]
    fn off_below_3k_unless_asked() {
        let small = spec_text(800, "aws") + GROUPS;
        assert!(values(&small).is_none());
        let v = values(&format!("{small}observability: true\n")).unwrap();
        assert_eq!(v["global"]["coder"]["workspacesSelector"], "namespace=~`(ws-a|ws-b)`");
    }
}
