//! The entry's own objects: cert-manager `Certificate`s (a CRD, so not in
//! k8s-openapi: only the fields written here), one file per certificate
//! under `entry/`, applied before coderd starts (coderd mounts the secret).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::k8s::meta;
use super::{paths, yaml};
use crate::plan::Plan;
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

pub fn render(plan: &Plan, tree: &mut Tree) {
    for c in &plan.entry.certificates {
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
        tree.insert(paths::certificate(&c.secret), yaml::document(&plan.spec_file, &cert));
    }
}
