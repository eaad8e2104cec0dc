//! `network:`: registry and chart mirrors, HTTP proxy, Terraform provider
//! mirror, private CA, air-gapped. Each value is judged on its own (a
//! registry mirror with a scheme, a proxy that is not http(s), a provider
//! mirror without the trailing slash Terraform requires, Secret names), then
//! against the rest of the spec: an air-gapped spec may name nothing on the
//! public internet (an ACME issuer, a public registry, chart repository, Git
//! host or provider registry) and must name every mirror it needs.

use serde_saphyr::Spanned;

use super::Validator;
use super::syntax::{dns1123_label_problem, dns1123_subdomain_problem};
use crate::catalog::network::{is_public, observability_versions, public_hosts};
use crate::diag::{Located, quote};
use crate::spec::raw::{RawObservability, RawSpec};
use crate::spec::raw_network::RawNetwork;
use crate::spec::{
    AutoBool, CertificateSource, Challenge, ChartMirror, Entry, Gitops, IssuerKind, NETWORK_ENV, Network, Observability, PrivateCa,
    ProviderMirror, Proxy, RegistryMirror, ca_issuer_name,
};

/// Where the keys `network:` is judged against were written, taken from the
/// raw spec before its sections are consumed.
#[derive(Default)]
pub(super) struct Positions {
    /// `network.air_gapped: true`, where.
    air_gapped: Option<(u64, u64)>,
    /// `entry.certificate` written (its first key), where.
    certificate: Option<(u64, u64)>,
    /// `entry.certificate.cert_manager.challenge` (else `.issuer`), where.
    acme: Option<(u64, u64)>,
    gitops_repo: Option<(u64, u64)>,
    observability_version: Option<(u64, u64)>,
}

fn at<T>(s: &Spanned<T>) -> (u64, u64) {
    (s.defined.line(), s.defined.column())
}

impl Positions {
    pub(super) fn of(raw: &RawSpec) -> Positions {
        let cert = raw.entry.as_ref().and_then(|e| e.certificate.as_ref());
        let cm = cert.and_then(|c| c.cert_manager.as_ref());
        let observability_version = match &raw.observability {
            Some(RawObservability::Full(m)) => m.chart_version.as_ref().map(at),
            _ => None,
        };
        Positions {
            air_gapped: raw.network.as_ref().and_then(|n| n.air_gapped.as_ref()).filter(|b| b.value).map(at),
            certificate: cert.and_then(|c| c.secret.as_ref().map(at).or_else(|| c.cert_manager.as_ref().map(|m| at(&m.issuer)))),
            acme: cm.map(|m| m.challenge.as_ref().map_or_else(|| at(&m.issuer), at)),
            gitops_repo: raw.gitops.as_ref().and_then(|g| g.repo_url.as_ref()).map(at),
            observability_version,
        }
    }

    pub(super) fn air_gapped(&self) -> bool {
        self.air_gapped.is_some()
    }

    /// Where `network.air_gapped: true` is written.
    pub(super) fn air_gapped_at(&self) -> Option<(u64, u64)> {
        self.air_gapped
    }
}

/// What the rest of the spec says that `network:` is judged against.
pub(super) struct Context<'a> {
    pub name: &'a str,
    pub entry: &'a mut Entry,
    pub gitops: Option<&'a Gitops>,
    pub observability: &'a Observability,
}

