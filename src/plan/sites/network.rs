//! A site's share of `network:`. The site's cluster lives in the same
//! company network as the primary's, so it pulls from the same registry
//! mirror, installs from the same chart mirror, trusts the same private CA
//! and leaves through the same HTTP proxy; what differs is where: its own
//! namespaces need the pull secret and the CA, its own cluster's ranges stay
//! off the proxy, and an EKS site pulls its Cluster Autoscaler at its own
//! Kubernetes version. `images.txt` (one list for the whole tree: one mirror
//! to fill) lists the site's images beside the primary's.

use std::collections::BTreeMap;

use serde::Serialize;

use super::super::network::{self as net, CaIssuer, ChartSource, EnvVar, Image, Network, Proxy as HttpProxy};
use super::super::{ClusterAutoscaler, Controller, Ctx, Gitops, Provisioners, Reasons, VERIFY_NAMESPACE};
use super::proxy::Proxy;
use crate::spec::{CertificateSource, Site as SpecSite};

#[derive(Debug, Clone, Serialize)]
pub struct SiteNetwork {
    /// The images the site pulls, by component (`coder`; `cluster-autoscaler`
    /// on EKS, at the site's Kubernetes version), as `network.images`.
    pub images: BTreeMap<String, Image>,
    /// The site's namespaces that pull with the mirror's pull secret (empty
    /// without one).
    pub pull_secret_namespaces: Vec<String>,
    /// The site's namespaces that need the private CA's Secret (empty
    /// without `network.ca`).
    pub ca_namespaces: Vec<String>,
    /// The CA ClusterIssuer the site's cluster needs for its proxy's
    /// certificate (`null`: none).
    pub ca_issuer: Option<CaIssuer>,
    /// Where the site's Cluster Autoscaler chart comes from (EKS sites).
    pub cluster_autoscaler_chart: Option<ChartSource>,
    /// The HTTP proxy with the site's NO_PROXY (`null`: no proxy).
    pub proxy: Option<HttpProxy>,
    /// Set on the workspace proxy: the HTTP proxy's variables.
    pub proxy_env: Vec<EnvVar>,
    /// Set on every provisioner of the site: the HTTP proxy's variables and
    /// `TF_CLI_CONFIG_FILE`.
    pub provisioner_env: Vec<EnvVar>,
    pub reasons: Reasons,
}

/// What the site's other components decided that its network reads.
pub(super) struct Inputs<'a> {
    pub site: &'a SpecSite,
    pub proxy: Option<&'a Proxy>,
    pub provisioners: &'a [Provisioners],
    pub cluster_autoscaler: Option<&'a ClusterAutoscaler>,
    pub gitops: Option<&'a Gitops>,
}

