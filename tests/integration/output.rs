//! The output directory contract (issue 5), on real temporary directories:
//! manifest, byte stability, atomic writes, ownership, diff and check.
//! In-process tests build `Tree`s directly, so they do not depend on what the
//! renderers emit today; CLI tests run the binary end to end.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use coder_gen::output::{self, FileChange, MANIFEST_PATH, OutputError, OutputMeta, WriteOptions};
use coder_gen::tree::Tree;
use sha2::{Digest, Sha256};

use crate::util::{Deployment, MINIMAL, Run, SpecBuilder, read_tree, spec_in};

fn meta() -> OutputMeta {
    OutputMeta {
        generator_version: "0.0.0-test".into(),
        spec_file: "spec.yaml".into(),
        spec_digest: "d".repeat(64),
        records: Default::default(),
    }
}

fn tree(files: &[(&str, &str)]) -> Tree {
    let mut t = Tree::new();
    for (p, text) in files {
        t.insert(*p, *text);
    }
    t
}

fn write(t: &Tree, dir: &Path) -> Result<output::WriteReport, OutputError> {
    output::write_tree(t, dir, &meta(), &WriteOptions::default())
}

fn force(t: &Tree, dir: &Path) -> Result<output::WriteReport, OutputError> {
    output::write_tree(t, dir, &meta(), &WriteOptions { force: true, ..WriteOptions::default() })
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Every directory under `dir` (relative), to see what was pruned.
fn dirs(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_dir() && e.path() != dir)
        .map(|e| e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned())
        .collect()
}

/// Staging directories left beside `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".coder-gen-tmp-"))
        .collect()
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join(MANIFEST_PATH)).unwrap()).unwrap()
}

/// The default spec with these provisioner namespaces.
fn prov(namespaces: &[&str]) -> SpecBuilder {
    SpecBuilder::new().provisioners(namespaces)
}

/// A temp dir and the (not yet created) output directory in it.
fn scratch() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = crate::util::tempdir();
    let out = tmp.path().join("out");
    (tmp, out)
}

// ---------------------------------------------------------------- manifest

