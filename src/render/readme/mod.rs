//! The tree's own README.md: what was generated, why, how to apply it, and
//! which secrets to create by hand (secrets are never written to the tree).
//!
//! The words are templates (`templates/readme/README.md.j2` and the
//! sections it includes; per-cloud prose in `templates/readme/<cloud>/`).
//! They read the Plan and its [`view::ReadmeView`]: the lists, spelled
//! quantities and ordered steps the document shows, read from plan fields.
//! Neither decides anything: a fact the README needs that is not a plain
//! read of the plan becomes a plan field with a reason.

mod view;

pub(super) use view::{EnvSecret, PoolRow, UpgradeSite, env_secrets_of, upgrade_rows};

use minijinja::context;
use minijinja::value::{Serde, Value};

use super::{paths, template};
use crate::plan::Plan;
use crate::tree::{Comment, Tree, header};

pub fn render(plan: &Plan, tree: &mut Tree) {
    let text = template::render("readme/README.md", &context(plan));
    tree.insert(paths::README, header(Comment::Html, &plan.spec_file) + &text);
}

/// What every README template reads: the plan, and the view of it.
fn context(plan: &Plan) -> Value {
    context! { plan => Value::from(Serde(plan)), view => Value::from(Serde(view::ReadmeView::from(plan))) }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn plan(spec: &str) -> crate::plan::Plan {
        crate::plan_from_str("spec.yaml", spec).unwrap()
    }

    const SPEC: &str = "name: acme\nusers: 3000\ncloud: aws\nregion: us-east-1\naccess_url: https://coder.acme.com\n";

    fn readme(p: &crate::plan::Plan) -> String {
        crate::render::render(p).get_str("README.md").unwrap().to_string()
    }

    /// The database step of the README, title to the next step (coderd's).
    fn database_step(readme: &str) -> &str {
        let start = readme.find("Database roles and the database URL secret").expect("a database step");
        let end = start + readme[start..].find("coderd (chart version pinned").expect("coderd's step follows");
        &readme[start..end]
    }

    #[test]
    fn setup_pod_passes_restricted_and_holds_no_secret() {
        let p = plan(SPEC);
        let overrides = super::view::setup_pod_overrides(&p);
        assert!(database_step(&readme(&p)).contains(&format!("--overrides='{overrides}'")));
        let o: Value = serde_json::from_str(&overrides).unwrap();
        let pod = &o["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
        let c = &pod["containers"][0];
        assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(c["securityContext"]["capabilities"]["drop"], serde_json::json!(["ALL"]));
        assert_eq!(c["securityContext"]["runAsUser"], 70);
        assert_eq!(c["stdin"], true);
        // Host, user and password arrive on stdin; the spec holds none.
        assert_eq!(c["env"], serde_json::json!([{"name": "PGSSLMODE", "value": "require"}]));
        assert!(!o.to_string().contains('\''), "the overrides are quoted with ' in the README");
    }

    #[test]
    fn order_installs_what_a_file_needs_first() {
        let o = readme(&plan(&format!("{SPEC}observability:\n  prometheus_operator:\n    enabled: true\n")));
        let at = |needle: &str| o.find(needle).unwrap_or_else(|| panic!("no {needle:?}"));
        // The operator's CRDs before the ServiceMonitors' apply is read; the
        // exporter's secret before the chart; the chart before proving.
        assert!(at("the Prometheus Operator and its CRDs") < at("   kubectl apply -k kustomize\n"));
        assert!(at("create secret generic coder-observability-db") < at("helm upgrade --install coder-observability"));
        assert!(at("helm upgrade --install coder-observability") < at("kubectl apply -k verify/judge"));
        assert!(at("create secret generic coder-scaletest-token") < at("kubectl apply -k verify/create-workspaces"));
        // The CLI ends the token with a newline; the Secret must not.
        assert!(o.contains("coder tokens create --name scaletest --lifetime 24h | tr -d '\\n' | kubectl"));
        // `coder.env`'s secrets before coderd starts.
        let env =
            readme(&plan(&format!("{SPEC}coder:\n  env:\n    CODER_OIDC_CLIENT_SECRET: {{ secret: coder-oidc, key: client-secret }}\n")));
        let at = |needle: &str| env.find(needle).unwrap_or_else(|| panic!("no {needle:?}"));
        assert!(at("kubectl create secret generic coder-oidc -n coder") < at("helm upgrade --install coder coder-v2/coder"));
    }

    #[test]
    fn database_step_reads_the_admin_at_run_time_and_writes_nothing() {
        for (cloud, region, admin, role) in [
            ("aws", "us-east-1", "aws secretsmanager get-secret-value", "coderd"),
            ("gcp", "us-central1", "--prompt-for-password", "coder"),
            ("azure", "eastus", "az keyvault secret show", "coder"),
        ] {
            let p = plan(&SPEC.replace("aws", cloud).replace("us-east-1", region));
            assert_eq!(p.credentials.coder_role, role);
            let readme = readme(&p);
            let o = database_step(&readme);
            assert!(o.contains(admin), "{cloud}");
            // One subshell that stops at the first failure, SQL in one
            // transaction, the role made only if missing and never the admin.
            assert!(o.contains("   ```sh\n   (\n   set -euo pipefail\n"), "{cloud}: {o}");
            assert!(o.contains("\n   )\n   ```\n"), "{cloud}: {o}");
            assert!(o.contains("\"$ADMIN_PASSWORD\" 'BEGIN;'") && o.contains("'COMMIT;' \\\n   | kubectl run"), "{cloud}: {o}");
            assert!(
                o.contains(&format!("'DO $do$BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN IF (SELECT rolsuper")),
                "{cloud}: {o}"
            );
            assert!(o.contains(&format!("'\\password {role}'")), "{cloud}: {o}");
            assert!(o.contains(&format!("postgres://{role}:")), "{cloud}");
            // The pre-check comes before anything that changes a thing.
            let check = o.find("get secret coder-db-url --ignore-not-found").expect("the pre-check");
            assert!(check < o.find("kubectl create namespace").unwrap() && check < o.find("DB_HOST=").unwrap(), "{cloud}");
            assert!(o.contains("--from-file=url=/dev/stdin"), "{cloud}");
            assert!(
                !o.contains("--from-literal") && !o.contains("> ") && !o.contains("read -rs -p 'PostgreSQL"),
                "{cloud}: nothing on disk or in argv"
            );
            assert!(o.contains("coder_observability"), "{cloud}: 3k has the exporter role");
            assert!(!o.contains("unset "), "{cloud}: the subshell's variables die with it");
        }
        for (cloud, region, store) in [
            ("aws", "us-east-1", "aws secretsmanager create-secret --name acme-coder-db-url --secret-string file:///dev/stdin"),
            ("gcp", "us-central1", "gcloud secrets create acme-coder-db-url --data-file=-"),
            ("azure", "eastus", "az keyvault secret set --vault-name \"$KEY_VAULT\" --name acme-coder-db-url --file /dev/stdin"),
        ] {
            let spec =
                format!("{}secrets:\n  manager: external-secrets\n  store: sm\n", SPEC.replace("aws", cloud).replace("us-east-1", region));
            let readme = readme(&plan(&spec));
            let o = database_step(&readme);
            assert!(o.contains(&format!("     | {store}\n")), "{cloud}: {o}");
            assert!(o.contains("   if ") && o.contains(" acme-coder-db-url "), "{cloud}: the store is checked first: {o}");
            assert!(!o.contains("create secret generic coder-db-url"), "{cloud}: the URL goes to the secret manager only");
        }
    }

    /// The README never promises more point-in-time recovery than the cloud
    /// keeps: Cloud SQL's window is its days of transaction logs (7), not the
    /// 14 days of backups.
    #[test]
    fn backups_promise_what_the_cloud_keeps() {
        for (cloud, region, line) in [
            ("gcp", "us-central1", "backups kept 14 days, point-in-time recovery to any moment of the last 7 days."),
            ("aws", "us-east-1", "backups kept 14 days, point-in-time recovery to any moment of the last 14 days."),
            (
                "azure",
                "eastus",
                "backups kept 14 days, point-in-time recovery to any moment of the last 14 days, backups copied to the region's pair.",
            ),
        ] {
            let o = readme(&plan(&SPEC.replace("aws", cloud).replace("us-east-1", region)));
            assert!(o.contains(line), "{cloud}");
            assert!(!o.contains("days with point-in-time recovery"), "{cloud}");
        }
    }

    /// One `coder.chart_version` drives every Coder release of the tree: the
    /// README's helm commands, the Flux HelmReleases, the Argo CD
    /// Applications and the verification image; nothing keeps the old pin.
    #[test]
    fn one_chart_version_drives_every_release() {
        for gitops in [
            "",
            "gitops:\n  controller: flux\n  repo_url: https://g.example/r.git\n",
            "gitops:\n  controller: argocd\n  repo_url: https://g.example/r.git\n",
        ] {
            let spec =
                format!("{SPEC}coder:\n  chart_version: \"2.34.5\"\nprovisioners:\n  - namespace: prov-a\n  - namespace: prov-b\n{gitops}");
            let tree = crate::render_str("spec.yaml", &spec).unwrap();
            for (path, bytes) in tree.iter() {
                let text = String::from_utf8_lossy(bytes);
                assert!(!text.contains("2.33.6"), "{gitops}{path} keeps the old pin");
            }
            let readme = tree.get_str("README.md").unwrap();
            let helm: Vec<&str> = readme.lines().filter(|l| l.contains("helm upgrade") && l.contains("coder-v2/")).collect();
            assert!(helm.len() >= if gitops.is_empty() { 6 } else { 3 }, "{helm:?}");
            assert!(helm.iter().all(|l| l.contains("--version 2.34.5")), "{helm:?}");
            let pins = tree.iter().filter(|(p, b)| p.starts_with("gitops/") && String::from_utf8_lossy(b).contains("2.34.5")).count();
            assert_eq!(pins, if gitops.is_empty() { 0 } else { 3 }, "{gitops}: coderd's and both groups' objects");
        }
    }

    /// The upgrade runbook: backup with the cloud's own command before
    /// coderd, coderd before the provisioners, and a restore to a new
    /// instance.
    #[test]
    fn upgrade_section_per_cloud() {
        for (cloud, region, backup, restore) in [
            ("gcp", "us-central1", "gcloud sql backups create --instance=", "gcloud sql instances clone"),
            ("aws", "us-east-1", "aws rds wait db-snapshot-available --db-snapshot-identifier", "--db-parameter-group-name"),
            (
                "azure",
                "eastus",
                "az postgres flexible-server backup create -g \"$RG\" -s \"$SERVER\"",
                "az postgres flexible-server restore",
            ),
        ] {
            let o = readme(&plan(&SPEC.replace("aws", cloud).replace("us-east-1", region)));
            let start = o.find("## Upgrade Coder").expect("the section");
            let u = &o[start..start + o[start..].find("\n## ").unwrap()];
            let at = |needle: &str| u.find(needle).unwrap_or_else(|| panic!("{cloud}: no {needle:?}"));
            assert!(at(backup) < at("scale deployment coder --replicas=0"), "{cloud}");
            assert!(at("helm upgrade coder coder-v2/coder") < at("helm upgrade coder-provisioner"), "{cloud}");
            assert!(at(restore) > at("helm upgrade coder-provisioner"), "{cloud}");
            assert!(u.contains("schema_migrations"), "{cloud}");
        }
    }

    /// The specs `.ci/check-database.sh` renders for the kinds no golden tree
    /// has: each renders, with its store in the database step.
    #[test]
    fn database_variants_render_with_their_store() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/database-variants");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let p = plan(&std::fs::read_to_string(&path).unwrap());
            assert!(p.credentials.external_secrets.is_some(), "{}", path.display());
            let o = readme(&p);
            assert!(database_step(&o).contains("globex-coder-db-url"), "{}", path.display());
            n += 1;
        }
        assert_eq!(n, 5);
    }

    /// The templates picked by name at render time: every cloud has its
    /// prose, both controllers their section.
    #[test]
    fn every_template_picked_by_name_exists() {
        let env = crate::render::template::environment().unwrap();
        let mut names: Vec<String> = Vec::new();
        for cloud in ["gcp", "aws", "azure"] {
            for part in ["preflight", "tier_changes", "infra_note", "database", "_secret_manager", "upgrade_backup", "upgrade_restore"] {
                names.push(format!("readme/{cloud}/{part}.md"));
            }
        }
        names.extend(["flux", "argocd"].map(|c| format!("readme/gitops_{c}.md")));
        for name in names {
            env.get_template(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    /// The plan's `prefix_delegation` puts VPC CNI prefix delegation
    /// into Preflight and the infrastructure step, and only then.
    #[test]
    fn prefix_delegation_follows_the_plan() {
        let variant = include_str!("../../../tests/data/terraform-variants/aws-m5-4xlarge-workspace.yaml");
        for (spec, needed) in [(variant, true), (SPEC, false)] {
            let p = plan(spec);
            assert_eq!(p.prefix_delegation.needed, needed);
            let readme = crate::render::render(&p).get_str("README.md").unwrap().to_string();
            assert_eq!(readme.contains("- **VPC CNI prefix delegation** (`ENABLE_PREFIX_DELEGATION=true` on `aws-node`)"), needed);
            assert_eq!(readme.contains("which needs VPC CNI prefix delegation (`ENABLE_PREFIX_DELEGATION=true`"), needed);
        }
    }

    /// The observability Secrets step: before the chart, every value from
    /// stdin (generated or typed), and the README says how to log in.
    #[test]
    fn observability_secrets_come_from_stdin_before_the_chart() {
        let o = readme(&plan(SPEC));
        let start = o.find("Observability Secrets in namespace").expect("a secrets step");
        let step = &o[start..start + o[start..].find("\n12. ").unwrap_or(o.len() - start)];
        assert!(step.contains("create secret generic grafana-admin --from-literal=admin-user=admin --from-file=admin-password=/dev/stdin"));
        assert!(step.contains("create secret generic loki-minio --from-literal=rootUser=loki --from-file=rootPassword=/dev/stdin"));
        assert!(step.contains("printf '%s' \"$(openssl rand -hex"), "generated, piped");
        assert!(!step.contains("> ") && !step.contains("echo $"), "nothing on disk or echoed");
        assert!(o.find("create secret generic loki-minio").unwrap() < o.find("helm upgrade --install coder-observability").unwrap());
        assert!(o.contains("get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d"), "how to log in");
        assert!(o.contains("Alerts go **nowhere**"));

        let spec = format!("{SPEC}observability:\n  alerts:\n    receiver: slack\n");
        let o = readme(&plan(&spec));
        assert!(o.contains("read -rs -p 'Slack webhook URL: ' ALERT_RECEIVER; echo"));
        assert!(o.contains("printf '%s' \"$ALERT_RECEIVER\" \\\n     | kubectl -n coder-observability create secret generic alertmanager-receiver --from-file=url=/dev/stdin"));
        assert!(o.contains("unset ALERT_RECEIVER\n"));
        assert!(o.contains("Alertmanager sends every alert of the chart (and resolved ones) to Slack"));
    }
}