impl Validator<'_> {
    fn err_at(&mut self, (line, column): (u64, u64), message: String, help: &str) {
        self.errors.push(Located { line, column, message, help: help.to_string() });
    }

    /// `coder.env` (or any env the spec takes, named by `what`) may not set
    /// a variable `network:` owns.
    pub(super) fn network_env<T>(&mut self, what: &str, name: &str, v: &Spanned<T>, air_gapped: bool) {
        if let Some((_, key, only_air_gapped)) = NETWORK_ENV.iter().find(|(n, _, _)| *n == name)
            && (!only_air_gapped || air_gapped)
        {
            let help = if *only_air_gapped {
                format!("it is set by {key} (true); remove it from {what}")
            } else {
                format!("it is set by {key}, for coderd and every provisioner alike; remove it from {what} and set {key} instead")
            };
            self.err(v, format!("{what} cannot set {name}"), &help);
        }
    }

    pub(super) fn network(&mut self, raw: Option<RawNetwork>, pos: &Positions, cx: Context) -> Network {
        let Some(raw) = raw else {
            return Network::default();
        };
        let air_gapped = raw.air_gapped.as_ref().is_some_and(|b| b.value);
        let hosts = public_hosts();

        let registry = raw.registry.map(|r| {
            self.image_prefix(&r.mirror);
            if air_gapped && let Some(host) = registry_host(&r.mirror.value).filter(|h| is_public(&hosts.registries, h)) {
                self.err(
                    &r.mirror,
                    format!(
                        "network.registry.mirror {} is a public registry ({host}), but network.air_gapped is true",
                        quote(&r.mirror.value)
                    ),
                    "name your own registry, e.g. registry.corp.example/mirror",
                );
            }
            let pull_secret = r.pull_secret.as_ref().map(|s| self.secret_name("network.registry.pull_secret", s));
            RegistryMirror { mirror: r.mirror.value, pull_secret }
        });

        let ca = raw.ca.map(|c| {
            let secret = self.secret_name("network.ca.secret", &c.secret);
            let issuer_secret = c.issuer_secret.as_ref().map(|s| {
                if let Some(p) = pos.certificate {
                    self.err(
                        s,
                        format!(
                            "network.ca.issuer_secret and entry.certificate (line {}, column {}) both say where the certificate comes from",
                            p.0, p.1
                        ),
                        "remove entry.certificate to have the tree's CA ClusterIssuer sign it, or remove issuer_secret",
                    );
                }
                self.secret_name("network.ca.issuer_secret", s)
            });
            PrivateCa { secret, issuer_secret }
        });

        let charts = raw.charts.map(|c| {
            let (oci, host) = self.chart_url(&c.url);
            let private_ca = c.private_ca.as_ref().is_some_and(|b| b.value);
            if let Some(b) = c.private_ca.as_ref().filter(|b| b.value && ca.is_none()) {
                self.err(
                    b,
                    "network.charts.private_ca is true but there is no network.ca".into(),
                    "add network.ca with the Secret holding your CA certificate",
                );
            }
            if air_gapped && let Some(h) = host.filter(|h| is_public(&hosts.charts, h)) {
                self.err(
                    &c.url,
                    format!(
                        "network.charts.url {} is a public chart repository ({h}), but network.air_gapped is true",
                        quote(&c.url.value)
                    ),
                    "name your own OCI registry or Helm repository holding the charts (the README's mirror step fills it)",
                );
            }
            ChartMirror { url: c.url.value.trim_end_matches('/').to_string(), oci, private_ca }
        });

        let proxy = raw.proxy.map(|p| {
            self.proxy_url(&p.url);
            if p.cluster_cidrs.value.is_empty() {
                self.err(
                    &p.cluster_cidrs,
                    "network.proxy.cluster_cidrs is empty".into(),
                    "list the cluster's pod and service CIDRs, e.g. [10.0.0.0/8]: coderd replicas reach each other by pod IP",
                );
            }
            for c in &p.cluster_cidrs.value {
                if !is_cidr(&c.value) {
                    self.err(
                        c,
                        format!("network.proxy.cluster_cidrs entry {} is not a CIDR", quote(&c.value)),
                        "write an address range such as 10.0.0.0/8 or fd00::/8",
                    );
                }
            }
            for n in &p.no_proxy {
                if !is_no_proxy_entry(&n.value) {
                    self.err(
                        n,
                        format!("network.proxy.no_proxy entry {} is not a host, domain, IP or CIDR", quote(&n.value)),
                        "write one host (git.corp.example), domain (.corp.example), IP or CIDR per entry, without commas or spaces",
                    );
                }
            }
            Proxy {
                url: p.url.value.trim_end_matches('/').to_string(),
                cluster_cidrs: p.cluster_cidrs.value.into_iter().map(|c| c.value).collect(),
                no_proxy: p.no_proxy.into_iter().map(|n| n.value).collect(),
            }
        });

        let terraform_providers = raw.terraform_providers.and_then(|t| match (t.mirror_url, t.mirror_path) {
            (Some(u), None) => {
                let ok = u.value.strip_prefix("https://").is_some_and(|rest| {
                    let host = rest.split('/').next().unwrap_or("");
                    !host.is_empty() && url_host_ok(host) && !rest.contains(['?', '#', ' ', '@'])
                });
                if !ok {
                    self.err(
                        &u,
                        format!("network.terraform_providers.mirror_url {} is not an https URL", quote(&u.value)),
                        "Terraform's network mirror protocol needs https, e.g. https://terraform.corp.example/providers/",
                    );
                } else if !u.value.ends_with('/') {
                    self.err(
                        &u,
                        format!("network.terraform_providers.mirror_url {} does not end in `/`", quote(&u.value)),
                        &format!("Terraform requires the trailing slash: {}/", u.value),
                    );
                }
                let host = u.value.strip_prefix("https://").and_then(|r| r.split(['/', ':']).next()).unwrap_or("");
                if air_gapped && is_public(&hosts.terraform, host) {
                    self.err(
                        &u,
                        format!("network.terraform_providers.mirror_url {} is on the public internet, but network.air_gapped is true", quote(&u.value)),
                        "name your own provider mirror (filled with `terraform providers mirror`)",
                    );
                }
                Some(ProviderMirror::Url(u.value))
            }
            (None, Some(p)) => {
                let ok = p.value.starts_with('/')
                    && p.value.len() <= 1024
                    && !p.value.split('/').any(|s| s == "..")
                    && p.value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-'));
                if !ok {
                    self.err(
                        &p,
                        format!("network.terraform_providers.mirror_path {} is not an absolute path", quote(&p.value)),
                        "give the directory in the provisioner pods, e.g. /home/coder/.terraform.d/plugins (letters, digits, '/', '.', '_', '-')",
                    );
                }
                Some(ProviderMirror::Path(p.value.trim_end_matches('/').to_string()))
            }
            (Some(u), Some(_)) => {
                self.err(&u, "network.terraform_providers names both mirror_url and mirror_path".into(), "keep one: Terraform uses the mirror only");
                None
            }
            (None, None) => None,
        });

        // A spec that names a mirror pins every image: coder-gen must know
        // every image of the observability chart it installs.
        if registry.is_some() && cx.observability.enabled != AutoBool::Set(false) {
            let known = observability_versions();
            if !known.contains(&cx.observability.chart_version.as_str()) {
                let p = pos.observability_version.or(pos.air_gapped).unwrap_or((0, 0));
                let message = format!(
                    "observability.chart_version {} with network.registry: coder-gen knows the images of coder-observability {} only",
                    quote(&cx.observability.chart_version),
                    known.join(", ")
                );
                self.err_at(p, message, &format!("use chart_version {}, or observability: false", known.join(" or ")));
            }
        }

        // The entry's certificate: the tree's CA ClusterIssuer, unless the
        // spec names another source (refused above).
        if let Some(PrivateCa { issuer_secret: Some(_), .. }) = &ca
            && pos.certificate.is_none()
        {
            cx.entry.certificate = CertificateSource::CertManager {
                issuer: ca_issuer_name(cx.name),
                kind: IssuerKind::ClusterIssuer,
                challenge: Challenge::None,
            };
        }

        if let Some(p) = pos.air_gapped {
            self.air_gapped(p, pos, &cx, registry.is_some(), charts.is_some(), terraform_providers.is_some());
        }
        Network { air_gapped, registry, charts, proxy, terraform_providers, ca }
    }

    /// What an air-gapped spec still lacks or names on the internet.
    fn air_gapped(&mut self, p: (u64, u64), pos: &Positions, cx: &Context, registry: bool, charts: bool, providers: bool) {
        const WHY: &str = "network.air_gapped is true";
        if !registry {
            self.err_at(
                p,
                format!("{WHY} but network.registry names no mirror: every image would come from public registries"),
                "add network.registry.mirror, e.g. registry.corp.example/mirror (the tree's images.txt lists what to copy there)",
            );
        }
        if !charts {
            self.err_at(
                p,
                format!("{WHY} but network.charts names no mirror: the charts would come from public repositories"),
                "add network.charts.url, e.g. oci://registry.corp.example/charts",
            );
        }
        if !providers {
            self.err_at(
                p,
                format!("{WHY} but network.terraform_providers names no mirror: templates would download providers from the public Terraform registry"),
                "add network.terraform_providers.mirror_url (https, ending in /) or mirror_path (a filesystem mirror in the provisioner pods)",
            );
        }
        if let CertificateSource::CertManager { issuer, challenge: challenge @ (Challenge::Dns01 | Challenge::Http01), .. } =
            &cx.entry.certificate
        {
            let which = if *challenge == Challenge::Dns01 { "DNS-01" } else { "HTTP-01" };
            self.err_at(
                pos.acme.unwrap_or(p),
                format!("{WHY} but the certificate comes from ACME issuer {} ({which}), which needs the internet", quote(issuer)),
                "set network.ca.issuer_secret (the tree writes a CA ClusterIssuer), name your own CA issuer with challenge: none, or name existing secrets (entry.certificate.secret)",
            );
        }
        if let (Some(g), Some(at)) = (cx.gitops, pos.gitops_repo) {
            let host = g.repo_url.split("://").nth(1).unwrap_or("").split(['/', ':']).next().unwrap_or("");
            let host = host.rsplit('@').next().unwrap_or(host);
            if is_public(&public_hosts().git, host) {
                self.err_at(at, format!("{WHY} but gitops.repo_url is on {host}"), "name your own Git server's URL");
            }
        }
    }

    /// A Secret's name: an RFC 1123 subdomain.
    fn secret_name(&mut self, what: &str, s: &Spanned<String>) -> String {
        if let Some(problem) = dns1123_subdomain_problem(&s.value) {
            self.err(
                s,
                format!("{what} {} is not a Kubernetes Secret name: {problem}", quote(&s.value)),
                "use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
            );
        }
        s.value.clone()
    }

    /// `host[:port][/path]`, the way Docker reads an image name's prefix.
    fn image_prefix(&mut self, s: &Spanned<String>) {
        let v = &s.value;
        const WHAT: &str = "network.registry.mirror";
        if let Some((scheme, _)) = v.split_once("://") {
            let rest = &v[scheme.len() + 3..];
            self.err(
                s,
                format!("{WHAT} {} has a scheme ({scheme}://)", quote(v)),
                &format!("write the image prefix without a scheme, as images are named: {}", rest.trim_end_matches('/')),
            );
            return;
        }
        if v.ends_with('/') {
            self.err(s, format!("{WHAT} {} ends in `/`", quote(v)), &format!("drop the trailing slash: {}", v.trim_end_matches('/')));
            return;
        }
        let mut parts = v.split('/');
        let host = parts.next().unwrap_or("");
        if !looks_like_registry_host(host) {
            self.err(
                s,
                format!("{WHAT} {} does not start with a registry host", quote(v)),
                "start with the registry's host name (with a dot or a port), e.g. registry.corp.example/mirror; Docker would read a bare first word as a Docker Hub namespace",
            );
            return;
        }
        if v.len() > 200 || !url_host_ok(host) || !parts.all(is_path_component) {
            self.err(
                s,
                format!("{WHAT} {} is not an image prefix", quote(v)),
                "use host[:port] then lower-case path components (letters, digits, '.', '_', '-'), e.g. registry.corp.example/mirror",
            );
        }
    }

    /// `oci://` or `https://` with a host; (is it OCI, the host).
    fn chart_url(&mut self, s: &Spanned<String>) -> (bool, Option<String>) {
        let v = s.value.trim_end_matches('/');
        let (oci, rest) = match (v.strip_prefix("oci://"), v.strip_prefix("https://")) {
            (Some(r), _) => (true, r),
            (None, Some(r)) => (false, r),
            _ => {
                self.err(
                    s,
                    format!("network.charts.url {} is not an OCI or https URL", quote(&s.value)),
                    "use oci://registry.corp.example/charts (charts pushed with helm push) or https://charts.corp.example/coder (a Helm repository)",
                );
                return (false, None);
            }
        };
        let host = rest.split('/').next().unwrap_or("");
        let path_ok = rest
            .split('/')
            .skip(1)
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')));
        let path_ok = path_ok && (!oci || rest.split('/').skip(1).all(is_path_component));
        if host.is_empty() || !url_host_ok(host) || !path_ok || rest.contains(['?', '#', '@', ' ']) {
            self.err(
                s,
                format!("network.charts.url {} is not a chart mirror URL", quote(&s.value)),
                "use a host and a path without credentials, query or spaces, e.g. oci://registry.corp.example/charts",
            );
            return (oci, None);
        }
        (oci, Some(host.split(':').next().unwrap_or(host).to_ascii_lowercase()))
    }

    fn proxy_url(&mut self, s: &Spanned<String>) {
        let v = s.value.trim_end_matches('/');
        let rest = v.strip_prefix("http://").or_else(|| v.strip_prefix("https://"));
        let Some(rest) = rest else {
            self.err(
                s,
                format!("network.proxy.url {} is not an http or https URL", quote(&s.value)),
                "write the proxy as http://host:port (or https://host:port), e.g. http://proxy.corp.example:3128",
            );
            return;
        };
        if rest.contains('@') {
            self.err(
                s,
                format!("network.proxy.url {} carries credentials", quote(&s.value)),
                "coder-gen writes the proxy URL into the tree, where no secret belongs: use a proxy that admits the cluster by address",
            );
            return;
        }
        if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) || !url_host_ok(rest) {
            self.err(
                s,
                format!("network.proxy.url {} is not a proxy address", quote(&s.value)),
                "write scheme, host and port only, e.g. http://proxy.corp.example:3128",
            );
        }
    }
}

