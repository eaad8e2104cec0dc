//! Plan -> Tree. Each submodule renders one kind of output and reads only
//! the Plan; none touches the disk.

pub mod autoscaler;
pub mod entry;
pub mod gitignore;
pub mod gitops;
pub mod helm;
pub mod k8s;
pub mod kustomize;
pub mod observability;
pub mod paths;
pub mod readme;
pub mod sizing;
pub mod template;
pub mod terraform;
pub mod verify;
pub mod yaml;

use crate::plan::Plan;
use crate::tree::Tree;

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

/// The file names coder-gen itself writes into `terraform/<cloud>/`.
pub fn terraform_names(_plan: &Plan) -> Vec<String> {
    terraform::FILES.iter().map(|f| (*f).to_string()).collect()
}
