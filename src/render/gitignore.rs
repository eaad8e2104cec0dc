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

#[cfg(test)]
mod tests {
    use std::process::Command;

    use crate::plan_from_str;
    use crate::test_support::spec_text;

    /// Real git decides: every file the tree's README makes the user create
    /// inside the tree is ignored, and the generated files are not.
    #[test]
    fn git_ignores_what_the_readme_creates_and_nothing_generated() {
        let plan = plan_from_str("s.yaml", &spec_text(500, "aws")).unwrap();
        let tree = super::super::render(&plan);
        let dir = std::env::temp_dir().join(format!("coder-gen-gitignore-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".gitignore"), tree.get_str(".gitignore").unwrap()).unwrap();
        let init = Command::new("git").args(["init", "-q"]).current_dir(&dir).status();
        let Ok(init) = init else {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "git is needed under CI=true");
            return;
        };
        assert!(init.success());
        let created = [
            "terraform/aws/terraform.tfvars",
            "terraform/aws/.terraform/providers/x",
            "terraform/aws/terraform.tfstate",
            "terraform/aws/terraform.tfstate.backup",
            "terraform/aws/prod.tfplan",
            "coder-provisioners.key",
            "license.jwt",
            "tls.pem",
        ];
        let check =
            |path: &str| Command::new("git").args(["check-ignore", "-q", "--no-index", path]).current_dir(&dir).status().unwrap().success();
        for path in created {
            assert!(check(path), "{path} is not ignored");
        }
        for path in tree.paths() {
            assert!(!check(path), "generated {path} is ignored");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