#[test]
fn manifest_lists_every_generated_file_with_its_sha256() {
    let d = Deployment::minimal();
    d.render();
    let files = read_tree(&d.out);
    let m = manifest(&d.out);
    assert_eq!(m["format_version"], 1);
    assert_eq!(m["generator"], "coder-gen");
    assert_eq!(m["generator_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(m["spec_file"], "spec.yaml");
    // The digest of the parsed spec (its canonical form), not of its text.
    assert_eq!(m["spec_digest"], coder_gen::spec_from_str("spec.yaml", MINIMAL).unwrap().digest);
    let listed: BTreeMap<String, String> =
        m["files"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect();
    // Every file on disk but coder-gen's own in .coder-gen/ (the manifest
    // and the recorded plan), with its real hash.
    let expected: BTreeMap<String, String> =
        files.iter().filter(|(p, _)| !p.starts_with(".coder-gen/")).map(|(p, b)| (p.clone(), sha(b))).collect();
    assert!(!expected.is_empty());
    assert_eq!(listed, expected);
    // The recorded plan is `plan --format json`, byte for byte.
    let plan = d.plan().args_json().assert().success().stdout();
    assert_eq!(String::from_utf8(files[".coder-gen/plan.json"].clone()).unwrap(), plan);
    assert_eq!(files.keys().filter(|p| p.starts_with(".coder-gen/")).count(), 2, "{:?}", files.keys());
    // Stable text: 2-space pretty JSON, sorted keys, one trailing newline.
    let text = String::from_utf8(files[MANIFEST_PATH].clone()).unwrap();
    assert!(text.starts_with("{\n  \"files\": {\n    \""), "{text}");
    assert!(text.ends_with("}\n") && !text.ends_with("\n\n"));
    let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    let order: Vec<usize> = keys.iter().map(|k| text.find(&format!("\"{k}\"")).unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "keys not sorted in {text}");
}

#[test]
fn generated_files_are_lf_with_one_trailing_newline_and_a_versionless_header() {
    let d = Deployment::named("acme-prod.yaml", MINIMAL);
    d.render();
    for (path, bytes) in read_tree(&d.out) {
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains('\r'), "{path}: CR");
        assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{path}: trailing newlines");
        if path.starts_with(".coder-gen/") {
            continue; // JSON has no comments; the manifest carries the version
        }
        let first = text.lines().next().unwrap();
        assert!(first.contains("DO NOT EDIT") && first.contains("coder-gen") && first.contains("acme-prod.yaml"), "{path}: {first}");
        // The version lives in the manifest only, so an upgrade alone does not touch every file.
        assert!(!first.contains(env!("CARGO_PKG_VERSION")) && !first.contains("version"), "{path}: {first}");
    }
}

// ---------------------------------------------------------------- stability

#[test]
fn rendering_again_is_byte_identical_and_rewrites_nothing() {
    use std::os::unix::fs::MetadataExt;
    let d = Deployment::minimal();
    d.render();
    let before = read_tree(&d.out);
    let stamp = |p: &str| {
        let m = fs::metadata(d.out.join(p)).unwrap();
        (m.ino(), m.mtime(), m.mtime_nsec())
    };
    let stamps: Vec<_> = before.keys().map(|p| stamp(p)).collect();
    let a = d.render();
    assert!(a.stderr().contains("is up to date"), "{}", a.stderr());
    assert_eq!(read_tree(&d.out), before);
    assert_eq!(before.keys().map(|p| stamp(p)).collect::<Vec<_>>(), stamps, "unchanged files were rewritten");
    // A second directory from the same spec is byte-identical too.
    let other = d.dir().join("other");
    d.render_into(&other);
    assert_eq!(read_tree(&other), before);
}

// ---------------------------------------------------------------- ownership

#[test]
fn stale_files_are_deleted_and_only_emptied_directories_pruned() {
    let (_tmp, out) = scratch();
    let old = tree(&[
        ("README.md", "v1"),
        ("helm/coder-provisioner/prov-a/values.yaml", "a"),
        ("helm/coder-provisioner/prov-b/values.yaml", "b"),
        ("kustomize/overlays/provisioners-prov-b/kustomization.yaml", "kb"),
        ("kustomize/overlays/provisioners-prov-b/rbac/role.yaml", "role"),
    ]);
    write(&old, &out).unwrap();
    // The user keeps a patch of their own next to a generated overlay.
    fs::write(out.join("helm/coder-provisioner/prov-b/patch.yaml"), "mine\n").unwrap();
    let new = tree(&[("README.md", "v2"), ("helm/coder-provisioner/prov-a/values.yaml", "a")]);
    let report = write(&new, &out).unwrap();
    assert_eq!(
        report.deleted,
        [
            "helm/coder-provisioner/prov-b/values.yaml",
            "kustomize/overlays/provisioners-prov-b/kustomization.yaml",
            "kustomize/overlays/provisioners-prov-b/rbac/role.yaml"
        ]
    );
    assert_eq!(report.changed, ["README.md"]);
    let files: Vec<String> = read_tree(&out).into_keys().collect();
    assert_eq!(
        files,
        [".coder-gen/manifest.json", "README.md", "helm/coder-provisioner/prov-a/values.yaml", "helm/coder-provisioner/prov-b/patch.yaml"]
    );
    // kustomize/ held only our files: gone to the top. prov-b holds the user's patch: kept.
    assert_eq!(
        dirs(&out),
        [".coder-gen", "helm", "helm/coder-provisioner", "helm/coder-provisioner/prov-a", "helm/coder-provisioner/prov-b"]
    );
    assert!(manifest(&out)["files"].get("helm/coder-provisioner/prov-b/values.yaml").is_none());
}

#[test]
fn a_namespace_removed_from_the_spec_leaves_no_file_behind() {
    let d = Deployment::new(&prov(&["prov-a", "prov-b"]).build());
    d.render();
    let mentions = |out: &Path| -> Vec<String> {
        read_tree(out)
            .into_iter()
            .filter(|(p, b)| *p != MANIFEST_PATH && (p.contains("prov-b") || String::from_utf8_lossy(b).contains("prov-b")))
            .map(|(p, _)| p)
            .collect()
    };
    assert!(!mentions(&d.out).is_empty(), "prov-b should appear in the tree");
    d.edit(&prov(&["prov-a"]).build());
    d.render();
    assert_eq!(mentions(&d.out), Vec::<String>::new());
    // Whatever the renderers emit per namespace, no path of prov-b remains on disk.
    assert!(walkdir::WalkDir::new(&d.out).into_iter().all(|e| !e.unwrap().path().to_string_lossy().contains("prov-b")));
    d.check_ok();
}

#[test]
fn foreign_files_survive_with_their_bytes_and_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let d = Deployment::new(&prov(&["prov-a", "prov-b"]).build());
    d.render();
    let mine = d.out.join("kustomization-patch.yaml");
    fs::write(&mine, "# mine\n").unwrap();
    fs::set_permissions(&mine, fs::Permissions::from_mode(0o600)).unwrap();
    fs::create_dir_all(d.out.join("notes/deep")).unwrap();
    fs::write(d.out.join("notes/deep/todo.txt"), "x").unwrap();
    d.edit(&prov(&["prov-a"]).users(2500).build());
    d.render();
    assert_eq!(fs::read(&mine).unwrap(), b"# mine\n");
    assert_eq!(fs::metadata(&mine).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(fs::read(d.out.join("notes/deep/todo.txt")).unwrap(), b"x");
    assert!(manifest(&d.out)["files"].get("kustomization-patch.yaml").is_none());
}

#[test]
fn a_replaced_generated_file_keeps_the_users_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, out) = scratch();
    write(&tree(&[("run.sh", "echo 1")]), &out).unwrap();
    fs::set_permissions(out.join("run.sh"), fs::Permissions::from_mode(0o750)).unwrap();
    write(&tree(&[("run.sh", "echo 2")]), &out).unwrap();
    assert_eq!(fs::read(out.join("run.sh")).unwrap(), b"echo 2\n");
    assert_eq!(fs::metadata(out.join("run.sh")).unwrap().permissions().mode() & 0o777, 0o750);
}

