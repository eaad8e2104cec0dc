//! The secure defaults' keys (`security:`, `observability.grafana`,
//! `.alerts`, `.logs_retention_days`) and provisioner environment
//! (`coder.provisioner_env`, `provisioners[].env`): every value judged,
//! located, with what to write instead. The defaults themselves are the
//! plan's (`plan/security.rs`), which also warns where a key loosens one.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_saphyr::Spanned;

use super::Validator;
use super::syntax::dns1123_subdomain_problem;
use crate::diag::{Located, quote};
use crate::spec::raw::{RawAlerts, RawGrafana, RawGrafanaOidc, RawSecretKey, RawSecurity};
use crate::spec::{Alerts, AutoBool, EntryMode, EnvValue, GrafanaOidc, ReceiverKind, Security};

/// coderd variables the `security:` keys set: `coder.env` may not set them
/// (checked with `RESERVED_CODER_ENV`).
pub(super) const RESERVED_BY_SECURITY: &[(&str, &str)] = &[
    ("CODER_DISABLE_PATH_APPS", "the spec's security.path_apps"),
    ("CODER_STRICT_TRANSPORT_SECURITY", "the spec's security.hsts_max_age"),
    ("CODER_STRICT_TRANSPORT_SECURITY_OPTIONS", "the spec's security.hsts_include_subdomains"),
    ("CODER_AUDIT_LOGS_RETENTION", "the spec's security.audit_logs_retention_days"),
    ("CODER_CONNECTION_LOGS_RETENTION", "the spec's security.connection_logs_retention_days"),
    ("CODER_PROXY_TRUSTED_HEADERS", "the spec's security.trusted_proxies"),
    ("CODER_PROXY_TRUSTED_ORIGINS", "the spec's security.trusted_proxies"),
];

/// Provisioner variables that coder-gen or the coder-provisioner chart sets,
/// or that decide where a provisioner connects, authenticates and which jobs
/// it takes, and what controls each instead: `coder.provisioner_env` and
/// `provisioners[].env` may not set them. (Nothing in a provisioner's
/// environment is sized: its replicas and resources are Helm values.)
pub(super) const RESERVED_PROVISIONER_ENV: &[(&str, &str)] = &[
    ("CODER_URL", "the plan (coderd's in-cluster Service, which the NetworkPolicies admit)"),
    ("CODER_PROMETHEUS_ENABLE", "the spec's observability"),
    ("CODER_PROMETHEUS_ADDRESS", "the coder-provisioner chart"),
    ("CODER_PROVISIONER_DAEMON_KEY", "the group's scoped provisioner key (the README's provisioner key step)"),
    ("CODER_PROVISIONER_DAEMON_PSK", "the coder-provisioner chart (coder-gen uses scoped provisioner keys)"),
    ("CODER_PROVISIONERD_TAGS", "the spec's provisioners[].tags (bound to the group's key)"),
    ("CODER_ORGANIZATION", "the spec's coder.organization (the group's key belongs to it)"),
];

/// The longest HSTS max-age accepted (two years, what HSTS preload lists
/// ask at most); longer only delays undoing a mistake.
const MAX_HSTS_SECONDS: u32 = 63_072_000;
/// Ten years: longer is a typo, not a policy.
const MAX_RETENTION_DAYS: u32 = 3650;

/// `a.b.c.d/n` or `v6/n` as Go's `net.ParseCIDR` (coderd parses
/// `CODER_PROXY_TRUSTED_ORIGINS` with it and refuses to start on anything
/// else), with the prefix length, or why not.
fn cidr(s: &str) -> Result<u8, &'static str> {
    let Some((ip, bits)) = s.split_once('/') else { return Err("it has no prefix length (/n)") };
    let ip: IpAddr = ip.parse().map_err(|_| "it is not an IP address followed by /n")?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match bits.parse::<u8>() {
        Ok(n) if n <= max && !bits.starts_with('+') && (bits == "0" || !bits.starts_with('0')) => Ok(n),
        _ => Err("its prefix length is not a number from 0 to 32 (IPv4) or 128 (IPv6)"),
    }
}

