//! `entry:`: where TLS terminates and where its certificates come from.

use super::Validator;
use crate::spec::raw::RawEntry;
use crate::spec::{CertificateSource, Challenge, DEFAULT_ISSUER, Entry, EntryMode, IssuerKind};

impl Validator<'_> {
    /// `entry:`: every combination that cannot serve the URLs over TLS is an
    /// error at the key that makes it so.
    pub(super) fn entry(&mut self, raw: Option<RawEntry>, wildcard: bool) -> Entry {
        let raw =
            raw.unwrap_or(RawEntry { mode: None, ingress_class: None, gateway_class: None, controller_namespace: None, certificate: None });
        let mode = raw.mode.as_ref().map(|m| m.value).unwrap_or_default();
        let ingress_class = raw.ingress_class.as_ref().map(|c| {
            if mode != EntryMode::Ingress {
                self.err(c, "entry.ingress_class is only used with `mode: ingress`".into(), "remove it, or set `mode: ingress`");
            }
            self.dns_label("entry.ingress_class", c, 63, "").to_string()
        });
        let gateway_class = raw.gateway_class.as_ref().map(|c| {
            if mode != EntryMode::Gateway {
                self.err(c, "entry.gateway_class is only used with `mode: gateway`".into(), "remove it, or set `mode: gateway`");
            }
            self.dns_label("entry.gateway_class", c, 63, "").to_string()
        });
        let controller_namespace = raw.controller_namespace.as_ref().map(|n| {
            if mode == EntryMode::CoderdTls {
                self.err(
                    n,
                    "entry.controller_namespace is only used with `mode: ingress` or `mode: gateway`".into(),
                    "remove it: with coderd-tls users reach coderd directly",
                );
            }
            self.dns_label("entry.controller_namespace", n, 63, "").to_string()
        });
        if let Some(m) = raw.mode.as_ref().filter(|_| mode != EntryMode::CoderdTls) {
            // Each mode's own key, example and proxy in its message.
            let (class_missing, mode_name, key, class, proxy) = match mode {
                EntryMode::Ingress => {
                    (ingress_class.is_none(), "ingress", "ingress_class", "nginx", "ingress controller's pods (e.g. ingress-nginx)")
                }
                _ => (gateway_class.is_none(), "gateway", "gateway_class", "eg", "gateway's proxy pods (e.g. envoy-gateway-system)"),
            };
            if class_missing {
                self.err(
                    m,
                    format!("`mode: {mode_name}` needs entry.{key}"),
                    &format!("name the class of your {mode_name} controller, e.g. {key}: {class}"),
                );
            }
            if controller_namespace.is_none() {
                self.err(
                    m,
                    format!("`mode: {mode_name}` needs entry.controller_namespace"),
                    &format!("name the namespace the {proxy} run in: coderd's NetworkPolicy admits only it to its HTTP port"),
                );
            }
        }
        let certificate = match raw.certificate {
            None => CertificateSource::CertManager {
                issuer: DEFAULT_ISSUER.into(),
                kind: IssuerKind::ClusterIssuer,
                challenge: Challenge::Dns01,
            },
            Some(c) => match (c.cert_manager, c.secret) {
                (Some(cm), None) => {
                    if let Some(w) = &c.wildcard_secret {
                        self.err(
                            w,
                            "entry.certificate.wildcard_secret needs entry.certificate.secret".into(),
                            "name both secrets, or use cert_manager alone",
                        );
                    }
                    let challenge = cm.challenge.as_ref().map(|c| c.value).unwrap_or_default();
                    if let Some(ch) = cm.challenge.as_ref().filter(|c| c.value == Challenge::Http01) {
                        if wildcard {
                            self.err(
                                ch,
                                "a wildcard certificate cannot be obtained with an HTTP-01 challenge".into(),
                                "use an issuer that solves DNS-01 (challenge: dns01), or name existing secrets instead",
                            );
                        }
                        if mode == EntryMode::Gateway {
                            self.err(
                                ch,
                                "with `mode: gateway` coder-gen writes no HTTP-01 solver route".into(),
                                "use an issuer that solves DNS-01 (challenge: dns01), or name existing secrets instead",
                            );
                        }
                        if mode == EntryMode::CoderdTls {
                            self.err(
                                ch,
                                "with `mode: coderd-tls` nothing answers an HTTP-01 challenge on port 80".into(),
                                "use an issuer that solves DNS-01 (challenge: dns01), or `mode: ingress`",
                            );
                        }
                    }
                    let name = self.dns_label("entry.certificate.cert_manager.issuer", &cm.issuer, 63, "").to_string();
                    CertificateSource::CertManager { issuer: name, kind: cm.issuer_kind.map(|k| k.value).unwrap_or_default(), challenge }
                }
                (None, Some(secret)) => {
                    let name = self.dns_label("entry.certificate.secret", &secret, 63, "").to_string();
                    let wildcard_secret = match &c.wildcard_secret {
                        Some(w) => {
                            if !wildcard {
                                self.err(
                                    w,
                                    "entry.certificate.wildcard_secret is set but there is no wildcard_access_url".into(),
                                    "remove it, or set wildcard_access_url",
                                );
                            }
                            Some(self.dns_label("entry.certificate.wildcard_secret", w, 63, "").to_string())
                        }
                        None => {
                            if wildcard {
                                self.err(
                                    &secret,
                                    "wildcard_access_url is set but no certificate for it is named".into(),
                                    "add wildcard_secret: the secret whose certificate covers the wildcard host (the same secret if it covers both)",
                                );
                            }
                            None
                        }
                    };
                    CertificateSource::Secrets { secret: name, wildcard_secret }
                }
                (Some(cm), Some(secret)) => {
                    self.err(
                        &secret,
                        "entry.certificate names both cert_manager and secret".into(),
                        "choose one way to get the certificate",
                    );
                    let _ = cm;
                    CertificateSource::Secrets { secret: secret.value, wildcard_secret: None }
                }
                (None, None) => {
                    if let Some(w) = &c.wildcard_secret {
                        self.err(w, "entry.certificate.wildcard_secret needs entry.certificate.secret".into(), "name both secrets");
                    }
                    CertificateSource::CertManager {
                        issuer: DEFAULT_ISSUER.into(),
                        kind: IssuerKind::ClusterIssuer,
                        challenge: Challenge::Dns01,
                    }
                }
            },
        };
        Entry { mode, ingress_class, gateway_class, controller_namespace, certificate }
    }
}