#[test]
fn a_foreign_file_at_a_generated_path_is_refused_by_name_and_nothing_is_written() {
    let (_tmp, out) = scratch();
    write(&tree(&[("README.md", "v1")]), &out).unwrap();
    fs::create_dir_all(out.join("helm/coder")).unwrap();
    fs::write(out.join("helm/coder/values.yaml"), "mine\n").unwrap();
    let before = read_tree(&out);
    let new = tree(&[("README.md", "v2"), ("helm/coder/values.yaml", "generated"), ("terraform/main.tf", "tf")]);
    let err = write(&new, &out).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(&err, OutputError::Conflicts { collisions, .. } if collisions == &["helm/coder/values.yaml"]), "{msg}");
    assert!(msg.contains("helm/coder/values.yaml") && msg.contains("--force"), "{msg}");
    assert_eq!(read_tree(&out), before);
    assert!(!out.join("terraform").exists());
    // --force adopts it: overwritten, now listed in the manifest.
    let report = force(&new, &out).unwrap();
    assert_eq!(report.forced, ["helm/coder/values.yaml"]);
    assert_eq!(fs::read(out.join("helm/coder/values.yaml")).unwrap(), b"generated\n");
    assert!(manifest(&out)["files"].get("helm/coder/values.yaml").is_some());
}

#[test]
fn an_identical_foreign_file_at_a_generated_path_is_adopted() {
    let (_tmp, out) = scratch();
    write(&tree(&[("README.md", "v1")]), &out).unwrap();
    fs::write(out.join("same.yaml"), "same\n").unwrap();
    write(&tree(&[("README.md", "v1"), ("same.yaml", "same")]), &out).unwrap();
    assert!(manifest(&out)["files"].get("same.yaml").is_some());
}

#[test]
fn collision_through_the_cli_exits_2_naming_the_file() {
    let d = Deployment::minimal();
    d.render();
    // Pretend README.md was never ours: drop it from the manifest.
    let mut m = manifest(&d.out);
    m["files"].as_object_mut().unwrap().remove("README.md");
    fs::write(d.out.join(MANIFEST_PATH), serde_json::to_string_pretty(&m).unwrap()).unwrap();
    fs::write(d.out.join("README.md"), "the user's readme\n").unwrap();
    let before = read_tree(&d.out);
    let a = d.run("render").assert().code(2);
    let err = a.stderr();
    assert!(err.starts_with("error: ") && err.contains("    README.md\n") && err.contains("did not write"), "{err}");
    assert_eq!(read_tree(&d.out), before);
    d.run("check").assert().code(2).stderr_has("README.md");
}

#[test]
fn a_non_empty_directory_without_manifest_is_refused_unless_forced() {
    let d = Deployment::minimal();
    fs::create_dir(&d.out).unwrap();
    fs::write(d.out.join("notes.md"), "mine\n").unwrap();
    let a = d.run("render").assert().code(2);
    let err = a.stderr();
    assert!(err.contains("not empty") && err.contains("manifest") && err.contains("--force"), "{err}");
    assert_eq!(read_tree(&d.out).into_keys().collect::<Vec<_>>(), ["notes.md"]);
    d.run("check").assert().code(2);
    d.run("render").arg("--force").assert().rendered(&d.warnings(), &d.out);
    assert_eq!(fs::read(d.out.join("notes.md")).unwrap(), b"mine\n");
    assert!(d.out.join(MANIFEST_PATH).is_file() && d.out.join("README.md").is_file());
    assert!(manifest(&d.out)["files"].get("notes.md").is_none());
    // An existing empty directory needs no --force.
    let empty = d.dir().join("empty");
    fs::create_dir(&empty).unwrap();
    d.render_into(&empty);
}

#[test]
fn a_hand_edited_generated_file_is_refused_unless_forced() {
    let d = Deployment::minimal();
    d.render();
    let pristine = fs::read(d.out.join("README.md")).unwrap();
    let mut edited = pristine.clone();
    edited.extend_from_slice(b"my note\n");
    fs::write(d.out.join("README.md"), &edited).unwrap();
    let a = d.run("render").assert().code(2);
    let err = a.stderr();
    assert!(err.contains("edited by hand") && err.contains("    README.md\n") && err.contains("--force"), "{err}");
    assert_eq!(fs::read(d.out.join("README.md")).unwrap(), edited);
    // check and diff see it as drift, not as an error.
    let a = d.run("check").assert().code(1);
    assert!(a.stdout().contains("-my note"), "{}", a.stdout());
    let forced = "warning: --force: overwrote or deleted README.md, which coder-gen did not write as it was\n";
    d.run("render").arg("--force").assert().rendered(&format!("{forced}{}", d.warnings()), &d.out);
    assert_eq!(fs::read(d.out.join("README.md")).unwrap(), pristine);
}

#[test]
fn a_hand_edited_stale_file_is_not_deleted_without_force() {
    let (_tmp, out) = scratch();
    write(&tree(&[("README.md", "v1"), ("old.yaml", "old")]), &out).unwrap();
    fs::write(out.join("old.yaml"), "old, with my edit\n").unwrap();
    let new = tree(&[("README.md", "v1")]);
    let err = write(&new, &out).unwrap_err();
    assert!(matches!(&err, OutputError::Conflicts { edited, .. } if edited == &["old.yaml"]), "{err}");
    assert_eq!(fs::read(out.join("old.yaml")).unwrap(), b"old, with my edit\n");
    force(&new, &out).unwrap();
    assert!(!out.join("old.yaml").exists());
}

#[test]
fn a_deleted_generated_file_is_written_again() {
    let (_tmp, out) = scratch();
    let t = tree(&[("a/b.yaml", "b")]);
    write(&t, &out).unwrap();
    fs::remove_dir_all(out.join("a")).unwrap();
    assert_eq!(write(&t, &out).unwrap().added, ["a/b.yaml"]);
    assert_eq!(fs::read(out.join("a/b.yaml")).unwrap(), b"b\n");
}

