//! Plan -> `terraform/<cloud>/*.tf`: node pools for coderd, provisioners and
//! workspaces, and managed PostgreSQL, attached to an existing cluster and
//! network given as variables.
//!
//! The files come from minijinja templates (`templates/terraform/<cloud>/`)
//! written in `terraform fmt` style, so the output is byte-identical to what
//! `terraform fmt` would produce (`.ci/check-terraform.sh` proves it on every
//! golden tree). Templates read only the Plan; values go through `|tojson`,
//! which is valid HCL for strings, numbers, booleans and lists. The strings
//! it quotes are spec values the spec validates as DNS labels or region ids
//! (no `${`), or our own constants; maps go through `|hcl_map`, which also
//! escapes template sequences. The environment and its rules: `template.rs`.

use std::collections::BTreeMap;

use minijinja::context;
use minijinja::value::{Serde, Value};

use super::{paths, template};
use crate::cloud::Cloud;
use crate::plan::{Plan, Pool};
use crate::tree::{Comment, Tree, header};

/// The files of one cloud, in the order a reader wants them; each is
/// `templates/terraform/<cloud>/<file>.j2` (see `template::TEMPLATES`).
pub const FILES: &[&str] = &["versions.tf", "variables.tf", "node_pools.tf", "database.tf", "outputs.tf"];

fn template_name(cloud: Cloud, file: &str) -> String {
    format!("terraform/{cloud}/{file}")
}

fn pools_by_role(plan: &Plan) -> BTreeMap<&'static str, &Pool> {
    plan.pools.iter().map(|p| (p.role.as_str(), p)).collect()
}

/// Render every file for `plan.cloud`.
pub fn render(plan: &Plan, tree: &mut Tree) {
    let ctx = context! {
        plan => Value::from(Serde(plan)),
        pools => Value::from(Serde(pools_by_role(plan))),
        header => header(Comment::Hash, &plan.spec_file),
    };
    let dir = paths::terraform_dir(plan.cloud);
    for file in FILES {
        tree.insert(format!("{dir}/{file}"), template::render(&template_name(plan.cloud, file), &ctx));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cloud_has_every_file() {
        let env = template::environment().unwrap();
        for cloud in [Cloud::Gcp, Cloud::Aws, Cloud::Azure] {
            for file in FILES {
                env.get_template(&template_name(cloud, file)).unwrap_or_else(|e| panic!("{cloud}/{file}: {e}"));
            }
        }
    }
}
