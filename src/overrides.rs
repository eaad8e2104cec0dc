//! The user's own override files (issue #14): reading them (the only I/O
//! here, done where the spec is read), merging them over the generated Helm
//! values, and the checks that keep a merged tree as safe as a generated
//! one: only keys the real charts have, and no sized value changed unless
//! the spec marks it `intended`.
//!
//! Merge rules: maps merge key by key, recursively; anything else (lists,
//! scalars, `null`) replaces what was generated.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::diag::{Located, SpecError};
use crate::digest::sha256_hex;
use crate::fs::{Bounded, file_kind, read_at_most};
use crate::plan::Plan;
use crate::spec::{At, SIZED_HELM_PATHS, Spec};
use crate::yaml::{self, Refusal, get, json_ops, merge, object_id};

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
    if spec.helm_overrides.is_empty() && spec.terraform_overrides.is_empty() && spec.kustomize_overrides.is_empty() {
        return Ok(());
    }
    let dir = spec_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let root = dir.canonicalize().ok();
    let mut errors = Vec::new();
    for (target, o) in &mut spec.helm_overrides {
        let shown = o.file.value.clone();
        let mut fail = |message: String, help: &str| {
            errors.push(Located {
                line: o.file.line,
                column: o.file.column,
                message: format!("overrides.helm.{target}: {message}"),
                help: help.to_string(),
            });
        };
        let text = match read_file(dir, root.as_deref(), &shown) {
            Ok(t) => t,
            Err((message, help)) => {
                fail(message, help);
                continue;
            }
        };
        match yaml::parse(&text) {
            Ok(v @ Value::Object(_)) => o.values = Some((v, sha256_hex(text.as_bytes()))),
            Ok(_) => fail(
                format!("{shown} is not a YAML map of Helm values"),
                "write the values as in the chart's values.yaml, e.g. `coder:` at the top",
            ),
            Err(e) => {
                let l = SpecError::from_yaml(&shown, &e);
                let detail = l.errors().first().map(|x| format!("{shown}:{}:{}: {}", x.line, x.column, x.message)).unwrap_or_default();
                fail(detail, "fix the YAML of the override file");
            }
        }
    }
    for (overlay, k) in &mut spec.kustomize_overrides {
        let what = format!("overrides.kustomize.{overlay}");
        for (o, _, _) in &mut k.json_patches {
            o.text = read_checked(
                dir,
                root.as_deref(),
                &o.file,
                &what,
                |t| json_ops(t).map(drop).map_err(|r| format!(": {}", refusal(r))),
                "write a YAML list of JSON 6902 operations, e.g. `- op: replace` with `path: /spec/...` and `value:`",
                &mut errors,
            );
        }
        for o in k.patches.iter_mut().chain(k.resources.iter_mut()) {
            o.text = read_checked(
                dir,
                root.as_deref(),
                &o.file,
                &what,
                |t| object_id(t).map(drop).map_err(|r| format!(": {}", refusal(r))),
                "give one Kubernetes object per file, with apiVersion, kind and metadata.name",
                &mut errors,
            );
        }
    }
    for o in &mut spec.terraform_overrides {
        o.text = read_checked(
            dir,
            root.as_deref(),
            &o.file,
            "overrides.terraform",
            |t| {
                hcl_edit::parser::parse_body(t)
                    .map(drop)
                    .map_err(|e| format!(" is not Terraform (HCL): {}", e.to_string().replace('\n', " ")))
            },
            "fix the file; `terraform fmt` shows the problem too",
            &mut errors,
        );
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecError::Invalid { file: spec.file.clone(), errors }) }
}

/// Read the override file `file` (bounded, inside the spec's folder) and
/// check its content with `check`; a problem is an error located where the
/// spec names the file, prefixed with `what` (the spec key).
fn read_checked(
    dir: &Path,
    root: Option<&Path>,
    file: &At<String>,
    what: &str,
    check: impl Fn(&str) -> Result<(), String>,
    help: &str,
    errors: &mut Vec<Located>,
) -> Option<String> {
    let shown = &file.value;
    let (message, help) = match read_file(dir, root, shown) {
        Ok(text) => match check(&text) {
            Ok(()) => return Some(text),
            // `why` goes on from the file's name (": …" or " is not …").
            Err(why) => (format!("{shown}{why}"), help),
        },
        Err((message, help)) => (message, help),
    };
    errors.push(Located { line: file.line, column: file.column, message: format!("{what}: {message}"), help: help.to_string() });
    None
}

