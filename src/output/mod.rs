//! Tree <-> disk. The only module that writes files, and it knows nothing
//! about what they mean: it sees paths and bytes.
//!
//! - [`write_tree`]: make a directory hold exactly the tree, plus the user's
//!   own files, atomically (see `commit.rs`).
//! - [`compare`]: what `write_tree` would change, for `diff` and `check`.
//!
//! Ownership: a file is coder-gen's only if `.coder-gen/manifest.json` lists
//! it. Owned files no longer generated are deleted (and directories they
//! leave empty); every other file is never deleted or overwritten (with
//! `force`, one at a generated path is), and is read only if it stands at a
//! generated path.

mod changes;
mod commit;
mod diff;
mod error;
mod manifest;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use changes::{FileChange, MAX_COMPARE_BYTES, MAX_KEPT_BYTES};
pub use diff::unified_diff;
pub use error::{EDITED_BY_HAND, OutputError};
pub use manifest::{FORMAT_VERSION, MANIFEST_DIR, MANIFEST_PATH, MAX_MANIFEST_BYTES, Manifest, OutputMeta, is_own};

use crate::tree::Tree;
use changes::Changes;
use commit::{Op, Steps};

/// Options of [`write_tree`].
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Write into a non-empty directory without a manifest, overwrite files
    /// at generated paths that the manifest does not list, and overwrite or
    /// delete owned files edited by hand. Other files are still kept.
    pub force: bool,
    /// Test-only: fail after this many filesystem writes (also read from
    /// `CODER_GEN_TEST_FAIL_AFTER_WRITES`).
    #[doc(hidden)]
    pub fail_after_writes: Option<u64>,
}

/// What [`write_tree`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub deleted: Vec<String>,
    pub unchanged: usize,
    /// The manifest or another record in `.coder-gen/` was rewritten (alone,
    /// when only the version, the spec digest or the recorded plan changed).
    pub manifest_changed: bool,
    /// Files overwritten or deleted only because of `force`.
    pub forced: Vec<String>,
    /// Interrupted earlier runs that were rolled back or cleaned up.
    pub notes: Vec<String>,
}

impl WriteReport {
    pub fn is_noop(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.deleted.is_empty() && !self.manifest_changed
    }
}

/// Every file the directory should hold: the tree plus its manifest.
fn wanted(tree: &Tree, meta: &OutputMeta) -> Result<BTreeMap<String, Vec<u8>>, OutputError> {
    if let Some(p) = tree.paths().find(|p| *p == manifest::MANIFEST_DIR || p.starts_with(".coder-gen/")) {
        return Err(OutputError::Reserved { path: p.to_string() });
    }
    let mut files: BTreeMap<String, Vec<u8>> = tree.iter().map(|(p, b)| (p.to_string(), b.to_vec())).collect();
    for (name, bytes) in &meta.records {
        if !manifest::is_record_name(name) {
            return Err(OutputError::Reserved { path: format!("{}/{name}", manifest::MANIFEST_DIR) });
        }
        files.insert(format!("{}/{name}", manifest::MANIFEST_DIR), bytes.clone());
    }
    files.insert(MANIFEST_PATH.to_string(), Manifest::for_tree(tree, meta).to_bytes());
    Ok(files)
}

/// A record of the output directory (`.coder-gen/<name>`), read bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// No such file, or no such directory.
    Absent,
    /// Above the limit: its size; not read.
    TooLarge(u64),
    Bytes(Vec<u8>),
}

/// Read the record `name` of `dir` (`.coder-gen/<name>`), at most `limit`
/// bytes, never through a link. What it means is the caller's business.
pub fn read_record(dir: &Path, name: &str, limit: u64) -> Result<Record, OutputError> {
    if !manifest::is_record_name(name) {
        return Err(OutputError::Reserved { path: format!("{}/{name}", manifest::MANIFEST_DIR) });
    }
    let root = resolve(dir, false)?;
    if std::fs::symlink_metadata(&root).is_err() {
        return Ok(Record::Absent);
    }
    let path = format!("{}/{name}", manifest::MANIFEST_DIR);
    match changes::probe(&root, &path, limit)? {
        changes::Disk::File { too_large: Some(n), .. } => Ok(Record::TooLarge(n)),
        changes::Disk::File { bytes, .. } => Ok(Record::Bytes(bytes)),
        changes::Disk::Absent => Ok(Record::Absent),
        changes::Disk::BlockedBy(p) => {
            Err(OutputError::Unsafe { dir: root, path: p, reason: "is a file where coder-gen keeps its manifest directory" })
        }
        changes::Disk::Dir => Err(OutputError::Unsafe { dir: root, path, reason: "is a directory" }),
    }
}

/// The absolute output directory: canonical if it exists (so `.` and a link
/// to a directory work, and the staging directory lands beside the real one),
/// else its canonical parent joined with its name.
fn resolve(dir: &Path, create_parent: bool) -> Result<PathBuf, OutputError> {
    resolve_creating(dir, create_parent, &mut Vec::new())
}

/// [`resolve`], recording in `created` the parent directories it made.
fn resolve_creating(dir: &Path, create_parent: bool, created: &mut Vec<PathBuf>) -> Result<PathBuf, OutputError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OutputError::Io { path, source }
    };
    if std::fs::symlink_metadata(dir).is_ok() {
        return std::fs::canonicalize(dir).map_err(io(dir));
    }
    let name = dir.file_name().ok_or_else(|| OutputError::NotADirectory { dir: dir.to_path_buf() })?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if create_parent {
        let missing: Vec<PathBuf> =
            parent.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).map(Path::to_path_buf).collect();
        for p in missing.into_iter().rev() {
            std::fs::create_dir(&p).map_err(io(&p))?;
            created.push(p);
        }
    } else if !parent.exists() {
        return std::path::absolute(dir).map_err(io(dir));
    }
    Ok(std::fs::canonicalize(&parent).map_err(io(&parent))?.join(name))
}

