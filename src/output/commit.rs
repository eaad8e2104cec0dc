//! Writing a set of changes so that a failure at any point leaves the
//! previous tree as it was.
//!
//! 1. Stage: every new file content goes into a staging directory beside the
//!    output directory (same parent, so the same filesystem and renames are
//!    atomic): `.<name>.coder-gen-tmp-<pid>/new/<path>`. Nothing in the output
//!    directory has changed yet.
//! 2. Journal: the list of operations is written to `journal.json` (synced).
//! 3. Commit: each operation is one rename or one mkdir/rmdir. Before a file
//!    is replaced or deleted, the old one is renamed into `old/<path>`.
//! 4. On any error, the journal is undone in reverse (old files renamed
//!    back, added files and created directories removed, pruned directories
//!    re-created), then the staging directory is removed.
//! 5. After a crash, the next `render` finds the staging directory (it is
//!    locked while its process lives) and undoes it the same way first.
//!
//! A new output directory is staged whole and renamed into place at once.
//! Files coder-gen does not own are never moved, copied or opened.

use std::fs::{self, File};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::OutputError;
use crate::fs::{Bounded, read_at_most};
use crate::tree::is_safe_relative;

const MARKER: &str = "coder-gen-staging";
const MARKER_TEXT: &str = "coder-gen staging directory: safe to delete when no coder-gen process is running\n";
const JOURNAL: &str = "journal.json";
const COMMITTED: &str = "committed";

/// One step of a commit. Paths are relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Op {
    /// Rename the staged `new/` into place as the (absent) output directory.
    CreateTarget,
    /// Move a stale owned file aside into `old/`.
    Delete { path: String },
    /// Remove a directory left empty.
    Rmdir { path: String },
    /// Create a directory for a new file.
    Mkdir { path: String },
    /// Move the old file (if `existed`) aside, then the staged one in.
    Write { path: String, existed: bool },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Journal {
    target: String,
    ops: Vec<Op>,
}

/// Counts filesystem mutations for the test-only failure hooks.
pub(crate) struct Steps {
    done: u64,
    fail_after: Option<u64>,
    crash_after: Option<u64>,
}

impl Steps {
    pub fn new(fail_after: Option<u64>) -> Steps {
        // Test-only hooks (see README, "Testing the output module"); never set in normal use.
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        Steps {
            done: 0,
            fail_after: fail_after.or_else(|| env("CODER_GEN_TEST_FAIL_AFTER_WRITES")),
            crash_after: env("CODER_GEN_TEST_CRASH_AFTER_WRITES"),
        }
    }

