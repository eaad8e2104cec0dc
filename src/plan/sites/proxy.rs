//! A site's workspace proxy: the `coder` chart in proxy mode in the site's
//! cluster. Size and replicas from the tier's "Workspace proxy (per
//! region)" row (catalog/tiers.yaml; 1k: Coder's formula), one proxy per
//! node of a fixed pool, its own URL and wildcard, TLS served by the proxy
//! on its own LoadBalancer Service, the session token by secret reference.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::capacity::{Resources, floor_to, node_capacity};
use crate::plan::entry::{CODERD_HTTP_PORT, CODERD_TLS_PORT, Certificate, UserSecret, certificates, host_of};
use crate::plan::security::{Hsts, Security};
use crate::plan::{Ctx, Findings, PodResources, Pool, Reasons, Role, SecretRef, WarningCode, pools};
use crate::spec::{DEFAULT_PROXY_ICON, Site, SiteCloud, default_proxy_url, default_proxy_wildcard};

/// The proxy's namespace and Helm release in the site's cluster: not
/// `coder`, so a kube context pointed at the wrong cluster shows at once
/// (and the chart's default anti-affinity, which matches the release
/// `coder` literally, is replaced by the plan's own).
pub const PROXY_NAMESPACE: &str = "coder-proxy";

#[derive(Debug, Clone, Serialize)]
pub struct Proxy {
    /// `coder wsproxy create --name`: the site's name.
    pub name: String,
    pub display_name: String,
    pub icon: String,
    pub namespace: String,
    pub release: String,
    pub replicas: u32,
    /// requests = limits (Guaranteed, as coderd).
    pub resources: PodResources,
    /// Several replicas: one per node, a PodDisruptionBudget, and the
    /// replicas' DERP mesh on the HTTP port.
    pub high_availability: bool,
    pub access_url: String,
    pub wildcard_access_url: String,
    pub host: String,
    pub wildcard_host: String,
    /// `CODER_PRIMARY_ACCESS_URL`: where the proxy registers.
    pub primary_access_url: String,
    /// The session token `coder wsproxy create` prints, by reference.
    pub token_secret: SecretRef,
    pub service_type: String,
    pub service_annotations: BTreeMap<String, String>,
    pub external_traffic_policy: String,
    /// TLS secrets the proxy mounts and serves (`coder.tls.secretNames`).
    pub tls_secrets: Vec<String>,
    /// Port in the proxy's pod that users, agents and the primary's health
    /// check reach (the Service's 443).
    pub user_port: u16,
    /// The chart's HTTP port: the replicas' DERP mesh
    /// (`CODER_DERP_SERVER_RELAY_URL=http://<pod IP>:8080`).
    pub mesh_port: u16,
    pub certificates: Vec<Certificate>,
    pub user_secrets: Vec<UserSecret>,
    /// `CODER_DISABLE_PATH_APPS`: a proxy always has a wildcard URL, so
    /// path-based apps are off unless `security.path_apps` keeps them.
    pub disable_path_apps: bool,
    /// `CODER_STRICT_TRANSPORT_SECURITY` (and `_OPTIONS`), as coderd's.
    pub hsts: Option<Hsts>,
    /// DNS records at the proxy's load balancer.
    pub dns_names: Vec<String>,
    pub address_command: String,
    pub reasons: Reasons,
}

