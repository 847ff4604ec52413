//! The mission directory: `kitty-specs/<slug>-<mid8>`, as Spec Kitty 3.2
//! names it (`mid8` is the first 8 characters of the mission's ULID). There
//! is no number to allocate and no lock: the scaffold is written in a staging
//! directory of its own and published with one rename, which fails if the
//! name is taken, so two starts never write into the same directory, and a
//! crash leaves nothing in `kitty-specs/` and nothing that blocks a later start.

use std::path::{Path, PathBuf};

use crate::capabilities::Capabilities;
use crate::error::{ErrorKind, OriginError, Result};
use crate::{journal, slug};

/// The missions directory under the repo root.
pub const SPECS_DIR: &str = "kitty-specs";
/// How many mission ids a start tries before giving up on a name collision.
pub const CREATE_ATTEMPTS: u32 = 3;
/// The span of time one `mid8` covers: the ULID's first 8 characters are its
/// top 40 timestamp bits, so they change every 2^10 ms.
const MID8_WINDOW_MS: u64 = 1024;

/// A mission being written: its name and id, and the staging directory its
/// scaffold is written into before it is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedMission {
    /// Where the scaffold is written (under `.kittify/origin/staging/`).
    pub staging: PathBuf,
    /// Its final directory, `kitty-specs/<name>`.
    pub dir: PathBuf,
    /// Its name, which is also its `mission_slug`.
    pub slug: String,
    /// The mission's ULID.
    pub mission_id: String,
}

/// The first 8 characters of a mission id.
pub fn mid8(mission_id: &str) -> &str {
    mission_id.get(..8).unwrap_or(mission_id)
}

/// The directory name of a mission with slug `base` and id `mission_id`.
pub fn dir_name(base: &str, mission_id: &str) -> String {
    format!("{}-{}", slug::strip_numeric_prefix(base), mid8(mission_id))
}

/// Waits for the next `mid8` window, so a new id gives a new name.
pub fn wait_for_next_name(caps: Capabilities<'_>) {
    caps.clock.sleep_ms(MID8_WINDOW_MS - caps.clock.unix_ms() % MID8_WINDOW_MS);
}

/// Picks a name for the ticket `key` / `title` (with a new mission id) that
/// `kitty-specs/` does not hold yet, and an empty staging directory for it.
///
/// # Errors
///
/// `io` when the folders cannot be created, or no free name was found.
pub fn stage(caps: Capabilities<'_>, repo_root: &Path, key: &str, title: &str) -> Result<StagedMission> {
    let specs = repo_root.join(SPECS_DIR);
    std::fs::create_dir_all(&specs).map_err(|err| OriginError::io("create", &specs, &err))?;
    let base = slug::derive_slug(key, title, slug::MAX_SLUG_LEN);
    for _ in 0..CREATE_ATTEMPTS {
        let mission_id = caps.new_ulid();
        let name = dir_name(&base, &mission_id);
        if specs.join(&name).exists() {
            wait_for_next_name(caps);
            continue;
        }
        let staging = journal::staging_dir(caps, repo_root, &name)?;
        return Ok(StagedMission { staging, dir: specs.join(&name), slug: name, mission_id });
    }
    Err(no_free_name(&specs, key))
}

/// Why publishing a staged mission failed.
#[derive(Debug)]
pub enum PublishError {
    /// Another start took the name meanwhile: stage again with a new id.
    NameTaken,
    /// The rename failed otherwise.
    Io(OriginError),
}

/// Moves the complete scaffold into `kitty-specs/` with one rename, so the
/// mission appears whole or not at all. A rename onto an existing (never
/// empty) mission fails, so two starts never share a directory.
///
/// # Errors
///
/// [`PublishError::NameTaken`] when the name is taken; `io` otherwise.
pub fn publish(mission: &StagedMission) -> std::result::Result<(), PublishError> {
    match std::fs::rename(&mission.staging, &mission.dir) {
        Ok(()) => Ok(()),
        Err(_) if mission.dir.exists() => Err(PublishError::NameTaken),
        Err(err) => Err(PublishError::Io(OriginError::io("publish the mission to", &mission.dir, &err))),
    }
}

/// The error after every attempt at a name failed.
pub fn no_free_name(specs: &Path, key: &str) -> OriginError {
    OriginError::new(
        ErrorKind::Io,
        format!("Could not pick a free mission directory name under {} for {key}; retry in a moment.", specs.display()),
    )
}