#[test]
fn a_file_can_become_a_directory_and_back_unless_the_directory_holds_a_foreign_file() {
    let (_tmp, out) = scratch();
    write(&tree(&[("x", "file")]), &out).unwrap();
    // Each way, atomically: a failure after any number of writes changes nothing.
    write_failing_at_every_step(&tree(&[("x/y.yaml", "nested")]), &out);
    assert_eq!(fs::read(out.join("x/y.yaml")).unwrap(), b"nested\n");
    // Back: x/ held only our file, so it is pruned and x written.
    write_failing_at_every_step(&tree(&[("x", "file again")]), &out);
    assert_eq!(fs::read(out.join("x")).unwrap(), b"file again\n");
    // With a user's file inside, the directory stays and the write is refused.
    write(&tree(&[("x/y.yaml", "nested")]), &out).unwrap();
    fs::write(out.join("x/mine.txt"), "mine\n").unwrap();
    let err = write(&tree(&[("x", "file")]), &out).unwrap_err();
    assert!(err.to_string().contains("x is a directory where coder-gen writes a file"), "{err}");
    assert!(out.join("x/y.yaml").is_file() && out.join("x/mine.txt").is_file());
}

/// Write `t` into `out` with an injected failure after 0, 1, 2, ... writes,
/// asserting after each that files and directories are as before, until the
/// write succeeds.
fn write_failing_at_every_step(t: &Tree, out: &Path) {
    let (files, directories) = (read_tree(out), dirs(out));
    for n in 0..200 {
        let opts = WriteOptions { fail_after_writes: Some(n), ..WriteOptions::default() };
        match output::write_tree(t, out, &meta(), &opts) {
            Ok(_) => return,
            Err(OutputError::Injected { .. }) => {}
            Err(e) => panic!("after {n} writes: {e}"),
        }
        assert_eq!(read_tree(out), files, "after {n} writes");
        assert_eq!(dirs(out), directories, "after {n} writes");
        assert!(leftovers(out).is_empty(), "after {n} writes");
    }
    panic!("never succeeded");
}

// ---------------------------------------------------------------- hostile input

#[test]
fn a_hostile_manifest_is_refused_and_deletes_nothing() {
    let d = Deployment::minimal();
    d.render();
    let victim = d.dir().join("victim.txt");
    fs::write(&victim, "precious\n").unwrap();
    for path in ["../victim.txt", "/etc/hostname", "a/../../victim.txt", ".coder-gen/manifest.json"] {
        let mut m = manifest(&d.out);
        m["files"].as_object_mut().unwrap().insert(path.into(), serde_json::Value::String(sha(b"precious\n")));
        let text = serde_json::to_string_pretty(&m).unwrap();
        fs::write(d.out.join(MANIFEST_PATH), &text).unwrap();
        let before = read_tree(&d.out);
        for cmd in ["render", "check", "diff"] {
            let a = d.run(cmd).assert().code(2);
            let err = a.stderr();
            assert!(err.contains("unsafe path") && err.contains("git checkout"), "{cmd} {path}: {err}");
        }
        let a = d.run("render").arg("--force").assert().code(2);
        assert!(a.stderr().contains("unsafe path"));
        assert_eq!(fs::read(&victim).unwrap(), b"precious\n", "{path}");
        assert_eq!(read_tree(&d.out), before);
    }
}

#[test]
fn an_unparseable_manifest_is_refused_with_a_clear_message() {
    let d = Deployment::minimal();
    d.render();
    for text in ["{ not json", "{\"files\": {}}", "[]", ""] {
        fs::write(d.out.join(MANIFEST_PATH), text).unwrap();
        let before = read_tree(&d.out);
        let a = d.run("render").arg("--force").assert().code(2);
        let err = a.stderr();
        assert!(err.starts_with("error: cannot use ") && err.contains("manifest.json") && err.contains("help:"), "{text}: {err}");
        assert_eq!(read_tree(&d.out), before);
    }
}

#[test]
fn symbolic_links_where_files_go_are_refused_and_not_followed() {
    let (tmp, out) = scratch();
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::write(elsewhere.join("values.yaml"), "outside\n").unwrap();
    write(&tree(&[("README.md", "v1"), ("helm/values.yaml", "v")]), &out).unwrap();
    // Replace an owned directory with a link out of the tree.
    fs::remove_dir_all(out.join("helm")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("helm")).unwrap();
    for t in [tree(&[("README.md", "v2"), ("helm/values.yaml", "v")]), tree(&[("README.md", "v2")])] {
        let err = force(&t, &out).unwrap_err();
        assert!(matches!(&err, OutputError::Unsafe { path, .. } if path == "helm"), "{err}");
        assert!(err.to_string().contains("helm is a symbolic link"), "{err}");
        assert_eq!(fs::read(elsewhere.join("values.yaml")).unwrap(), b"outside\n");
    }
    // A link at a file path is refused as well.
    let out2 = tmp.path().join("out2");
    write(&tree(&[("a.yaml", "a")]), &out2).unwrap();
    fs::remove_file(out2.join("a.yaml")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("values.yaml"), out2.join("a.yaml")).unwrap();
    let err = force(&tree(&[("a.yaml", "b")]), &out2).unwrap_err();
    assert!(err.to_string().contains("a.yaml is a symbolic link"), "{err}");
    assert_eq!(fs::read(elsewhere.join("values.yaml")).unwrap(), b"outside\n");
}

