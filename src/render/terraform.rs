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
//! escapes template sequences.

use std::collections::BTreeMap;

use minijinja::value::{Serde, Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, context, syntax::SyntaxConfig};

use super::paths;
use crate::cloud::Cloud;
use crate::plan::{Plan, Pool};
use crate::tree::{Comment, Tree, header};

/// The files of one cloud, in the order a reader wants them.
pub const FILES: &[&str] = &["versions.tf", "variables.tf", "node_pools.tf", "database.tf", "outputs.tf"];

/// (cloud, file, template source), embedded so the binary needs no files.
const TEMPLATES: &[(Cloud, &str, &str)] = &[
    (Cloud::Gcp, "versions.tf", include_str!("../../templates/terraform/gcp/versions.tf.j2")),
    (Cloud::Gcp, "variables.tf", include_str!("../../templates/terraform/gcp/variables.tf.j2")),
    (Cloud::Gcp, "node_pools.tf", include_str!("../../templates/terraform/gcp/node_pools.tf.j2")),
    (Cloud::Gcp, "database.tf", include_str!("../../templates/terraform/gcp/database.tf.j2")),
    (Cloud::Gcp, "outputs.tf", include_str!("../../templates/terraform/gcp/outputs.tf.j2")),
    (Cloud::Aws, "versions.tf", include_str!("../../templates/terraform/aws/versions.tf.j2")),
    (Cloud::Aws, "variables.tf", include_str!("../../templates/terraform/aws/variables.tf.j2")),
    (Cloud::Aws, "node_pools.tf", include_str!("../../templates/terraform/aws/node_pools.tf.j2")),
    (Cloud::Aws, "database.tf", include_str!("../../templates/terraform/aws/database.tf.j2")),
    (Cloud::Aws, "outputs.tf", include_str!("../../templates/terraform/aws/outputs.tf.j2")),
    (Cloud::Azure, "versions.tf", include_str!("../../templates/terraform/azure/versions.tf.j2")),
    (Cloud::Azure, "variables.tf", include_str!("../../templates/terraform/azure/variables.tf.j2")),
    (Cloud::Azure, "node_pools.tf", include_str!("../../templates/terraform/azure/node_pools.tf.j2")),
    (Cloud::Azure, "database.tf", include_str!("../../templates/terraform/azure/database.tf.j2")),
    (Cloud::Azure, "outputs.tf", include_str!("../../templates/terraform/azure/outputs.tf.j2")),
];

/// Templates included by others (no file of their own).
const PARTIALS: &[(Cloud, &str, &str)] = &[(Cloud::Gcp, "_flags.tf", include_str!("../../templates/terraform/gcp/_flags.tf.j2"))];

fn template_name(cloud: Cloud, file: &str) -> String {
    format!("{cloud}/{file}")
}

/// The one template environment. Strict undefined, no auto-escaping (HCL is
/// not HTML/JSON), whitespace control that keeps the final newline, and a
/// formatter that prints booleans as HCL spells them (`true`, not `True`)
/// and refuses none, maps and sequences in bare `{{ }}` (use `|tojson`).
pub fn environment() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).keep_trailing_newline(true).build()?);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_formatter(|out, state, value| match value.kind() {
        ValueKind::Bool => out.write_str(if value.is_true() { "true" } else { "false" }).map_err(Error::from),
        ValueKind::None | ValueKind::Undefined => {
            Err(Error::new(ErrorKind::InvalidOperation, "refusing to print none; use |tojson or a default"))
        }
        ValueKind::Map | ValueKind::Seq => Err(Error::new(ErrorKind::InvalidOperation, "use |tojson for maps and lists")),
        _ => minijinja::escape_formatter(out, state, value),
    });
    // Kubernetes taint effect -> the spellings of the GKE and EKS APIs.
    env.add_filter("upper_snake", |s: String| -> String {
        let mut o = String::new();
        for (i, c) in s.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                o.push('_');
            }
            o.push(c.to_ascii_uppercase());
        }
        o
    });
    env.add_filter("hcl_map", hcl_map);
    // AKS spells a taint `key=value:Effect`.
    env.add_filter("taint_string", |t: Value| -> Result<String, Error> {
        let field = |name: &str| -> Result<String, Error> {
            t.get_attr(name)?
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "a taint has key, value and effect"))
        };
        Ok(format!("{}={}:{}", field("key")?, field("value")?, field("effect")?))
    });
    for (cloud, file, source) in TEMPLATES.iter().chain(PARTIALS) {
        env.add_template_owned(template_name(*cloud, file), *source)?;
    }
    Ok(env)
}