    /// Call before each write; fails (or, to simulate a crash, exits without
    /// any cleanup) once the configured number of writes has happened.
    fn tick(&mut self) -> Result<(), OutputError> {
        if self.crash_after == Some(self.done) {
            std::process::exit(99);
        }
        if self.fail_after == Some(self.done) {
            return Err(OutputError::Injected { after: self.done });
        }
        self.done += 1;
        Ok(())
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io { path: path.to_path_buf(), source }
}

/// `.<name>.coder-gen-tmp-` for an output directory named `name`.
pub(crate) fn staging_prefix(root: &Path) -> String {
    let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!(".{name}.coder-gen-tmp-")
}

/// A staging directory that may have changed the output directory and not
/// finished: its journal exists (the commit began) and it is not marked done.
pub(crate) fn unfinished(staging: &Path) -> bool {
    staging.join(JOURNAL).exists() && !staging.join(COMMITTED).exists()
}

/// Staging directories of earlier runs beside `root`, only those carrying our
/// marker file (anything else with a similar name is left alone).
pub(crate) fn leftovers(root: &Path) -> Result<Vec<PathBuf>, OutputError> {
    let Some(parent) = root.parent() else { return Ok(Vec::new()) };
    let prefix = staging_prefix(root);
    let entries = match fs::read_dir(parent) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(OutputError::Io { path: parent.to_path_buf(), source }),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(parent))?;
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let path = entry.path();
        let is_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        let marked = fs::symlink_metadata(path.join(MARKER)).is_ok_and(|m| m.is_file())
            && fs::read_to_string(path.join(MARKER)).is_ok_and(|t| t == MARKER_TEXT);
        if is_dir && marked {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Undo or finish every interrupted run beside `root`. Returns one note per
/// staging directory handled. A directory still locked by a live process is
/// an error: two renders must not write the same directory at once.
pub(crate) fn recover(root: &Path) -> Result<Vec<String>, OutputError> {
    let mut notes = Vec::new();
    for staging in leftovers(root)? {
        let marker = File::open(staging.join(MARKER)).map_err(io(&staging))?;
        match marker.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(OutputError::Busy { dir: root.to_path_buf(), staging }),
            Err(fs::TryLockError::Error(source)) => return Err(OutputError::Io { path: staging, source }),
        }
        let journal = staging.join(JOURNAL);
        if staging.join(COMMITTED).exists() {
            notes.push(format!("removed {} (a finished render's leftovers)", staging.display()));
        } else if journal.exists() {
            let text = match read_at_most(&journal, super::MAX_MANIFEST_BYTES).map_err(io(&journal))? {
                Bounded::Whole(b) => b,
                Bounded::TooLarge(n) => {
                    return Err(OutputError::Recovery {
                        staging,
                        message: format!("its journal is {n} bytes, more than coder-gen ever writes"),
                    });
                }
            };
            let j: Journal = serde_json::from_slice(&text)
                .map_err(|e| OutputError::Recovery { staging: staging.clone(), message: format!("its journal cannot be read ({e})") })?;
            let expected = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if j.target != expected || !j.ops.iter().all(op_is_safe) {
                return Err(OutputError::Recovery { staging, message: "its journal names unexpected paths".into() });
            }
            rollback(root, &staging, &j.ops)?;
            notes.push(format!("rolled back an interrupted render of {} (from {})", root.display(), staging.display()));
        } else {
            notes.push(format!("removed {} (an interrupted render that had not changed anything)", staging.display()));
        }
        drop(marker);
        fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    Ok(notes)
}

fn op_is_safe(op: &Op) -> bool {
    match op {
        Op::CreateTarget => true,
        Op::Delete { path } | Op::Rmdir { path } | Op::Mkdir { path } | Op::Write { path, .. } => is_safe_relative(path),
    }
}

/// A staging directory of this process, locked while it lives.
struct Staging {
    dir: PathBuf,
    _lock: File,
}

impl Staging {
    fn create(root: &Path) -> Result<Staging, OutputError> {
        let parent = root.parent().ok_or_else(|| OutputError::NotADirectory { dir: root.to_path_buf() })?;
        let dir = parent.join(format!("{}{}", staging_prefix(root), std::process::id()));
        fs::create_dir(&dir).map_err(|source| OutputError::Staging { dir: dir.clone(), source })?;
        let marker = dir.join(MARKER);
        let write_marker = || -> std::io::Result<File> {
            // Lock before the text makes it recognisable, so no other run
            // ever sees it marked and unlocked while this one lives.
            let mut f = File::create(&marker)?;
            f.lock()?;
            f.write_all(MARKER_TEXT.as_bytes())?;
            Ok(f)
        };
        match write_marker() {
            Ok(lock) => Ok(Staging { dir, _lock: lock }),
            Err(source) => {
                let _ = fs::remove_dir_all(&dir);
                Err(OutputError::Staging { dir, source })
            }
        }
    }

    fn new_path(&self, rel: &str) -> PathBuf {
        self.dir.join("new").join(rel)
    }

    fn old_path(&self, rel: &str) -> PathBuf {
        self.dir.join("old").join(rel)
    }

    fn remove(self) -> Result<(), OutputError> {
        let Staging { dir, _lock } = self;
        drop(_lock);
        fs::remove_dir_all(&dir).map_err(io(&dir))
    }
}

fn write_synced(path: &Path, bytes: &[u8], perms: Option<&fs::Permissions>) -> Result<(), OutputError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mut f = File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    if let Some(p) = perms {
        f.set_permissions(p.clone()).map_err(io(path))?;
    }
    f.sync_all().map_err(io(path))
}

/// What to write: path -> (bytes, permissions to keep).
pub(crate) type Staged<'a> = Vec<(&'a str, &'a [u8], Option<&'a fs::Permissions>)>;

