//! The spec's FILE NAME (it reaches every generated header and the manifest)
//! and a pre-existing output directory (owned files, foreign files, edited
//! files, directories and links where files go, a real or a garbage
//! manifest): render must either write exactly the tree and keep every file
//! it does not own, or refuse and leave the directory byte-identical. Each
//! iteration works in a fresh temp dir with a ~30-file tree.
#![no_main]

use std::collections::BTreeMap;
use std::path::Path;

use arbitrary::Arbitrary;
use coder_gen::output::{self, MANIFEST_PATH, OutputMeta, WriteOptions};
use coder_gen::tree::Tree;
use libfuzzer_sys::fuzz_target;

const SPEC: &str = "name: acme\nusers: 1800\ncloud: aws\nregion: us-east-1\naccess_url: https://coder.acme.com\n";
/// Another spec, so an earlier render leaves files the new one deletes.
const OLD_SPEC: &str = "name: acme\nusers: 2500\ncloud: aws\nregion: us-east-1\naccess_url: https://coder.acme.com\nprovisioners:\n  - namespace: prov-a\n  - namespace: prov-b\n";

#[derive(Arbitrary, Debug)]
enum At {
    /// A path the tree generates (index into its sorted paths).
    Generated(u8),
    /// A directory above a generated path.
    Parent(u8),
    /// Any relative path (sanitised to stay inside the output directory).
    Free(String),
}

#[derive(Arbitrary, Debug)]
enum Entry {
    File(At, Vec<u8>),
    Dir(At),
    /// A link to the victim file outside the output directory, or to `.`.
    Link(At, bool),
    Remove(At),
}

