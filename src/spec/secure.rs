//! The validated secure-default settings (`security:` and the observability
//! stack's login, alerts and log retention). A key the spec left out is
//! `None`: the plan (`plan/security.rs`) fills in the secure default and
//! says so in its reasons, so "you chose this" and "the default" read
//! differently there.

use serde::Serialize;

pub use super::raw::ReceiverKind;

/// `security:` as validated.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Security {
    /// `None`: path apps follow the wildcard URL (off beside one).
    pub path_apps: Option<bool>,
    /// HSTS max-age in seconds; `None`: the default.
    pub hsts_max_age: Option<u32>,
    pub hsts_include_subdomains: bool,
    /// Days; `None`: the default, `Some(0)`: forever.
    pub audit_logs_retention_days: Option<u32>,
    pub connection_logs_retention_days: Option<u32>,
    /// CIDRs (`ingress`/`gateway` only); empty: none given.
    pub trusted_proxies: Vec<String>,
}

impl Security {
    /// Nothing written: every secure default stands.
    pub fn is_default(&self) -> bool {
        *self == Security::default()
    }
}

/// `observability.grafana.oidc` as validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrafanaOidc {
    pub url: String,
    pub client_id: String,
    /// Secret name and key in the observability namespace.
    pub client_secret_name: String,
    pub client_secret_key: String,
    pub auth_url: String,
    pub token_url: String,
    pub api_url: String,
    pub scopes: Option<String>,
    pub role_attribute_path: Option<String>,
}

/// `observability.alerts` as validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alerts {
    pub receiver: ReceiverKind,
    pub channel: Option<String>,
    /// `None`: the default Secret name.
    pub secret: Option<String>,
}