#[test]
fn an_output_directory_reached_through_a_link_or_dot_works() {
    let d = Deployment::minimal();
    let real = d.dir().join("real");
    fs::create_dir(&real).unwrap();
    let link = d.dir().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    write(&tree(&[("a.yaml", "a")]), &link).unwrap();
    assert!(real.join("a.yaml").is_file() && link.is_symlink());
    fs::write(real.join("mine.txt"), "mine\n").unwrap();
    d.run_into("render", Path::new(".")).in_dir(&real).assert().rendered(&d.warnings(), Path::new("."));
    d.run_into("check", Path::new(".")).in_dir(&real).assert().up_to_date(Path::new("."), &d.spec);
    d.run_into("check", Path::new("../link")).in_dir(&real).assert().up_to_date(Path::new("../link"), &d.spec);
    // a.yaml was owned and is no longer generated; mine.txt never was ours.
    assert!(real.join("README.md").is_file() && !real.join("a.yaml").exists());
    assert_eq!(fs::read(real.join("mine.txt")).unwrap(), b"mine\n");
    assert!(leftovers(&real).is_empty());
}

// ---------------------------------------------------------------- atomicity

fn big_old() -> Tree {
    tree(&[
        ("README.md", "v1"),
        ("helm/coder/values.yaml", "coder v1"),
        ("helm/coder-provisioner/prov-b/values.yaml", "b"),
        ("kustomize/overlays/provisioners-prov-b/kustomization.yaml", "kb"),
        ("terraform/aws/main.tf", "tf v1"),
    ])
}

fn big_new() -> Tree {
    tree(&[
        ("README.md", "v2"),
        ("helm/coder/values.yaml", "coder v1"),
        ("helm/coder-provisioner/prov-c/values.yaml", "c"),
        ("kustomize/overlays/provisioners-prov-c/kustomization.yaml", "kc"),
        ("terraform/aws/main.tf", "tf v2"),
        ("terraform/aws/db.tf", "db"),
    ])
}

/// A failure after every possible number of writes leaves the old tree (and
/// its directories) exactly as it was, and no staging directory behind.
#[test]
fn an_injected_failure_at_any_write_leaves_the_previous_tree_intact() {
    let (_tmp, out) = scratch();
    write(&big_old(), &out).unwrap();
    fs::write(out.join("helm/coder-provisioner/prov-b/mine.yaml"), "mine\n").unwrap();
    let (files, directories) = (read_tree(&out), dirs(&out));
    let mut failures = 0;
    for n in 0..200 {
        let opts = WriteOptions { fail_after_writes: Some(n), ..WriteOptions::default() };
        match output::write_tree(&big_new(), &out, &meta(), &opts) {
            Err(OutputError::Injected { .. }) => failures += 1,
            Err(e) => panic!("after {n} writes: {e}"),
            Ok(_) => break,
        }
        assert_eq!(read_tree(&out), files, "after {n} writes");
        assert_eq!(dirs(&out), directories, "after {n} writes");
        assert!(leftovers(&out).is_empty(), "after {n} writes: {:?}", leftovers(&out));
    }
    // 7 staged files, then deletions, prunes, mkdirs and two renames per replaced file.
    assert!(failures > 15, "only {failures} failure points exercised");
    assert_eq!(read_tree(&out)["README.md"], b"v2\n");
    assert!(out.join("helm/coder-provisioner/prov-b/mine.yaml").is_file());
    assert!(!out.join("kustomize/overlays/provisioners-prov-b").exists());
}

/// The same, adopting a directory that has no manifest yet (--force): the
/// user's files and the absence of `.coder-gen/` survive every failure.
#[test]
fn an_injected_failure_while_adopting_a_directory_leaves_it_intact() {
    let (_tmp, out) = scratch();
    fs::create_dir_all(out.join("helm/coder")).unwrap();
    fs::write(out.join("helm/coder/values.yaml"), "old, not ours\n").unwrap();
    fs::write(out.join("notes.md"), "mine\n").unwrap();
    let (files, directories) = (read_tree(&out), dirs(&out));
    let mut failures = 0;
    for n in 0..200 {
        let opts = WriteOptions { force: true, fail_after_writes: Some(n) };
        match output::write_tree(&big_new(), &out, &meta(), &opts) {
            Err(OutputError::Injected { .. }) => failures += 1,
            Err(e) => panic!("after {n} writes: {e}"),
            Ok(report) => {
                assert_eq!(report.forced, ["helm/coder/values.yaml"]);
                break;
            }
        }
        assert_eq!(read_tree(&out), files, "after {n} writes");
        assert_eq!(dirs(&out), directories, "after {n} writes");
        assert!(leftovers(&out).is_empty());
    }
    assert!(failures > 10, "only {failures} failure points exercised");
    assert_eq!(fs::read(out.join("notes.md")).unwrap(), b"mine\n");
    assert!(out.join(MANIFEST_PATH).is_file());
}

