//! THE template environment: every text file of the tree that is prose or
//! HCL rather than a typed object (Terraform, README, the warnings section
//! of SIZING.md) comes from a minijinja template under `templates/`, all in
//! this one environment with one set of rules:
//!
//! - undefined values are errors, and the formatter refuses none, maps and
//!   lists in a bare `{{ }}` (a template never prints `none` or a Rust
//!   debug form by accident);
//! - nothing is auto-escaped (neither HCL nor Markdown is HTML);
//! - blocks are trimmed (`trim_blocks`, `lstrip_blocks`) and a file's final
//!   newline is kept, so a `{% if %}` line leaves no blank line behind;
//! - booleans print as `true`/`false` (HCL's spelling).
//!
//! The templates are embedded with `include_str!` (the binary needs no
//! files) and compiled once. A template error is a coder-gen bug: the tests
//! compile every template and render every example.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, syntax::SyntaxConfig};

/// `(name, source)` of `templates/<name>.j2`, embedded.
macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name, ".j2")))),*]
    };
}

/// Every template, by its path under `templates/` without `.j2`. Names
/// starting with `_` are partials (macros, or included by others).
pub const TEMPLATES: &[(&str, &str)] = embedded![
    "terraform/gcp/versions.tf",
    "terraform/gcp/variables.tf",
    "terraform/gcp/node_pools.tf",
    "terraform/gcp/database.tf",
    "terraform/gcp/outputs.tf",
    "terraform/gcp/_flags.tf",
    "terraform/aws/versions.tf",
    "terraform/aws/variables.tf",
    "terraform/aws/node_pools.tf",
    "terraform/aws/database.tf",
    "terraform/aws/outputs.tf",
    "terraform/azure/versions.tf",
    "terraform/azure/variables.tf",
    "terraform/azure/node_pools.tf",
    "terraform/azure/database.tf",
    "terraform/azure/outputs.tf",
    "terraform/gcp/site_variables.tf",
    "terraform/gcp/site_outputs.tf",
    "terraform/aws/site_variables.tf",
    "terraform/aws/site_outputs.tf",
    "terraform/azure/site_variables.tf",
    "terraform/azure/site_outputs.tf",
    "readme/README.md",
    "readme/what_is_here.md",
    "readme/sizing.md",
    "readme/notes.md",
    "readme/entry.md",
    "readme/_macros.md",
    "readme/_warnings.md",
    "readme/gcp/_secret_manager.md",
    "readme/aws/_secret_manager.md",
    "readme/azure/_secret_manager.md",
    "readme/apply.md",
    "readme/apply/infrastructure.md",
    "readme/apply/cluster_autoscaler.md",
    "readme/apply/namespaces.md",
    "readme/apply/tls.md",
    "readme/apply/database.md",
    "readme/apply/coderd.md",
    "readme/apply/dns.md",
    "readme/apply/check.md",
    "readme/apply/_healthz.md",
    "readme/apply/first_user.md",
    "readme/apply/licence.md",
    "readme/apply/provisioner_keys.md",
    "readme/apply/observability.md",
    "readme/apply/mirror.md",
    "readme/apply/network_secrets.md",
    "readme/network.md",
    "readme/gcp/infra_before.md",
    "readme/aws/infra_before.md",
    "readme/azure/infra_before.md",
    "readme/gcp/infra_note.md",
    "readme/aws/infra_note.md",
    "readme/azure/infra_note.md",
    "readme/gcp/database.md",
    "readme/aws/database.md",
    "readme/azure/database.md",
    "readme/apply/coder_env.md",
    "readme/upgrade.md",
    "readme/gcp/upgrade_backup.md",
    "readme/aws/upgrade_backup.md",
    "readme/azure/upgrade_backup.md",
    "readme/gcp/upgrade_restore.md",
    "readme/aws/upgrade_restore.md",
    "readme/azure/upgrade_restore.md",
    "readme/overrides.md",
    "readme/gitops.md",
    "readme/gitops_flux.md",
    "readme/gitops_argocd.md",
    "readme/observability.md",
    "readme/observability_security.md",
    "readme/security.md",
    "readme/apply/observability_secrets.md",
    "readme/workspace_templates.md",
    "readme/prove_the_tier.md",
    "readme/template_routing.md",
    "readme/preflight.md",
    "readme/gcp/preflight.md",
    "readme/aws/preflight.md",
    "readme/azure/preflight.md",
    "readme/tier_changes.md",
    "readme/site/README.md",
    "readme/site/what_is_here.md",
    "readme/site/sizing.md",
    "readme/site/network.md",
    "readme/site/preflight.md",
    "readme/site/apply.md",
    "readme/site/apply/context.md",
    "readme/site/apply/infrastructure.md",
    "readme/site/apply/nodes.md",
    "readme/site/apply/cluster_autoscaler.md",
    "readme/site/apply/namespaces.md",
    "readme/site/apply/network_secrets.md",
    "readme/site/apply/env_secrets.md",
    "readme/site/apply/tls.md",
    "readme/site/apply/proxy_token.md",
    "readme/site/apply/proxy.md",
    "readme/site/apply/dns.md",
    "readme/site/apply/provisioners.md",
    "readme/site/apply/templates.md",
    "readme/site/routing.md",
    "readme/site/prove.md",
    "readme/site/observability.md",
    "readme/site/gitops.md",
    "readme/site/upgrades.md",
    "readme/sites.md",
    "readme/apply/sites.md",
    "readme/gcp/tier_changes.md",
    "readme/aws/tier_changes.md",
    "readme/azure/tier_changes.md",
];

