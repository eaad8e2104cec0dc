//! What the user writes for the secure defaults (issue #24): `security:`
//! (coderd's path apps, HSTS, log retention, trusted proxies) and the
//! observability stack's login, alert receiver and log retention
//! (`observability.grafana`, `.alerts`, `.logs_retention_days`). Every key
//! is optional: a spec without them gets the secure default, and the plan
//! warns where a key turns one off.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::RawSecretKey;

/// `security:` in the spec.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Security")]
pub(in crate::spec) struct RawSecurity {
    /// Path-based workspace apps. Default: off with a `wildcard_access_url`
    /// (`CODER_DISABLE_PATH_APPS=true`: path apps share the dashboard's
    /// origin), on without one (then they are the only apps). `true` beside a
    /// wildcard URL is a plan warning.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub(in crate::spec) path_apps: Option<Spanned<bool>>,
    /// HSTS max-age in seconds (`CODER_STRICT_TRANSPORT_SECURITY`), at most
    /// 63072000 (two years); default 31536000 (one year). 0 sends no header (a
    /// plan warning).
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(max = 63_072_000))]
    pub(in crate::spec) hsts_max_age: Option<Spanned<u32>>,
    /// Add `includeSubDomains` to the HSTS header (default false: the header
    /// would then also bind every other name under the access URL's host).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub(in crate::spec) hsts_include_subdomains: Option<Spanned<bool>>,
    /// Days coderd keeps audit log entries (`CODER_AUDIT_LOGS_RETENTION`),
    /// at most 3650; default 730 (two years, Coder's security guide). 0 keeps
    /// them forever; below 730 is a plan warning.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(max = 3650))]
    pub(in crate::spec) audit_logs_retention_days: Option<Spanned<u32>>,
    /// Days coderd keeps connection log entries
    /// (`CODER_CONNECTION_LOGS_RETENTION`), at most 3650; default 90. 0 keeps
    /// them forever; below 90 is a plan warning.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(max = 3650))]
    pub(in crate::spec) connection_logs_retention_days: Option<Spanned<u32>>,
    /// `ingress` and `gateway` only: the CIDRs the ingress controller's (or
    /// gateway's proxy) pods connect to coderd from, e.g. the cluster's pod
    /// CIDR (a cloud load balancer that reaches pods directly: its ranges).
    /// coderd then records the client address from `X-Forwarded-For`
    /// in the audit log (`CODER_PROXY_TRUSTED_HEADERS`/`_ORIGINS`); without
    /// it the plan warns that the proxy's address is recorded.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>", length(min = 1, max = 16))]
    pub(in crate::spec) trusted_proxies: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `observability.grafana:` how people log in to Grafana.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Grafana")]
pub(in crate::spec) struct RawGrafana {
    /// Single sign-on through your OIDC provider instead of the admin login
    /// from Secret `grafana-admin` (the default).
    #[serde(default)]
    pub(in crate::spec) oidc: Option<RawGrafanaOidc>,
}

/// `observability.grafana.oidc:` Grafana's generic OAuth login.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GrafanaOidc")]
pub(in crate::spec) struct RawGrafanaOidc {
    /// The URL people open Grafana at (`server.root_url`; the provider must
    /// allow `<url>/login/generic_oauth` as redirect URI), e.g.
    /// https://grafana.acme.com, or http://localhost:3000 with port-forward.
    #[schemars(with = "String")]
    pub(in crate::spec) url: Spanned<String>,
    /// The client ID registered with your provider.
    #[schemars(with = "String")]
    pub(in crate::spec) client_id: Spanned<String>,
    /// `{ secret: NAME, key: KEY }`: the Secret in namespace
    /// `coder-observability` holding the client secret (never in the tree).
    #[schemars(with = "RawSecretKey")]
    pub(in crate::spec) client_secret: Spanned<RawSecretKey>,
    /// The provider's authorization endpoint (https).
    #[schemars(with = "String")]
    pub(in crate::spec) auth_url: Spanned<String>,
    /// The provider's token endpoint (https).
    #[schemars(with = "String")]
    pub(in crate::spec) token_url: Spanned<String>,
    /// The provider's userinfo endpoint (https).
    #[schemars(with = "String")]
    pub(in crate::spec) api_url: Spanned<String>,
    /// Space-separated scopes (default `openid profile email`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(in crate::spec) scopes: Option<Spanned<String>>,
    /// JMESPath mapping the provider's claims to a Grafana role, e.g.
    /// `contains(groups[*], 'coder-admins') && 'Admin' || 'Viewer'`
    /// (default: none, everyone is a Viewer).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(in crate::spec) role_attribute_path: Option<Spanned<String>>,
}

/// Which kind of Alertmanager receiver alerts go to: `slack` (an incoming
/// webhook, its URL in the Secret's key `url`), `pagerduty` (Events API v2,
/// key `routing-key`) or `webhook` (any HTTP endpoint, key `url`). (No doc
/// comment per variant: the schema stays a plain `enum`, which the shape
/// pass reads.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverKind {
    Slack,
    Pagerduty,
    Webhook,
}

impl ReceiverKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverKind::Slack => "slack",
            ReceiverKind::Pagerduty => "pagerduty",
            ReceiverKind::Webhook => "webhook",
        }
    }
}

/// `observability.alerts:` where Alertmanager sends the chart's alerts.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Alerts")]
pub(in crate::spec) struct RawAlerts {
    /// `slack`, `pagerduty` or `webhook`.
    #[schemars(with = "ReceiverKind")]
    pub(in crate::spec) receiver: Spanned<ReceiverKind>,
    /// `slack` only: the channel, e.g. "#coder-alerts" (default: the
    /// webhook's own channel).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(in crate::spec) channel: Option<Spanned<String>>,
    /// The Secret in namespace `coder-observability` holding the webhook URL
    /// (key `url`) or PagerDuty routing key (key `routing-key`); default
    /// `alertmanager-receiver`. Alertmanager reads it from a mounted file.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub(in crate::spec) secret: Option<Spanned<String>>,
}
