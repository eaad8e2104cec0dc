//! A site's `kustomize/`: the proxy's namespace with the flows the network
//! contract names (users, agents and the primary's health check to its TLS
//! port; the replicas' DERP mesh between proxy pods; metrics to the site's
//! collector), each provisioner and workspace group's namespace, quotas and
//! RBAC, and the shared default-deny, in the site's cluster. The primary's
//! builders (`render/kustomize.rs`) make every object.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use k8s_openapi::api::rbac::v1::Subject;

use super::at;
use crate::plan::{Plan, Site};
use crate::render::k8s;
use crate::render::kustomize::{Kustomization, Overlay, allow, base, namespace_at, namespaces_peer, quota, workspace_overlay};
use crate::render::{paths, yaml};
use crate::tree::Tree;

/// The proxy's overlay folder: not `coder` (a user's overrides of the
/// primary's `coder` overlay must never land here).
pub const PROXY_OVERLAY: &str = "proxy";

fn ns(site: &Site, name: &str, level: &str) -> Namespace {
    namespace_at(&site.kubernetes.version, name, level)
}

/// Admit the site's collector to the metrics port of `pods`.
fn metrics(plan: &Plan, site: &Site, o: &mut Overlay, namespace: &str, pods: BTreeMap<String, String>) {
    let port = i32::from(site.observability.prometheus_port);
    let policy =
        allow("allow-metrics-scrape", namespace, pods, vec![namespaces_peer(vec![site.observability.scrape_namespace.clone()])], port);
    o.add(plan, "networkpolicy-allow-metrics-scrape.yaml", &policy);
}

pub fn render(plan: &Plan, site: &Site, tree: &mut Tree) {
    let root = at(site, paths::KUSTOMIZE_ROOT);
    base(plan, tree, &root);
    let mut overlays = Vec::new();
    if let Some(x) = &site.proxy {
        let n = x.namespace.as_str();
        let mut o = Overlay::new(format!("{root}/overlays/{PROXY_OVERLAY}"), n);
        let pods = k8s::chart_pod_labels(&plan.chart.coder_chart, &x.release);
        o.add(plan, "namespace.yaml", &ns(site, n, "restricted"));
        // Users, workspace agents (DERP) and the primary's health check
        // reach the proxy's TLS port from anywhere: no `from`.
        let mut users = allow("allow-users", n, pods.clone(), Vec::new(), i32::from(x.user_port));
        if let Some(rule) = users.spec.as_mut().and_then(|s| s.ingress.as_mut()).and_then(|i| i.first_mut()) {
            rule.from = None;
        }
        o.add(plan, "networkpolicy-allow-users.yaml", &users);
        if x.high_availability {
            // The replicas relay DERP traffic over each other's pod IPs
            // (the chart sets CODER_DERP_SERVER_RELAY_URL=http://<pod IP>:8080).
            let peers = NetworkPolicyPeer { pod_selector: Some(k8s::selector(pods.clone())), ..NetworkPolicyPeer::default() };
            o.add(
                plan,
                "networkpolicy-allow-proxy-mesh.yaml",
                &allow("allow-proxy-mesh", n, pods.clone(), vec![peers], i32::from(x.mesh_port)),
            );
            o.add(plan, "poddisruptionbudget.yaml", &k8s::one_at_a_time(&x.release, n, pods.clone()));
        }
        if site.observability.enabled {
            metrics(plan, site, &mut o, n, pods);
        }
        overlays.push(o);
    }
    for g in &site.provisioners {
        let n = g.namespace.as_str();
        let mut o = Overlay::new(format!("{root}/overlays/provisioners-{n}"), n);
        o.add(plan, "namespace.yaml", &ns(site, n, "restricted"));
        o.add(plan, "resourcequota.yaml", &quota("provisioners", n, &g.quota));
        if site.observability.enabled {
            metrics(plan, site, &mut o, n, k8s::chart_pod_labels(&plan.chart.provisioner_chart, &g.release));
        }
        overlays.push(o);
    }
    for w in &site.workspaces {
        // Only the site's provisioner groups that serve this namespace.
        let subjects: Vec<Subject> = site
            .provisioners
            .iter()
            .filter(|g| g.workspace_namespaces.contains(&w.namespace))
            .map(|g| Subject {
                kind: "ServiceAccount".into(),
                name: g.service_account.clone(),
                namespace: Some(g.namespace.clone()),
                api_group: None,
            })
            .collect();
        let dir = format!("{root}/overlays/workspaces-{}", w.namespace);
        overlays.push(workspace_overlay(plan, dir, &site.kubernetes.version, w, subjects));
    }
    let prefix = format!("{root}/");
    let resources = overlays.iter().map(|o| o.dir().strip_prefix(&prefix).unwrap_or(o.dir()).to_string()).collect();
    tree.insert(format!("{root}/kustomization.yaml"), yaml::document(&plan.spec_file, &Kustomization::new(None, resources)));
    for o in overlays {
        o.write(plan, tree);
    }
}
