//! The error catalogue: every bad spec in `tests/inputs/invalid/<case>.yaml`
//! with its WHOLE expected stderr (`<case>.stderr`) and exit code
//! (`<case>.code`), as `coder-gen plan <case>.yaml` prints them with colour
//! off, run from that directory so the path in the message is stable. A
//! message can no longer regress anywhere but in a checked fragment.
//!
//! `UPDATE_GOLDEN=1 cargo test` writes the snapshots; without it a case with
//! no snapshot fails. `render` of every case must exit the same way, print
//! the same stderr and write nothing. Cases too big to commit (over 64 KiB)
//! are made by [`generated`] and run from a temp dir; their snapshots sit
//! beside the others.

use std::path::PathBuf;

use crate::util::{MINIMAL, Run, files_with_extension, repo_root};

fn catalogue_dir() -> PathBuf {
    repo_root().join("tests/inputs/invalid")
}

/// Cases generated here rather than committed (name -> bytes).
fn generated() -> Vec<(&'static str, Vec<u8>)> {
    // Over the 256 KiB limit, with a valid spec in front: the size is refused
    // before any parsing.
    let mut oversized = MINIMAL.to_string();
    while oversized.len() <= 300 * 1024 {
        oversized.push_str("# padding: a spec is a few lines of YAML, this file is not\n");
    }
    vec![("oversized", oversized.into_bytes())]
}

struct Case {
    name: String,
    /// The directory to run in; the spec is `<name>.yaml` there.
    dir: PathBuf,
}

/// What one case printed, or why it does not match its snapshot.
fn run_case(case: &Case, update: bool) -> Result<(), String> {
    let file = format!("{}.yaml", case.name);
    let plan = Run::new(["plan", &file]).in_dir(&case.dir).assert();
    let (stderr, code) = (plan.stderr(), plan.exit_code());
    let mut problems = Vec::new();
    if code != Some(2) {
        problems.push(format!("exit code {code:?}, expected 2 (a bad spec)"));
    }
    if !plan.stdout().is_empty() {
        problems.push(format!("printed on stdout: {:?}", plan.stdout()));
    }
    if stderr.contains("panicked") {
        problems.push("panicked".into());
    }
    // render: same message, same code, nothing written.
    let tmp = crate::util::tempdir();
    let out = tmp.path().join("out");
    let render = Run::new(["render", &file, "-o"]).arg(&out).in_dir(&case.dir).assert();
    if render.exit_code() != code || render.stderr() != stderr {
        problems.push(format!("render differs from plan: exit {:?}, stderr:\n{}", render.exit_code(), render.stderr()));
    }
    if out.exists() || std::fs::read_dir(tmp.path()).unwrap().next().is_some() {
        problems.push("render wrote something".into());
    }

    let snapshots = catalogue_dir();
    let (stderr_file, code_file) = (snapshots.join(format!("{}.stderr", case.name)), snapshots.join(format!("{}.code", case.name)));
    let code_text = format!("{}\n", code.map_or("signal".to_string(), |c| c.to_string()));
    if update {
        std::fs::write(&stderr_file, &stderr).unwrap();
        std::fs::write(&code_file, &code_text).unwrap();
    } else {
        match (std::fs::read_to_string(&stderr_file), std::fs::read_to_string(&code_file)) {
            (Ok(expected_stderr), Ok(expected_code)) => {
                if expected_code != code_text {
                    problems.push(format!("exit code {} , snapshot says {}", code_text.trim(), expected_code.trim()));
                }
                if expected_stderr != stderr {
                    let diff = similar::TextDiff::from_lines(&expected_stderr, &stderr);
                    problems.push(format!(
                        "stderr differs from the snapshot:\n{}",
                        diff.unified_diff().header(&format!("{}.stderr", case.name), "actual")
                    ));
                }
            }
            _ => problems.push("no snapshot (.stderr and .code): run UPDATE_GOLDEN=1 cargo test and review it".into()),
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("== {}: {}", case.name, problems.join("\n"))) }
}

#[test]
fn every_bad_spec_prints_exactly_its_snapshot_and_writes_nothing() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let dir = catalogue_dir();
    let mut cases: Vec<Case> = files_with_extension(&dir, "yaml")
        .iter()
        .map(|p| Case { name: p.file_stem().unwrap().to_string_lossy().into_owned(), dir: dir.clone() })
        .collect();
    let scratch = crate::util::tempdir();
    for (name, bytes) in generated() {
        assert!(!dir.join(format!("{name}.yaml")).exists(), "{name} is generated; do not commit its input");
        std::fs::write(scratch.path().join(format!("{name}.yaml")), bytes).unwrap();
        cases.push(Case { name: name.to_string(), dir: scratch.path().to_path_buf() });
    }
    assert!(cases.len() >= 40, "the catalogue should hold at least 40 bad specs, has {}", cases.len());

    // Two threads: each case is two short process runs.
    let (a, b) = cases.split_at(cases.len() / 2);
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles = [a, b].map(|half| s.spawn(move || half.iter().filter_map(|c| run_case(c, update).err()).collect::<Vec<_>>()));
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n\n"));

    // A snapshot without its case is stale.
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    for ext in ["stderr", "code"] {
        for p in files_with_extension(&dir, ext) {
            let stem = p.file_stem().unwrap().to_string_lossy();
            assert!(names.contains(&stem.as_ref()), "{} has no case: delete it", p.display());
        }
    }
}

/// The special-bytes cases hold the bytes their names promise (an editor or
/// a git setting could normalise them away).
#[test]
fn catalogue_inputs_are_what_their_names_say() {
    let dir = catalogue_dir();
    let read = |name: &str| std::fs::read(dir.join(format!("{name}.yaml"))).unwrap();
    assert!(read("empty").is_empty());
    assert!(std::str::from_utf8(&read("not-utf8")).is_err());
    assert!(read("bom-then-error").starts_with(b"\xef\xbb\xbf"));
    assert!(read("crlf-then-error").windows(2).any(|w| w == b"\r\n"));
    assert!(read("binary-nul").contains(&0));
    assert!(read("tab-indentation").contains(&b'\t'));
    assert!(generated().iter().all(|(_, b)| b.len() > 256 * 1024));
}
