//! Compare the wanted files with the disk, read-only: what to add, change
//! and delete, and what would make a write unsafe (foreign files in the way,
//! owned files edited by hand, links). Only paths coder-gen generates or owns
//! are looked at, plus the listing of directories that may be pruned; the
//! rest of the directory (a `.git`, a user's patches) is never read or walked.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use super::OutputError;
use super::manifest::{MANIFEST_DIR, MANIFEST_PATH, MAX_MANIFEST_BYTES, Manifest, is_own};
use crate::digest::sha256_hex;
use crate::fs::{Bounded, read_at_most};

/// A file on disk above this is not read: it is reported as changed (and, if
/// coder-gen owns it, as edited by hand) without a text diff. coder-gen never
/// writes a file this large, so such a file cannot be one it wrote as it was.
pub const MAX_COMPARE_BYTES: u64 = 1024 * 1024;
/// The most file content one comparison keeps for the diff; past it, changed
/// files are reported without their old text, so memory stays bounded
/// however many owned files the manifest lists.
pub const MAX_KEPT_BYTES: u64 = 16 * 1024 * 1024;

/// One path whose content would change: `old` is on disk (None: absent),
/// `new` is what render writes (None: render deletes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    /// Empty when `old_not_shown` is set.
    pub old: Option<Vec<u8>>,
    pub new: Option<Vec<u8>>,
    /// The size on disk of an old file whose text is not kept: above
    /// [`MAX_COMPARE_BYTES`], or past [`MAX_KEPT_BYTES`] in all.
    pub old_not_shown: Option<u64>,
    /// coder-gen owns the file and it was edited by hand (its sha256 differs
    /// from the manifest's): `render` refuses to touch it without --force.
    pub edited: bool,
}

/// What is at a relative path, looked at without following links.
pub(crate) enum Disk {
    Absent,
    File {
        /// Empty if the file is above `limit`.
        bytes: Vec<u8>,
        /// The file is above the limit `probe` was given (its size).
        too_large: Option<u64>,
        perms: fs::Permissions,
    },
    /// An ancestor (named) is a regular file, so the path cannot exist.
    BlockedBy(String),
    /// A real directory (not a link).
    Dir,
}

/// The comparison of the wanted files with `root`.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub root_exists: bool,
    /// The directory exists, is not empty and has no manifest.
    pub unowned_nonempty: bool,
    /// Every path whose content differs, sorted by path.
    pub files: Vec<FileChange>,
    /// Permissions of files that are replaced, so a user's chmod survives.
    pub perms: BTreeMap<String, fs::Permissions>,
    /// Generated paths taken by files the manifest does not list.
    pub collisions: Vec<String>,
    /// Owned files whose hash differs from the manifest's.
    pub edited: Vec<String>,
    pub unchanged: usize,
}

impl Changes {
    pub fn is_up_to_date(&self) -> bool {
        self.root_exists && self.files.is_empty()
    }
}

/// Look at `rel` under `root`. A link anywhere on the way is an error: coder-gen
/// never reads, writes or deletes through a link, so a link cannot point it
/// outside the output directory.
pub(crate) fn probe(root: &Path, rel: &str, limit: u64) -> Result<Disk, OutputError> {
    let segs: Vec<&str> = rel.split('/').collect();
    let mut cur = root.to_path_buf();
    for (i, seg) in segs.iter().enumerate() {
        cur.push(seg);
        let md = match fs::symlink_metadata(&cur) {
            Ok(md) => md,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Disk::Absent),
            Err(source) => return Err(OutputError::Io { path: cur, source }),
        };
        let shown = segs[..=i].join("/");
        let ft = md.file_type();
        if ft.is_symlink() {
            return Err(OutputError::Unsafe {
                dir: root.to_path_buf(),
                path: shown,
                reason: "is a symbolic link; coder-gen does not follow links in its output directory",
            });
        }
        let last = i + 1 == segs.len();
        if !last {
            if ft.is_file() {
                return Ok(Disk::BlockedBy(shown));
            }
            if !ft.is_dir() {
                return Err(OutputError::Unsafe { dir: root.to_path_buf(), path: shown, reason: "is not a directory or a regular file" });
            }
        } else if ft.is_file() {
            let read = read_at_most(&cur, limit).map_err(|source| OutputError::Io { path: cur.clone(), source })?;
            let (bytes, too_large) = match read {
                Bounded::Whole(b) => (b, None),
                Bounded::TooLarge(n) => (Vec::new(), Some(n)),
            };
            return Ok(Disk::File { bytes, too_large, perms: md.permissions() });
        } else if ft.is_dir() {
            return Ok(Disk::Dir);
        } else {
            return Err(OutputError::Unsafe { dir: root.to_path_buf(), path: shown, reason: "is not a regular file" });
        }
    }
    Ok(Disk::Absent)
}