/// The environment with every template in [`TEMPLATES`] and the filters
/// below. Tests build it directly; renderers use [`env`].
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
    // HCL: a key padded to `width`, as `terraform fmt` aligns `=` in a map.
    env.add_filter("pad", |s: String, width: usize| -> String { format!("{s:width$}") });
    // Markdown: a name as inline code (`names|map("code")|join(" and ")`).
    env.add_filter("code", |s: String| -> String { format!("`{s}`") });
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// The environment, compiled once per process.
pub fn env() -> &'static Environment<'static> {
    static ENV: LazyLock<Environment<'static>> =
        LazyLock::new(|| environment().expect("coder-gen bug: the embedded templates compile (unit-tested)"));
    &ENV
}

/// Render template `name` with `ctx`. A failure is a coder-gen bug (every
/// example renders in the tests), so it panics with the template's own
/// diagnostic rather than producing a half-written tree.
pub fn render(name: &str, ctx: &Value) -> String {
    env()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .unwrap_or_else(|e| panic!("coder-gen bug: template {name} failed: {e}\n{}", e.display_debug_info()))
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

#[cfg(test)]
mod tests {
    use minijinja::context;
    use minijinja::value::Serde;

    use super::*;

    #[test]
    fn every_template_compiles() {
        let env = environment().unwrap();
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }

    /// Every file under `templates/` is embedded (a template missing from
    /// the table would compile nowhere and be dead text).
    #[test]
    fn every_template_file_is_embedded() {
        fn walk(dir: &std::path::Path, root: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, found);
                } else {
                    let rel = path.strip_prefix(root).unwrap().to_str().unwrap();
                    found.push(rel.strip_suffix(".j2").unwrap_or_else(|| panic!("{rel}: templates end in .j2")).to_string());
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut found = Vec::new();
        walk(&root, &root, &mut found);
        found.sort();
        let mut table: Vec<String> = TEMPLATES.iter().map(|(n, _)| (*n).to_string()).collect();
        table.sort();
        assert_eq!(found, table);
    }

    #[test]
    fn formatter_refuses_what_it_cannot_spell() {
        let env = environment().unwrap();
        let r = |src: &str| env.render_str(src, context! { n => Value::from(()), m => Value::from(Serde(BTreeMap::from([("a", 1)]))) });
        assert_eq!(r("{{ true }} {{ false }} {{ 3 }} {{ 'x' }}").unwrap(), "true false 3 x");
        assert!(r("{{ n }}").is_err(), "none must not print");
        assert!(r("{{ m }}").is_err(), "maps need |tojson");
        assert!(r("{{ missing }}").is_err(), "undefined must fail");
        assert_eq!(r("{{ m|tojson }}").unwrap(), r#"{"a": 1}"#);
        assert_eq!(r("{{ ['x', 'y']|tojson }}").unwrap(), r#"["x", "y"]"#, "lists as terraform fmt spaces them");
        assert_eq!(r("{% if true %}\n  a\n{% endif %}\nb\n").unwrap(), "  a\nb\n", "block lines leave nothing behind");
    }

    #[test]
    fn filters() {
        let env = environment().unwrap();
        let r = |src: &str| env.render_str(src, context! {}).unwrap();
        assert_eq!(r("{{ 'NoSchedule'|upper_snake }}"), "NO_SCHEDULE");
        assert_eq!(r("{{ 'PreferNoSchedule'|upper_snake }}"), "PREFER_NO_SCHEDULE");
        assert_eq!(r("{{ ['a', 'b']|map('code')|join(' and ') }}"), "`a` and `b`");
        assert_eq!(r("{{ 'proxy'|pad(11) }}="), "proxy      =");
        let labels = context! { l => Value::from(Serde(BTreeMap::from([("coder-gen/pool", "coderd"), ("k", "${x}%{y}\"")]))) };
        assert_eq!(
            env.render_str("  labels = {{ l|hcl_map(2) }}", labels).unwrap(),
            "  labels = {\n    \"coder-gen/pool\" = \"coderd\"\n    \"k\"              = \"$${x}%%{y}\\\"\"\n  }"
        );
    }
}
