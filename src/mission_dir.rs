//! The mission directory: `kitty-specs/<slug>-<mid8>`, as Spec Kitty 3.2
//! names it (`mid8` is the first 8 characters of the mission's ULID). There
//! is no number to allocate and no lock: the directory is created with an
//! exclusive `create_dir`, so two starts never write into the same one, and a
//! crash leaves nothing that blocks a later start.

use std::path::{Path, PathBuf};

use crate::capabilities::Capabilities;
use crate::error::{ErrorKind, OriginError, Result};
use crate::slug;

/// The missions directory under the repo root.
pub const SPECS_DIR: &str = "kitty-specs";
/// How many mission ids a start tries before giving up on a name collision.
const CREATE_ATTEMPTS: u32 = 3;
/// The span of time one `mid8` covers: the ULID's first 8 characters are its
/// top 40 timestamp bits, so they change every 2^10 ms.
const MID8_WINDOW_MS: u64 = 1024;

/// A freshly created, still empty mission directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMission {
    /// Its path.
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

/// Creates `repo_root/kitty-specs/<slug>-<mid8>` for the ticket `key` /
/// `title`, with a new mission id.
///
/// Two starts of the same ticket within one `mid8` window would pick the same
/// name; the second then waits for the next window and mints a new id.
///
/// # Errors
///
/// `io` when the directory cannot be created.
pub fn create_mission_dir(caps: Capabilities<'_>, repo_root: &Path, key: &str, title: &str) -> Result<NewMission> {
    let specs = repo_root.join(SPECS_DIR);
    std::fs::create_dir_all(&specs).map_err(|err| OriginError::io("create", &specs, &err))?;
    let base = slug::derive_slug(key, title, slug::MAX_SLUG_LEN);
    for _ in 0..CREATE_ATTEMPTS {
        let mission_id = caps.new_ulid();
        let name = dir_name(&base, &mission_id);
        let dir = specs.join(&name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(NewMission { dir, slug: name, mission_id }),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                caps.clock.sleep_ms(MID8_WINDOW_MS - caps.clock.unix_ms() % MID8_WINDOW_MS);
            }
            Err(err) => return Err(OriginError::io("create", &dir, &err)),
        }
    }
    Err(OriginError::new(
        ErrorKind::Io,
        format!("Could not pick a free mission directory name under {} for {key}; retry in a moment.", specs.display()),
    ))
}
