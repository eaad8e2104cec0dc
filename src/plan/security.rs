//! Secure by default (issue #24): what every tree turns on without being
//! asked, each with its reason, and the warning when the spec loosens it.
//!
//! coderd: path-based apps off beside a wildcard URL, HSTS, audit and
//! connection log retention, and (behind an ingress controller or gateway)
//! the forwarding header it may trust and from where. The observability
//! stack: Grafana without anonymous Admin (an admin from a Secret, or OIDC),
//! Alertmanager routed to the receiver the spec names (its URL or key read
//! from a mounted Secret file), Loki's log retention and its object store's
//! credentials from a Secret. No secret value is decided here: the tree's
//! README creates each Secret from stdin.

use std::fmt::Write;

use serde::Serialize;

use super::entry::Entry;
use super::observability::Observability;
use super::{Ctx, Findings, Reasons, SecretRef, WarningCode};
use crate::cloud::Cloud;
use crate::spec::{EntryMode, ReceiverKind};

/// One year: the HSTS max-age most guides (and HSTS preload lists) ask for.
pub const DEFAULT_HSTS_SECONDS: u32 = 31_536_000;
/// Coder's security guide: keep audit logs at least two years.
pub const AUDIT_LOGS_DAYS: u32 = 730;
/// Coder's security guide: keep logs at least 30 days, "ideally ninety";
/// its data-retention guide starts connection logs at 90 days.
pub const CONNECTION_LOGS_DAYS: u32 = 90;
/// Coder's security guide: keep server logs at least thirty days.
pub const LOKI_LOGS_DAYS: u32 = 30;
/// The header every supported proxy sets (ingress-nginx, Envoy Gateway,
/// cloud L7 load balancers append the client's address to it).
const FORWARDED_HEADER: &str = "X-Forwarded-For";
/// Where Alertmanager reads the receiver's secret file: a directory of its
/// own, not under the chart's config mount (`/etc/alertmanager`).
const RECEIVER_MOUNT: &str = "/etc/alertmanager-receiver";

