//! Entry: how users reach coderd over TLS. Where TLS terminates, the
//! coderd Service, the certificates, the port coderd's NetworkPolicy must
//! admit and from where, and the DNS records the README asks for.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Ctx, Reasons};
use crate::cloud::Cloud;
use crate::spec::{CertificateSource, Challenge, EntryMode, IssuerKind};

/// coderd's plain HTTP port (the chart fixes `CODER_HTTP_ADDRESS=0.0.0.0:8080`).
pub const CODERD_HTTP_PORT: u16 = 8080;
/// coderd's TLS port when `coder.tls.secretNames` is set (libcoder
/// `coder.tlsEnv`: `CODER_TLS_ADDRESS=0.0.0.0:8443`, Service port 443).
pub const CODERD_TLS_PORT: u16 = 8443;

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub mode: EntryMode,
    /// The access URL's host.
    pub host: String,
    /// The wildcard URL's host (`*.apps.example.com`), if any.
    pub wildcard_host: Option<String>,
    /// The chart's Service: `LoadBalancer` when coderd is the entry,
    /// `ClusterIP` behind an ingress controller.
    pub service_type: String,
    pub service_annotations: BTreeMap<String, String>,
    /// `Local` keeps the client's address (audit logs, and NetworkPolicies
    /// see the real source); `None`: the chart's default.
    pub external_traffic_policy: Option<String>,
    /// TLS secrets coderd mounts and serves (`coder.tls.secretNames`).
    pub coderd_tls_secrets: Vec<String>,
    pub ingress_class: Option<String>,
    /// `gateway`: the Gateway the tree writes; the chart's HTTPRoute binds
    /// to it.
    pub gateway: Option<Gateway>,
    /// The Ingress' TLS secrets for the host and the wildcard host.
    pub ingress_tls_secret: Option<String>,
    pub ingress_wildcard_tls_secret: Option<String>,
    /// Port in coderd's pod that users' traffic arrives at.
    pub user_port: u16,
    /// Namespace users' traffic comes from (the ingress controller's); `None`:
    /// from anywhere (coderd's own load balancer).
    pub user_source_namespace: Option<String>,
    /// An HTTP-01 challenge is answered through the ingress controller in
    /// this namespace: coderd's namespace admits it to cert-manager's solver.
    pub http01_solver_source: Option<String>,
    /// cert-manager `Certificate` objects the tree writes (`entry/`).
    pub certificates: Vec<Certificate>,
    /// TLS secrets the user creates from certificate files of their own.
    pub user_secrets: Vec<UserSecret>,
    /// DNS records: each name points at the entry's load balancer address.
    pub dns_names: Vec<String>,
    /// Prints the load balancer's address (an IP, or a host name on AWS).
    pub address_command: String,
    /// The DNS records are created before the certificate is requested (the
    /// entry's load balancer exists already, and an HTTP-01 challenge needs
    /// them); otherwise after coderd's install creates the load balancer.
    pub dns_first: bool,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gateway {
    pub name: String,
    pub namespace: String,
    pub class: String,
    /// One HTTPS listener (port 443) per host, terminating TLS with `secret`.
    pub listeners: Vec<Listener>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Listener {
    pub name: String,
    pub hostname: String,
    pub secret: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    /// The Certificate's name and the secret it writes.
    pub secret: String,
    pub namespace: String,
    pub dns_names: Vec<String>,
    pub issuer: String,
    pub issuer_kind: IssuerKind,
    pub challenge: Challenge,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserSecret {
    pub secret: String,
    pub namespace: String,
    /// The host names its certificate must cover.
    pub dns_names: Vec<String>,
}

/// Where the TLS certificates of a host and its wildcard come from.
pub(crate) struct Certs {
    pub certificates: Vec<Certificate>,
    pub user_secrets: Vec<UserSecret>,
    /// The secret serving the host, and the one serving the wildcard host.
    pub host_secret: String,
    pub wildcard_secret: Option<String>,
    pub reason: String,
}

/// One cert-manager Certificate named `secret` covering `host` and the
/// wildcard host (DNS-01 signs a wildcard), or the user's own secrets; in
/// `namespace`. Shared by coderd's entry and the sites' proxies.
pub(crate) fn certificates(source: &CertificateSource, namespace: &str, secret: &str, host: &str, wildcard_host: Option<&str>) -> Certs {
    let names: Vec<String> = std::iter::once(host.to_string()).chain(wildcard_host.map(str::to_string)).collect();
    match source {
        CertificateSource::CertManager { issuer, kind, challenge } => {
            let reason = format!(
                "cert-manager {} `{issuer}` ({}) signs one certificate for {}; the secret `{secret}` it writes is renewed without a redeploy",
                kind.as_str(),
                match challenge {
                    Challenge::Dns01 => "DNS-01: it can sign a wildcard and needs nothing on port 80",
                    Challenge::Http01 => "HTTP-01, answered through the ingress controller",
                    Challenge::None => "no challenge: a CA issuer signs by itself, with no ACME server and nothing on port 80",
                },
                names.join(", ")
            );
            let cert = Certificate {
                secret: secret.to_string(),
                namespace: namespace.into(),
                dns_names: names,
                issuer: issuer.clone(),
                issuer_kind: *kind,
                challenge: *challenge,
            };
            Certs {
                certificates: vec![cert],
                user_secrets: vec![],
                host_secret: secret.to_string(),
                wildcard_secret: wildcard_host.map(|_| secret.to_string()),
                reason,
            }
        }
        CertificateSource::Secrets { secret, wildcard_secret } => {
            let mut user = vec![UserSecret { secret: secret.clone(), namespace: namespace.into(), dns_names: vec![host.to_string()] }];
            if let (Some(w), Some(wh)) = (wildcard_secret, wildcard_host) {
                match user.iter_mut().find(|u| &u.secret == w) {
                    Some(u) => u.dns_names.push(wh.to_string()),
                    None => user.push(UserSecret { secret: w.clone(), namespace: namespace.into(), dns_names: vec![wh.to_string()] }),
                }
            }
            Certs {
                certificates: vec![],
                user_secrets: user,
                host_secret: secret.clone(),
                wildcard_secret: wildcard_secret.clone(),
                reason: "the spec names existing TLS secrets: the tree writes no certificate and the README says what each must cover"
                    .into(),
            }
        }
    }
}

/// `https://host[:port]` -> `host`.
pub(crate) fn host_of(url: &str) -> String {
    let h = url.strip_prefix("https://").unwrap_or(url);
    h.split(':').next().unwrap_or(h).to_string()
}

pub(crate) fn plan(ctx: &Ctx, coder_namespace: &str) -> Entry {
    let spec = ctx.spec;
    let e = &spec.entry;
    let host = host_of(&spec.access_url);
    let wildcard_host = spec.wildcard_access_url.as_deref().map(host_of);
    let mut r = Reasons::new();
    let names: Vec<String> = std::iter::once(host.clone()).chain(wildcard_host.clone()).collect();

    let c = certificates(&e.certificate, coder_namespace, "coder-tls", &host, wildcard_host.as_deref());
    r.insert("certificates", c.reason);
    let (certificates, user_secrets, host_secret, wildcard_secret) = (c.certificates, c.user_secrets, c.host_secret, c.wildcard_secret);

    let mut service_annotations = BTreeMap::new();
    let (service_type, external_traffic_policy, coderd_tls_secrets, user_port, user_source_namespace, address_command);
    let (mut ingress_tls_secret, mut ingress_wildcard_tls_secret) = (None, None);
    let mut gateway = None;
    match e.mode {
        EntryMode::CoderdTls => {
            r.insert(
                "mode",
                "coderd-tls (the default): coderd serves TLS itself on the chart's LoadBalancer Service (443 -> 8443), so no ingress controller is needed on any cloud".into(),
            );
            service_type = "LoadBalancer".to_string();
            external_traffic_policy = Some("Local".to_string());
            r.insert(
                "external_traffic_policy",
                "Local: coderd sees users' real addresses (audit logs), and its NetworkPolicy can tell outside traffic (admitted on 8443 only) from in-cluster clients (8080)".into(),
            );
            if ctx.cloud == Cloud::Aws {
                // Coder's AWS install advice: an NLB (TCP passthrough), not a
                // Classic ELB, in front of coderd's own TLS.
                service_annotations.insert("service.beta.kubernetes.io/aws-load-balancer-type".to_string(), "nlb".to_string());
            }
            r.insert(
                "service_annotations",
                match ctx.cloud {
                    Cloud::Aws => {
                        "AWS: a Network Load Balancer (`aws-load-balancer-type: nlb`, Coder's AWS advice): TCP passthrough to coderd's TLS"
                            .into()
                    }
                    Cloud::Gcp => {
                        "GKE's default passthrough network load balancer forwards TCP to coderd's TLS: no annotation needed".into()
                    }
                    Cloud::Azure => "AKS' default Standard Load Balancer forwards TCP to coderd's TLS: no annotation needed".into(),
                },
            );
            let mut secrets = vec![host_secret.clone()];
            if let Some(w) = wildcard_secret.as_ref().filter(|w| !secrets.contains(w)) {
                secrets.push(w.clone());
            }
            coderd_tls_secrets = secrets;
            r.insert(
                "coderd_tls_secrets",
                "coder.tls.secretNames: coderd mounts each and serves the certificate matching the requested host (SNI)".into(),
            );
            user_port = CODERD_TLS_PORT;
            user_source_namespace = None;
            r.insert("user_port", format!("users reach coderd's TLS port {CODERD_TLS_PORT} from anywhere; its plain HTTP port {CODERD_HTTP_PORT} is admitted only from in-cluster clients"));
            address_command = format!(
                "kubectl get svc coder -n {coder_namespace} -o jsonpath='{{.status.loadBalancer.ingress[0].ip}}{{.status.loadBalancer.ingress[0].hostname}}'"
            );
        }
        EntryMode::Ingress => {
            let class = e.ingress_class.clone().unwrap_or_default();
            let ns = e.controller_namespace.clone().unwrap_or_default();
            r.insert("mode", format!("ingress: the `{class}` ingress controller terminates TLS and forwards to coderd's HTTP port"));
            service_type = "ClusterIP".to_string();
            external_traffic_policy = None;
            r.insert(
                "service_annotations",
                "the ingress controller owns the load balancer; coderd's Service stays in-cluster (ClusterIP)".into(),
            );
            coderd_tls_secrets = vec![];
            ingress_tls_secret = Some(host_secret.clone());
            ingress_wildcard_tls_secret = wildcard_secret.clone();
            user_port = CODERD_HTTP_PORT;
            r.insert(
                "user_port",
                format!(
                    "the ingress controller in namespace `{ns}` reaches coderd's HTTP port {CODERD_HTTP_PORT}; nothing else from outside"
                ),
            );
            user_source_namespace = Some(ns.clone());
            // The controller's own LoadBalancer Service: it exists before
            // coderd is installed (the Ingress gets its address only later).
            address_command = format!(
                "kubectl get svc -n {ns} -o jsonpath='{{range .items[?(@.spec.type==\"LoadBalancer\")]}}{{.metadata.name}}: {{.status.loadBalancer.ingress[0].ip}}{{.status.loadBalancer.ingress[0].hostname}}{{\"\\n\"}}{{end}}'"
            );
        }
        EntryMode::Gateway => {
            let class = e.gateway_class.clone().unwrap_or_default();
            let ns = e.controller_namespace.clone().unwrap_or_default();
            r.insert(
                "mode",
                format!("gateway: a Gateway of class `{class}` (entry/gateway.yaml) terminates TLS; the chart's HTTPRoute forwards to coderd's HTTP port"),
            );
            service_type = "ClusterIP".to_string();
            external_traffic_policy = None;
            r.insert("service_annotations", "the Gateway owns the load balancer; coderd's Service stays in-cluster (ClusterIP)".into());
            coderd_tls_secrets = vec![];
            let mut listeners = vec![Listener { name: "https".into(), hostname: host.clone(), secret: host_secret.clone() }];
            if let (Some(wh), Some(ws)) = (&wildcard_host, &wildcard_secret) {
                listeners.push(Listener { name: "https-wildcard".into(), hostname: wh.clone(), secret: ws.clone() });
            }
            r.insert(
                "gateway",
                format!("Gateway `coder` in namespace `{coder_namespace}`: one HTTPS listener on 443 per host with its certificate; it admits routes from its own namespace only (the chart's HTTPRoute)"),
            );
            gateway = Some(Gateway { name: "coder".into(), namespace: coder_namespace.into(), class, listeners });
            user_port = CODERD_HTTP_PORT;
            r.insert(
                "user_port",
                format!("the gateway's proxies in namespace `{ns}` reach coderd's HTTP port {CODERD_HTTP_PORT}; nothing else from outside"),
            );
            user_source_namespace = Some(ns);
            address_command = format!("kubectl get gateway coder -n {coder_namespace} -o jsonpath='{{.status.addresses[0].value}}'");
        }
    }
    let dns_first = e.mode == EntryMode::Ingress;
    r.insert(
        "dns_first",
        if dns_first {
            "the ingress controller's load balancer exists before coderd: create the DNS records first, so an HTTP-01 challenge can be answered and the certificate is ready when coderd starts".into()
        } else {
            "the load balancer exists once coderd's Service or the Gateway is applied: the DNS records follow coderd's install (the DNS-01 certificate needs none)".into()
        },
    );
    let http01_solver_source =
        certificates.iter().any(|c| c.challenge == Challenge::Http01).then(|| user_source_namespace.clone()).flatten();
    if let Some(ns) = &http01_solver_source {
        r.insert(
            "http01_solver_source",
            format!("HTTP-01: cert-manager's solver pod in namespace `{coder_namespace}` answers the challenge through the ingress controller in `{ns}` (port 8089)"),
        );
    }
    r.insert(
        "dns_names",
        "each name needs a DNS record at the entry's load balancer address (A for an IP, CNAME for a host name); the wildcard record serves workspace apps".into(),
    );
    Entry {
        mode: e.mode,
        host,
        wildcard_host,
        service_type,
        service_annotations,
        external_traffic_policy,
        coderd_tls_secrets,
        ingress_class: e.ingress_class.clone(),
        gateway,
        ingress_tls_secret,
        ingress_wildcard_tls_secret,
        user_port,
        user_source_namespace,
        http01_solver_source,
        certificates,
        user_secrets,
        dns_names: names,
        address_command,
        dns_first,
        reasons: r,
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::EntryMode;
    use crate::test_support::spec_text;

    fn spec() -> String {
        spec_text(800, "aws") + "wildcard_access_url: https://*.apps.acme.com\n"
    }

    #[test]
    fn default_entry_is_coderd_tls_with_one_certificate_for_both_hosts() {
        let p = crate::plan_from_str("s.yaml", &spec()).unwrap();
        let e = &p.entry;
        assert_eq!(e.mode, EntryMode::CoderdTls);
        assert_eq!((e.service_type.as_str(), e.user_port), ("LoadBalancer", 8443));
        assert_eq!(e.service_annotations["service.beta.kubernetes.io/aws-load-balancer-type"], "nlb");
        assert_eq!(e.certificates.len(), 1);
        assert_eq!(e.certificates[0].dns_names, ["coder.acme.com", "*.apps.acme.com"]);
        assert_eq!(e.coderd_tls_secrets, ["coder-tls"]);
        assert_eq!(e.user_source_namespace, None);
        assert!(!e.dns_first);
    }

    #[test]
    fn ingress_and_named_secrets() {
        let spec = format!(
            "{}entry:\n  mode: ingress\n  ingress_class: nginx\n  controller_namespace: ingress-nginx\n  certificate:\n    secret: a\n    wildcard_secret: b\n",
            spec()
        );
        let p = crate::plan_from_str("s.yaml", &spec).unwrap();
        let e = &p.entry;
        assert_eq!((e.service_type.as_str(), e.user_port), ("ClusterIP", 8080));
        assert_eq!(e.user_source_namespace.as_deref(), Some("ingress-nginx"));
        assert!(e.coderd_tls_secrets.is_empty() && e.certificates.is_empty());
        assert_eq!((e.ingress_tls_secret.as_deref(), e.ingress_wildcard_tls_secret.as_deref()), (Some("a"), Some("b")));
        assert_eq!(e.user_secrets.len(), 2);
        assert!(e.dns_first);
        assert!(e.address_command.contains("-n ingress-nginx"));
    }

    #[test]
    fn gateway_writes_a_listener_per_host() {
        let spec = format!("{}entry:\n  mode: gateway\n  gateway_class: eg\n  controller_namespace: envoy-gateway-system\n", spec());
        let p = crate::plan_from_str("s.yaml", &spec).unwrap();
        let e = &p.entry;
        let g = e.gateway.as_ref().unwrap();
        assert_eq!((g.class.as_str(), g.namespace.as_str()), ("eg", "coder"));
        let hosts: Vec<&str> = g.listeners.iter().map(|l| l.hostname.as_str()).collect();
        assert_eq!(hosts, ["coder.acme.com", "*.apps.acme.com"]);
        assert_eq!((e.service_type.as_str(), e.user_port), ("ClusterIP", 8080));
        assert_eq!(e.user_source_namespace.as_deref(), Some("envoy-gateway-system"));
        assert!(e.address_command.contains("gateway coder"));
    }
}
