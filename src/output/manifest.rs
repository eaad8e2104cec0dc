//! `.coder-gen/manifest.json`: which files coder-gen owns in an output
//! directory, and the hash each had when it was written. The manifest is the
//! only authority on ownership: a file not listed in it is the user's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::diag::quote;
use crate::digest::sha256_hex;
use crate::tree::{Tree, is_safe_relative};

/// Where the manifest lives, relative to the output directory.
pub const MANIFEST_PATH: &str = ".coder-gen/manifest.json";
/// The directory that holds the manifest; coder-gen never lists files in it.
pub const MANIFEST_DIR: &str = ".coder-gen";
/// A manifest above this is refused unread (one line per generated file;
/// a real one is a few KiB).
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;
/// Bumped on any breaking change to the document (announced in CHANGELOG).
pub const FORMAT_VERSION: u32 = 1;

/// What the output module needs to know about the run, beyond the Tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputMeta {
    /// coder-gen's version (`CARGO_PKG_VERSION`).
    pub generator_version: String,
    /// The spec's file name, as the headers name it.
    pub spec_file: String,
    /// sha256 of the spec text.
    pub spec_digest: String,
    /// Files the tree records about itself, written beside the manifest as
    /// `.coder-gen/<name>` (e.g. the plan): bytes coder-gen owns like the
    /// manifest, compared like every file, never listed in the manifest.
    pub records: BTreeMap<String, Vec<u8>>,
}

/// Is `path` one of coder-gen's own files in `.coder-gen/` (the manifest
/// or a record), never a file of the tree.
pub fn is_own(path: &str) -> bool {
    path.starts_with(".coder-gen/")
}

/// A record's name: one plain file name, not the manifest's.
pub fn is_record_name(name: &str) -> bool {
    !name.is_empty()
        && name != "manifest.json"
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        && !name.starts_with('.')
}

/// The manifest document. Fields are declared in alphabetical order so the
/// JSON keys come out sorted; `files` is a sorted map path -> sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub files: BTreeMap<String, String>,
    pub format_version: u32,
    pub generator: String,
    pub generator_version: String,
    pub spec_digest: String,
    pub spec_file: String,
}

impl Manifest {
    /// The manifest for `tree`. It does not list itself.
    pub fn for_tree(tree: &Tree, meta: &OutputMeta) -> Manifest {
        Manifest {
            files: tree.iter().map(|(p, b)| (p.to_string(), sha256_hex(b))).collect(),
            format_version: FORMAT_VERSION,
            generator: "coder-gen".into(),
            generator_version: meta.generator_version.clone(),
            spec_digest: meta.spec_digest.clone(),
            spec_file: meta.spec_file.clone(),
        }
    }

    /// Stable bytes: 2-space pretty JSON, sorted keys, one trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        // A struct of strings and a BTreeMap always serializes.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s.into_bytes()
    }

    /// Parse and validate a manifest read from disk. Every path must be a
    /// safe relative path outside `.coder-gen/`, so that a damaged or hostile
    /// manifest can never make coder-gen touch `../x` or `/etc/x`.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| format!("not a coder-gen manifest: {e}"))?;
        if m.format_version != FORMAT_VERSION {
            return Err(format!(
                "format_version {} is not supported (this coder-gen reads {FORMAT_VERSION}); was it written by a newer coder-gen?",
                m.format_version
            ));
        }
        if m.generator != "coder-gen" {
            return Err(format!("generator is {}, not `coder-gen`", quote(&m.generator)));
        }
        let mut bad = Vec::new();
        for (path, sha) in &m.files {
            if !is_safe_relative(path) || path == MANIFEST_DIR || path.starts_with(".coder-gen/") {
                bad.push(format!("unsafe path {}", quote(path)));
            } else if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                bad.push(format!("{}: sha256 {} is not 64 lower-case hex digits", quote(path), quote(sha)));
            }
        }
        if !bad.is_empty() {
            // A hostile manifest may hold thousands: name a few.
            let n = bad.len();
            bad.truncate(5);
            let more = if n > 5 { format!("; and {} more", n - 5) } else { String::new() };
            return Err(format!("{}{more}", bad.join("; ")));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> OutputMeta {
        OutputMeta { generator_version: "9.9.9".into(), spec_file: "s.yaml".into(), spec_digest: "d".into(), records: BTreeMap::new() }
    }

    #[test]
    fn bytes_are_sorted_pretty_and_round_trip() {
        let mut t = Tree::new();
        t.insert("b.yaml", "b");
        t.insert("a/x.yaml", "a");
        let m = Manifest::for_tree(&t, &meta());
        let text = String::from_utf8(m.to_bytes()).unwrap();
        assert!(text.starts_with("{\n  \"files\": {\n    \"a/x.yaml\": \""), "{text}");
        assert!(text.ends_with("}\n") && !text.ends_with("\n\n"));
        let keys: Vec<usize> =
            ["\"files\"", "\"format_version\"", "\"generator\"", "\"generator_version\"", "\"spec_digest\"", "\"spec_file\""]
                .iter()
                .map(|k| text.find(k).unwrap())
                .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "keys not sorted: {text}");
        assert_eq!(Manifest::parse(text.as_bytes()).unwrap(), m);
    }

    #[test]
    fn hostile_or_broken_manifests_are_rejected() {
        let ok = Manifest::for_tree(&Tree::new(), &meta());
        let sha = "0".repeat(64);
        for path in ["../x", "/etc/passwd", "a/../../b", ".coder-gen/manifest.json", "a\\b", ""] {
            let mut m = ok.clone();
            m.files.insert(path.into(), sha.clone());
            assert!(Manifest::parse(&m.to_bytes()).is_err(), "{path}");
        }
        let mut m = ok.clone();
        m.files.insert("a".into(), "zz".into());
        assert!(Manifest::parse(&m.to_bytes()).is_err());
        let mut m = ok.clone();
        m.format_version = 2;
        assert!(Manifest::parse(&m.to_bytes()).unwrap_err().contains("newer"));
        assert!(Manifest::parse(b"{").is_err());
        assert!(Manifest::parse(b"{\"files\":{},\"extra\":1}").is_err());
    }
}
