//! Bounded reads of the user's files (the spec, override files, the output
//! directory's manifest and files): memory and time are bounded whatever
//! the file is. The ground floor: it imports nothing of the crate.

use std::io::Read;
use std::path::Path;

/// A file read with a size limit.
pub enum Bounded {
    /// The whole file (at most the limit).
    Whole(Vec<u8>),
    /// The file holds more than the limit; this much was seen (at least
    /// limit + 1 bytes, or its size on disk if that is larger).
    TooLarge(u64),
}

/// Read at most `limit` bytes of the regular file `path`: memory and time
/// are bounded whatever the file is (a sparse 1 TiB file is refused after
/// limit + 1 bytes). The caller has checked it is a regular file.
pub fn read_at_most(path: &Path, limit: u64) -> std::io::Result<Bounded> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Ok(Bounded::TooLarge(size));
    }
    // The file may grow after the stat: read limit + 1 bytes at most.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(Bounded::TooLarge(bytes.len() as u64));
    }
    Ok(Bounded::Whole(bytes))
}

/// What a non-regular file is, for messages.
pub fn file_kind(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() { "a directory" } else { "not a regular file" }
}
