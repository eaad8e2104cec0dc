//! `verify/`: Kubernetes Jobs that prove the tier holds its load, run one
//! after another from the README's "Prove the tier" section:
//! create-workspaces, workspace-traffic, dashboard (`coder exp scaletest`),
//! then a judge that reads coderd's API rate and latency from Prometheus
//! (when observability is on), and cleanup.
//!
//! Least privilege: the Jobs talk to coderd's API only, so their service
//! account has no Kubernetes RBAC and no token mounted; Coder access comes
//! from an Owner's session token by secret reference. Pods pass Pod Security
//! `restricted` (the namespace enforces it).
//!
//! scaletest flags as in Coder's scaletest-runner template
//! (`scaletest/templates/scaletest-runner/scripts/run.sh`): create-workspaces
//! `--count --template --concurrency --timeout --job-timeout --no-cleanup
//! --output`, workspace-traffic `--bytes-per-tick --tick-interval --timeout
//! --job-timeout --output`, dashboard `--count --job-timeout --output`.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, EnvVar, EnvVarSource, PodSecurityContext, PodSpec, PodTemplateSpec, SeccompProfile, SecretKeySelector,
    ServiceAccount, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::k8s::{self, meta};
use super::kustomize::{BASE_DEFAULT_DENY, Kustomization, namespace};
use super::{network, paths, yaml};
use crate::plan::{Plan, PodResources, Resources, SecretRef};
use crate::tree::Tree;

/// The judge's image (`plan.verify.judge_image`: curl and a POSIX shell with
/// awk, busybox) runs as its `curl_user` (uid 100).
const JUDGE_UID: i64 = 100;
/// Coder's image runs as `coder` (uid 1000), like the charts' pods.
const CODER_UID: i64 = 1000;

fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar { name: name.into(), value: Some(value.into()), ..EnvVar::default() }
}

fn pod_security(uid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..SeccompProfile::default() }),
        ..PodSecurityContext::default()
    }
}

/// What differs between the Jobs.
pub(super) struct Step<'a> {
    name: &'a str,
    image: &'a str,
    uid: i64,
    command: Vec<String>,
    env: Vec<EnvVar>,
    cpu_millis: u32,
    memory_mib: u32,
    deadline_s: i64,
    /// Mount the private CA (Coder's CLI, a Go program, reads every file of
    /// /etc/ssl/certs); the judge only speaks plain HTTP to Prometheus.
    trusts_ca: bool,
}

impl<'a> Step<'a> {
    /// A `coder` CLI step: Coder's image as its user, with `env`; it trusts
    /// the private CA (Coder's CLI is a Go program).
    pub(super) fn coder(
        name: &'a str,
        image: &'a str,
        command: Vec<String>,
        env: Vec<EnvVar>,
        cpu_millis: u32,
        memory_mib: u32,
        deadline_s: i64,
    ) -> Step<'a> {
        Step { name, image, uid: CODER_UID, command, env, cpu_millis, memory_mib, deadline_s, trusts_ca: true }
    }
}