pub(super) fn plan(ctx: &Ctx, n: &Network, i: &Inputs) -> SiteNetwork {
    let spec = ctx.spec;
    let mut r = Reasons::new();

    let mut images = BTreeMap::from([("coder".to_string(), n.images["coder"].clone())]);
    if let Some(ca) = i.cluster_autoscaler {
        images.insert("cluster-autoscaler".to_string(), net::autoscaler_image(ctx, ca));
    }
    r.insert(
        "images",
        "Coder's image for the proxy, the provisioners and the verify Job, as the primary's (one version); on EKS the Cluster Autoscaler at the site's Kubernetes version; from the registry mirror when there is one, and listed in the tree's one images.txt".into(),
    );

    // Every namespace of the site's cluster where a pod coder-gen writes pulls.
    let mut pulling: Vec<String> = i.proxy.iter().map(|x| x.namespace.clone()).collect();
    pulling.extend(i.provisioners.iter().map(|g| g.namespace.clone()));
    pulling.push(VERIFY_NAMESPACE.to_string());
    let pull_secret_namespaces = match n.registry.as_ref().and_then(|reg| reg.pull_secret.as_ref()) {
        Some(secret) => {
            let mut ns = pulling.clone();
            if let Some(a) = i.cluster_autoscaler {
                ns.push(a.namespace.clone());
            }
            r.insert(
                "pull_secret_namespaces",
                format!("network.registry.pull_secret: Secret {secret} in each of the site's namespaces that pull (the site's README creates it)"),
            );
            ns
        }
        None => Vec::new(),
    };

    let ca_issuer = n.ca.as_ref().and_then(|c| c.issuer.clone()).filter(|iss| {
        i.proxy.is_some_and(|x| {
            matches!(&i.site.proxy.certificate, CertificateSource::CertManager { issuer, .. } if *issuer == iss.name)
                && !x.certificates.is_empty()
        })
    });
    let ca_namespaces = match &n.ca {
        Some(ca) => {
            let mut ns = pulling;
            let flux_ca = i.gitops.is_some_and(|g| g.controller == Controller::Flux) && n.charts.ca_secret.is_some();
            if flux_ca && let Some(g) = i.gitops {
                ns.push(g.namespace.clone());
            }
            r.insert(
                "ca",
                format!(
                    "network.ca: Secret {} in the site's proxy, provisioner and verify namespaces{}, mounted as in the primary (the proxy and provisioners reach the primary's access URL, whose certificate it may sign){}",
                    ca.secret.name,
                    if flux_ca { " and Flux's (its HelmRepository reads the chart mirror's CA)" } else { "" },
                    match &ca_issuer {
                        Some(iss) => format!(
                            "; the site's cluster gets its own ClusterIssuer {} (a ClusterIssuer is per cluster) signing the proxy's certificate from Secret {} in its cert-manager namespace",
                            iss.name, iss.secret
                        ),
                        None => String::new(),
                    }
                ),
            );
            ns
        }
        None => Vec::new(),
    };

    let cluster_autoscaler_chart = i.cluster_autoscaler.map(|a| net::chart_source(ctx, "cluster-autoscaler", &a.chart, &a.chart_version));

    let proxy = spec.network.proxy.as_ref().map(|p| {
        let (cidrs, whose) = match &i.site.cluster_cidrs {
            Some(c) => (c.value.clone(), "sites[].cluster_cidrs"),
            None => (p.cluster_cidrs.clone(), "network.proxy.cluster_cidrs (set sites[].cluster_cidrs if the site's cluster uses other ranges)"),
        };
        let mut no_proxy = net::no_proxy_base(&cidrs);
        no_proxy.extend(p.no_proxy.iter().cloned());
        let mut seen = std::collections::BTreeSet::new();
        no_proxy.retain(|e| seen.insert(e.clone()));
        r.insert(
            "proxy",
            format!(
                "network.proxy for the site's proxy and provisioners (and the Terraform they run); NO_PROXY keeps in-cluster traffic off it: loopback, service names (.svc, .cluster.local), the API server's service IP, the metadata address and the site cluster's pod and service CIDRs from {whose} (the proxy's replicas relay to each other by pod IP), plus network.proxy.no_proxy. The primary's access URL is not added: the site reaches it across networks like any outside host, through the proxy unless network.proxy.no_proxy names it (e.g. the company's domain)"
            ),
        );
        HttpProxy { url: p.url.clone(), no_proxy }
    });
    let mut proxy_env = Vec::new();
    let mut provisioner_env = Vec::new();
    if let Some(p) = &proxy {
        proxy_env = net::proxy_env(p);
        provisioner_env.clone_from(&proxy_env);
    }
    if let Some(t) = &n.terraform {
        provisioner_env.push(net::terraform_env(t));
        r.insert(
            "terraform",
            "network.terraform_providers: the site's provisioners mount the same Terraform CLI configuration as the primary's (a ConfigMap in each group's namespace), so their Terraform takes providers from the mirror only".into(),
        );
    }
    r.insert(
        "air_gapped",
        if n.air_gapped {
            "air-gapped: the proxy gets none of coderd's air-gap settings, because none applies to it: telemetry, the update check and the STUN servers are coderd's options (the workspace proxy's options in codersdk/deployment.go do not include them), and coderd's settings cover the whole deployment; the spec refused a proxy certificate from ACME".into()
        } else {
            "network.air_gapped is not set".into()
        },
    );

    SiteNetwork {
        images,
        pull_secret_namespaces,
        ca_namespaces,
        ca_issuer,
        cluster_autoscaler_chart,
        proxy,
        proxy_env,
        provisioner_env,
        reasons: r,
    }
}