/// The proxy of `site` and its pool, on `ctx` (the site's context). `shared`:
/// a pod every proxy node also runs (an EKS site's Cluster Autoscaler).
pub(crate) fn plan(
    ctx: &Ctx,
    site: &Site,
    primary_access_url: &str,
    security: &Security,
    shared: Option<(&str, Resources)>,
    found: &mut Findings,
) -> (Proxy, Pool) {
    let (tier, m) = (ctx.tier, ctx.machines.coderd);
    let row = &tier.proxy;
    let site_name = &site.name.value;
    let mut r = Reasons::new();

    // Each replica: the row's size; or, with a formula, the site's total
    // (`vcpu` / `memory_gb` per `per_users` users) spread over the
    // replicas, at least the row's size each.
    let wanted = match row.per_users {
        None => Resources { cpu_millis: row.vcpu * 1000, memory_mib: row.memory_gb * 1024 },
        Some(n) => {
            let k = site.users.value.div_ceil(n.max(1)).max(1);
            let each = |total: u32, step: u32, min: u32| (total.div_ceil(row.replicas.max(1)).div_ceil(step) * step).max(min);
            Resources {
                cpu_millis: each(row.vcpu * k * 1000, 100, row.vcpu * 1000),
                memory_mib: each(row.memory_gb * k * 1024, 256, row.memory_gb * 1024),
            }
        }
    };
    let mp = pools::max_pods(ctx, m, 1, 1, "a Job or debug pod", u32::MAX);
    let cap = node_capacity(ctx.rules, m, mp.value);
    let room = cap.schedulable.saturating_sub(shared.map_or(Resources { cpu_millis: 0, memory_mib: 0 }, |(_, r)| r));
    let fit = Resources { cpu_millis: floor_to(room.cpu_millis, 100), memory_mib: floor_to(room.memory_mib, 256) };
    let res = Resources { cpu_millis: wanted.cpu_millis.min(fit.cpu_millis), memory_mib: wanted.memory_mib.min(fit.memory_mib) };
    let formula = match row.per_users {
        Some(n) => format!(
            "{} vCPU and {} GB per {n} of the site's {} users, over {} replicas (at least {} vCPU / {} GB each): {}m / {} MiB per replica",
            row.vcpu, row.memory_gb, site.users.value, row.replicas, row.vcpu, row.memory_gb, wanted.cpu_millis, wanted.memory_mib
        ),
        None => format!("{}m / {} MiB per replica", wanted.cpu_millis, wanted.memory_mib),
    };
    r.insert(
        "resources",
        format!(
            "tier {}: {} ({}); {formula}; requests = limits (Guaranteed, as coderd), at most what one {} node schedules ({}m / {} MiB{}, rounded down to 100m / 256 MiB)",
            tier.id,
            row.reason,
            row.source,
            m.name,
            cap.schedulable.cpu_millis,
            cap.schedulable.memory_mib,
            shared.map_or(String::new(), |(n, s)| format!(" minus {n} {}m / {} MiB", s.cpu_millis, s.memory_mib))
        ),
    );
    if !wanted.within(res) {
        found.warn(
            WarningCode::ProxyBelowSizing,
            format!(
                "site {site_name}: the tier's workspace proxy is {}m / {} MiB per replica, but a {} node schedules {}m / {} MiB after system reserve, daemonsets and headroom, so each proxy gets that; set sites[].machine_types.proxy to a larger type for the full size",
                wanted.cpu_millis, wanted.memory_mib, m.name, res.cpu_millis, res.memory_mib
            ),
        );
    }
    let replicas = row.replicas;
    r.insert(
        "replicas",
        format!(
            "tier {}: {replicas} replicas, one per node; Coder advises against autoscaling proxies (their websockets are long-lived)",
            tier.id
        ),
    );
    let high_availability = replicas >= 2;
    r.insert(
        "high_availability",
        "several replicas: one per node (anti-affinity on the release's own labels: the chart's default matches the release `coder` literally), a PodDisruptionBudget of 1 unavailable, and the replicas' DERP mesh on the HTTP port".into(),
    );
    let mut pool = pools::pool(ctx, Role::Proxy, m, &cap, replicas, replicas, &mp, 1, res, shared);
    pool.reasons.insert("min_nodes", format!("one node per proxy replica ({replicas}); fixed size, like coderd's"));
    pool.reasons.insert("max_nodes", "fixed size, equal to min_nodes".into());

    // Its URLs: the spec's, or derived from the primary's host.
    let access_url = site.proxy.access_url.clone().unwrap_or_else(|| default_proxy_url(primary_access_url, site_name));
    let wildcard_access_url = site.proxy.wildcard_access_url.clone().unwrap_or_else(|| default_proxy_wildcard(&access_url));
    r.insert(
        "access_url",
        if site.proxy.access_url.is_some() {
            "sites[].proxy.access_url in the spec".into()
        } else {
            "the site's name under the primary's host, as Coder's docs name proxies (set sites[].proxy.access_url for another)".into()
        },
    );
    r.insert(
        "wildcard_access_url",
        if site.proxy.wildcard_access_url.is_some() {
            "sites[].proxy.wildcard_access_url in the spec".into()
        } else {
            "`*.` + the proxy's host: workspace apps opened through this proxy get subdomains of it".into()
        },
    );
    let (host, wildcard_host) = (host_of(&access_url), host_of(&wildcard_access_url));
    let c = certificates(&site.proxy.certificate, PROXY_NAMESPACE, "coder-proxy-tls", &host, Some(&wildcard_host));
    r.insert("certificates", format!("{} (in the site's cluster)", c.reason));
    let mut tls_secrets = vec![c.host_secret.clone()];
    if let Some(w) = c.wildcard_secret.as_ref().filter(|w| !tls_secrets.contains(w)) {
        tls_secrets.push(w.clone());
    }
    r.insert(
        "tls_secrets",
        "coder.tls.secretNames: the proxy serves TLS itself, like coderd's default entry, so the site needs no ingress controller".into(),
    );
    let mut service_annotations = BTreeMap::new();
    if site.cloud == SiteCloud::Aws {
        service_annotations.insert("service.beta.kubernetes.io/aws-load-balancer-type".to_string(), "nlb".to_string());
    }
    r.insert(
        "service_type",
        match site.cloud {
            SiteCloud::Aws => "LoadBalancer, a Network Load Balancer (TCP passthrough to the proxy's TLS)".into(),
            SiteCloud::Onprem => {
                "LoadBalancer: the on-prem cluster needs a load balancer implementation (MetalLB, kube-vip, your appliance's)".into()
            }
            _ => "LoadBalancer: the cloud's default passthrough load balancer".into(),
        },
    );
    r.insert(
        "external_traffic_policy",
        "Local: the proxy sees users' real addresses, and its NetworkPolicy tells outside traffic (8443) from the mesh (8080)".into(),
    );
    r.insert(
        "user_port",
        format!("users, workspace agents (a proxy is a DERP region) and the primary's health check (/healthz-report) reach the proxy's TLS port {CODERD_TLS_PORT} from anywhere"),
    );
    r.insert(
        "mesh_port",
        format!("the chart's HTTP port {CODERD_HTTP_PORT}: replicas relay DERP traffic to each other; admitted only between proxy pods"),
    );
    r.insert(
        "token_secret",
        "`coder wsproxy create --only-token` prints the proxy's session token once: it is piped into this secret and never written to disk or Git; every replica shares it".into(),
    );
    r.insert("dns_names", "the proxy's host and its wildcard point at the proxy's load balancer".into());
    // The secure defaults a workspace proxy takes (its options include
    // them: codersdk/deployment.go marks them for external proxies).
    let disable_path_apps = ctx.spec.security.path_apps.is_none_or(|on| !on);
    r.insert(
        "disable_path_apps",
        if disable_path_apps {
            "as coderd beside a wildcard URL (Coder's security guide): a proxy always has one, so workspace apps it serves open only on their own subdomains (path-based apps would share the proxy's origin with every other app)".into()
        } else {
            "security.path_apps: true in the spec keeps path-based apps on the proxy too (see the warning)".into()
        },
    );
    let hsts = security.hsts.clone();
    r.insert(
        "hsts",
        if hsts.is_some() {
            "as coderd's (security.hsts_*): the proxy serves users over https itself, so it sends the same Strict-Transport-Security header"
                .into()
        } else {
            "security.hsts_max_age: 0 in the spec: no HSTS header, as coderd (see the warning)".into()
        },
    );
    r.insert(
        "trusted_proxies",
        "none: users connect to the proxy itself (TLS on its own load balancer, externalTrafficPolicy Local keeps their addresses), so it trusts no forwarding header, as coderd with coderd-tls".into(),
    );
    let display_name = site.proxy.display_name.clone().unwrap_or_else(|| site_name.clone());
    let icon = site.proxy.icon.clone().unwrap_or_else(|| DEFAULT_PROXY_ICON.to_string());
    r.insert(
        "display_name",
        "what users see in the dashboard's proxy picker (sites[].proxy.display_name; default: the site's name)".into(),
    );
    let proxy = Proxy {
        name: site_name.clone(),
        display_name,
        icon,
        namespace: PROXY_NAMESPACE.into(),
        release: PROXY_NAMESPACE.into(),
        replicas,
        resources: PodResources { requests: res, limits: res },
        high_availability,
        access_url,
        wildcard_access_url,
        dns_names: vec![host.clone(), wildcard_host.clone()],
        host,
        wildcard_host,
        primary_access_url: primary_access_url.to_string(),
        token_secret: SecretRef { name: "coder-proxy-token".into(), key: "token".into() },
        service_type: "LoadBalancer".into(),
        service_annotations,
        external_traffic_policy: "Local".into(),
        tls_secrets,
        user_port: CODERD_TLS_PORT,
        mesh_port: CODERD_HTTP_PORT,
        certificates: c.certificates,
        user_secrets: c.user_secrets,
        disable_path_apps,
        hsts,
        address_command: format!(
            "kubectl --context \"$SITE_CONTEXT\" get svc coder -n {PROXY_NAMESPACE} -o jsonpath='{{.status.loadBalancer.ingress[0].ip}}{{.status.loadBalancer.ingress[0].hostname}}'"
        ),
        reasons: r,
    };
    (proxy, pool)
}
