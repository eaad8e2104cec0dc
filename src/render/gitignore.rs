//! The tree's `.gitignore`: what following the README creates inside the
//! tree and must never be committed (Terraform variables, state and plans,
//! provider caches, keys and licences if a user saves one here anyway).

use super::paths;
use crate::plan::Plan;
use crate::tree::{Comment, Tree, header};

const IGNORED: &[(&str, &str)] = &[
    ("terraform.tfvars", "cluster, network and subnet ids you fill in (README, Infrastructure)"),
    ("*.auto.tfvars", ""),
    ("*.tfstate", "Terraform state, if no remote backend is configured"),
    ("*.tfstate.*", ""),
    ("*.tfplan", "saved plans (`terraform plan -out`) hold every value, secrets included"),
    ("tfplan", ""),
    (".terraform/", "provider and module caches (`terraform init`)"),
    ("crash.log", ""),
    ("*.key", "provisioner keys, licences and private keys: pipe them, never save them here"),
    ("*.jwt", ""),
    ("*.pem", ""),
];

pub fn render(plan: &Plan, tree: &mut Tree) {
    let mut o = header(Comment::Hash, &plan.spec_file);
    for (pattern, why) in IGNORED {
        if !why.is_empty() {
            o.push_str(&format!("# {why}\n"));
        }
        o.push_str(pattern);
        o.push('\n');
    }
    tree.insert(paths::GITIGNORE, o);
}