/// The registry host of an image prefix, without its port.
fn registry_host(prefix: &str) -> Option<String> {
    let host = prefix.split('/').next()?;
    Some(host.split(':').next().unwrap_or(host).to_ascii_lowercase())
}

/// Docker reads the first component as a registry only with a dot, a port
/// or `localhost`.
fn looks_like_registry_host(h: &str) -> bool {
    h.contains('.') || h.contains(':') || h == "localhost"
}

/// `host[:port]`: DNS labels (any case) or an IPv4 address, and a port.
fn url_host_ok(h: &str) -> bool {
    let (name, port) = match h.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (h, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
    });
    !name.is_empty()
        && name.len() <= 253
        && name
            .split('.')
            .all(|l| dns1123_label_problem(&l.to_ascii_lowercase()).is_none() || (!l.is_empty() && l.bytes().all(|b| b.is_ascii_digit())))
        && port_ok
}

/// A path component of an image name: `[a-z0-9]+` joined by `.`, `_`,
/// `__` or dashes.
fn is_path_component(p: &str) -> bool {
    let b = p.as_bytes();
    if b.is_empty() || !b[0].is_ascii_lowercase() && !b[0].is_ascii_digit() {
        return false;
    }
    let last = b[b.len() - 1];
    if !(last.is_ascii_lowercase() || last.is_ascii_digit()) {
        return false;
    }
    // Separators: '.', '_', "__" or any run of '-'; never two others in a row.
    let mut run = String::new();
    for &c in b {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if !(run.is_empty() || run == "." || run == "_" || run == "__" || run.bytes().all(|x| x == b'-')) {
                return false;
            }
            run.clear();
        } else if matches!(c, b'.' | b'_' | b'-') {
            run.push(c as char);
        } else {
            return false;
        }
    }
    true
}

