//! Plan -> Tree. Each submodule renders one kind of output and reads only
//! the Plan; none touches the disk.

pub mod gitops;
pub mod helm;
pub mod k8s;
pub mod kustomize;
pub mod paths;
pub mod readme;
pub mod terraform;
pub mod yaml;

use crate::plan::Plan;
use crate::tree::Tree;

/// Render the whole deployment tree for `plan`.
pub fn render(plan: &Plan) -> Tree {
    let mut tree = Tree::new();
    readme::render(plan, &mut tree);
    helm::render(plan, &mut tree);
    kustomize::render(plan, &mut tree);
    terraform::render(plan, &mut tree);
    gitops::render(plan, &mut tree);
    tree
}