#[derive(Debug, Clone, Serialize)]
pub struct Security {
    /// `CODER_DISABLE_PATH_APPS=true`: workspace apps open only on their own
    /// subdomain of the wildcard URL.
    pub disable_path_apps: bool,
    /// `CODER_STRICT_TRANSPORT_SECURITY` (and `_OPTIONS`); `null`: no header.
    pub hsts: Option<Hsts>,
    /// `CODER_AUDIT_LOGS_RETENTION`.
    pub audit_logs_retention: Retention,
    /// `CODER_CONNECTION_LOGS_RETENTION`.
    pub connection_logs_retention: Retention,
    /// `CODER_PROXY_TRUSTED_HEADERS`/`_ORIGINS`: coderd takes the client's
    /// address from `headers` on connections from `origins`; `null`: it
    /// trusts no forwarding header.
    pub trusted_proxies: Option<TrustedProxies>,
    /// How to find the CIDR the ingress controller's or gateway's pods
    /// connect from on this cloud (`null` with `coderd-tls`).
    pub pod_cidr_command: Option<String>,
    /// The observability stack's login, alerts and logs (`null` when
    /// observability is off).
    pub observability: Option<StackSecurity>,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hsts {
    pub max_age_seconds: u32,
    /// `includeSubDomains` or nothing.
    pub options: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Retention {
    /// 0: kept forever.
    pub days: u32,
    /// The variable's value: hours (`17520h`), which every Coder release's
    /// duration parser reads; `0` keeps entries forever.
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrustedProxies {
    pub headers: Vec<&'static str>,
    pub origins: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StackSecurity {
    pub namespace: String,
    pub grafana: Grafana,
    /// Where Alertmanager sends alerts; `null`: nowhere (the chart's
    /// `default-receiver` has no integration).
    pub receiver: Option<Receiver>,
    pub logs: Logs,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct Grafana {
    /// `admin-secret` or `oidc`.
    pub login: &'static str,
    /// Anonymous access (coder-observability's default: on, as Admin).
    pub anonymous: bool,
    /// The env the grafana chart reads before writing the admin login:
    /// while true it writes none, even with `admin.existingSecret`.
    pub disable_initial_admin_creation: bool,
    /// `admin-secret`: the Secret the admin's user name and password come from.
    pub admin: Option<GrafanaAdmin>,
    /// `oidc`: sign-in through the spec's provider only.
    pub oidc: Option<GrafanaOidc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GrafanaAdmin {
    pub secret: String,
    pub user_key: String,
    pub password_key: String,
    /// The user name the README stores (not a secret).
    pub user: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GrafanaOidc {
    pub root_url: String,
    pub client_id: String,
    pub client_secret: SecretRef,
    /// The variable Grafana reads the client secret from (`envValueFrom`).
    pub client_secret_env: &'static str,
    pub auth_url: String,
    pub token_url: String,
    pub api_url: String,
    pub scopes: String,
    pub role_attribute_path: Option<String>,
    /// Only the provider signs people in.
    pub disable_login_form: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Receiver {
    /// The receiver's name in Alertmanager's config (its kind).
    pub name: String,
    pub kind: ReceiverKind,
    /// Slack: the channel; `null`: the webhook's own.
    pub channel: Option<String>,
    /// The Secret and key holding the URL or routing key.
    pub secret: SecretRef,
    /// Where the Secret is mounted in Alertmanager's pod.
    pub mount_path: String,
    /// The receiver's `*_file` field and the file it names.
    pub file_field: &'static str,
    pub file: String,
    pub send_resolved: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Logs {
    /// 0: kept until the volume fills.
    pub retention_days: u32,
    /// Loki's `limits_config.retention_period` (`720h`); `null`: no
    /// retention (the compactor deletes nothing).
    pub retention_period: Option<String>,
    /// Where the compactor keeps delete requests: the chart's object store
    /// (Loki 3.1 refuses retention without it).
    pub delete_request_store: &'static str,
    /// The MinIO root login Loki and MinIO read from a Secret.
    pub object_store_secret: ObjectStoreSecret,
    /// MinIO users the chart's hook Job creates besides root (none).
    pub minio_users: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectStoreSecret {
    pub name: String,
    pub user_key: &'static str,
    pub password_key: &'static str,
    /// The user name the README stores (not a secret).
    pub user: String,
}

fn retention(days: u32) -> Retention {
    Retention { days, value: if days == 0 { "0".into() } else { format!("{}h", u64::from(days) * 24) } }
}

/// How to find the CIDR of the pods that proxy users' traffic, per cloud.
fn pod_cidr_command(ctx: &Ctx) -> String {
    let cluster = &ctx.spec.kubernetes.cluster_name;
    let region = &ctx.spec.region;
    match ctx.cloud {
        Cloud::Gcp => format!("gcloud container clusters describe {cluster} --region {region} --format='value(clusterIpv4Cidr)'"),
        // The VPC CNI gives pods addresses of the VPC's subnets.
        Cloud::Aws => format!(
            "aws ec2 describe-vpcs --region {region} --vpc-ids \"$(aws eks describe-cluster --region {region} --name {cluster} --query cluster.resourcesVpcConfig.vpcId --output text)\" --query 'Vpcs[0].CidrBlock' --output text"
        ),
        // Azure CNI Overlay: podCidr; Azure CNI with VNet addresses: the node
        // subnet's range.
        Cloud::Azure => {
            format!("az aks show --resource-group <resource-group> --name {cluster} --query 'networkProfile.podCidr' --output tsv")
        }
    }
}

pub(crate) fn plan(ctx: &Ctx, entry: &Entry, observability: &Observability, found: &mut Findings) -> Security {
    let spec = ctx.spec;
    let s = &spec.security;
    let mut r = Reasons::new();
    let wildcard = spec.wildcard_access_url.is_some();

    let disable_path_apps = s.path_apps.map_or(wildcard, |on| !on);
    r.insert(
        "disable_path_apps",
        match (s.path_apps, wildcard) {
            (None, true) => "Coder's security guide: with a wildcard access URL, turn path-based apps off (CODER_DISABLE_PATH_APPS): they share the dashboard's origin, so a malicious app could run scripts there (XSS) and reuse the user's Coder cookies against the API and their other workspaces; apps open on their own subdomains instead. Keep them with security.path_apps: true (a warning)".into(),
            (None, false) => "no wildcard_access_url: path-based apps are the only way workspace apps open, so they stay on; add a wildcard URL and they go off (Coder's security guide)".into(),
            (Some(true), true) => "security.path_apps: true in the spec keeps path-based apps beside the wildcard URL (see the warning)".into(),
            (Some(true), false) => "security.path_apps: true in the spec (without a wildcard URL they are the only apps anyway)".into(),
            (Some(false), true) => "security.path_apps: false in the spec, as Coder's security guide asks beside a wildcard URL".into(),
            (Some(false), false) => "security.path_apps: false in the spec: without a wildcard URL no web app of a workspace can open".into(),
        },
    );
    if s.path_apps == Some(true) && wildcard {
        found.warn(
            WarningCode::PathAppsEnabled,
            "security.path_apps: true keeps path-based apps beside the wildcard URL: they share the dashboard's origin, so a malicious workspace app can run scripts in it (XSS) and reuse a user's Coder cookies to call the API or reach their other workspaces (Coder's security guide); remove the key to serve apps on subdomains only".into(),
        );
    }

    let max_age = s.hsts_max_age.unwrap_or(DEFAULT_HSTS_SECONDS);
    let hsts = (max_age > 0)
        .then(|| Hsts { max_age_seconds: max_age, options: if s.hsts_include_subdomains { vec!["includeSubDomains"] } else { vec![] } });
    r.insert(
        "hsts",
        match (&hsts, s.hsts_max_age) {
            (Some(h), given) => format!(
                "Coder's security guide: enable Strict Transport Security so browsers only ever use https; max-age {} s ({}); coderd adds the header to every response, and browsers heed it only over https, which every entry serves (access_url is https, and an ingress or gateway terminates TLS in front of coderd). {}",
                h.max_age_seconds,
                if given.is_some() { "security.hsts_max_age in the spec" } else { "one year, the default" },
                if h.options.is_empty() {
                    "Without includeSubDomains (security.hsts_include_subdomains): it would bind every other name under the access URL's host too"
                } else {
                    "With includeSubDomains (security.hsts_include_subdomains): every name under the access URL's host must serve https"
                }
            ),
            (None, _) => "security.hsts_max_age: 0 in the spec: coderd sends no HSTS header (see the warning)".into(),
        },
    );
    if hsts.is_none() {
        found.warn(
            WarningCode::HstsDisabled,
            "security.hsts_max_age: 0 turns HSTS off: a browser that is sent to http:// (a typed URL, a downgrade by someone on the network) is not forced back to https, so its first request and cookie can travel in clear; remove the key for one year".into(),
        );
    }

    let audit_days = s.audit_logs_retention_days.unwrap_or(AUDIT_LOGS_DAYS);
    let connection_days = s.connection_logs_retention_days.unwrap_or(CONNECTION_LOGS_DAYS);
    r.insert(
        "audit_logs_retention",
        format!(
            "{}; coderd deletes older entries (0, Coder's default, keeps them forever and the database grows without end). Coder's security guide asks for two years, ideally five, in a store that resists tampering: export them too (audit entries are in coderd's logs, msg audit_log)",
            if s.audit_logs_retention_days.is_some() { format!("security.audit_logs_retention_days in the spec: {audit_days} days") } else { format!("{AUDIT_LOGS_DAYS} days (two years), the default") }
        ),
    );
    r.insert(
        "connection_logs_retention",
        format!(
            "{}; Coder's security guide keeps logs at least thirty days, ideally ninety, and its data-retention guide starts connection logs at 90 days",
            if s.connection_logs_retention_days.is_some() { format!("security.connection_logs_retention_days in the spec: {connection_days} days") } else { format!("{CONNECTION_LOGS_DAYS} days, the default") }
        ),
    );
    let mut short = Vec::new();
    let mut forever = Vec::new();
    for (what, days, floor, key) in [
        ("audit logs", audit_days, AUDIT_LOGS_DAYS, "security.audit_logs_retention_days"),
        ("connection logs", connection_days, CONNECTION_LOGS_DAYS, "security.connection_logs_retention_days"),
    ] {
        if days == 0 {
            forever.push(format!("{key}: 0 keeps {what} forever"));
        } else if days < floor {
            short.push(format!("{key}: {days} keeps {what} less than Coder's guidance of {floor} days"));
        }
    }

    let (trusted_proxies, pod_cidr_command) = match entry.mode {
        EntryMode::CoderdTls => {
            r.insert(
                "trusted_proxies",
                "coderd-tls: users connect to coderd itself and its Service keeps their addresses (externalTrafficPolicy: Local), so coderd trusts no forwarding header (one would let any client choose the address the audit log records)".into(),
            );
            (None, None)
        }
        EntryMode::Ingress | EntryMode::Gateway => {
            let (mode, proxy) = if entry.mode == EntryMode::Ingress {
                ("ingress", "ingress controller's pods")
            } else {
                ("gateway", "gateway's proxy pods")
            };
            let ns = entry.user_source_namespace.clone().unwrap_or_default();
            let command = pod_cidr_command(ctx);
            if s.trusted_proxies.is_empty() {
                r.insert(
                    "trusted_proxies",
                    format!("no security.trusted_proxies in the spec: coder-gen cannot know the addresses the {proxy} in `{ns}` connect from, and a wrong guess would let other pods forge the address the audit log records; so coderd trusts no forwarding header (see the warning)"),
                );
                found.warn(
                    WarningCode::TrustedProxiesUnset,
                    format!("entry.mode {mode}: coderd sees the {proxy}' address on every request, so the audit log records it instead of the user's; set security.trusted_proxies to the CIDRs they connect from: the cluster's pod CIDR for proxies running as pods ({command}); a cloud load balancer that reaches pods directly (e.g. GKE's gke-l7 Gateway classes) connects from its provider's ranges instead"),
                );
                (None, Some(command))
            } else {
                r.insert(
                    "trusted_proxies",
                    format!("security.trusted_proxies in the spec: coderd takes the client's address from {FORWARDED_HEADER} (which the {proxy} in `{ns}` append) only on connections from {}, so the audit log records users, not the proxy. The proxy must itself see the client (externalTrafficPolicy: Local or PROXY protocol on its load balancer). Trust no more than the proxies' range: any pod there that reaches coderd's HTTP port (the NetworkPolicies also admit provisioners, workspaces and the verify Jobs) could write that header", s.trusted_proxies.join(", ")),
                );
                (Some(TrustedProxies { headers: vec![FORWARDED_HEADER], origins: s.trusted_proxies.clone() }), Some(command))
            }
        }
    };
    if pod_cidr_command.is_some() {
        r.insert("pod_cidr_command", format!("how to read the pod CIDR on {} (the proxies are pods of the cluster)", ctx.cloud));
    }

    let observability = observability.stack.as_ref().map(|stack| stack_security(ctx, &stack.namespace, found, &mut short, &mut forever));
    r.insert(
        "observability",
        if observability.is_some() {
            "the coder-observability chart's defaults expose too much (anonymous Admin in Grafana, alerts to no receiver, logs kept until MinIO's volume fills, MinIO's well-known default passwords): each is replaced".into()
        } else {
            "observability is off".into()
        },
    );

    if !short.is_empty() {
        found.warn(WarningCode::LogRetentionBelowGuidance, format!("{}; remove the key for the default", short.join("; ")));
    }
    if !forever.is_empty() {
        found.warn(
            WarningCode::LogRetentionUnbounded,
            format!(
                "{}: nothing is ever deleted, so the database (or Loki's volume) grows until it is full; give a number of days",
                forever.join("; ")
            ),
        );
    }

    Security {
        disable_path_apps,
        hsts,
        audit_logs_retention: retention(audit_days),
        connection_logs_retention: retention(connection_days),
        trusted_proxies,
        pod_cidr_command,
        observability,
        reasons: r,
    }
}

fn stack_security(ctx: &Ctx, namespace: &str, found: &mut Findings, short: &mut Vec<String>, forever: &mut Vec<String>) -> StackSecurity {
    let obs = &ctx.spec.observability;
    let mut r = Reasons::new();
    let grafana = match &obs.grafana_oidc {
        None => {
            r.insert(
                "grafana",
                "coder-observability lets anonymous users in as Admin: anonymous access is off and an admin logs in with the user name and password of Secret `grafana-admin` (the README creates it from a generated password). The chart also sets GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION=true, under which the grafana chart writes no admin login even from a Secret (nobody could log in), so it is set false. OIDC instead: observability.grafana.oidc".into(),
            );
            Grafana {
                login: "admin-secret",
                anonymous: false,
                disable_initial_admin_creation: false,
                admin: Some(GrafanaAdmin {
                    secret: "grafana-admin".into(),
                    user_key: "admin-user".into(),
                    password_key: "admin-password".into(),
                    user: "admin".into(),
                }),
                oidc: None,
            }
        }
        Some(o) => {
            r.insert(
                "grafana",
                format!(
                    "observability.grafana.oidc in the spec: people sign in through {} only (login form off, anonymous off, no local admin: GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION stays true); {}. The client secret comes from Secret `{}` through envValueFrom (the grafana chart refuses a literal client_secret)",
                    o.auth_url,
                    match &o.role_attribute_path {
                        Some(_) => "roles follow role_attribute_path",
                        None => "without role_attribute_path everyone is a Viewer (the dashboards are provisioned, so no one needs to edit)",
                    },
                    o.client_secret_name
                ),
            );
            Grafana {
                login: "oidc",
                anonymous: false,
                disable_initial_admin_creation: true,
                admin: None,
                oidc: Some(GrafanaOidc {
                    root_url: o.url.clone(),
                    client_id: o.client_id.clone(),
                    client_secret: SecretRef { name: o.client_secret_name.clone(), key: o.client_secret_key.clone() },
                    client_secret_env: "GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET",
                    auth_url: o.auth_url.clone(),
                    token_url: o.token_url.clone(),
                    api_url: o.api_url.clone(),
                    scopes: o.scopes.clone().unwrap_or_else(|| "openid profile email".into()),
                    role_attribute_path: o.role_attribute_path.clone(),
                    disable_login_form: true,
                }),
            }
        }
    };

    let receiver = obs.alerts.as_ref().map(|a| {
        let (key, file_field) = match a.receiver {
            ReceiverKind::Slack => ("url", "api_url_file"),
            ReceiverKind::Pagerduty => ("routing-key", "routing_key_file"),
            ReceiverKind::Webhook => ("url", "url_file"),
        };
        Receiver {
            name: a.receiver.as_str().into(),
            kind: a.receiver,
            channel: a.channel.clone(),
            secret: SecretRef { name: a.secret.clone().unwrap_or_else(|| "alertmanager-receiver".into()), key: key.into() },
            mount_path: RECEIVER_MOUNT.into(),
            file_field,
            file: format!("{RECEIVER_MOUNT}/{key}"),
            send_resolved: true,
        }
    });
    match &receiver {
        Some(rc) => {
            r.insert(
                "receiver",
                format!(
                    "observability.alerts in the spec: every alert goes to {} ({}); Alertmanager reads the {} from file {} of Secret `{}`, mounted read-only, so it is never in the tree or a ConfigMap; resolved alerts are sent too",
                    rc.name,
                    rc.file_field,
                    if rc.kind == ReceiverKind::Pagerduty { "routing key" } else { "URL" },
                    rc.file,
                    rc.secret.name
                ),
            );
        }
        None => {
            r.insert(
                "receiver",
                "no observability.alerts in the spec: the chart's Alertmanager routes every alert to `default-receiver`, which has no integration (see the warning)".into(),
            );
            found.warn(
                WarningCode::AlertsUnrouted,
                "observability is on, but no observability.alerts receiver is named: Alertmanager sends the chart's alerts nowhere (its default-receiver has no integration); name receiver: slack, pagerduty or webhook".into(),
            );
        }
    }

    let days = obs.logs_retention_days.unwrap_or(LOKI_LOGS_DAYS);
    if days == 0 {
        forever.push("observability.logs_retention_days: 0 keeps Loki's logs forever".into());
    } else if days < LOKI_LOGS_DAYS {
        short.push(format!("observability.logs_retention_days: {days} keeps logs less than Coder's guidance of {LOKI_LOGS_DAYS} days"));
    }
    r.insert(
        "logs",
        format!(
            "{}; Loki's compactor deletes older chunks (the chart keeps logs until MinIO's volume fills; Loki 3.1 needs compactor.delete_request_store for retention). MinIO's root login comes from Secret `loki-minio` (the loki chart's default is `enterprise-logs`/`supersecret`, written into Loki's config), which Loki reads through -config.expand-env; the chart's extra MinIO user `console`/`console123` is not created",
            if obs.logs_retention_days.is_some() { format!("observability.logs_retention_days in the spec: {days} days") } else { format!("{LOKI_LOGS_DAYS} days, the default (Coder's security guide: at least thirty)") }
        ),
    );
    StackSecurity {
        namespace: namespace.to_string(),
        grafana,
        receiver,
        logs: Logs {
            retention_days: days,
            retention_period: (days > 0).then(|| format!("{}h", u64::from(days) * 24)),
            delete_request_store: "s3",
            object_store_secret: ObjectStoreSecret {
                name: "loki-minio".into(),
                user_key: "rootUser",
                password_key: "rootPassword",
                user: "loki".into(),
            },
            minio_users: Vec::new(),
        },
        reasons: r,
    }
}

/// The "Secure defaults" lines of the `plan` table.
pub(super) fn write_text(s: &Security, o: &mut String) -> std::fmt::Result {
    writeln!(o, "Secure defaults")?;
    writeln!(o, "  path apps       {}", if s.disable_path_apps { "off (CODER_DISABLE_PATH_APPS=true)" } else { "on" })?;
    match &s.hsts {
        Some(h) => {
            let opts = if h.options.is_empty() { String::new() } else { format!("; {}", h.options.join("; ")) };
            writeln!(o, "  HSTS            max-age={}{opts}", h.max_age_seconds)?;
        }
        None => writeln!(o, "  HSTS            off")?,
    }
    let days = |r: &Retention| if r.days == 0 { "forever".to_string() } else { format!("{} days", r.days) };
    writeln!(o, "  audit logs      kept {}; connection logs kept {}", days(&s.audit_logs_retention), days(&s.connection_logs_retention))?;
    match &s.trusted_proxies {
        Some(t) => writeln!(o, "  client address  from {} on connections from {}", t.headers.join(", "), t.origins.join(", "))?,
        None => writeln!(o, "  client address  the connection's own ({})", s.reasons["trusted_proxies"].split(':').next().unwrap_or(""))?,
    }
    if let Some(st) = &s.observability {
        let login = match (&st.grafana.admin, &st.grafana.oidc) {
            (Some(a), _) => format!("admin `{}` from Secret `{}`, no anonymous access", a.user, a.secret),
            (None, Some(oi)) => {
                format!("OIDC via {} (client secret from Secret `{}`), no anonymous access", oi.auth_url, oi.client_secret.name)
            }
            (None, None) => "none".into(),
        };
        writeln!(o, "  Grafana login   {login}")?;
        match &st.receiver {
            Some(rc) => writeln!(o, "  alerts          to {} ({} from Secret `{}`)", rc.name, rc.secret.key, rc.secret.name)?,
            None => writeln!(o, "  alerts          nowhere (no observability.alerts receiver)")?,
        }
        writeln!(
            o,
            "  Loki logs       kept {}; object store login from Secret `{}`",
            if st.logs.retention_days == 0 { "until the volume fills".to_string() } else { format!("{} days", st.logs.retention_days) },
            st.logs.object_store_secret.name
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::plan::{Plan, ReceiverKind, WarningCode};
    use crate::test_support::{MINIMAL, spec_text};

    fn plan(spec: &str) -> Plan {
        crate::plan_from_str("spec.yaml", spec).unwrap()
    }

    fn warned(p: &Plan, code: WarningCode) -> Option<&str> {
        p.warnings.iter().find(|w| w.code == code).map(|w| w.message.as_str())
    }

    const MINE: [WarningCode; 6] = [
        WarningCode::PathAppsEnabled,
        WarningCode::HstsDisabled,
        WarningCode::LogRetentionBelowGuidance,
        WarningCode::LogRetentionUnbounded,
        WarningCode::TrustedProxiesUnset,
        WarningCode::AlertsUnrouted,
    ];

    #[test]
    fn defaults_are_secure_without_a_key_and_warn_about_nothing() {
        let p = plan(&format!("{MINIMAL}wildcard_access_url: https://*.apps.acme.com\n"));
        let s = &p.security;
        assert!(s.disable_path_apps, "a wildcard URL turns path apps off");
        let h = s.hsts.as_ref().unwrap();
        assert_eq!((h.max_age_seconds, h.options.len()), (31_536_000, 0));
        assert_eq!((s.audit_logs_retention.days, s.audit_logs_retention.value.as_str()), (730, "17520h"));
        assert_eq!((s.connection_logs_retention.days, s.connection_logs_retention.value.as_str()), (90, "2160h"));
        // coderd-tls: coderd sees users itself and trusts no header.
        assert!(s.trusted_proxies.is_none() && s.pod_cidr_command.is_none());
        // 1,800 users: observability is off.
        assert!(s.observability.is_none());
        for code in MINE {
            assert!(warned(&p, code).is_none(), "{code}");
        }
        for field in ["disable_path_apps", "hsts", "audit_logs_retention", "connection_logs_retention", "trusted_proxies", "observability"]
        {
            assert!(s.reasons.contains_key(field), "{field} has no reason");
        }
        // Without a wildcard URL path apps are the only apps.
        assert!(!plan(MINIMAL).security.disable_path_apps);
    }

    #[test]
    fn loosening_a_default_warns_and_names_the_risk() {
        let spec = format!(
            "{MINIMAL}wildcard_access_url: https://*.apps.acme.com\nsecurity:\n  path_apps: true\n  hsts_max_age: 0\n  audit_logs_retention_days: 365\n  connection_logs_retention_days: 0\n"
        );
        let p = plan(&spec);
        let s = &p.security;
        assert!(!s.disable_path_apps && s.hsts.is_none());
        assert_eq!(s.audit_logs_retention.value, "8760h");
        assert_eq!((s.connection_logs_retention.days, s.connection_logs_retention.value.as_str()), (0, "0"));
        assert!(warned(&p, WarningCode::PathAppsEnabled).unwrap().contains("XSS"));
        assert!(warned(&p, WarningCode::HstsDisabled).is_some());
        assert!(warned(&p, WarningCode::LogRetentionBelowGuidance).unwrap().contains("audit logs less than Coder's guidance of 730 days"));
        assert!(warned(&p, WarningCode::LogRetentionUnbounded).unwrap().contains("connection logs forever"));
        // Tightening warns about nothing.
        let p =
            plan(&format!("{MINIMAL}security:\n  path_apps: false\n  hsts_include_subdomains: true\n  audit_logs_retention_days: 1825\n"));
        assert!(p.security.disable_path_apps);
        assert_eq!(p.security.hsts.as_ref().unwrap().options, ["includeSubDomains"]);
        assert!(MINE.iter().all(|c| warned(&p, *c).is_none()));
    }

    #[test]
    fn trusted_proxies_only_behind_a_proxy_and_only_as_given() {
        let ingress = "entry:\n  mode: ingress\n  ingress_class: nginx\n  controller_namespace: ingress-nginx\n";
        for (cloud, command) in [("gcp", "clusterIpv4Cidr"), ("aws", "describe-vpcs"), ("azure", "networkProfile.podCidr")] {
            let p = plan(&format!("{}{ingress}", spec_text(500, cloud)));
            assert!(p.security.trusted_proxies.is_none(), "no guess");
            let w = warned(&p, WarningCode::TrustedProxiesUnset).unwrap();
            assert!(w.contains(command) && p.security.pod_cidr_command.as_deref().unwrap().contains(command), "{cloud}: {w}");
        }
        let p = plan(&format!("{}{ingress}security:\n  trusted_proxies: [10.8.0.0/14, fd00::/64]\n", spec_text(500, "gcp")));
        let t = p.security.trusted_proxies.as_ref().unwrap();
        assert_eq!(
            (t.headers.as_slice(), t.origins.as_slice()),
            (&["X-Forwarded-For"][..], &["10.8.0.0/14".to_string(), "fd00::/64".to_string()][..])
        );
        assert!(warned(&p, WarningCode::TrustedProxiesUnset).is_none());
    }

    #[test]
    fn the_stack_gets_a_login_a_receiver_and_retention() {
        let p = plan(&spec_text(3000, "aws"));
        let so = p.security.observability.as_ref().unwrap();
        let g = &so.grafana;
        assert_eq!((g.login, g.anonymous, g.disable_initial_admin_creation), ("admin-secret", false, false));
        assert_eq!(g.admin.as_ref().unwrap().secret, "grafana-admin");
        assert!(so.receiver.is_none());
        assert!(warned(&p, WarningCode::AlertsUnrouted).unwrap().contains("nowhere"));
        assert_eq!((so.logs.retention_days, so.logs.retention_period.as_deref()), (30, Some("720h")));
        assert_eq!(so.logs.object_store_secret.name, "loki-minio");
        assert!(so.logs.minio_users.is_empty());

        let oidc = "observability:\n  grafana:\n    oidc:\n      url: http://localhost:3000\n      client_id: grafana\n      client_secret: { secret: g, key: s }\n      auth_url: https://id.acme.com/a\n      token_url: https://id.acme.com/t\n      api_url: https://id.acme.com/u\n  alerts:\n    receiver: webhook\n    secret: hook\n  logs_retention_days: 0\n";
        let p = plan(&format!("{}{oidc}", spec_text(3000, "gcp")));
        let so = p.security.observability.as_ref().unwrap();
        let g = &so.grafana;
        assert_eq!((g.login, g.disable_initial_admin_creation), ("oidc", true), "no local admin with OIDC");
        let o = g.oidc.as_ref().unwrap();
        assert_eq!((o.client_secret.name.as_str(), o.scopes.as_str()), ("g", "openid profile email"));
        let r = so.receiver.as_ref().unwrap();
        assert_eq!((r.kind, r.file_field, r.file.as_str()), (ReceiverKind::Webhook, "url_file", "/etc/alertmanager-receiver/url"));
        assert_eq!((r.secret.name.as_str(), r.secret.key.as_str()), ("hook", "url"));
        assert!(warned(&p, WarningCode::AlertsUnrouted).is_none());
        assert!(so.logs.retention_period.is_none());
        assert!(warned(&p, WarningCode::LogRetentionUnbounded).unwrap().contains("Loki"));
    }
}
