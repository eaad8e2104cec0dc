//! The user's own override files (issue #14): reading them (the only I/O
//! here, done where the spec is read), merging them over the generated Helm
//! values, and the checks that keep a merged tree as safe as a generated
//! one: only keys the real charts have, and no sized value changed unless
//! the spec marks it `intended`.
//!
//! Merge rules: maps merge key by key, recursively; anything else (lists,
//! scalars, `null`) replaces what was generated.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::error::{Located, SpecError};
use crate::plan::Plan;
use crate::spec::{SIZED_HELM_PATHS, Spec};

/// An override file is a few settings; anything larger is a mistake.
pub const MAX_OVERRIDE_BYTES: u64 = 256 * 1024;

/// Key lists of the charts' values.yaml (see tests/integration/chart_keys.rs,
/// which derives them from the reference charts).
const CODER_KEYS: &str = include_str!("../tests/data/chart-keys/coder.txt");
const PROVISIONER_KEYS: &str = include_str!("../tests/data/chart-keys/coder-provisioner.txt");

/// Read every override file the spec names, relative to `spec_path`'s folder:
/// bounded in size, never outside that folder (links included), YAML maps
/// only. Every problem is reported at once, located at the spec's `values:`.
pub fn read(spec: &mut Spec, spec_path: &Path) -> Result<(), SpecError> {
    if spec.helm_overrides.is_empty() {
        return Ok(());
    }
    let dir = spec_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let root = dir.canonicalize().ok();
    let mut errors = Vec::new();
    for (target, o) in &mut spec.helm_overrides {
        let at = (o.file.line, o.file.column);
        let mut fail = |message: String, help: &str| {
            errors.push(Located { line: at.0, column: at.1, message, help: help.to_string() });
        };
        let shown = o.file.value.clone();
        let path = dir.join(&o.file.value);
        let real = match path.canonicalize() {
            Ok(r) => r,
            Err(e) => {
                fail(
                    format!("overrides.helm.{target}: cannot read {shown}: {e}"),
                    "create the file, or fix the path (relative to the spec's folder)",
                );
                continue;
            }
        };
        if root.as_ref().is_none_or(|r| !real.starts_with(r)) {
            fail(
                format!("overrides.helm.{target}: {shown} leads outside the spec's folder"),
                "keep override files beside the spec (no links out of its folder)",
            );
            continue;
        }
        let mut text = String::new();
        let read = std::fs::File::open(&real).and_then(|f| f.take(MAX_OVERRIDE_BYTES + 1).read_to_string(&mut text));
        if let Err(e) = read {
            fail(format!("overrides.helm.{target}: cannot read {shown}: {e}"), "give a readable UTF-8 YAML file");
            continue;
        }
        if text.len() as u64 > MAX_OVERRIDE_BYTES {
            fail(
                format!("overrides.helm.{target}: {shown} is larger than {MAX_OVERRIDE_BYTES} bytes"),
                "an override file holds a few settings",
            );
            continue;
        }
        let options = serde_saphyr::options! { strict_booleans: true };
        match serde_saphyr::from_str_with_options::<Value>(&text, options) {
            Ok(v @ Value::Object(_)) => o.values = Some((v, crate::digest::sha256_hex(text.as_bytes()))),
            Ok(_) => fail(
                format!("overrides.helm.{target}: {shown} is not a YAML map of Helm values"),
                "write the values as in the chart's values.yaml, e.g. `coder:` at the top",
            ),
            Err(e) => {
                let l = SpecError::from_yaml(&shown, &e);
                let detail = l.errors().first().map(|x| format!("{shown}:{}:{}: {}", x.line, x.column, x.message)).unwrap_or_default();
                fail(format!("overrides.helm.{target}: {detail}"), "fix the YAML of the override file");
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecError::Invalid { file: spec.file.clone(), errors }) }
}

/// `user` merged over `base`: maps merge recursively, anything else replaces.
pub fn merge(base: &mut Value, user: &Value) {
    match (base, user) {
        (Value::Object(b), Value::Object(u)) => {
            for (k, v) in u {
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, u) => *b = u.clone(),
    }
}

fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn chart_keys(target: &str) -> BTreeMap<&'static str, bool> {
    let text = if target == "coder" { CODER_KEYS } else { PROVISIONER_KEYS };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| match l.strip_suffix(" *") {
            Some(k) => (k, true),
            None => (l, false),
        })
        .collect()
}