#[test]
fn an_injected_failure_through_the_cli_exits_2_and_changes_nothing() {
    let d = Deployment::minimal();
    // First render into a new directory: a failure leaves no directory at
    // all, not even the parents it had to create.
    let nested = d.dir().join("deploy/envs/out");
    for n in 0..3 {
        d.run("render").env("CODER_GEN_TEST_FAIL_AFTER_WRITES", n.to_string()).assert().code(2);
        assert!(!d.out.exists() && leftovers(&d.out).is_empty(), "after {n} writes");
        d.run_into("render", &nested).env("CODER_GEN_TEST_FAIL_AFTER_WRITES", n.to_string()).assert().code(2);
        assert!(!d.dir().join("deploy").exists(), "after {n} writes");
    }
    d.render_into(&nested);
    assert!(nested.join(MANIFEST_PATH).is_file());
    d.render();
    let before = read_tree(&d.out);
    d.edit(&SpecBuilder::new().users(2500).build());
    d.run("render").env("CODER_GEN_TEST_FAIL_AFTER_WRITES", "3").assert().code(2).stderr_has("injected failure");
    assert_eq!(read_tree(&d.out), before);
    assert!(leftovers(&d.out).is_empty());
}

/// A process killed mid-write (simulated: `CODER_GEN_TEST_CRASH_AFTER_WRITES=n`
/// exits with 99 after n writes, without cleaning up) leaves a staging
/// directory; `check` refuses to judge a half-written tree, and the next
/// `render` rolls it back before doing its own work.
///
/// Which crash points (each costs three processes, so not all ~100): before
/// the journal is written, the old tree is untouched and recovery deletes the
/// staging directory whole; those points differ only in how many files were
/// staged, so the first, the second and the last stand for all of them. From
/// the journal on, every point is a different half-committed tree, so every
/// one is tested. The change (provisioner group prov-b replaced by prov-c, an
/// own file beside them) makes every kind of commit step happen: files renamed
/// aside and in, added files in new directories, deleted files and pruned
/// directories. The boundary is found by bisection (whether a journal exists
/// is monotonic in n), and every crash tried on the way is checked in full.
#[test]
fn a_crash_at_any_write_is_rolled_back_by_the_next_render() {
    let old_spec = prov(&["prov-a", "prov-b"]).build();
    let new_spec = prov(&["prov-a", "prov-c"]).build();
    let d = Deployment::new(&old_spec);
    d.render();
    fs::write(d.out.join("mine.txt"), "mine\n").unwrap();
    let before = read_tree(&d.out);
    // What the CLI would write for the old spec, to recover in-process (the
    // crash itself needs a process; `check` and the recovering render are the
    // same library calls the CLI makes, so they run here).
    let old_plan = coder_gen::plan_from_str(&d.spec.display().to_string(), &old_spec).unwrap();
    let old_tree = coder_gen::render::render(&old_plan);
    let old_meta = coder_gen::output_meta(&old_plan);
    // Crash after n writes of the new spec's render, check what is left, and
    // render the old spec again. Some(journal written), or None when the
    // render finished before n.
    let crash_and_recover = |n: u64, run_check: bool| -> Option<bool> {
        d.edit(&new_spec);
        let a = d.run("render").env("CODER_GEN_TEST_CRASH_AFTER_WRITES", n.to_string()).assert();
        if a.exit_code() == Some(0) {
            d.edit(&old_spec);
            d.render();
            assert_eq!(read_tree(&d.out), before);
            return None;
        }
        a.code(99);
        let left = leftovers(&d.out);
        assert_eq!(left.len(), 1, "after {n}: {left:?}");
        let journal = d.dir().join(&left[0]).join("journal.json").exists();
        if journal {
            // The commit had begun: the tree may be half written. (`check`
            // refuses on the journal alone, so not every point runs it.)
            if run_check {
                d.run("check").assert().code(2).stderr_has("interrupted");
            } else {
                let err = output::compare(&old_tree, &d.out, &old_meta).unwrap_err();
                assert!(matches!(err, OutputError::Interrupted { .. }), "after {n}: {err}");
            }
        } else {
            // Only staged: the old tree is intact, and differs from the new spec.
            assert_eq!(read_tree(&d.out), before, "after {n}");
            d.run("check").assert().code(1);
        }
        // Rendering the old spec again: recovery restores the old tree, so
        // there is nothing left to do (a wrong rollback shows up as a change,
        // a hand edit or a collision here).
        if run_check {
            d.edit(&old_spec);
            // One note naming the staging directory, then what every render says.
            let a = d.run("render").assert();
            let err = a.stderr();
            let note = err.lines().next().unwrap_or_default();
            assert!(note.starts_with("note: rolled back") || note.starts_with("note: removed"), "after {n}: {err}");
            assert!(note.contains(left[0].as_str()), "after {n}: {err}");
            a.rendered(&format!("{note}\n{}", d.warnings()), &d.out);
            assert!(err.contains(&format!("\n{} is up to date (", d.out.display())), "after {n}: {err}");
        } else {
            let report = output::write_tree(&old_tree, &d.out, &old_meta, &WriteOptions::default()).unwrap();
            assert!(report.is_noop() && report.notes.len() == 1, "after {n}: {report:?}");
        }
        assert_eq!(read_tree(&d.out), before, "after {n}");
        assert!(leftovers(&d.out).is_empty());
        Some(journal)
    };
    assert_eq!(crash_and_recover(0, true), Some(false));
    assert_eq!(crash_and_recover(1, true), Some(false));
    // Bisect: lo is staging only, hi has a journal (or finished).
    let (mut lo, mut hi) = (1, 16);
    while crash_and_recover(hi, false) == Some(false) {
        (lo, hi) = (hi, hi * 2);
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if crash_and_recover(mid, false) == Some(false) { lo = mid } else { hi = mid }
    }
    assert!(lo > 3, "only {lo} staging writes: are the changed files staged?");
    let mut committed = 0;
    for n in hi.. {
        match crash_and_recover(n, n == hi || n % 5 == 0) {
            Some(journal) => {
                assert!(journal, "a crash after {n} writes left no journal, after one at {hi} did");
                committed += 1;
            }
            None => break,
        }
    }
    assert!(committed >= 6, "only {committed} commit steps: the change should rename, add, delete and prune");
    eprintln!("crash points: 0, 1 and {lo} of {lo} staging writes; all {committed} from the journal on");
    d.edit(&new_spec);
    d.render();
    d.check_ok();
    assert_eq!(fs::read(d.out.join("mine.txt")).unwrap(), b"mine\n");
}