pub(super) fn is_cidr(s: &str) -> bool {
    let Some((addr, bits)) = s.split_once('/') else { return false };
    let Ok(bits) = bits.parse::<u8>() else { return false };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

/// What Go's `NO_PROXY` takes: a host, `.domain`, an IP or a CIDR (one
/// entry, so no commas or spaces).
fn is_no_proxy_entry(s: &str) -> bool {
    if is_cidr(s) || s.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let host = s.strip_prefix('.').unwrap_or(s);
    !host.is_empty() && s.len() <= 253 && url_host_ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_and_addresses() {
        for ok in ["mirror", "a.b", "a__b", "a-b", "a--b", "a1", "coder"] {
            assert!(is_path_component(ok), "{ok}");
        }
        for bad in ["", "A", "-a", "a-", "a..b", "a._b", "a/b", "a b"] {
            assert!(!is_path_component(bad), "{bad}");
        }
        assert!(is_cidr("10.0.0.0/8") && is_cidr("fd00::/8") && !is_cidr("10.0.0.0/33") && !is_cidr("10.0.0.0") && !is_cidr("x/8"));
        assert!(
            is_no_proxy_entry(".corp.example") && is_no_proxy_entry("10.1.2.3") && !is_no_proxy_entry("a,b") && !is_no_proxy_entry("*")
        );
        assert!(url_host_ok("registry.corp.example:5000") && url_host_ok("10.0.0.1") && !url_host_ok("a:99999") && !url_host_ok("a_b"));
        assert!(looks_like_registry_host("localhost") && !looks_like_registry_host("mirror"));
    }
}
