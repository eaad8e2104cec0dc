//! Proving the tier: Kubernetes Jobs that run `coder exp scaletest` against
//! the live deployment, sized from the plan (workspaces = the spec's users,
//! creation concurrency = the provisioners that build them), and the pass
//! threshold (the tier's target API RPS at Coder's latency goal).
//!
//! Flags follow Coder's scaletest-runner template
//! (`scaletest/templates/scaletest-runner/scripts/run.sh`) and the
//! scale-testing docs (coder-facts section 2a, 9).

use serde::Serialize;

use super::{Ctx, Reasons, SecretRef, VERIFY_NAMESPACE, coderd::Coderd, network::Network, observability::Observability};

#[derive(Debug, Clone, Serialize)]
pub struct Verify {
    pub namespace: String,
    pub service_account: String,
    /// Coder's own image at the chart's version (it runs as uid 1000).
    pub image: String,
    /// The judge's image (curl and a busybox shell; `null` without
    /// observability, when there is no judge).
    pub judge_image: Option<String>,
    pub coder_url: String,
    /// Session token of an Owner (`coder tokens create`), by reference only.
    pub token_secret: SecretRef,
    /// The template the scaletest workspaces use (pushed by the operator).
    pub template: String,
    pub workspaces: u32,
    pub concurrency: u32,
    /// Workspace traffic: bytes per tick and tick interval (web terminal).
    pub traffic_bytes_per_tick: u32,
    pub traffic_tick_interval: &'static str,
    pub traffic_minutes: u32,
    /// Dashboard sessions (headless browsers).
    pub dashboard_sessions: u32,
    /// Pass: coderd served at least this many API requests per second
    /// during the traffic test...
    pub target_api_rps: u32,
    /// ...with the 95th-percentile API latency at or below this.
    pub max_api_p95_ms: u32,
    /// Prometheus the judge Job queries (`null` when observability is off:
    /// read the numbers from your own monitoring).
    pub prometheus_url: Option<String>,
    pub reasons: Reasons,
}

/// `workspaces`: one per user whose workspaces run in the primary (all of
/// them without sites; each site's run creates its own).
pub(crate) fn plan(
    ctx: &Ctx,
    coderd: &Coderd,
    total_provisioners: u32,
    workspaces: u32,
    observability: &Observability,
    network: &Network,
) -> Verify {
    let tier = ctx.tier;
    let users = ctx.users();
    let concurrency = total_provisioners.min(workspaces).max(1);
    // Dashboards are opened by a fraction of users at once; each session is a
    // browser in the Job's pod, so keep it bounded.
    let dashboard_sessions = (users / 20).clamp(1, 100);
    let mut r = Reasons::new();
    r.insert("namespace", "a namespace of its own (Pod Security restricted), admitted to coderd like the workspace namespaces".into());
    r.insert(
        "image",
        "Coder's image at the chart's version: the CLI matches the server (from the registry mirror when network.registry is set)".into(),
    );
    r.insert(
        "dashboard_sessions",
        "users / 20 concurrent dashboard sessions, 1 to 100; `coder exp scaletest dashboard` drives a headless Chromium (chromedp), so its Job needs an image with Chromium added to Coder's (the README says how)".into(),
    );
    r.insert("coder_url", "coderd's in-cluster Service, as the provisioners use".into());
    r.insert(
        "workspaces",
        if workspaces == users {
            format!("one scaletest workspace per planned user ({users})")
        } else {
            format!("one scaletest workspace per user whose workspaces run in the primary ({workspaces} of {users}); each site's own run creates the rest")
        },
    );
    r.insert("concurrency", format!("as many concurrent builds as provisioners ({total_provisioners}), at most one per workspace"));
    r.insert("traffic_bytes_per_tick", "Coder's scaletest-runner web-terminal traffic: 10240 bytes every 1s per workspace".into());
    r.insert("traffic_minutes", "long enough for a steady rate over Prometheus' 5-minute windows".into());
    r.insert("target_api_rps", format!("tier {}: the reference architecture's target API load", tier.id));
    r.insert("max_api_p95_ms", "Coder's scale-testing docs: API calls should answer within 300 ms".into());
    let prometheus_url = observability.stack.as_ref().map(|s| format!("http://prometheus.{}.svc", s.namespace));
    r.insert(
        "prometheus_url",
        match prometheus_url {
            Some(_) => "the coder-observability chart's Prometheus (fullnameOverride prometheus, port 80) receives coderd's metrics".into(),
            None => {
                "observability is off: no Prometheus to judge by; read coderd_api_requests_processed_total from your own monitoring".into()
            }
        },
    );
    Verify {
        namespace: VERIFY_NAMESPACE.into(),
        service_account: "coder-scaletest".into(),
        image: network.images["coder"].reference.clone(),
        judge_image: network.images.get("judge").map(|i| i.reference.clone()),
        coder_url: coderd.service_url.clone(),
        token_secret: SecretRef { name: "coder-scaletest-token".into(), key: "token".into() },
        template: "scaletest".into(),
        workspaces,
        concurrency,
        traffic_bytes_per_tick: 10240,
        traffic_tick_interval: "1s",
        traffic_minutes: 30,
        dashboard_sessions,
        target_api_rps: tier.target_api_rps,
        max_api_p95_ms: 300,
        prometheus_url,
        reasons: r,
    }
}
