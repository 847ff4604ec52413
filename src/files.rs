//! Reading and writing the repo's files within bounds.

use std::io::{Read, Write};
use std::path::Path;

use crate::capabilities::FileWriter;

/// Reads `path` as UTF-8 if it is a regular file of at most `max_bytes`;
/// `Ok(None)` when it does not exist.
///
/// # Errors
///
/// The file is not a regular file (a FIFO or a device would block or never
/// end), is larger than `max_bytes`, is not UTF-8, or cannot be read.
pub fn read_bounded(path: &Path, max_bytes: u64) -> std::io::Result<Option<String>> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    if !metadata.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(max_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(std::io::Error::other(format!("it is larger than {max_bytes} bytes")));
    }
    String::from_utf8(bytes).map(Some).map_err(|_| std::io::Error::other("it is not UTF-8"))
}

/// Appends `line` and a newline to `path` and syncs it, as Spec Kitty
/// appends to `status.events.jsonl`.
pub fn append_line(files: &dyn FileWriter, path: &Path, line: &str) -> std::io::Result<()> {
    files.append(path, format!("{line}\n").as_bytes())
}

/// The [`FileWriter`] of `std::fs`: native builds and tests.
pub struct StdFiles;

impl FileWriter for StdFiles {
    fn create_new(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    }

    fn append(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    }
}