/// A refused user file in words: the parser's error located in the file
/// ("3:1: …"), or what its YAML should have been.
fn refusal(r: Refusal) -> String {
    match r {
        Refusal::Yaml(e) => {
            let l = SpecError::from_yaml("", &e);
            l.errors().first().map(|x| format!("{}:{}: {}", x.line, x.column, x.message)).unwrap_or_default()
        }
        Refusal::Shape(why) => why.to_string(),
    }
}

/// Kinds whose numbers the plan sized (quotas, LimitRange defaults): a patch
/// may not change them.
const SIZED_KINDS: &[&str] = &["ResourceQuota", "LimitRange"];

/// The checks on Kustomize files: a patch must match an object of its
/// overlay (a patch that matches nothing is an error, not a silent no-op)
/// and may not touch a sized object; an extra object must not take a
/// generated object's kind and name. `generated` lists `(kind, name)` per
/// overlay.
pub fn check_kustomize(plan: &Plan, spec_file: &str, generated: &BTreeMap<String, Vec<(String, String, Value)>>) -> Result<(), SpecError> {
    let mut errors = Vec::new();
    for (overlay, files) in &plan.overrides.kustomize {
        let full = generated.get(overlay).cloned().unwrap_or_default();
        let objects: Vec<(String, String)> = full.iter().map(|(k, n, _)| (k.clone(), n.clone())).collect();
        let list = || objects.iter().map(|(k, n)| format!("{k}/{n}")).collect::<Vec<_>>().join(", ");
        for f in files {
            let at = |message: String, help: String| Located { line: f.source.line, column: f.source.column, message, help };
            let id = (f.object_kind.clone(), f.object_name.clone());
            let exists = objects.contains(&id);
            if (f.patch || f.json_patch) && !exists {
                errors.push(at(
                    format!(
                        "overrides.kustomize.{overlay}: patch {} matches nothing ({}/{} is not in the overlay)",
                        f.source.file, id.0, id.1
                    ),
                    format!("patch one of: {}", list()),
                ));
            } else if (f.patch || f.json_patch) && SIZED_KINDS.contains(&id.0.as_str()) {
                errors.push(at(
                    format!("overrides.kustomize.{overlay}: patch {} changes {}/{}, which the plan sized", f.source.file, id.0, id.1),
                    "change the spec instead (users, workspaces, provisioners)".into(),
                ));
            } else if f.json_patch && exists {
                // Operations that need an existing path fail at `kustomize build`
                // when it is missing: refuse them here, where the spec is.
                let object = full.iter().find(|(k, n, _)| (k, n) == (&id.0, &id.1)).map(|(_, _, v)| v).filter(|v| !v.is_null());
                for (op, path) in json_ops(&f.source.text).unwrap_or_default() {
                    if matches!(op.as_str(), "remove" | "replace" | "test") && object.is_some_and(|o| o.pointer(&path).is_none()) {
                        errors.push(at(
                            format!("overrides.kustomize.{overlay}: {} `{op} {path}` matches nothing in {}/{}", f.source.file, id.0, id.1),
                            "point the operation at a path the generated object has (see the tree's file), or use `add`".into(),
                        ));
                    }
                }
            } else if !f.patch && exists {
                errors.push(at(
                    format!("overrides.kustomize.{overlay}: {} adds {}/{}, which coder-gen already writes", f.source.file, id.0, id.1),
                    "give your object a name of its own, or list the file under patches to change the generated one".into(),
                ));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecError::Invalid { file: spec_file.to_string(), errors }) }
}

/// The text of `rel` under `dir`, refused outside `root` (after links), when
/// not a regular file (a FIFO would block the read) and above
/// [`MAX_OVERRIDE_BYTES`] (read bounded, like the spec: [`read_at_most`]).
fn read_file(dir: &Path, root: Option<&Path>, rel: &str) -> Result<String, (String, &'static str)> {
    let real = dir
        .join(rel)
        .canonicalize()
        .map_err(|e| (format!("cannot read {rel}: {e}"), "create the file, or fix the path (relative to the spec's folder)"))?;
    if root.is_none_or(|r| !real.starts_with(r)) {
        return Err((format!("{rel} leads outside the spec's folder"), "keep override files beside the spec (no links out of its folder)"));
    }
    let unreadable = |e: std::io::Error| (format!("cannot read {rel}: {e}"), "give a readable UTF-8 file");
    let md = std::fs::metadata(&real).map_err(unreadable)?;
    if !md.is_file() {
        return Err((format!("cannot read {rel}: it is {}, not a regular file", file_kind(md.file_type())), "give a readable UTF-8 file"));
    }
    match read_at_most(&real, MAX_OVERRIDE_BYTES).map_err(unreadable)? {
        Bounded::TooLarge(_) => Err((format!("{rel} is larger than {MAX_OVERRIDE_BYTES} bytes"), "an override file holds a few settings")),
        // The wording `read_to_string` gives, as before.
        Bounded::Whole(bytes) => String::from_utf8(bytes)
            .map_err(|_| unreadable(std::io::Error::new(std::io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))),
    }
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

/// Terraform arguments and blocks that carry a sized number or the
/// scheduling contract (node counts, max pods, machine and database classes,
/// storage, HA, pool labels and taints). A `*_override.tf` may not set them
/// in a resource: change the spec (users, machine_types, database) instead.
pub const SIZED_TERRAFORM: &[&str] = &[
    "node_count",
    "min_size",
    "max_size",
    "desired_size",
    "min_count",
    "max_count",
    "total_min_node_count",
    "total_max_node_count",
    "scaling_config",
    "autoscaling",
    "max_pods",
    "max_pods_per_node",
    "machine_type",
    "instance_types",
    "vm_size",
    "sku_name",
    "instance_class",
    "tier",
    "edition",
    "allocated_storage",
    "max_allocated_storage",
    "storage_mb",
    "storage_tier",
    "disk_size",
    "disk_size_gb",
    "os_disk_size_gb",
    "volume_size",
    "availability_type",
    "multi_az",
    "high_availability",
    "count",
    "labels",
    "node_labels",
    "taint",
    "node_taints",
];

fn sized_in(body: &hcl_edit::structure::Body, out: &mut Vec<String>) {
    for s in body.iter() {
        if let Some(a) = s.as_attribute() {
            if SIZED_TERRAFORM.contains(&a.key.as_str()) {
                out.push(a.key.to_string());
            }
        } else if let Some(b) = s.as_block() {
            if SIZED_TERRAFORM.contains(&b.ident.as_str()) {
                out.push(b.ident.to_string());
            }
            sized_in(&b.body, out);
        }
    }
}

/// The checks on Terraform files: a name of their own in the tree, and no
/// sized argument set by an override file. `generated` are the names
/// coder-gen writes into `terraform/<cloud>/`.
pub fn check_terraform(plan: &Plan, spec_file: &str, generated: &[String]) -> Result<(), SpecError> {
    let mut errors = Vec::new();
    for f in &plan.overrides.terraform {
        let at = |message: String, help: String| Located { line: f.source.line, column: f.source.column, message, help };
        if generated.contains(&f.name) {
            errors.push(at(
                format!("overrides.terraform: {} would replace coder-gen's {}", f.source.file, f.name),
                format!(
                    "rename it (e.g. {}); to change a generated resource use a file ending in _override.tf",
                    f.name.replace(".tf", "_extra.tf")
                ),
            ));
        }
        if !f.name.ends_with("_override.tf") && f.name != "override.tf" {
            continue;
        }
        let Ok(body) = hcl_edit::parser::parse_body(&f.source.text) else { continue };
        for s in body.iter() {
            let Some(b) = s.as_block() else { continue };
            if b.ident.as_str() != "resource" {
                continue;
            }
            let mut sized = Vec::new();
            sized_in(&b.body, &mut sized);
            let labels: Vec<String> = b.labels.iter().map(|l| l.as_str().to_string()).collect();
            for key in sized {
                errors.push(at(
                    format!("overrides.terraform: {} sets `{key}` in resource {}, a number or placement the plan sized", f.source.file, labels.join(".")),
                    "change the spec instead (users, tier, machine_types, database); override files may set tags, networking and other unsized settings".into(),
                ));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecError::Invalid { file: spec_file.to_string(), errors }) }
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
    use crate::diag::SpecError;

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
        assert!(tree.get_str("README.md").unwrap().contains("`coder.replicaCount` comes from your file, not from the sizing above"));
        assert!(crate::plan::to_text(&plan).contains("from you, not the plan: coder.replicaCount"));
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

    /// A FIFO would block a plain read; a huge file is read no further than the limit.
    #[cfg(unix)]
    #[test]
    fn a_fifo_a_folder_and_a_huge_file_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("spec.yaml").display().to_string();
        let run = |file: &str| messages(crate::render_str(&spec, &format!("{SPEC}{}", CODER.replace("o/coder.yaml", file))));
        assert!(std::process::Command::new("mkfifo").arg(dir.path().join("fifo.yaml")).status().unwrap().success(), "mkfifo");
        let m = run("fifo.yaml");
        assert!(m[0].contains("cannot read fifo.yaml: it is a named pipe (FIFO), not a regular file"), "{m:?}");
        std::fs::create_dir(dir.path().join("d.yaml")).unwrap();
        let m = run("d.yaml");
        assert!(m[0].contains("cannot read d.yaml: it is a directory, not a regular file"), "{m:?}");
        let huge = std::fs::File::create(dir.path().join("huge.yaml")).unwrap();
        huge.set_len(2 << 30).unwrap();
        let m = run("huge.yaml");
        assert!(m[0].contains("huge.yaml is larger than 262144 bytes"), "{m:?}");
    }
}

#[cfg(test)]
mod terraform_tests {
    use crate::diag::SpecError;

    const SPEC: &str = "name: acme\nusers: 1200\ncloud: aws\nregion: us-west-2\naccess_url: https://coder.acme.com\n";

    fn render(files: &[(&str, &str)]) -> Result<crate::tree::Tree, SpecError> {
        let dir = tempfile::tempdir().unwrap();
        let mut list = String::from("overrides:\n  terraform:\n");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
            list.push_str(&format!("    - {name}\n"));
        }
        crate::render_str(&dir.path().join("spec.yaml").display().to_string(), &format!("{SPEC}{list}"))
    }

    fn first(r: Result<crate::tree::Tree, SpecError>) -> String {
        let e = r.expect_err("expected an error");
        let l = &e.errors()[0];
        format!("{}:{} {} / {}", l.line, l.column, l.message, l.help)
    }

    #[test]
    fn files_are_copied_and_checked() {
        let backend = "terraform {\n  backend \"s3\" {\n    bucket = \"state\"\n  }\n}\n";
        let tree = render(&[("backend.tf", backend)]).unwrap();
        let copied = tree.get_str("terraform/aws/backend.tf").unwrap();
        assert!(copied.starts_with("# DO NOT EDIT: copied by coder-gen from your backend.tf") && copied.ends_with(backend), "{copied}");

        let m = first(render(&[("node_pools.tf", backend)]));
        assert!(m.starts_with("8:7 overrides.terraform: node_pools.tf would replace coder-gen's node_pools.tf"), "{m}");
        let m = first(render(&[("broken.tf", "resource \"x\" {\n")]));
        assert!(m.contains("broken.tf is not Terraform (HCL)"), "{m}");
        let sized =
            "resource \"aws_eks_node_group\" \"coderd\" {\n  tags = { team = \"x\" }\n  scaling_config {\n    max_size = 9\n  }\n}\n";
        let m = first(render(&[("pools_override.tf", sized)]));
        assert!(m.contains("sets `scaling_config` in resource aws_eks_node_group.coderd"), "{m}");
        let fine = "resource \"aws_eks_node_group\" \"coderd\" {\n  tags = { team = \"x\" }\n}\n";
        assert!(render(&[("pools_override.tf", fine)]).is_ok());
    }
}

#[cfg(test)]
mod kustomize_tests {
    use crate::diag::SpecError;

    const SPEC: &str = "name: acme\nusers: 1200\ncloud: aws\nregion: us-west-2\naccess_url: https://coder.acme.com\n";

    fn render(overlay: &str, key: &str, name: &str, text: &str) -> Result<crate::tree::Tree, SpecError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
        let o = format!("overrides:\n  kustomize:\n    {overlay}:\n      {key}:\n        - {name}\n");
        crate::render_str(&dir.path().join("spec.yaml").display().to_string(), &format!("{SPEC}{o}"))
    }

    fn first(r: Result<crate::tree::Tree, SpecError>) -> String {
        let e = r.expect_err("expected an error");
        let l = &e.errors()[0];
        format!("{}:{} {} / {}", l.line, l.column, l.message, l.help)
    }

    const NS_PATCH: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: coder\n  labels:\n    team: platform\n";

    #[test]
    fn patches_and_extra_objects_are_wired_into_the_overlay() {
        let tree = render("coder", "patches", "ns.yaml", NS_PATCH).unwrap();
        let k = tree.get_str("kustomize/overlays/coder/kustomization.yaml").unwrap();
        assert!(k.contains("patches:\n  - path: patch-ns.yaml"), "{k}");
        assert!(tree.get_str("kustomize/overlays/coder/patch-ns.yaml").unwrap().ends_with(NS_PATCH));
        let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: extra\n";
        let tree = render("workspaces-coder-workspaces", "resources", "sa.yaml", sa).unwrap();
        let k = tree.get_str("kustomize/overlays/workspaces-coder-workspaces/kustomization.yaml").unwrap();
        assert!(k.contains("  - extra-sa.yaml\n"), "{k}");
    }

    #[test]
    fn a_patch_that_matches_nothing_is_refused() {
        let m = first(render("coder", "patches", "ns.yaml", &NS_PATCH.replace("name: coder", "name: coderr")));
        assert!(
            m.starts_with("10:11 overrides.kustomize.coder: patch ns.yaml matches nothing (Namespace/coderr is not in the overlay)"),
            "{m}"
        );
        assert!(m.contains("Namespace/coder"), "valid targets are named: {m}");
    }

    #[test]
    fn sized_objects_duplicates_and_bad_targets_are_refused() {
        let quota = "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: coder-workspaces\nspec:\n  hard:\n    pods: \"999\"\n";
        let quota_name = crate::render_str("s.yaml", SPEC).unwrap();
        let name = quota_name
            .paths()
            .find(|p| p.starts_with("kustomize/overlays/workspaces-") && p.ends_with("resourcequota.yaml"))
            .unwrap()
            .to_string();
        let real = crate::yaml::object_id(quota_name.get_str(&name).unwrap()).unwrap().1;
        let m = first(render("workspaces-coder-workspaces", "patches", "q.yaml", &quota.replace("coder-workspaces", &real)));
        assert!(m.contains("which the plan sized"), "{m}");
        let m = first(render("coder", "resources", "ns.yaml", NS_PATCH));
        assert!(m.contains("which coder-gen already writes"), "{m}");
        let m = first(render("coderd", "patches", "ns.yaml", NS_PATCH));
        assert!(m.contains("no overlay `coderd`") && m.contains("workspaces-coder-workspaces"), "{m}");
        let m = first(render("coder", "patches", "ns.yaml", "kind: Namespace\n"));
        assert!(m.contains("not a Kubernetes object"), "{m}");
    }
}