/// Read and validate the manifest in `root`, if there is one.
pub(crate) fn read_manifest(root: &Path) -> Result<Option<Manifest>, OutputError> {
    match probe(root, MANIFEST_PATH, MAX_MANIFEST_BYTES)? {
        Disk::Absent => Ok(None),
        Disk::File { too_large: Some(n), .. } => Err(OutputError::BadManifest {
            path: root.join(MANIFEST_PATH),
            reason: format!("it is {n} bytes; a manifest is at most {MAX_MANIFEST_BYTES} bytes (1 MiB)"),
        }),
        Disk::BlockedBy(p) => {
            Err(OutputError::Unsafe { dir: root.to_path_buf(), path: p, reason: "is a file where coder-gen keeps its manifest directory" })
        }
        Disk::File { bytes, .. } => {
            Manifest::parse(&bytes).map(Some).map_err(|reason| OutputError::BadManifest { path: root.join(MANIFEST_PATH), reason })
        }
        Disk::Dir => Err(OutputError::Unsafe { dir: root.to_path_buf(), path: MANIFEST_PATH.into(), reason: "is a directory" }),
    }
}

/// Compare `wanted` (every generated file plus the manifest) with `root`.
pub(crate) fn compare(root: &Path, wanted: &BTreeMap<String, Vec<u8>>) -> Result<Changes, OutputError> {
    let mut ch = Changes::default();
    match fs::symlink_metadata(root) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            // Nothing there yet: everything is added.
            ch.files = wanted
                .iter()
                .map(|(p, b)| FileChange { path: p.clone(), old: None, new: Some(b.clone()), old_not_shown: None, edited: false })
                .collect();
            return Ok(ch);
        }
        Err(source) => return Err(OutputError::Io { path: root.to_path_buf(), source }),
        Ok(md) if !md.is_dir() => return Err(OutputError::NotADirectory { dir: root.to_path_buf() }),
        Ok(_) => ch.root_exists = true,
    }
    let previous = read_manifest(root)?;
    let owned: BTreeMap<String, String> = previous.map(|m| m.files).unwrap_or_else(|| {
        let nonempty = fs::read_dir(root).map(|mut d| d.next().is_some());
        ch.unowned_nonempty = nonempty.unwrap_or(true);
        BTreeMap::new()
    });
    let mut changes: BTreeMap<String, FileChange> = BTreeMap::new();
    let mut kept = 0u64;
    // Owned files no longer generated: deleted.
    for (path, sha) in &owned {
        if wanted.contains_key(path) {
            continue;
        }
        match probe(root, path, MAX_COMPARE_BYTES)? {
            Disk::File { bytes, too_large, .. } => {
                let edited = too_large.is_some() || *sha != sha256_hex(&bytes);
                if edited {
                    ch.edited.push(path.clone());
                }
                let (old, old_not_shown) = keep(&mut kept, bytes, too_large);
                changes.insert(path.clone(), FileChange { path: path.clone(), old: Some(old), new: None, old_not_shown, edited });
            }
            Disk::Dir => {
                return Err(OutputError::Unsafe {
                    dir: root.to_path_buf(),
                    path: path.clone(),
                    reason: "is listed in the manifest as a file but is a directory",
                });
            }
            Disk::Absent | Disk::BlockedBy(_) => {}
        }
    }
    // Directories those deletions empty, so a generated file may take the place of one.
    let deleted: BTreeSet<String> = changes.keys().cloned().collect();
    let pruned: BTreeSet<String> = dirs_to_prune(root, &deleted, &wanted.keys().cloned().collect())?.into_iter().collect();
    for (path, new) in wanted {
        let disk = match probe(root, path, MAX_COMPARE_BYTES)? {
            // A stale owned file where the new tree needs a directory: it is
            // deleted first, so the path is free.
            Disk::BlockedBy(a) if owned.contains_key(&a) && !wanted.contains_key(&a) => Disk::Absent,
            Disk::BlockedBy(a) => {
                return Err(OutputError::Unsafe {
                    dir: root.to_path_buf(),
                    path: a,
                    reason: "is a file where coder-gen needs a directory",
                });
            }
            Disk::Dir if pruned.contains(path) => Disk::Absent,
            Disk::Dir => {
                return Err(OutputError::Unsafe {
                    dir: root.to_path_buf(),
                    path: path.clone(),
                    reason: "is a directory where coder-gen writes a file",
                });
            }
            d => d,
        };
        match disk {
            Disk::File { bytes, too_large, perms } => {
                if too_large.is_none() && &bytes == new {
                    // Identical content is never a conflict, owned or not.
                    if !is_own(path) {
                        ch.unchanged += 1;
                    }
                    continue;
                }
                let mut edited = false;
                // coder-gen's own records are its own to rewrite, like the manifest.
                if !is_own(path) {
                    match owned.get(path) {
                        Some(sha) if too_large.is_some() || *sha != sha256_hex(&bytes) => {
                            edited = true;
                            ch.edited.push(path.clone());
                        }
                        Some(_) => {}
                        None => ch.collisions.push(path.clone()),
                    }
                }
                ch.perms.insert(path.clone(), perms);
                let (old, old_not_shown) = keep(&mut kept, bytes, too_large);
                changes
                    .insert(path.clone(), FileChange { path: path.clone(), old: Some(old), new: Some(new.clone()), old_not_shown, edited });
            }
            _ => {
                changes.insert(
                    path.clone(),
                    FileChange { path: path.clone(), old: None, new: Some(new.clone()), old_not_shown: None, edited: false },
                );
            }
        }
    }
    ch.edited.sort();
    // Sorted by path, coder-gen's records after the files and the manifest
    // last: reviewers read the files first.
    let manifest = changes.remove(MANIFEST_PATH);
    let (own, files): (Vec<FileChange>, Vec<FileChange>) = changes.into_values().partition(|c| is_own(&c.path));
    ch.files = files.into_iter().chain(own).chain(manifest).collect();
    Ok(ch)
}

