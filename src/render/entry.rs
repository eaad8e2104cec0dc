//! The entry's own objects: cert-manager `Certificate`s (a CRD, so not in
//! k8s-openapi: only the fields written here), one file per certificate
//! under `entry/`, applied before coderd starts (coderd mounts the secret).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::k8s::meta;
use super::{paths, yaml};
use crate::plan::{self, Plan};
use crate::tree::Tree;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Certificate {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: CertificateSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CertificateSpec {
    secret_name: String,
    dns_names: Vec<String>,
    issuer_ref: IssuerRef,
}

#[derive(Serialize)]
struct IssuerRef {
    group: &'static str,
    kind: &'static str,
    name: String,
}

/// Gateway API `Gateway` (v1): only the fields written here.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Gateway {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: GatewaySpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GatewaySpec {
    gateway_class_name: String,
    listeners: Vec<Listener>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Listener {
    name: String,
    hostname: String,
    port: u16,
    protocol: &'static str,
    tls: ListenerTls,
    allowed_routes: AllowedRoutes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListenerTls {
    mode: &'static str,
    certificate_refs: Vec<SecretRef>,
}

#[derive(Serialize)]
struct SecretRef {
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
struct AllowedRoutes {
    namespaces: RouteNamespaces,
}

#[derive(Serialize)]
struct RouteNamespaces {
    from: &'static str,
}

pub fn render(plan: &Plan, tree: &mut Tree) {
    if let Some(g) = &plan.entry.gateway {
        let gw = Gateway {
            api_version: "gateway.networking.k8s.io/v1",
            kind: "Gateway",
            metadata: meta(&g.name, Some(&g.namespace)),
            spec: GatewaySpec {
                gateway_class_name: g.class.clone(),
                listeners: g
                    .listeners
                    .iter()
                    .map(|l| Listener {
                        name: l.name.clone(),
                        hostname: l.hostname.clone(),
                        port: 443,
                        protocol: "HTTPS",
                        tls: ListenerTls {
                            mode: "Terminate",
                            certificate_refs: vec![SecretRef { kind: "Secret", name: l.secret.clone() }],
                        },
                        // Only the chart's HTTPRoute, in the Gateway's namespace.
                        allowed_routes: AllowedRoutes { namespaces: RouteNamespaces { from: "Same" } },
                    })
                    .collect(),
            },
        };
        tree.insert(paths::GATEWAY, yaml::document(&plan.spec_file, &gw));
    }
    for c in &plan.entry.certificates {
        tree.insert(paths::certificate(&c.secret), certificate(plan, c));
    }
}

/// The cert-manager `Certificate` of `c` as a YAML document (coderd's, or
/// a site proxy's).
pub(super) fn certificate(plan: &Plan, c: &plan::Certificate) -> String {
    let cert = Certificate {
        api_version: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: meta(&c.secret, Some(&c.namespace)),
        spec: CertificateSpec {
            secret_name: c.secret.clone(),
            dns_names: c.dns_names.clone(),
            issuer_ref: IssuerRef { group: "cert-manager.io", kind: c.issuer_kind.as_str(), name: c.issuer.clone() },
        },
    };
    yaml::document(&plan.spec_file, &cert)
}