#[cfg(test)]
mod json_patch_tests {
    const SPEC: &str = "name: acme\nusers: 1200\ncloud: aws\nregion: us-west-2\naccess_url: https://coder.acme.com\n";

    fn render(ops: &str, kind: &str, name: &str) -> Result<crate::tree::Tree, crate::diag::SpecError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("j.yaml"), ops).unwrap();
        let o = format!(
            "overrides:\n  kustomize:\n    coder:\n      json_patches:\n        - file: j.yaml\n          kind: {kind}\n          name: {name}\n"
        );
        crate::render_str(&dir.path().join("spec.yaml").display().to_string(), &format!("{SPEC}{o}"))
    }

    #[test]
    fn json_patches_name_their_target_and_must_apply() {
        let add = "- op: add\n  path: /metadata/annotations\n  value:\n    team: platform\n";
        let tree = render(add, "Namespace", "coder").unwrap();
        let k = tree.get_str("kustomize/overlays/coder/kustomization.yaml").unwrap();
        assert!(k.contains("  - path: json-patch-j.yaml\n    target:\n      kind: Namespace\n      name: coder\n"), "{k}");
        let msg = |r: Result<crate::tree::Tree, crate::diag::SpecError>| r.expect_err("expected an error").errors()[0].message.clone();
        assert!(msg(render(add, "Namespace", "other")).contains("matches nothing (Namespace/other"));
        let replace = "- op: replace\n  path: /spec/nothing\n  value: 1\n";
        let m = msg(render(replace, "NetworkPolicy", "allow-users"));
        assert!(m.contains("`replace /spec/nothing` matches nothing in NetworkPolicy/allow-users"), "{m}");
        assert!(msg(render("op: add\n", "Namespace", "coder")).contains("not a list of JSON 6902 operations"));
    }
}
