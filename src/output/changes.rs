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
use super::manifest::{MANIFEST_PATH, Manifest};
use crate::digest::sha256_hex;

/// One path whose content would change: `old` is on disk (None: absent),
/// `new` is what render writes (None: render deletes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub old: Option<Vec<u8>>,
    pub new: Option<Vec<u8>>,
}

/// What is at a relative path, looked at without following links.
pub(crate) enum Disk {
    Absent,
    File {
        bytes: Vec<u8>,
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
pub(crate) fn probe(root: &Path, rel: &str) -> Result<Disk, OutputError> {
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
            let bytes = fs::read(&cur).map_err(|source| OutputError::Io { path: cur.clone(), source })?;
            return Ok(Disk::File { bytes, perms: md.permissions() });
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
    match probe(root, MANIFEST_PATH)? {
        Disk::Absent => Ok(None),
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
            ch.files = wanted.iter().map(|(p, b)| FileChange { path: p.clone(), old: None, new: Some(b.clone()) }).collect();
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
    // Owned files no longer generated: deleted.
    for (path, sha) in &owned {
        if wanted.contains_key(path) {
            continue;
        }
        match probe(root, path)? {
            Disk::File { bytes, .. } => {
                if *sha != sha256_hex(&bytes) {
                    ch.edited.push(path.clone());
                }
                changes.insert(path.clone(), FileChange { path: path.clone(), old: Some(bytes), new: None });
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
        let disk = match probe(root, path)? {
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
            Disk::File { bytes, perms } => {
                if &bytes == new {
                    // Identical content is never a conflict, owned or not.
                    if path != MANIFEST_PATH {
                        ch.unchanged += 1;
                    }
                    continue;
                }
                if path != MANIFEST_PATH {
                    match owned.get(path) {
                        Some(sha) if *sha != sha256_hex(&bytes) => ch.edited.push(path.clone()),
                        Some(_) => {}
                        None => ch.collisions.push(path.clone()),
                    }
                }
                ch.perms.insert(path.clone(), perms);
                changes.insert(path.clone(), FileChange { path: path.clone(), old: Some(bytes), new: Some(new.clone()) });
            }
            _ => {
                changes.insert(path.clone(), FileChange { path: path.clone(), old: None, new: Some(new.clone()) });
            }
        }
    }
    ch.edited.sort();
    // Sorted by path, the manifest last: reviewers read the files first.
    let manifest = changes.remove(MANIFEST_PATH);
    ch.files = changes.into_values().chain(manifest).collect();
    Ok(ch)
}

/// Directories to remove after `deleted` files are gone: ancestors of deleted
/// files that would be left empty (nothing else in them, nothing written into
/// them). A directory holding anything else, a user's file above all, stays.
pub(crate) fn dirs_to_prune(root: &Path, deleted: &BTreeSet<String>, written: &BTreeSet<String>) -> Result<Vec<String>, OutputError> {
    let mut candidates: BTreeSet<String> = BTreeSet::new();
    for path in deleted {
        let mut p = path.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            if parent != super::manifest::MANIFEST_DIR {
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
