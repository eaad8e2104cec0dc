//! Tree <-> disk. The only module that writes files.

use std::path::{Path, PathBuf};

use crate::tree::Tree;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// Write every file of `tree` under `dir`.
pub fn write_tree(tree: &Tree, dir: &Path) -> Result<(), OutputError> {
    for (rel, bytes) in tree.iter() {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| OutputError::Io { path: parent.to_path_buf(), source })?;
        }
        std::fs::write(&path, bytes).map_err(|source| OutputError::Io { path, source })?;
    }
    Ok(())
}