/// A map of strings as a multi-line HCL object with `=` aligned the way
/// `terraform fmt` aligns it; `indent` is the column of the attribute.
fn hcl_map(value: Value, indent: usize) -> Result<String, Error> {
    let mut map = BTreeMap::new();
    for k in value.try_iter()? {
        let v = value.get_item(&k)?;
        match (k.as_str(), v.as_str()) {
            (Some(k), Some(v)) => map.insert(k.to_string(), v.to_string()),
            _ => return Err(Error::new(ErrorKind::InvalidOperation, "hcl_map takes a map of strings")),
        };
    }
    let width = map.keys().map(|k| json_string(k).len()).max().unwrap_or(0);
    let mut o = String::from("{\n");
    for (k, v) in &map {
        let key = json_string(k);
        o.push_str(&format!("{:indent$}  {key:width$} = {}\n", "", json_string(v)));
    }
    o.push_str(&format!("{:indent$}}}", ""));
    Ok(o)
}

/// An HCL string literal: JSON's escapes, plus `$${` and `%%{` so a value
/// can never open a template interpolation or directive.
fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default().replace("${", "$${").replace("%{", "%%{")
}

fn pools_by_role(plan: &Plan) -> BTreeMap<&'static str, &Pool> {
    plan.pools.iter().map(|p| (p.role.as_str(), p)).collect()
}

/// Render every file for `plan.cloud`. A template error is a coder-gen bug
/// (every example renders in the tests), so it panics with the template's
/// own diagnostic rather than producing a half-written tree.
pub fn render(plan: &Plan, tree: &mut Tree) {
    let env = environment().expect("embedded Terraform templates compile (unit-tested)");
    let ctx = context! {
        plan => Value::from(Serde(plan)),
        pools => Value::from(Serde(pools_by_role(plan))),
        header => header(Comment::Hash, &plan.spec_file),
    };
    let dir = paths::terraform_dir(plan.cloud);
    for file in FILES {
        let name = template_name(plan.cloud, file);
        let text = env
            .get_template(&name)
            .and_then(|t| t.render(&ctx))
            .unwrap_or_else(|e| panic!("coder-gen bug: template {name} failed: {e}\n{}", e.display_debug_info()));
        tree.insert(format!("{dir}/{file}"), text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let env = environment().unwrap();
        for (cloud, file, _) in TEMPLATES {
            env.get_template(&template_name(*cloud, file)).unwrap();
        }
        for cloud in [Cloud::Gcp, Cloud::Aws, Cloud::Azure] {
            for file in FILES {
                assert!(TEMPLATES.iter().any(|(c, f, _)| *c == cloud && f == file), "{cloud}/{file} has no template");
            }
        }
    }

    #[test]
    fn formatter_speaks_hcl() {
        let env = environment().unwrap();
        let r = |src: &str| env.render_str(src, context! { n => Value::from(()), m => Value::from(Serde(BTreeMap::from([("a", 1)]))) });
        assert_eq!(r("{{ true }} {{ false }} {{ 3 }} {{ 'x' }}").unwrap(), "true false 3 x");
        assert!(r("{{ n }}").is_err(), "none must not print");
        assert!(r("{{ m }}").is_err(), "maps need |tojson");
        assert!(r("{{ missing }}").is_err(), "undefined must fail");
        assert_eq!(r("{{ m|tojson }}").unwrap(), r#"{"a": 1}"#);
        assert_eq!(r("{{ ['x', 'y']|tojson }}").unwrap(), r#"["x", "y"]"#, "lists as terraform fmt spaces them");
        assert_eq!(r("{{ 'NoSchedule'|upper_snake }}").unwrap(), "NO_SCHEDULE");
        let labels = context! { l => Value::from(Serde(BTreeMap::from([("coder-gen/pool", "coderd"), ("k", "${x}%{y}\"")]))) };
        assert_eq!(
            env.render_str("  labels = {{ l|hcl_map(2) }}", labels).unwrap(),
            "  labels = {\n    \"coder-gen/pool\" = \"coderd\"\n    \"k\"              = \"$${x}%%{y}\\\"\"\n  }"
        );
        assert_eq!(r("{{ 'PreferNoSchedule'|upper_snake }}").unwrap(), "PREFER_NO_SCHEDULE");
    }
}
