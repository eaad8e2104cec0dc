//! Plan -> Tree. Each submodule renders one kind of output and reads only
//! the Plan (never the Spec: the plan re-exports the spec's words it
//! carries); none touches the disk.
//!
//! The face: [`render`] (the whole tree), [`generated`] (what coder-gen
//! writes where the user's own files may land, for `overrides::check`),
//! [`values_file`] and [`cell`] (for `explain`). Everything else is private.

mod autoscaler;
mod entry;
mod gitignore;
mod gitops;
mod helm;
mod k8s;
mod kustomize;
mod network;
mod observability;
mod paths;
mod readme;
mod sites;
mod sizing;
mod template;
mod terraform;
mod verify;
mod yaml;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::plan::Plan;
use crate::tree::Tree;

pub use helm::values_file;
pub use sizing::cell;

/// Render the whole deployment tree for `plan`.
pub fn render(plan: &Plan) -> Tree {
    let mut tree = Tree::new();
    readme::render(plan, &mut tree);
    gitignore::render(plan, &mut tree);
    entry::render(plan, &mut tree);
    sizing::render(plan, &mut tree);
    helm::render(plan, &mut tree);
    autoscaler::render(plan, &mut tree);
    kustomize::render(plan, &mut tree);
    terraform::render(plan, &mut tree);
    observability::render(plan, &mut tree);
    verify::render(plan, &mut tree);
    gitops::render(plan, &mut tree);
    sites::render(plan, &mut tree);
    network::render(plan, &mut tree);
    user_terraform(plan, &mut tree);
    tree
}

/// The user's Terraform files (`overrides.terraform`), copied as written
/// under a comment naming their source.
fn user_terraform(plan: &Plan, tree: &mut Tree) {
    for f in &plan.overrides.terraform {
        let text = format!(
            "# DO NOT EDIT: copied by coder-gen from your {}; edit that file and run `coder-gen render`.\n# sha256 {}\n{}",
            f.source.file, f.source.sha256, f.source.text
        );
        tree.insert(format!("{}/{}", paths::terraform_dir(plan.cloud), f.name), text);
    }
}

/// What coder-gen writes where the user's own files may land, before any of
/// them is applied: what `overrides::check` compares them with.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The Helm values per override target (`coder`, `coder-provisioner/<ns>`), as data.
    pub helm: BTreeMap<String, Value>,
    /// `(kind, name, object)` of the objects of each overlay (by overlay name).
    pub kustomize: BTreeMap<String, Vec<(String, String, Value)>>,
    /// The file names coder-gen itself writes into `terraform/<cloud>/`.
    pub terraform_names: Vec<String>,
}

pub fn generated(plan: &Plan) -> Generated {
    Generated {
        helm: helm::generated(plan),
        kustomize: kustomize::objects(plan),
        terraform_names: terraform::FILES.iter().map(|f| (*f).to_string()).collect(),
    }
}