/// `https://host[:port][/path]` (with `localhost_http`, also `http://`
/// to localhost or 127.0.0.1), without spaces, control characters or a
/// user part.
fn url_ok(v: &str, localhost_http: bool) -> bool {
    let rest = match (v.strip_prefix("https://"), v.strip_prefix("http://")) {
        (Some(r), _) => r,
        (None, Some(r)) if localhost_http => {
            let host = r.split(['/', ':']).next().unwrap_or("");
            if host != "localhost" && host != "127.0.0.1" {
                return false;
            }
            r
        }
        _ => return false,
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    v.len() <= 2048
        && !host.is_empty()
        && !host.starts_with(':')
        && !host.contains('@')
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn secret_key_ok(key: &str) -> bool {
    !key.is_empty() && key.len() <= 253 && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Validator<'_> {
    /// `security:`. `mode` decides whether trusted proxies mean anything.
    pub(super) fn security(&mut self, raw: Option<RawSecurity>, mode: EntryMode) -> Security {
        let Some(raw) = raw else { return Security::default() };
        let hsts_max_age = raw.hsts_max_age.as_ref().map(|h| {
            if h.value > MAX_HSTS_SECONDS {
                self.err(
                    h,
                    format!("security.hsts_max_age {} is more than two years ({MAX_HSTS_SECONDS} seconds)", h.value),
                    "use at most 63072000; one year (31536000, the default) is usual",
                );
            }
            h.value
        });
        let hsts_include_subdomains = match &raw.hsts_include_subdomains {
            Some(i) => {
                if i.value && hsts_max_age == Some(0) {
                    self.err(
                        i,
                        "security.hsts_include_subdomains is set but security.hsts_max_age is 0 (no HSTS header)".into(),
                        "remove hsts_include_subdomains, or give hsts_max_age a number of seconds",
                    );
                }
                i.value
            }
            None => false,
        };
        let mut days = |key: &str, d: &Option<Spanned<u32>>| {
            d.as_ref().map(|d| {
                if d.value > MAX_RETENTION_DAYS {
                    self.err(
                        d,
                        format!("security.{key} {} is more than {MAX_RETENTION_DAYS} days", d.value),
                        "use at most 3650 days, or 0 to keep entries forever",
                    );
                }
                d.value
            })
        };
        let audit_logs_retention_days = days("audit_logs_retention_days", &raw.audit_logs_retention_days);
        let connection_logs_retention_days = days("connection_logs_retention_days", &raw.connection_logs_retention_days);
        let mut trusted_proxies = Vec::new();
        if let Some(list) = &raw.trusted_proxies {
            if mode == EntryMode::CoderdTls {
                self.err(
                    list,
                    "security.trusted_proxies is only used with `mode: ingress` or `mode: gateway`".into(),
                    "remove it: with coderd-tls users reach coderd directly and it sees their addresses itself",
                );
            }
            if list.value.is_empty() {
                self.err(
                    list,
                    "security.trusted_proxies is an empty list".into(),
                    "remove the key, or list the CIDRs your proxies connect from",
                );
            }
            for p in &list.value {
                match cidr(&p.value) {
                    Err(why) => self.err(
                        p,
                        format!("security.trusted_proxies entry {} is not a CIDR: {why}", quote(&p.value)),
                        "write a network like 10.0.0.0/16 (coderd refuses to start on anything else)",
                    ),
                    Ok(0) => self.err(
                        p,
                        format!("security.trusted_proxies entry {} trusts every address", quote(&p.value)),
                        "name only the networks your ingress controller's or gateway's pods connect from: with every address trusted, any client chooses the address the audit log records",
                    ),
                    Ok(_) => {}
                }
                trusted_proxies.push(p.value.clone());
            }
        }
        Security {
            path_apps: raw.path_apps.map(|p| p.value),
            hsts_max_age,
            hsts_include_subdomains,
            audit_logs_retention_days,
            connection_logs_retention_days,
            trusted_proxies,
        }
    }

    /// `observability.grafana`, `.alerts`, `.logs_retention_days`. With
    /// `enabled: false` written in the spec they would do nothing: an error.
    pub(super) fn observability_security(
        &mut self,
        enabled: AutoBool,
        grafana: Option<RawGrafana>,
        alerts: Option<RawAlerts>,
        logs_retention_days: Option<Spanned<u32>>,
    ) -> (Option<GrafanaOidc>, Option<Alerts>, Option<u32>) {
        if enabled == AutoBool::Set(false) {
            let first: Option<(u64, u64, &str)> = [
                grafana.as_ref().and_then(|g| g.oidc.as_ref()).map(|o| (o.url.defined.line(), o.url.defined.column(), "grafana")),
                alerts.as_ref().map(|a| (a.receiver.defined.line(), a.receiver.defined.column(), "alerts")),
                logs_retention_days.as_ref().map(|d| (d.defined.line(), d.defined.column(), "logs_retention_days")),
            ]
            .into_iter()
            .flatten()
            .min_by_key(|(l, c, _)| (*l, *c));
            if let Some((line, column, key)) = first {
                self.errors.push(Located {
                    line,
                    column,
                    message: format!("observability.{key} is set but observability.enabled is false"),
                    help: "set enabled: true (or auto), or remove the observability stack's settings".into(),
                });
            }
        }
        let oidc = grafana.and_then(|g| g.oidc).map(|o| self.grafana_oidc(o));
        let alerts = alerts.map(|a| self.alerts(a));
        let logs = logs_retention_days.map(|d| {
            if d.value > MAX_RETENTION_DAYS {
                self.err(
                    &d,
                    format!("observability.logs_retention_days {} is more than {MAX_RETENTION_DAYS} days", d.value),
                    "use at most 3650 days (Loki's volume must hold them), or 0 to keep logs until it fills",
                );
            }
            d.value
        });
        (oidc, alerts, logs)
    }

    fn grafana_oidc(&mut self, o: RawGrafanaOidc) -> GrafanaOidc {
        if !url_ok(&o.url.value, true) {
            self.err(
                &o.url,
                format!("observability.grafana.oidc.url {} is not a URL Grafana can be opened at", quote(&o.url.value)),
                "use the https URL people open Grafana at, e.g. https://grafana.acme.com, or http://localhost:3000 with port-forward (plain http only to localhost: the login code must not cross a network in clear)",
            );
        }
        for (key, u) in [("auth_url", &o.auth_url), ("token_url", &o.token_url), ("api_url", &o.api_url)] {
            if !url_ok(&u.value, false) {
                self.err(
                    u,
                    format!("observability.grafana.oidc.{key} {} is not an https URL", quote(&u.value)),
                    "use your provider's https endpoint, e.g. https://login.acme.com/oauth2/v1/authorize",
                );
            }
        }
        let printable = |s: &str, max: usize| !s.trim().is_empty() && s.len() <= max && !s.chars().any(char::is_control);
        if !printable(&o.client_id.value, 256) || o.client_id.value.contains(char::is_whitespace) {
            self.err(
                &o.client_id,
                format!("observability.grafana.oidc.client_id {} is not a client ID", quote(&o.client_id.value)),
                "use the client ID your provider gave Grafana's application (at most 256 characters, no spaces)",
            );
        }
        self.secret_key_ref("observability.grafana.oidc.client_secret", &o.client_secret, "coder-observability");
        if let Some(s) = &o.scopes
            && (!printable(&s.value, 512) || !s.value.split(' ').all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic())))
        {
            self.err(
                s,
                format!("observability.grafana.oidc.scopes {} is not a list of scopes", quote(&s.value)),
                "separate scopes with single spaces, e.g. openid profile email groups",
            );
        }
        if let Some(r) = &o.role_attribute_path
            && !printable(&r.value, 1024)
        {
            self.err(
                r,
                "observability.grafana.oidc.role_attribute_path is empty or has control characters".into(),
                "write a JMESPath expression, e.g. contains(groups[*], 'coder-admins') && 'Admin' || 'Viewer'",
            );
        }
        GrafanaOidc {
            url: o.url.value.trim_end_matches('/').to_string(),
            client_id: o.client_id.value,
            client_secret_name: o.client_secret.value.secret,
            client_secret_key: o.client_secret.value.key,
            auth_url: o.auth_url.value,
            token_url: o.token_url.value,
            api_url: o.api_url.value,
            scopes: o.scopes.map(|s| s.value),
            role_attribute_path: o.role_attribute_path.map(|r| r.value),
        }
    }

    fn alerts(&mut self, a: RawAlerts) -> Alerts {
        let channel = a.channel.map(|c| {
            if a.receiver.value != ReceiverKind::Slack {
                self.err(
                    &c,
                    format!("observability.alerts.channel is for Slack, but the receiver is {}", a.receiver.value.as_str()),
                    "remove channel, or set receiver: slack",
                );
            }
            let ok = !c.value.is_empty()
                && c.value.len() <= 80
                && c.value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'#' | b'@' | b'-' | b'_' | b'.'));
            if !ok {
                self.err(
                    &c,
                    format!("observability.alerts.channel {} is not a Slack channel", quote(&c.value)),
                    "write the channel's name, e.g. \"#coder-alerts\" (quoted: YAML reads # as a comment)",
                );
            }
            c.value
        });
        let secret = a.secret.map(|s| {
            if let Some(problem) = dns1123_subdomain_problem(&s.value) {
                self.err(
                    &s,
                    format!("observability.alerts.secret {} is not a Secret name: {problem}", quote(&s.value)),
                    "name a Secret in namespace coder-observability: lower-case letters, digits, '-' and '.'",
                );
            }
            s.value
        });
        Alerts { receiver: a.receiver.value, channel, secret }
    }

    /// `{ secret, key }` naming a Secret in `namespace`.
    fn secret_key_ref(&mut self, what: &str, r: &Spanned<RawSecretKey>, namespace: &str) {
        if let Some(problem) = dns1123_subdomain_problem(&r.value.secret) {
            self.err(
                r,
                format!("{what}: secret {} is not a Secret name: {problem}", quote(&r.value.secret)),
                &format!("name a Secret in namespace {namespace}: lower-case letters, digits, '-' and '.'"),
            );
        }
        if !secret_key_ok(&r.value.key) {
            self.err(
                r,
                format!("{what}: key {} is not a Secret key", quote(&r.value.key)),
                "use letters, digits, '-', '_' and '.' (at most 253)",
            );
        }
    }

    /// `coder.provisioner_env` or one group's `env` (`what`): the same rules as
    /// `coder.env`, the provisioners' reserved names, and none at all with
    /// the community licence (coderd runs the provisioners then).
    pub(super) fn provisioner_env(
        &mut self,
        what: &str,
        raw: BTreeMap<String, Spanned<EnvValue>>,
        community: bool,
        air_gapped: bool,
    ) -> BTreeMap<String, EnvValue> {
        if community && let Some(first) = raw.values().min_by_key(|v| (v.defined.line(), v.defined.column())) {
            self.err(
                first,
                format!("{what} is set, but coder.license is community: there are no external provisioners"),
                "set the variables in coder.env instead: coderd's built-in provisioners run Terraform inside coderd",
            );
        }
        self.env_vars(
            what,
            raw,
            |name| RESERVED_PROVISIONER_ENV.iter().find(|(n, _)| *n == name).map(|(_, by)| *by),
            "the group's namespace",
            air_gapped,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{cidr, url_ok};

    #[test]
    fn cidrs_as_go_parses_them() {
        assert_eq!(cidr("10.0.0.0/8"), Ok(8));
        assert_eq!(cidr("10.1.2.3/16"), Ok(16), "host bits are allowed, as net.ParseCIDR allows them");
        assert_eq!(cidr("fd00::/64"), Ok(64));
        assert_eq!(cidr("0.0.0.0/0"), Ok(0));
        for bad in ["10.0.0.0", "10.0.0.0/33", "fd00::/129", "10.0.0/8", "10.0.0.0/08", "10.0.0.0/+8", "x/8", "10.0.0.0/"] {
            assert!(cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls() {
        assert!(url_ok("https://login.acme.com/oauth2/v1/authorize", false));
        assert!(url_ok("http://localhost:3000", true) && url_ok("http://127.0.0.1:3000/", true));
        assert!(!url_ok("http://localhost:3000", false));
        assert!(!url_ok("http://grafana.acme.com", true), "plain http only to localhost");
        assert!(!url_ok("https://", false) && !url_ok("https://u@h", false) && !url_ok("https://a b", false));
    }
}