#[derive(Arbitrary, Debug)]
enum Start {
    Missing,
    Empty,
    /// An earlier render of the same spec, or of another one.
    Rendered { same_spec: bool },
    /// Garbage where the manifest goes.
    RawManifest(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    file_name: String,
    start: Start,
    entries: Vec<Entry>,
    force: bool,
}

fn meta(file: &str) -> OutputMeta {
    OutputMeta { generator_version: "0.0.0-fuzz".into(), spec_file: file.into(), spec_digest: "d".repeat(64), records: Default::default() }
}

fn resolve(at: &At, paths: &[&str]) -> Option<String> {
    match at {
        At::Generated(i) => Some(paths[*i as usize % paths.len()].to_string()),
        At::Parent(i) => paths[*i as usize % paths.len()].rsplit_once('/').map(|(d, _)| d.to_string()),
        At::Free(s) => {
            let s: String = s.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/')).take(60).collect();
            let ok = !s.is_empty() && s.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
            ok.then_some(s)
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Node {
    File(Vec<u8>),
    Dir,
    Link(std::path::PathBuf),
}

/// Everything under `dir`, links not followed.
fn snapshot(dir: &Path) -> BTreeMap<String, Node> {
    let mut m = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        let node = if e.path_is_symlink() {
            Node::Link(std::fs::read_link(e.path()).unwrap())
        } else if e.file_type().is_dir() {
            Node::Dir
        } else {
            Node::File(std::fs::read(e.path()).unwrap())
        };
        m.insert(rel, node);
    }
    m
}

/// Lines that are not comments: what a tool reading the file sees.
fn content(bytes: &[u8]) -> Vec<&str> {
    std::str::from_utf8(bytes).unwrap().lines().filter(|l| !l.starts_with('#')).collect()
}

fuzz_target!(|input: Input| {
    let Input { file_name, start, entries, force } = input;
    if file_name.len() > 200 {
        return;
    }
    // (The other targets check the pipeline itself; here one render is enough.)
    let tree = coder_gen::render_str(&file_name, SPEC).expect("the spec is valid whatever its file name");
    coder_gen_fuzz::check_tree(&tree);
    // The file name reaches only comments (and the prose of the Markdown
    // files, README.md and SIZING.md, which name the spec): every other line
    // is what the plain name renders, so no name injects content.
    static PLAIN: std::sync::OnceLock<Tree> = std::sync::OnceLock::new();
    let plain = PLAIN.get_or_init(|| coder_gen::render_str("spec.yaml", SPEC).unwrap());
    assert_eq!(tree.paths().collect::<Vec<_>>(), plain.paths().collect::<Vec<_>>());
    for (path, bytes) in tree.iter() {
        if !path.ends_with(".md") {
            assert_eq!(content(bytes), content(plain.get(path).unwrap()), "{path}: the file name {file_name:?} changed its content");
        }
    }

    // On tmpfs where there is one: render syncs every file, which would
    // make each iteration wait for a disk.
    let shm = Path::new("/dev/shm");
    let tmp = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.unwrap();
    let out = tmp.path().join("out");
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    match start {
        Start::Missing => {}
        Start::Empty => std::fs::create_dir(&out).unwrap(),
        Start::Rendered { same_spec } => {
            let old: Tree = if same_spec { tree.clone() } else { coder_gen::render_str(&file_name, OLD_SPEC).unwrap() };
            output::write_tree(&old, &out, &meta(&file_name), &WriteOptions::default()).unwrap();
        }
        Start::RawManifest(bytes) => {
            std::fs::create_dir_all(out.join(".coder-gen")).unwrap();
            std::fs::write(out.join(MANIFEST_PATH), bytes).unwrap();
        }
    }
    let paths: Vec<&str> = tree.paths().collect();
    for entry in entries.iter().take(8) {
        let (at, f): (&At, Box<dyn Fn(&Path)>) = match entry {
            Entry::File(at, bytes) => (at, Box::new(move |p: &Path| {
                let _ = std::fs::create_dir_all(p.parent().unwrap());
                let _ = std::fs::write(p, bytes);
            })),
            Entry::Dir(at) => (at, Box::new(|p: &Path| {
                let _ = std::fs::create_dir_all(p);
            })),
            Entry::Link(at, outside) => {
                let target = if *outside { victim.clone() } else { ".".into() };
                (at, Box::new(move |p: &Path| {
                    let _ = std::fs::create_dir_all(p.parent().unwrap());
                    let _ = std::os::unix::fs::symlink(&target, p);
                }))
            }
            Entry::Remove(at) => (at, Box::new(|p: &Path| {
                let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir_all(p));
            })),
        };
        if let Some(rel) = resolve(at, &paths) {
            // Never through a link made by an earlier entry: stay inside out/.
            let mut p = out.clone();
            let mut safe = true;
            for c in rel.split('/') {
                if p.is_symlink() {
                    safe = false;
                }
                p.push(c);
            }
            if safe && !p.parent().is_some_and(|d| d.is_symlink()) {
                f(&p);
            }
        }
    }

    let before = snapshot(tmp.path());
    let opts = WriteOptions { force, ..WriteOptions::default() };
    match output::write_tree(&tree, &out, &meta(&file_name), &opts) {
        Err(_) => {
            assert_eq!(snapshot(tmp.path()), before, "a refused render changed something");
        }
        Ok(_) => {
            assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
            for (path, bytes) in tree.iter() {
                let p = out.join(path);
                assert!(!p.is_symlink(), "{path}: a link where a file was written");
                assert_eq!(std::fs::read(&p).unwrap(), bytes, "{path}: not what the tree holds");
            }
            let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join(MANIFEST_PATH)).unwrap()).unwrap();
            let listed: Vec<&String> = manifest["files"].as_object().unwrap().keys().collect();
            assert_eq!(listed, paths, "the manifest lists exactly the tree");
            // Nothing but out/ and the victim beside it: no staging left.
            let top: Vec<String> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            assert_eq!(top.len(), 2, "{top:?}");
            // A file the earlier manifest did not own and the tree does not
            // generate is untouched.
            let owned: Vec<String> = match before.get(&format!("out/{MANIFEST_PATH}")) {
                Some(Node::File(b)) => serde_json::from_slice::<serde_json::Value>(b)
                    .ok()
                    .and_then(|m| m["files"].as_object().map(|f| f.keys().cloned().collect()))
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            for (rel, node) in &before {
                let Some(inner) = rel.strip_prefix("out/") else { continue };
                if matches!(node, Node::File(_)) && inner != MANIFEST_PATH && !paths.contains(&inner) && !owned.iter().any(|o| o == inner) {
                    assert_eq!(snapshot(tmp.path()).get(rel), Some(node), "{inner}: a file coder-gen does not own changed");
                }
            }
            assert!(output::compare(&tree, &out, &meta(&file_name)).unwrap().is_empty(), "drift right after a render");
        }
    }
});
