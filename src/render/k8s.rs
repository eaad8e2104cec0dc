//! Small builders for k8s-openapi objects shared by the Helm and Kustomize
//! renderers: metadata, quantities, the scheduling contract, the labels the
//! charts put on their pods.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Capabilities, ResourceRequirements, SeccompProfile, SecurityContext, Toleration};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::plan::{self, PodResources, Pool, Resources};

/// Labels on every object coder-gen writes.
pub fn common_labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/managed-by".to_string(), "coder-gen".to_string()),
        ("app.kubernetes.io/part-of".to_string(), "coder".to_string()),
    ])
}

/// Metadata with the common labels; `namespace` is `None` for cluster-scoped
/// objects and for base objects that an overlay places.
pub fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(common_labels()),
        ..ObjectMeta::default()
    }
}

/// The selector labels the coder and coder-provisioner charts put on their
/// pods: `app.kubernetes.io/name` is the chart, `instance` the release
/// (libcoder `coder.selectorLabels`).
pub fn chart_pod_labels(chart: &str, release: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/instance".to_string(), release.to_string()),
        ("app.kubernetes.io/name".to_string(), chart.to_string()),
    ])
}

pub fn selector(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector { match_labels: Some(labels), ..LabelSelector::default() }
}

/// A PodDisruptionBudget that lets a drain take one of `pods` at a time
/// (coderd's and a proxy's replicas, each on a node of its own).
pub fn one_at_a_time(name: &str, namespace: &str, pods: BTreeMap<String, String>) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: meta(name, Some(namespace)),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(selector(pods)),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}

pub fn cpu(millis: u32) -> Quantity {
    if millis.is_multiple_of(1000) { Quantity((millis / 1000).to_string()) } else { Quantity(format!("{millis}m")) }
}

pub fn memory(mib: u32) -> Quantity {
    Quantity(plan::mib(mib))
}

pub fn resource_list(r: Resources) -> BTreeMap<String, Quantity> {
    BTreeMap::from([("cpu".to_string(), cpu(r.cpu_millis)), ("memory".to_string(), memory(r.memory_mib))])
}

pub fn resources(r: PodResources) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(resource_list(r.requests)),
        limits: Some(resource_list(r.limits)),
        ..ResourceRequirements::default()
    }
}

/// The pool's node labels, as a nodeSelector (the Terraform pools carry the
/// same labels from the same Plan field).
pub fn node_selector(pool: &Pool) -> BTreeMap<String, String> {
    pool.labels.clone()
}

/// One toleration per pool taint, exact match on key, value and effect.
pub fn tolerations(pool: &Pool) -> Vec<Toleration> {
    pool.taints
        .iter()
        .map(|t| Toleration {
            key: Some(t.key.clone()),
            operator: Some("Equal".into()),
            value: Some(t.value.clone()),
            effect: Some(t.effect.as_str().into()),
            ..Toleration::default()
        })
        .collect()
}

/// The charts' default container security context plus `capabilities.drop:
/// [ALL]`, which Pod Security `restricted` requires and the charts leave unset
/// (Coder's Kubernetes install docs).
pub fn restricted_security_context() -> SecurityContext {
    SecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(1000),
        run_as_group: Some(1000),
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), ..Capabilities::default() }),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..SeccompProfile::default() }),
        ..SecurityContext::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(cpu(2000).0, "2");
        assert_eq!(cpu(1850).0, "1850m");
        assert_eq!(memory(2048).0, "2Gi");
        assert_eq!(memory(1728).0, "1728Mi");
    }
}