/// Apply `ops` to `root`, with `files` the contents of every `Write` (or, for
/// `CreateTarget`, of the whole new directory).
pub(crate) fn apply(root: &Path, files: &Staged<'_>, ops: Vec<Op>, steps: &mut Steps) -> Result<(), OutputError> {
    let staging = Staging::create(root)?;
    // Until the journal exists, only the staging directory has been written.
    if let Err(e) = stage(root, &staging, files, &ops, steps) {
        staging.remove()?;
        return Err(e);
    }
    match commit(root, &staging, &ops, steps) {
        Ok(()) => {
            // Past this marker a crash leaves only garbage to delete, no work
            // to undo. The tree is complete, so failing to clean up is not an
            // error: the next render removes the directory.
            let _ = File::create(staging.dir.join(COMMITTED)).and_then(|f| f.sync_all());
            let _ = staging.remove();
            Ok(())
        }
        Err(e) => {
            rollback(root, &staging.dir, &ops)?;
            staging.remove()?;
            Err(e)
        }
    }
}

fn stage(root: &Path, staging: &Staging, files: &Staged<'_>, ops: &[Op], steps: &mut Steps) -> Result<(), OutputError> {
    fs::create_dir(staging.dir.join("new")).map_err(io(&staging.dir))?;
    for (rel, bytes, perms) in files {
        steps.tick()?;
        write_synced(&staging.new_path(rel), bytes, *perms)?;
    }
    let journal = Journal { target: root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), ops: ops.to_vec() };
    let path = staging.dir.join(JOURNAL);
    let text = serde_json::to_vec_pretty(&journal).map_err(|e| OutputError::Io { path: path.clone(), source: e.into() })?;
    write_synced(&path, &text, None)
}

fn commit(root: &Path, staging: &Staging, ops: &[Op], steps: &mut Steps) -> Result<(), OutputError> {
    for op in ops {
        steps.tick()?;
        match op {
            Op::CreateTarget => {
                let new = staging.dir.join("new");
                fs::rename(&new, root).map_err(io(root))?;
            }
            Op::Delete { path } => move_aside(root, staging, path)?,
            Op::Rmdir { path } => {
                let p = root.join(path);
                fs::remove_dir(&p).map_err(io(&p))?;
            }
            Op::Mkdir { path } => {
                let p = root.join(path);
                fs::create_dir(&p).map_err(io(&p))?;
            }
            Op::Write { path, existed } => {
                if *existed {
                    move_aside(root, staging, path)?;
                    // A second step, so tests can stop between the two renames.
                    steps.tick()?;
                }
                let p = root.join(path);
                fs::rename(staging.new_path(path), &p).map_err(io(&p))?;
            }
        }
    }
    Ok(())
}

fn move_aside(root: &Path, staging: &Staging, rel: &str) -> Result<(), OutputError> {
    let old = staging.old_path(rel);
    if let Some(parent) = old.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let p = root.join(rel);
    fs::rename(&p, &old).map_err(io(&p))
}

fn exists(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok()
}

/// Undo `ops` in reverse. Each step looks at what is on disk, so it is right
/// whether the op ran, half ran (old moved aside, new not yet in) or not.
fn rollback(root: &Path, staging: &Path, ops: &[Op]) -> Result<(), OutputError> {
    let mut failed = Vec::new();
    let mut attempt = |what: &str, r: std::io::Result<()>| {
        if let Err(e) = r
            && e.kind() != ErrorKind::NotFound
        {
            failed.push(format!("{what}: {e}"));
        }
    };
    for op in ops.iter().rev() {
        match op {
            Op::CreateTarget => {} // the directory did not exist: nothing to restore
            Op::Write { path, existed } => {
                // Only a file that existed was moved aside (`old/<path>` may
                // otherwise be the directory of a deleted `<path>/...`).
                let old = staging.join("old").join(path);
                if *existed && exists(&old) {
                    attempt(path, fs::rename(&old, root.join(path)));
                } else if !existed && !exists(&staging.join("new").join(path)) {
                    // Our new file went in where there was none: take it out.
                    attempt(path, fs::remove_file(root.join(path)));
                }
            }
            Op::Delete { path } => {
                let old = staging.join("old").join(path);
                if exists(&old) {
                    attempt(path, fs::rename(&old, root.join(path)));
                }
            }
            Op::Mkdir { path } => {
                let p = root.join(path);
                if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                    // Fails (and is reported) if anything else appeared in it.
                    attempt(path, fs::remove_dir(&p));
                }
            }
            Op::Rmdir { path } => {
                let p = root.join(path);
                if !exists(&p) {
                    attempt(path, fs::create_dir(&p));
                }
            }
        }
    }
    if failed.is_empty() { Ok(()) } else { Err(OutputError::Recovery { staging: staging.to_path_buf(), message: failed.join("; ") }) }
}