#[test]
fn a_directory_that_looks_like_staging_but_is_not_ours_is_left_alone() {
    let (tmp, out) = scratch();
    let lookalike = tmp.path().join(".out.coder-gen-tmp-12345");
    fs::create_dir(&lookalike).unwrap();
    fs::write(lookalike.join("data.txt"), "not ours\n").unwrap();
    write(&tree(&[("a.yaml", "a")]), &out).unwrap();
    write(&tree(&[("a.yaml", "b")]), &out).unwrap();
    assert_eq!(fs::read(lookalike.join("data.txt")).unwrap(), b"not ours\n");
}

#[test]
fn a_render_in_progress_is_not_disturbed() {
    let (tmp, out) = scratch();
    write(&tree(&[("a.yaml", "a")]), &out).unwrap();
    // What a live render holds: a marked staging directory, locked.
    let staging = tmp.path().join(".out.coder-gen-tmp-4242");
    fs::create_dir(&staging).unwrap();
    let marker = staging.join("coder-gen-staging");
    fs::write(&marker, "coder-gen staging directory: safe to delete when no coder-gen process is running\n").unwrap();
    let lock = fs::File::open(&marker).unwrap();
    lock.lock().unwrap();
    let err = write(&tree(&[("a.yaml", "b")]), &out).unwrap_err();
    assert!(matches!(err, OutputError::Busy { .. }), "{err}");
    assert_eq!(fs::read(out.join("a.yaml")).unwrap(), b"a\n");
    // Once that process is gone (lock released), its leftovers are cleaned up.
    drop(lock);
    let report = write(&tree(&[("a.yaml", "b")]), &out).unwrap();
    assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
    assert!(!staging.exists());
}

#[test]
fn a_tree_may_not_write_into_the_manifest_directory() {
    let (_tmp, out) = scratch();
    let err = write(&tree(&[(".coder-gen/manifest.json", "{}")]), &out).unwrap_err();
    assert!(matches!(err, OutputError::Reserved { .. }), "{err}");
    assert!(!out.exists());
}

// ---------------------------------------------------------------- diff and check

#[test]
fn compare_reports_added_changed_and_removed_files() {
    let (_tmp, out) = scratch();
    write(&tree(&[("keep.yaml", "same"), ("change.yaml", "one\ntwo"), ("gone.yaml", "bye")]), &out).unwrap();
    fs::write(out.join("foreign.txt"), "not shown\n").unwrap();
    let new = tree(&[("keep.yaml", "same"), ("change.yaml", "one\nthree"), ("new/added.yaml", "hi")]);
    let changes = output::compare(&new, &out, &meta()).unwrap();
    let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["change.yaml", "gone.yaml", "new/added.yaml", MANIFEST_PATH]);
    let text = output::unified_diff(&changes);
    let plain = anstream::adapter::strip_str(&text).to_string();
    for needle in [
        "--- a/change.yaml\n+++ b/change.yaml\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n",
        "--- a/gone.yaml\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n",
        "--- /dev/null\n+++ b/new/added.yaml\n@@ -0,0 +1 @@\n+hi\n",
        "--- a/.coder-gen/manifest.json\n+++ b/.coder-gen/manifest.json\n",
    ] {
        assert!(plain.contains(needle), "missing {needle:?} in\n{plain}");
    }
    assert!(!plain.contains("foreign") && !plain.contains("a/keep.yaml"), "{plain}");
    // Nothing was written by comparing.
    assert_eq!(fs::read(out.join("change.yaml")).unwrap(), b"one\ntwo\n");
    // After writing, nothing differs.
    write(&new, &out).unwrap();
    assert_eq!(output::compare(&new, &out, &meta()).unwrap(), Vec::<FileChange>::new());
}

#[test]
fn a_version_bump_alone_changes_only_the_manifest() {
    let (_tmp, out) = scratch();
    let t = tree(&[("a.yaml", "a")]);
    write(&t, &out).unwrap();
    let newer = OutputMeta { generator_version: "9.9.9".into(), ..meta() };
    let changes = output::compare(&t, &out, &newer).unwrap();
    assert_eq!(changes.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(), [MANIFEST_PATH]);
    assert!(output::unified_diff(&changes).contains("+  \"generator_version\": \"9.9.9\""));
    let report = output::write_tree(&t, &out, &newer, &WriteOptions::default()).unwrap();
    assert!(report.manifest_changed && !report.is_noop() && report.changed.is_empty());
    assert_eq!(manifest(&out)["generator_version"], "9.9.9");
}

