//! Golden trees: every `examples/<name>.yaml` renders to exactly
//! `golden/<name>/` (extra or missing files fail). `UPDATE_GOLDEN=1 cargo
//! test` rewrites them; review that diff in git like any other change.
//!
//! Golden files prove stability, not correctness: `.ci/run` checks the same
//! trees with kubectl, kubernetes-validate, yamllint, terraform and checkov.

use std::collections::BTreeSet;

use crate::util::{coder_gen, examples, read_tree, repo_root};

#[test]
fn examples_match_golden_trees() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    let specs = examples();
    assert!(specs.len() >= 9, "examples/ should cover every tier x cloud");
    for spec in specs {
        let name = spec.file_stem().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        coder_gen().arg("render").arg(&spec).arg("-o").arg(&out).assert().success();
        let actual = read_tree(&out);
        let golden_dir = repo_root().join("golden").join(&name);
        if update {
            if golden_dir.exists() {
                std::fs::remove_dir_all(&golden_dir).unwrap();
            }
            for (rel, bytes) in &actual {
                let p = golden_dir.join(rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, bytes).unwrap();
            }
            continue;
        }
        let expected = read_tree(&golden_dir);
        let paths: BTreeSet<&String> = actual.keys().chain(expected.keys()).collect();
        for path in paths {
            let a = actual.get(path).map(|b| String::from_utf8_lossy(b).into_owned());
            let e = expected.get(path).map(|b| String::from_utf8_lossy(b).into_owned());
            if a != e {
                let (old_name, new_name) = (
                    if e.is_some() { format!("golden/{name}/{path}") } else { "/dev/null".into() },
                    if a.is_some() { format!("actual/{name}/{path}") } else { "/dev/null".into() },
                );
                let e = e.unwrap_or_default();
                let a = a.unwrap_or_default();
                let diff = similar::TextDiff::from_lines(&e, &a);
                failures.push(diff.unified_diff().context_radius(3).header(&old_name, &new_name).to_string());
            }
        }
    }
    assert!(failures.is_empty(), "golden mismatch (rerun with UPDATE_GOLDEN=1 and review the diff):\n{}", failures.join("\n"));
}

/// Golden directories without an example are stale.
#[test]
fn no_orphan_golden_trees() {
    let names: BTreeSet<String> = examples().iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    let dir = repo_root().join("golden");
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(names.contains(&n), "golden/{n} has no examples/{n}.yaml");
        }
    }
}

/// Same spec, same version: byte-identical trees.
#[test]
fn rendering_twice_is_byte_identical() {
    for spec in examples() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        coder_gen().arg("render").arg(&spec).arg("-o").arg(&a).assert().success();
        coder_gen().arg("render").arg(&spec).arg("-o").arg(&b).assert().success();
        assert_eq!(read_tree(&a), read_tree(&b), "{}", spec.display());
    }
}
