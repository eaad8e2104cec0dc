//! What the README templates read besides the Plan itself: every list,
//! formatted quantity and grouping the document shows, each one plain read
//! of plan fields. The view renames and groups; it decides nothing (a fact
//! that is not a plain read of the plan becomes a plan field with a reason).

use serde::Serialize;

use super::super::{k8s, paths};
use crate::plan::{Plan, SecretRef};

#[derive(Serialize)]
pub struct ReadmeView<'a> {
    /// Where the tree's files are (`render/paths.rs`).
    pub paths: Paths,
    /// The psql pod's `kubectl run --overrides` (JSON).
    pub setup_pod_overrides: String,
    /// Coder's database URL secret, and the exporters' password secret.
    pub db_url: Stored<'a>,
    pub exporter_secret: Option<Stored<'a>>,
}

/// A secret the README's commands create from stdin: a Kubernetes secret,
/// or (with External Secrets) the secret manager entry `remote_key` that
/// the overlays' ExternalSecret turns into it.
#[derive(Serialize)]
pub struct Stored<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub key: &'a str,
    pub remote_key: Option<&'a str>,
}

#[derive(Serialize)]
pub struct Paths {
    pub terraform: String,
    pub kustomize: &'static str,
    pub coder_values: &'static str,
    pub observability_values: &'static str,
    pub cluster_autoscaler_values: &'static str,
    pub verify: &'static str,
    pub entry: &'static str,
    pub gateway: &'static str,
    pub sizing: &'static str,
    pub gitops_flux: &'static str,
    pub gitops_argocd: &'static str,
}

impl<'a> ReadmeView<'a> {
    pub fn from(p: &'a Plan) -> ReadmeView<'a> {
        let cr = &p.credentials;
        ReadmeView {
            paths: Paths {
                terraform: paths::terraform_dir(p.cloud),
                kustomize: paths::KUSTOMIZE_ROOT,
                coder_values: paths::CODER_VALUES,
                observability_values: paths::OBSERVABILITY_VALUES,
                cluster_autoscaler_values: paths::CLUSTER_AUTOSCALER_VALUES,
                verify: paths::VERIFY_ROOT,
                entry: paths::ENTRY_DIR,
                gateway: paths::GATEWAY,
                sizing: paths::SIZING,
                gitops_flux: paths::GITOPS_FLUX,
                gitops_argocd: paths::GITOPS_ARGOCD,
            },
            setup_pod_overrides: setup_pod_overrides(p),
            db_url: stored(p, &p.coderd.namespace, &p.database.url_secret),
            exporter_secret: cr.exporter.as_ref().map(|e| stored(p, &e.namespace, &e.secret)),
        }
    }
}

/// `secret` in `namespace`, with the remote key of the ExternalSecret that
/// fills it, if the plan has one.
fn stored<'a>(p: &'a Plan, namespace: &'a str, secret: &'a SecretRef) -> Stored<'a> {
    let remote_key = p
        .credentials
        .external_secrets
        .as_ref()
        .and_then(|e| e.secrets.iter().find(|s| s.namespace == namespace && s.secret.name == secret.name))
        .map(|s| s.remote_key.as_str());
    Stored { namespace, name: &secret.name, key: &secret.key, remote_key }
}

/// The `--overrides` of the psql pod that creates the database roles: Pod
/// Security `restricted` (non-root as the image's `postgres` user, no
/// privilege escalation, no capabilities, RuntimeDefault seccomp), stdin
/// attached. The pod reads host, admin user and admin password from its
/// first three stdin lines, so none of them is in the pod spec.
pub fn setup_pod_overrides(p: &Plan) -> String {
    use k8s_openapi::api::core::v1::{Container, EnvVar, Pod, PodSecurityContext, PodSpec, SeccompProfile};
    let s = &p.credentials.setup_pod;
    let mut security = k8s::restricted_security_context();
    security.run_as_user = Some(s.run_as_user);
    security.run_as_group = Some(s.run_as_user);
    let script = format!(
        "IFS= read -r PGHOST && IFS= read -r PGUSER && IFS= read -r PGPASSWORD && export PGHOST PGUSER PGPASSWORD && exec psql -v ON_ERROR_STOP=1 -d {}",
        p.credentials.database
    );
    let pod = Pod {
        spec: Some(PodSpec {
            automount_service_account_token: Some(false),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..SeccompProfile::default() }),
                ..PodSecurityContext::default()
            }),
            containers: vec![Container {
                name: s.name.clone(),
                image: Some(s.image.clone()),
                command: Some(vec!["sh".into(), "-c".into(), script]),
                env: Some(vec![EnvVar { name: "PGSSLMODE".into(), value: Some(p.credentials.sslmode.into()), ..EnvVar::default() }]),
                stdin: Some(true),
                stdin_once: Some(true),
                security_context: Some(security),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    };
    // Plain data: always serializes.
    serde_json::to_string(&pod).expect("a Pod serializes to JSON")
}