#[test]
fn diff_and_check_on_a_missing_directory_show_everything_added() {
    let d = Deployment::minimal();
    let out = d.dir().join("missing/out");
    let a = d.run_into("diff", &out).assert().diff_shown();
    let diff = a.stdout();
    assert!(diff.contains("--- /dev/null\n+++ b/README.md\n") && diff.contains("+++ b/.coder-gen/manifest.json"), "{diff}");
    d.run_into("check", &out).assert().code(1).stdout_has("+++ b/README.md").stderr_has("drift");
    assert!(!d.dir().join("missing").exists(), "diff/check must not create anything");
}

#[test]
fn diff_colour_follows_the_terminal_no_color_and_clicolor_force() {
    let d = Deployment::minimal();
    let diff = |envs: &[(&str, &str)]| {
        let mut run = d.run("diff").env_remove("NO_COLOR");
        for (k, v) in envs {
            run = run.env(k, v);
        }
        run.assert().diff_shown().stdout()
    };
    let piped = diff(&[]);
    assert!(piped.contains("+++ b/README.md") && !piped.contains('\x1b'), "piped output has escapes");
    assert!(!diff(&[("NO_COLOR", "1")]).contains('\x1b'));
    let forced = diff(&[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains("\x1b[32m+") && forced.contains("\x1b[1m--- /dev/null"), "{forced:?}");
    assert_eq!(anstream::adapter::strip_str(&forced).to_string(), piped);
    // NO_COLOR wins over CLICOLOR_FORCE.
    assert!(!diff(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
}

/// On a real terminal (a pseudo-terminal from util-linux `script`), colour
/// is on by default and off with NO_COLOR.
#[test]
#[ignore = "needs util-linux `script` (a pseudo-terminal); .ci/run runs it"]
fn diff_is_coloured_on_a_terminal() {
    let script = std::process::Command::new("script").arg("--version").output();
    crate::util::require(script.is_ok_and(|o| o.status.success()), "util-linux `script`", "install util-linux");
    let d = Deployment::minimal();
    let on_tty = |no_color: bool| {
        let line = format!("{} diff {} -o {}", env!("CARGO_BIN_EXE_coder-gen"), d.spec.display(), d.out.display());
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"])
            .env("TERM", "xterm")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let coloured = on_tty(false);
    assert!(coloured.contains("\x1b[32m+") && coloured.contains("+++ b/README.md"), "{coloured:?}");
    let plain = on_tty(true);
    assert!(plain.contains("+++ b/README.md") && !plain.contains('\x1b'), "{plain:?}");
}

#[test]
fn check_exits_0_when_up_to_date_1_on_drift_2_on_error() {
    let d = Deployment::minimal();
    d.render();
    d.check_ok();
    fs::remove_file(d.out.join("README.md")).unwrap();
    let a = d.run("check").assert().code(1);
    assert!(a.stdout().contains("--- /dev/null\n+++ b/README.md"), "{}", a.stdout());
    let bad = spec_in(d.dir(), "bad.yaml", &SpecBuilder::new().users_raw("many").build());
    Run::new(["check"]).arg(&bad).arg("-o").arg(&d.out).assert().code(2).stderr_has("bad.yaml:2:8");
    Run::new(["diff"]).arg(&bad).arg("-o").arg(&d.out).assert().code(2).stderr_has("bad.yaml:2:8");
    let file = spec_in(d.dir(), "a-file", "x");
    d.run_into("check", &file).assert().code(2).stderr_has("not a directory");
}

/// The reviewer's walk-through from the "Done when".
#[test]
fn reviewer_scenario_render_edit_diff_check_render_check() {
    let d = Deployment::new(&prov(&["prov-a", "prov-b"]).build());
    let run = |cmd: &str| d.run(cmd).assert();
    d.render();
    fs::write(d.out.join("my-patch.yaml"), "# the user's own\n").unwrap();
    d.check_ok();

    d.edit(&prov(&["prov-a", "prov-b"]).users(1900).build());
    let a = run("diff").diff_shown();
    let diff = a.stdout();
    assert!(diff.lines().any(|l| l.starts_with('-') && l.contains("1800")), "{diff}");
    assert!(diff.lines().any(|l| l.starts_with('+') && l.contains("1900")), "{diff}");
    assert!(diff.contains("+++ b/README.md") && !diff.contains("my-patch"));
    let before = read_tree(&d.out);
    let a = run("check").code(1);
    assert_eq!(a.stdout(), diff, "check prints the same diff");
    d.render();
    // The diff named exactly the files render then changed.
    let after = read_tree(&d.out);
    let really: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut named: Vec<String> = diff
        .lines()
        .filter_map(|l| l.strip_prefix("+++ b/").or_else(|| l.strip_prefix("--- a/")))
        .map(str::to_string)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    named.sort();
    assert_eq!(named, really);
    d.check_ok();
    run("diff").stdout_is("").stderr_is(&format!("no changes: {} is up to date\n", d.out.display())).success();
    assert_eq!(fs::read(d.out.join("my-patch.yaml")).unwrap(), b"# the user's own\n");
}

/// (`cli.rs` checks every subcommand's help has examples.)
#[test]
fn help_of_render_explains_force() {
    Run::new(["render", "--help"]).assert().success().stdout_has("--force").stdout_has("manifest");
}
