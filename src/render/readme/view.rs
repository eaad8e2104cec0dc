//! What the README templates read besides the Plan itself: every list,
//! formatted quantity and grouping the document shows, each one plain read
//! of plan fields. The view renames and groups; it decides nothing (a fact
//! that is not a plain read of the plan becomes a plan field with a reason).

use serde::Serialize;

use super::super::paths;
use crate::plan::Plan;

#[derive(Serialize)]
pub struct ReadmeView {
    /// Where the tree's files are (`render/paths.rs`).
    pub paths: Paths,
}

#[derive(Serialize)]
pub struct Paths {
    pub terraform: String,
    pub kustomize: &'static str,
    pub coder_values: &'static str,
    pub observability_values: &'static str,
    pub cluster_autoscaler_values: &'static str,
    pub verify: &'static str,
    pub entry: &'static str,
    pub gateway: &'static str,
    pub sizing: &'static str,
    pub gitops_flux: &'static str,
    pub gitops_argocd: &'static str,
}

impl ReadmeView {
    pub fn from(p: &Plan) -> ReadmeView {
        ReadmeView {
            paths: Paths {
                terraform: paths::terraform_dir(p.cloud),
                kustomize: paths::KUSTOMIZE_ROOT,
                coder_values: paths::CODER_VALUES,
                observability_values: paths::OBSERVABILITY_VALUES,
                cluster_autoscaler_values: paths::CLUSTER_AUTOSCALER_VALUES,
                verify: paths::VERIFY_ROOT,
                entry: paths::ENTRY_DIR,
                gateway: paths::GATEWAY,
                sizing: paths::SIZING,
                gitops_flux: paths::GITOPS_FLUX,
                gitops_argocd: paths::GITOPS_ARGOCD,
            },
        }
    }
}
