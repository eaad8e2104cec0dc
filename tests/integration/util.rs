//! Shared test helpers.

#![allow(dead_code)] // each test module uses a different subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The built `coder-gen` binary, with colour off so output is stable.
pub fn coder_gen() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_coder-gen"));
    cmd.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
    cmd
}

/// Every example spec, sorted by name.
pub fn examples() -> Vec<PathBuf> {
    // overlays/overlays.yaml is the example of user overrides (issue #14).
    let mut v = yaml_files(&repo_root().join("examples"));
    v.push(repo_root().join("overlays/overlays.yaml"));
    v
}

/// The `*.yaml` files directly in `dir`, sorted by name.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "yaml")).collect();
    v.sort();
    v
}

/// All files under `dir`, as relative path -> bytes (sorted).
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            out.insert(rel, std::fs::read(entry.path()).unwrap());
        }
    }
    out
}

/// A spec file in a fresh temp dir.
pub fn spec_in(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub const MINIMAL: &str = "name: acme\nusers: 1800\ncloud: aws\nregion: us-east-1\naccess_url: https://coder.acme.com\n";