/// Every key path in `user` must be one of the chart's (below a `*` key
/// anything goes).
fn unknown_keys(prefix: &str, user: &Value, keys: &BTreeMap<&str, bool>, out: &mut Vec<(String, Vec<String>)>) {
    let Value::Object(map) = user else { return };
    for (k, v) in map {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match keys.get(path.as_str()) {
            Some(true) => {}
            Some(false) => unknown_keys(&path, v, keys, out),
            None => {
                let depth = path.matches('.').count();
                let siblings = keys
                    .keys()
                    .filter(|c| c.matches('.').count() == depth && (prefix.is_empty() || c.starts_with(&format!("{prefix}."))))
                    .map(|c| c.rsplit('.').next().unwrap_or(c).to_string())
                    .collect();
                out.push((path, siblings));
            }
        }
    }
}

/// The checks on merged values: chart keys, and sized values changed only
/// where the spec says `intended`. `generated` is what coder-gen writes
/// without the override, per target.
pub fn check(plan: &Plan, spec_file: &str, generated: &BTreeMap<String, Value>) -> Result<(), SpecError> {
    let mut errors = Vec::new();
    for (target, o) in &plan.overrides.helm {
        let at = |message: String, help: String| Located { line: o.line, column: o.column, message, help };
        let Some(base) = generated.get(target) else { continue };
        let mut unknown = Vec::new();
        unknown_keys("", &o.values, &chart_keys(target), &mut unknown);
        for (path, siblings) in unknown {
            errors.push(at(
                format!(
                    "{}: `{path}` is not a value of the {} chart",
                    o.file,
                    if target == "coder" { "coder" } else { "coder-provisioner" }
                ),
                format!("valid keys here: {}", siblings.join(", ")),
            ));
        }
        let mut merged = base.clone();
        merge(&mut merged, &o.values);
        if get(&merged, "coder.env") != get(base, "coder.env") {
            errors.push(at(
                format!(
                    "{}: sets `coder.env`, which would replace the generated environment (access URL, database, sized settings)",
                    o.file
                ),
                "remove it and add your variables with the spec's coder.env".into(),
            ));
        }
        for path in SIZED_HELM_PATHS {
            if get(&merged, path) != get(base, path) && !o.intended.iter().any(|i| i == path) {
                errors.push(at(
                    format!("{}: changes `{path}`, which the plan sized or schedules (plan: {})", o.file, get(base, path).map_or("unset".into(), Value::to_string)),
                    format!("remove it, or list `{path}` under overrides.helm.{target}.intended to take the value from your file (the plan then says so)"),
                ));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecError::Invalid { file: spec_file.to_string(), errors }) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::error::SpecError;

    const SPEC: &str = "name: acme\nusers: 1200\ncloud: aws\nregion: us-west-2\naccess_url: https://coder.acme.com\n";

    /// Writes `files` beside a spec with `overrides` and renders it.
    fn render(overrides: &str, files: &[(&str, &str)]) -> Result<crate::tree::Tree, SpecError> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let spec = dir.path().join("spec.yaml");
        crate::render_str(&spec.display().to_string(), &format!("{SPEC}{overrides}"))
    }

    fn messages(r: Result<crate::tree::Tree, SpecError>) -> Vec<String> {
        match r {
            Err(e) => e.errors().iter().map(|l| format!("{}:{} {} / {}", l.line, l.column, l.message, l.help)).collect(),
            Ok(_) => panic!("expected an error"),
        }
    }

    const CODER: &str = "overrides:\n  helm:\n    coder:\n      values: o/coder.yaml\n";

    #[test]
    fn maps_merge_lists_and_scalars_replace() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": "x"});
        super::merge(&mut base, &json!({"a": {"c": [3], "e": true}, "d": null}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [3], "e": true}, "d": null}));
    }

    #[test]
    fn merged_values_reach_the_tree_and_follow_the_file() {
        let file = "coder:\n  image:\n    pullSecrets:\n      - name: regcred\n";
        let tree = render(CODER, &[("o/coder.yaml", file)]).unwrap();
        let values = tree.get_str("helm/coder/values.yaml").unwrap();
        assert!(values.contains("pullSecrets:\n      - name: regcred"), "{values}");
        assert!(values.contains("replicaCount: 2"), "generated values stay: {values}");
        assert!(values.contains("Merged with your o/coder.yaml"), "{values}");
        // Editing the override file changes the tree: render, diff and check see it.
        let edited = render(CODER, &[("o/coder.yaml", &file.replace("regcred", "other"))]).unwrap();
        assert_ne!(edited.get_str("helm/coder/values.yaml"), Some(values));
    }

    #[test]
    fn a_sized_number_is_refused_unless_intended() {
        let file = "coder:\n  replicaCount: 5\n";
        let m = messages(render(CODER, &[("o/coder.yaml", file)]));
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].starts_with("9:15 o/coder.yaml: changes `coder.replicaCount`, which the plan sized"), "{m:?}");
        assert!(m[0].contains("intended"), "{m:?}");

        let intended = format!("{CODER}      intended: [coder.replicaCount]\n");
        let plan = {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("o")).unwrap();
            std::fs::write(dir.path().join("o/coder.yaml"), file).unwrap();
            crate::plan_from_str(&dir.path().join("spec.yaml").display().to_string(), &format!("{SPEC}{intended}")).unwrap()
        };
        assert!(plan.overrides.reasons["helm"].contains("from the user, not the plan: coder.replicaCount"), "{:?}", plan.overrides.reasons);
        let tree = render(&intended, &[("o/coder.yaml", file)]).unwrap();
        assert!(tree.get_str("helm/coder/values.yaml").unwrap().contains("replicaCount: 5"));
    }

    #[test]
    fn unknown_chart_keys_and_env_replacement_are_refused() {
        let m = messages(render(CODER, &[("o/coder.yaml", "coder:\n  imag:\n    repo: x\n")]));
        assert!(m[0].contains("`coder.imag` is not a value of the coder chart") && m[0].contains("image"), "{m:?}");
        let m = messages(render(CODER, &[("o/coder.yaml", "coder:\n  image:\n    repoo: x\n")]));
        assert!(m[0].contains("`coder.image.repoo`") && m[0].contains("pullSecrets"), "{m:?}");
        let m = messages(render(CODER, &[("o/coder.yaml", "coder:\n  env:\n    - name: X\n      value: y\n")]));
        assert!(m[0].contains("coder.env") && m[0].contains("spec's coder.env"), "{m:?}");
    }

    #[test]
    fn missing_unreadable_outside_and_unknown_targets_are_located() {
        let m = messages(render(CODER, &[]));
        assert!(m[0].starts_with("9:15 overrides.helm.coder: cannot read o/coder.yaml"), "{m:?}");
        let m = messages(render(CODER, &[("o/coder.yaml", "- a\n")]));
        assert!(m[0].contains("not a YAML map"), "{m:?}");
        let m = messages(render(CODER, &[("o/coder.yaml", "coder: [\n")]));
        assert!(m[0].contains("o/coder.yaml:"), "{m:?}");
        let m = messages(render(&CODER.replace("o/coder.yaml", "../coder.yaml"), &[]));
        assert!(m[0].contains("not a file inside the spec's folder"), "{m:?}");
        let m = messages(render(&CODER.replace("    coder:", "    coderd:"), &[]));
        assert!(m[0].contains("no release `coderd`") && m[0].contains("coder-provisioner/coder-provisioners"), "{m:?}");
        let m = messages(render(&format!("{CODER}      intended: [coder.image]\n"), &[]));
        assert!(m[0].contains("not a value the plan sizes"), "{m:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_folder_is_refused() {
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), "coder: {}\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("coder.yaml")).unwrap();
        let spec = dir.path().join("spec.yaml");
        let r = crate::render_str(&spec.display().to_string(), &format!("{SPEC}{}", CODER.replace("o/coder.yaml", "coder.yaml")));
        assert!(messages(r)[0].contains("leads outside the spec's folder"));
    }
}