/// The old text of a changed file, if the budget for kept text allows it;
/// else nothing, and its size.
fn keep(kept: &mut u64, bytes: Vec<u8>, too_large: Option<u64>) -> (Vec<u8>, Option<u64>) {
    if let Some(n) = too_large {
        return (Vec::new(), Some(n));
    }
    let n = bytes.len() as u64;
    if *kept + n > MAX_KEPT_BYTES {
        return (Vec::new(), Some(n));
    }
    *kept += n;
    (bytes, None)
}

/// Directories to remove after `deleted` files are gone: ancestors of deleted
/// files that would be left empty (nothing else in them, nothing written into
/// them). A directory holding anything else, a user's file above all, stays.
pub(crate) fn dirs_to_prune(root: &Path, deleted: &BTreeSet<String>, written: &BTreeSet<String>) -> Result<Vec<String>, OutputError> {
    let mut candidates: BTreeSet<String> = BTreeSet::new();
    for path in deleted {
        let mut p = path.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            if parent != MANIFEST_DIR {
                candidates.insert(parent.to_string());
            }
            p = parent;
        }
    }
    let mut gone: BTreeSet<String> = deleted.clone();
    let mut out = Vec::new();
    // Deepest first, so a parent sees its emptied children as gone.
    let mut ordered: Vec<String> = candidates.into_iter().collect();
    ordered.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
    for dir in ordered {
        let prefix = format!("{dir}/");
        if written.iter().any(|w| w.starts_with(&prefix)) {
            continue;
        }
        let full = root.join(&dir);
        let entries = match fs::read_dir(&full) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(source) => return Err(OutputError::Io { path: full, source }),
        };
        let mut empty = true;
        for entry in entries {
            let entry = entry.map_err(|source| OutputError::Io { path: full.clone(), source })?;
            let name = entry.file_name();
            let rel = format!("{prefix}{}", name.to_string_lossy());
            if !gone.contains(&rel) {
                empty = false;
                break;
            }
        }
        if empty {
            gone.insert(dir.clone());
            out.push(dir);
        }
    }
    Ok(out)
}