/// What `write_tree(tree, dir, meta, force)` would change, as file diffs
/// (sorted by path; the manifest included). Read-only. Hand-edited owned
/// files are changes like any other; a directory that render would refuse
/// (foreign files in the way, no manifest) is an error.
pub fn compare(tree: &Tree, dir: &Path, meta: &OutputMeta) -> Result<Vec<FileChange>, OutputError> {
    let root = resolve(dir, false)?;
    if let Some(staging) = commit::leftovers(&root)?.into_iter().find(|s| commit::unfinished(s)) {
        return Err(OutputError::Interrupted { dir: dir.to_path_buf(), staging });
    }
    let ch = changes::compare(&root, &wanted(tree, meta)?)?;
    if ch.unowned_nonempty {
        return Err(OutputError::NotOwned { dir: dir.to_path_buf() });
    }
    if !ch.collisions.is_empty() {
        return Err(OutputError::Conflicts { dir: dir.to_path_buf(), collisions: ch.collisions, edited: Vec::new() });
    }
    Ok(ch.files)
}

/// Make `dir` hold exactly `tree` and its manifest, keeping every file
/// coder-gen does not own. All or nothing: on any error the directory is as
/// it was. Unchanged files are not rewritten.
pub fn write_tree(tree: &Tree, dir: &Path, meta: &OutputMeta, opts: &WriteOptions) -> Result<WriteReport, OutputError> {
    let mut created = Vec::new();
    let result = resolve_creating(dir, true, &mut created).and_then(|root| write_resolved(tree, dir, &root, meta, opts));
    if result.is_err() {
        // Parents made for a new output directory go too (only if still empty).
        for p in created.iter().rev() {
            let _ = std::fs::remove_dir(p);
        }
    }
    result
}

fn write_resolved(tree: &Tree, dir: &Path, root: &Path, meta: &OutputMeta, opts: &WriteOptions) -> Result<WriteReport, OutputError> {
    let root = root.to_path_buf();
    let mut report = WriteReport { notes: commit::recover(&root)?, ..WriteReport::default() };
    let ch: Changes = changes::compare(&root, &wanted(tree, meta)?)?;
    if ch.unowned_nonempty && !opts.force {
        return Err(OutputError::NotOwned { dir: dir.to_path_buf() });
    }
    if (!ch.collisions.is_empty() || !ch.edited.is_empty()) && !opts.force {
        return Err(OutputError::Conflicts { dir: dir.to_path_buf(), collisions: ch.collisions, edited: ch.edited });
    }
    report.unchanged = ch.unchanged;
    report.forced = ch.collisions.iter().chain(&ch.edited).cloned().collect();
    report.forced.sort();
    for c in &ch.files {
        let list = match (&c.old, &c.new) {
            (None, _) => &mut report.added,
            (Some(_), Some(_)) => &mut report.changed,
            (Some(_), None) => &mut report.deleted,
        };
        if is_own(&c.path) {
            report.manifest_changed = true;
        } else {
            list.push(c.path.clone());
        }
    }
    if ch.is_up_to_date() {
        return Ok(report);
    }

    let writes: Vec<&FileChange> = ch.files.iter().filter(|c| c.new.is_some()).collect();
    let staged: commit::Staged<'_> =
        writes.iter().filter_map(|c| c.new.as_deref().map(|b| (c.path.as_str(), b, ch.perms.get(&c.path)))).collect();
    let mut steps = Steps::new(opts.fail_after_writes);
    if !ch.root_exists {
        commit::apply(&root, &staged, vec![Op::CreateTarget], &mut steps)?;
        return Ok(report);
    }

    // Order: deletions, pruning, new directories, files, and the manifest
    // last, so that a crash before the end never records files not written.
    let deleted: BTreeSet<String> = ch.files.iter().filter(|c| c.old.is_some() && c.new.is_none()).map(|c| c.path.clone()).collect();
    let written: BTreeSet<String> = writes.iter().map(|c| c.path.clone()).collect();
    let mut ops: Vec<Op> = deleted.iter().map(|p| Op::Delete { path: p.clone() }).collect();
    let pruned = changes::dirs_to_prune(&root, &deleted, &written)?;
    ops.extend(pruned.iter().map(|p| Op::Rmdir { path: p.clone() }));
    let mut mkdirs = BTreeSet::new();
    for path in &written {
        let mut p = path.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            // Missing now, or a stale file being deleted to make room.
            let full = root.join(parent);
            if !std::fs::symlink_metadata(&full).is_ok_and(|m| m.is_dir()) {
                mkdirs.insert(parent.to_string());
            }
            p = parent;
        }
    }
    // BTreeSet order puts every parent before its children.
    ops.extend(mkdirs.into_iter().map(|p| Op::Mkdir { path: p }));
    let mut manifest_op = None;
    for c in &writes {
        let op = Op::Write { path: c.path.clone(), existed: c.old.is_some() };
        if c.path == MANIFEST_PATH {
            manifest_op = Some(op);
        } else {
            ops.push(op);
        }
    }
    ops.extend(manifest_op);
    commit::apply(&root, &staged, ops, &mut steps)?;
    Ok(report)
}
