//! Where each piece lives in the output tree. One place, so the README, the
//! renderers and the tests agree.

use crate::cloud::Cloud;

pub const README: &str = "README.md";
pub const SIZING: &str = "SIZING.md";
pub const CODER_VALUES: &str = "helm/coder/values.yaml";
pub const CLUSTER_AUTOSCALER_VALUES: &str = "helm/cluster-autoscaler/values.yaml";
pub const KUSTOMIZE_ROOT: &str = "kustomize";
pub const OBSERVABILITY_VALUES: &str = "helm/coder-observability/values.yaml";
/// The verification Jobs: a kustomization of their own, outside
/// `kustomize/` so `kubectl apply -k kustomize` never starts a load test.
pub const VERIFY_ROOT: &str = "verify";
pub const GITIGNORE: &str = ".gitignore";
/// Every image the tree pulls (with its mirror reference when mirrored).
pub const IMAGES: &str = "images.txt";
/// Every chart the tree installs, for filling a chart mirror.
pub const CHARTS: &str = "charts.txt";
/// The operator's Terraform CLI configuration (the provider mirror).
pub const TERRAFORM_CLI_CONFIG: &str = "terraform.tfrc";
/// cert-manager objects for the entry, applied with `kubectl apply -f`.
pub const ENTRY_DIR: &str = "entry";

/// The Gateway of `entry.mode: gateway`.
pub const GATEWAY: &str = "entry/gateway.yaml";

/// The CA ClusterIssuer of `network.ca.issuer_secret`.
pub fn cluster_issuer(name: &str) -> String {
    format!("{ENTRY_DIR}/clusterissuer-{name}.yaml")
}

pub fn certificate(secret: &str) -> String {
    format!("{ENTRY_DIR}/certificate-{secret}.yaml")
}

pub fn provisioner_values(namespace: &str) -> String {
    format!("helm/coder-provisioner/{namespace}/values.yaml")
}

pub fn coder_overlay() -> String {
    format!("{KUSTOMIZE_ROOT}/overlays/coder")
}

pub fn provisioner_overlay(namespace: &str) -> String {
    format!("{KUSTOMIZE_ROOT}/overlays/provisioners-{namespace}")
}

pub fn workspace_overlay(namespace: &str) -> String {
    format!("{KUSTOMIZE_ROOT}/overlays/workspaces-{namespace}")
}

pub fn terraform_dir(cloud: Cloud) -> String {
    format!("terraform/{cloud}")
}

/// Flux objects: apply this folder once (`kubectl apply -k`); it then
/// manages itself.
pub const GITOPS_FLUX: &str = "gitops/flux";
/// Argo CD objects: apply `application.yaml` once; it syncs `apps/`.
pub const GITOPS_ARGOCD: &str = "gitops/argocd";

/// A site's tree: the same layout as the primary's, under `sites/<name>/`.
pub fn site_dir(name: &str) -> String {
    format!("sites/{name}")
}
