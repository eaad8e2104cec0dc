//! The output directory's own errors: refusals (collisions, hand edits, an
//! unowned directory, links) and failures (I/O, recovery), each with a
//! stable code and a help line. [`crate::error::Error`] wraps them.

use std::path::{Path, PathBuf};

use super::manifest::MANIFEST_PATH;
use crate::diag::{escape, show_path};

/// Refusals and failures of the output directory (`crate::output`).
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot access {}: {source}", show_path(path))]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot create the staging directory {}: {source}", show_path(dir))]
    Staging { dir: PathBuf, source: std::io::Error },
    #[error("{} exists and is not a directory", show_path(dir))]
    NotADirectory { dir: PathBuf },
    #[error("{} is not empty and has no {MANIFEST_PATH}, so coder-gen cannot tell which files are its own", show_path(dir))]
    NotOwned { dir: PathBuf },
    #[error("{}", conflicts_message(dir, collisions, edited))]
    Conflicts { dir: PathBuf, collisions: Vec<String>, edited: Vec<String> },
    #[error("cannot use {}: {reason}", show_path(path))]
    BadManifest { path: PathBuf, reason: String },
    #[error("refusing to touch {}: {} {reason}", show_path(dir), escape(path))]
    Unsafe { dir: PathBuf, path: String, reason: &'static str },
    #[error("another coder-gen is writing {} (it holds {})", show_path(dir), show_path(staging))]
    Busy { dir: PathBuf, staging: PathBuf },
    #[error(
        "a render of {} is running or was interrupted ({} exists), so the directory may be half written",
        show_path(dir),
        show_path(staging)
    )]
    Interrupted { dir: PathBuf, staging: PathBuf },
    #[error("could not undo a failed render: {message}")]
    Recovery { staging: PathBuf, message: String },
    #[error("the tree contains {path}, which is reserved for coder-gen's manifest (this is a bug in coder-gen; please report it)")]
    Reserved { path: String },
    #[error("injected failure after {after} writes (CODER_GEN_TEST_FAIL_AFTER_WRITES, a test-only hook)")]
    Injected { after: u64 },
}

impl OutputError {
    /// A stable name for the kind (see [`crate::Error::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            OutputError::Io { .. } => "output-io",
            OutputError::Staging { .. } => "output-staging",
            OutputError::NotADirectory { .. } => "output-not-a-directory",
            OutputError::NotOwned { .. } => "output-not-owned",
            OutputError::Conflicts { .. } => "output-conflicts",
            OutputError::BadManifest { .. } => "output-bad-manifest",
            OutputError::Unsafe { .. } => "output-unsafe",
            OutputError::Busy { .. } => "output-busy",
            OutputError::Interrupted { .. } => "output-interrupted",
            OutputError::Recovery { .. } => "output-recovery",
            OutputError::Reserved { .. } => "output-reserved",
            OutputError::Injected { .. } => "output-injected",
        }
    }

    /// What to do about it.
    pub fn help(&self) -> Option<String> {
        Some(match self {
            OutputError::Io { .. } => "check the path and its permissions".into(),
            OutputError::Staging { .. } => "coder-gen writes into a directory beside the output directory and then moves the files in; it needs write access to the output directory's parent".into(),
            OutputError::NotADirectory { .. } => "choose another output directory with -o".into(),
            OutputError::NotOwned { .. } => "render into a new or empty directory, or pass --force to write anyway (files at generated paths are overwritten, every other file is kept)".into(),
            OutputError::Conflicts { .. } => "move the files away or your changes into the spec (or into a file coder-gen does not generate, such as a kustomize patch); `coder-gen diff` shows what would change; --force overwrites them".into(),
            OutputError::BadManifest { .. } => format!("restore it from version control (e.g. `git checkout -- {MANIFEST_PATH}`); coder-gen does not guess which files it owns"),
            OutputError::Unsafe { .. } => "replace it with a regular file or directory, or choose another output directory".into(),
            OutputError::Busy { .. } => "wait for it to finish; if none is running, delete that directory".into(),
            OutputError::Interrupted { .. } => "wait for it, or run `coder-gen render` with the same -o to roll the interrupted one back, then retry".into(),
            OutputError::Recovery { staging, .. } => format!("the previous versions of the files are under {}/old; move them back by hand, then delete that directory", show_path(staging)),
            OutputError::Reserved { .. } | OutputError::Injected { .. } => return None,
        })
    }
}

/// The words `render`, `check` and `diff` use for owned files edited by hand.
pub const EDITED_BY_HAND: &str = "these generated files were edited by hand (their sha256 differs from the manifest):";

fn conflicts_message(dir: &Path, collisions: &[String], edited: &[String]) -> String {
    let mut m = format!("cannot render into {} without --force:\n", show_path(dir));
    if !collisions.is_empty() {
        m.push_str("  these files are in the way of generated files, but coder-gen did not write them (they are not in its manifest):\n");
        for p in collisions {
            m.push_str(&format!("    {}\n", escape(p)));
        }
    }
    if !edited.is_empty() {
        m.push_str(&format!("  {EDITED_BY_HAND}\n"));
        for p in edited {
            m.push_str(&format!("    {}\n", escape(p)));
        }
    }
    m.pop();
    m
}
