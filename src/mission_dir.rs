//! Allocation of `kitty-specs/NNN-slug/`: the next number under a lock file,
//! then an exclusive create, so two concurrent starts never share a number.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::capabilities::Capabilities;
use crate::error::{ErrorKind, OriginError, Result};
use crate::slug;

/// The missions directory under the repo root.
pub const SPECS_DIR: &str = "kitty-specs";
/// The lock file that serialises numbering.
pub const LOCK_FILE: &str = ".mission-number.lock";
/// A lock older than this is left over from a crashed start and is broken.
pub const STALE_LOCK_MS: u64 = 30_000;
/// How long a start waits for the lock.
pub const LOCK_WAIT_MS: u64 = 15_000;
/// The pause between attempts to take the lock.
const LOCK_POLL_MS: u64 = 20;

/// A freshly created, still empty mission directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMission {
    /// Its path.
    pub dir: PathBuf,
    /// `NNN-slug`.
    pub slug: String,
    /// `NNN`.
    pub number: u64,
}

/// The held numbering lock; dropping it releases the lock.
struct NumberLock {
    path: PathBuf,
}

impl Drop for NumberLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl NumberLock {
    fn acquire(caps: Capabilities<'_>, specs: &Path) -> Result<Self> {
        let path = specs.join(LOCK_FILE);
        let give_up = caps.clock.monotonic_ms().saturating_add(LOCK_WAIT_MS);
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    // The lock's age is read back by others to break stale locks.
                    let _ = file.write_all(caps.clock.unix_ms().to_string().as_bytes());
                    return Ok(Self { path });
                }
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    let taken_at = std::fs::read_to_string(&path).ok().and_then(|s| s.trim().parse::<u64>().ok());
                    if taken_at.is_some_and(|t| caps.clock.unix_ms().saturating_sub(t) > STALE_LOCK_MS) {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if caps.clock.monotonic_ms() >= give_up {
                        return Err(OriginError::new(
                            ErrorKind::Io,
                            format!(
                                "Another mission start holds {} for more than {} s. If none is running, delete that file and retry.",
                                path.display(),
                                LOCK_WAIT_MS / 1000
                            ),
                        ));
                    }
                    caps.clock.sleep_ms(LOCK_POLL_MS);
                }
                Err(err) => return Err(OriginError::io("create", &path, &err)),
            }
        }
    }
}

/// Creates `repo_root/kitty-specs/NNN-slug/` for ticket `key` / `title`.
pub fn create_mission_dir(caps: Capabilities<'_>, repo_root: &Path, key: &str, title: &str) -> Result<NewMission> {
    let specs = repo_root.join(SPECS_DIR);
    std::fs::create_dir_all(&specs).map_err(|err| OriginError::io("create", &specs, &err))?;
    let _lock = NumberLock::acquire(caps, &specs)?;
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&specs).map_err(|err| OriginError::io("list", &specs, &err))? {
        let entry = entry.map_err(|err| OriginError::io("list", &specs, &err))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    let mut number = slug::next_number(names.iter().map(String::as_str));
    loop {
        let name = slug::mission_dir_name(number, key, title);
        let dir = specs.join(&name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(NewMission { dir, slug: name, number }),
            // Made by something that ignores the lock: take the next number.
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => number += 1,
            Err(err) => return Err(OriginError::io("create", &dir, &err)),
        }
    }
}
