//! Plan -> Tree. Each submodule renders one kind of output and reads only
//! the Plan; none touches the disk.

pub mod autoscaler;
pub mod entry;
pub mod gitignore;
pub mod helm;
pub mod k8s;
pub mod kustomize;
pub mod observability;
pub mod paths;
pub mod readme;
pub mod sizing;
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
    tree
}