/// One Job in `namespace`, run as `service_account`: a single pod that is
/// not retried (a load test run twice is two different tests), bounded by
/// `deadline_s`.
pub(super) fn job(plan: &Plan, namespace: &str, service_account: &str, step: Step) -> Job {
    let Step { name, image, uid, command, env, cpu_millis, memory_mib, deadline_s, trusts_ca } = step;
    let mut mounts = vec![VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..VolumeMount::default() }];
    let mut volumes = vec![Volume { name: "tmp".into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..Volume::default() }];
    if let Some((volume, mount)) = network::ca_volume(plan).filter(|_| trusts_ca) {
        volumes.push(volume);
        mounts.push(mount);
    }
    let labels = BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), "coder-scaletest".to_string()),
        ("app.kubernetes.io/component".to_string(), name.to_string()),
    ]);
    let mut security = k8s::restricted_security_context();
    security.run_as_user = Some(uid);
    security.run_as_group = Some(uid);
    let r = Resources { cpu_millis, memory_mib };
    Job {
        metadata: meta(&format!("scaletest-{name}"), Some(namespace)),
        spec: Some(JobSpec {
            backoff_limit: Some(0),
            active_deadline_seconds: Some(deadline_s),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels), ..ObjectMeta::default() }),
                spec: Some(PodSpec {
                    service_account_name: Some(service_account.to_string()),
                    automount_service_account_token: Some(false),
                    restart_policy: Some("Never".into()),
                    security_context: Some(pod_security(uid)),
                    containers: vec![Container {
                        name: "scaletest".into(),
                        image: Some(image.into()),
                        command: Some(command),
                        env: Some(env),
                        resources: Some(k8s::resources(PodResources { requests: r, limits: r })),
                        security_context: Some(security),
                        volume_mounts: Some(mounts),
                        ..Container::default()
                    }],
                    volumes: Some(volumes),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}

/// `CODER_URL` and an Owner's session token from `token`.
pub(super) fn coder_env(coder_url: &str, token: &SecretRef) -> Vec<EnvVar> {
    vec![
        env("CODER_URL", coder_url.to_string()),
        EnvVar {
            name: "CODER_SESSION_TOKEN".into(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector { name: token.name.clone(), key: token.key.clone(), optional: None }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
    ]
}

pub(super) fn scaletest(args: &[&str]) -> Vec<String> {
    ["/opt/coder", "exp", "scaletest"].iter().chain(args).map(|s| (*s).to_string()).collect()
}

/// `coder exp scaletest create-workspaces`: `count` workspaces of
/// `template`, `concurrency` builds at once, kept for the traffic tests (the
/// primary's run and each site's).
pub(super) fn create_workspaces(count: u32, template: &str, concurrency: u32) -> Vec<String> {
    let (count, concurrency) = (count.to_string(), concurrency.to_string());
    scaletest(&[
        "create-workspaces",
        "--count",
        &count,
        "--template",
        template,
        "--concurrency",
        &concurrency,
        "--timeout",
        "5h",
        "--job-timeout",
        "5h",
        "--no-cleanup",
        "--output",
        "text",
    ])
}

/// The judge's script: peak API rate and worst p95 latency over the traffic
/// window, from Prometheus' HTTP API; exits 1 when either misses.
fn judge_script(window_minutes: u32) -> String {
    format!(
        r#"set -eu
q() {{ curl -fsS --get "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$1" | sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p'; }}
rps=$(q 'max_over_time(sum(rate(coderd_api_requests_processed_total[5m]))[{window_minutes}m:1m])')
p95=$(q 'max_over_time(histogram_quantile(0.95, sum by (le) (rate(coderd_api_request_latencies_seconds_bucket[5m])))[{window_minutes}m:1m])')
echo "coderd API: peak ${{rps:-no data}} requests/s (target $TARGET_API_RPS), worst p95 ${{p95:-no data}} s (limit $MAX_API_P95_SECONDS s)"
if awk -v r="${{rps:-0}}" -v t="$TARGET_API_RPS" -v p="${{p95:-1e9}}" -v m="$MAX_API_P95_SECONDS" 'BEGIN {{ exit !(r + 0 >= t && p + 0 <= m) }}'; then
  echo PASS
else
  echo FAIL
  exit 1
fi
"#
    )
}

pub fn render(plan: &Plan, tree: &mut Tree) {
    let v = &plan.verify;
    let root = paths::VERIFY_ROOT;
    let mut put = |path: String, text: String| tree.insert(path, text);

    // The namespace, its service account (no RBAC: the Jobs only call
    // coderd), and the shared default-deny ingress.
    let sa = ServiceAccount {
        metadata: meta(&v.service_account, Some(&v.namespace)),
        automount_service_account_token: Some(false),
        // The Jobs' pods name no pull secret: Kubernetes adds the service
        // account's.
        image_pull_secrets: network::pull_secrets(plan),
        ..ServiceAccount::default()
    };
    let base = format!("../{}/{BASE_DEFAULT_DENY}", paths::KUSTOMIZE_ROOT);
    put(
        format!("{root}/kustomization.yaml"),
        yaml::document(
            &plan.spec_file,
            &Kustomization::new(Some(&v.namespace), vec![base, "namespace.yaml".into(), "serviceaccount.yaml".into()]),
        ),
    );
    put(format!("{root}/namespace.yaml"), yaml::document(&plan.spec_file, &namespace(plan, &v.namespace, "restricted")));
    put(format!("{root}/serviceaccount.yaml"), yaml::document(&plan.spec_file, &sa));

    let hours = |h: i64| h * 3600;
    let traffic = format!("{}m", v.traffic_minutes);
    let traffic_job = format!("{}m30s", v.traffic_minutes);
    let bytes = v.traffic_bytes_per_tick.to_string();
    let sessions = v.dashboard_sessions.to_string();
    let coder = |name, command, cpu_millis, memory_mib, deadline_s| {
        Step::coder(name, &v.image, command, coder_env(&v.coder_url, &v.token_secret), cpu_millis, memory_mib, deadline_s)
    };
    let mut steps = vec![
        coder("create-workspaces", create_workspaces(v.workspaces, &v.template, v.concurrency), 1000, 2048, hours(6)),
        coder(
            "workspace-traffic",
            scaletest(&[
                "workspace-traffic",
                "--bytes-per-tick",
                &bytes,
                "--tick-interval",
                v.traffic_tick_interval,
                "--timeout",
                &traffic,
                "--job-timeout",
                &traffic_job,
                "--output",
                "text",
            ]),
            2000,
            4096,
            hours(1),
        ),
        coder(
            "dashboard",
            scaletest(&["dashboard", "--count", &sessions, "--job-timeout", &traffic, "--output", "text"]),
            2000,
            4096,
            hours(1),
        ),
    ];
    if let (Some(url), Some(image)) = (&v.prometheus_url, &v.judge_image) {
        steps.push(Step {
            name: "judge",
            image,
            uid: JUDGE_UID,
            command: vec!["/bin/sh".into(), "-c".into(), judge_script(v.traffic_minutes + 5)],
            env: vec![
                env("PROMETHEUS_URL", url.clone()),
                env("TARGET_API_RPS", v.target_api_rps.to_string()),
                env("MAX_API_P95_SECONDS", format!("{}", f64::from(v.max_api_p95_ms) / 1000.0)),
            ],
            cpu_millis: 100,
            memory_mib: 64,
            deadline_s: 600,
            trusts_ca: false,
        });
    }
    steps.push(coder("cleanup", scaletest(&["cleanup"]), 500, 512, hours(2)));
    let jobs: Vec<(&str, Job)> = steps.into_iter().map(|s| (s.name, job(plan, &v.namespace, &v.service_account, s))).collect();
    for (name, j) in jobs {
        let dir = format!("{root}/{name}");
        put(
            format!("{dir}/kustomization.yaml"),
            yaml::document(&plan.spec_file, &Kustomization::new(Some(&v.namespace), vec!["job.yaml".into()])),
        );
        put(format!("{dir}/job.yaml"), yaml::document(&plan.spec_file, &j));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::plan_from_str;
    use crate::test_support::spec_text;
    use crate::tree::Tree;

    fn render(spec: &str) -> Tree {
        super::super::render(&plan_from_str("spec.yaml", spec).unwrap())
    }

    fn job(tree: &Tree, name: &str) -> Value {
        serde_saphyr::from_str(tree.get_str(&format!("verify/{name}/job.yaml")).unwrap()).unwrap()
    }

    fn spec() -> String {
        spec_text(3000, "gcp")
    }

    #[test]
    fn jobs_are_sized_from_the_plan_and_least_privileged() {
        let plan = crate::plan_from_str("spec.yaml", &spec()).unwrap();
        let tree = render(&spec());
        let create = job(&tree, "create-workspaces");
        let args: Vec<&str> = create["spec"]["template"]["spec"]["containers"][0]["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let after = |flag: &str| args[args.iter().position(|a| *a == flag).unwrap() + 1];
        assert_eq!(&args[..4], ["/opt/coder", "exp", "scaletest", "create-workspaces"]);
        assert_eq!(after("--count"), "3000");
        assert_eq!(after("--concurrency"), plan.total_provisioners().to_string());
        assert!(args.contains(&"--no-cleanup"));
        for name in ["create-workspaces", "workspace-traffic", "dashboard", "judge", "cleanup"] {
            let j = job(&tree, name);
            let pod = &j["spec"]["template"]["spec"];
            assert_eq!(j["metadata"]["namespace"], "coder-verify", "{name}");
            assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
            assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
            let c = &pod["containers"][0];
            assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false, "{name}");
            assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL", "{name}");
            assert_eq!(c["securityContext"]["seccompProfile"]["type"], "RuntimeDefault", "{name}");
            assert_eq!(j["spec"]["backoffLimit"], 0, "{name}");
        }
        let judge = job(&tree, "judge");
        let env = &judge["spec"]["template"]["spec"]["containers"][0]["env"];
        assert_eq!(env[1], serde_json::json!({"name": "TARGET_API_RPS", "value": "550"}));
        let token = &job(&tree, "workspace-traffic")["spec"]["template"]["spec"]["containers"][0]["env"][1];
        assert_eq!(token["valueFrom"]["secretKeyRef"]["name"], "coder-scaletest-token");
        // No RBAC object at all, and the Jobs stay out of `kubectl apply -k kustomize`.
        assert!(!tree.iter().any(|(p, t)| p.starts_with("verify/") && std::str::from_utf8(t).unwrap().contains("kind: Role")));
        assert!(!tree.get_str("kustomize/kustomization.yaml").unwrap().contains("verify"));
    }

    #[test]
    fn no_judge_without_prometheus() {
        let tree = render(&spec_text(500, "gcp"));
        assert!(tree.get("verify/judge/job.yaml").is_none());
        assert!(tree.get("verify/workspace-traffic/job.yaml").is_some());
    }
}
