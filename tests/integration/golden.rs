//! Golden trees: every `examples/<name>.yaml` renders to exactly
//! `golden/<name>/`, every `overlays/<name>.yaml` to `golden/overlays-<name>/`
//! (`overlays/overlays.yaml`: `golden/overlays/`; see `util::golden_name`);
//! extra or missing files fail. `UPDATE_GOLDEN=1 cargo
//! test` rewrites them; review that diff in git like any other change.
//!
//! Golden files prove stability, not correctness: `.ci/run` checks the same
//! trees with kubectl, kubernetes-validate, yamllint, terraform and checkov.

use std::collections::{BTreeMap, BTreeSet};

use crate::util::{Deployment, Run, examples, golden_name, read_tree, repo_root, warnings_of};

#[test]
fn examples_match_golden_trees() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    let specs = examples();
    assert!(specs.len() >= 9, "examples/ should cover every tier x cloud");
    for spec in specs {
        let name = golden_name(&spec);
        // Rendered through a relative path from the spec's own directory,
        // under a locale and time zone that would show if either leaked in.
        let d = Deployment::of(&spec);
        Run::new(["render"])
            .arg(spec.file_name().unwrap())
            .arg("-o")
            .arg(&d.out)
            .in_dir(spec.parent().unwrap())
            .env("LC_ALL", "tr_TR.UTF-8")
            .env("TZ", "Pacific/Chatham")
            .assert()
            .rendered(&warnings_of(&spec), &d.out);
        let actual = d.tree();
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

/// Golden directories without an example are stale; two examples may not
/// share one.
#[test]
fn no_orphan_golden_trees() {
    let specs = examples();
    let names: BTreeSet<String> = specs.iter().map(|p| golden_name(p)).collect();
    assert_eq!(names.len(), specs.len(), "two examples share a golden directory: {specs:?}");
    for e in std::fs::read_dir(repo_root().join("golden")).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(names.contains(&n), "golden/{n} has no example (examples/{n}.yaml or overlays/*.yaml)");
    }
}

/// Replaces a test that rendered twice and compared the two: the golden
/// test pins the bytes the CLI writes; the in-process pipeline (no CLI, no
/// disk) must give the same bytes, or tests and benchmarks that drive it
/// would judge another tree.
#[test]
fn the_in_process_pipeline_renders_the_golden_trees() {
    // While `UPDATE_GOLDEN` rewrites golden/ (the test above, running at the
    // same time), its files come and go: compare with the CLI's own render
    // into a directory of this test's instead.
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for spec in examples() {
        let name = golden_name(&spec);
        let mut golden = if update {
            let d = Deployment::of(&spec);
            Run::new(["render"]).arg(&spec).arg("-o").arg(&d.out).assert().rendered(&warnings_of(&spec), &d.out);
            d.tree()
        } else {
            read_tree(&repo_root().join("golden").join(&name))
        };
        golden.remove(".coder-gen/manifest.json").expect("golden manifest");
        let recorded = golden.remove(".coder-gen/plan.json").expect("golden recorded plan");
        // The whole path: override files are read relative to it; the tree
        // names only the file.
        let plan = coder_gen::plan_from_str(&spec.to_string_lossy(), &std::fs::read_to_string(&spec).unwrap()).unwrap();
        assert_eq!(String::from_utf8(recorded).unwrap(), coder_gen::plan_json(&plan), "{name}: .coder-gen/plan.json");
        let tree = coder_gen::render::render(&plan);
        let in_process: BTreeMap<String, Vec<u8>> = tree.iter().map(|(p, b)| (p.to_string(), b.to_vec())).collect();
        assert_eq!(in_process, golden, "{name}: in-process render differs from golden/{name}");
    }
}
