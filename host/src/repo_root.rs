//! The repo-root policy, decided here and nowhere else: which directory a
//! call may touch. The host preopens it; the guest reads it back from its
//! preopens and never guesses.

use std::path::{Path, PathBuf};

use spec_kitty_origin::config::CONFIG_PATH;
use spec_kitty_origin::model::OriginError;

use crate::error::Error;

/// The repo a mission directory belongs to: the nearest ancestor of
/// `feature_dir` that holds `.kittify/config.yaml`, else the directory two
/// levels up (`<repo>/kitty-specs/<mission>`).
pub fn repo_root_for_mission(feature_dir: &Path) -> PathBuf {
    feature_dir
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(CONFIG_PATH).is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| feature_dir.ancestors().nth(2).unwrap_or(feature_dir).to_path_buf())
}

/// `path`, absolute and with links resolved, which must be a directory.
///
/// # Errors
///
/// `io` when it does not exist or is not a directory.
pub fn canonical_dir(path: &Path) -> Result<PathBuf, Error> {
    let canonical = path
        .canonicalize()
        .map_err(|e| Error::Origin(OriginError::Io(format!("{} cannot be opened ({e}). Pass an existing directory.", path.display()))))?;
    if canonical.is_dir() {
        Ok(canonical)
    } else {
        Err(Error::Origin(OriginError::Io(format!("{} is not a directory. Pass the repo or mission directory.", path.display()))))
    }
}

/// `path` as the guest sees it (the same absolute path, as UTF-8).
///
/// # Errors
///
/// `io` when the path is not UTF-8: WIT strings are.
pub fn guest_path(path: &Path) -> Result<&str, Error> {
    path.to_str()
        .ok_or_else(|| Error::Origin(OriginError::Io(format!("{} is not valid UTF-8; move the repo to a UTF-8 path.", path.display()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repo_is_the_nearest_ancestor_with_a_tracker_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        std::fs::write(dir.path().join(CONFIG_PATH), "tracker: null\n").unwrap();
        let mission = dir.path().join("kitty-specs/001-x");
        assert_eq!(repo_root_for_mission(&mission), dir.path());
        assert_eq!(repo_root_for_mission(Path::new("/a/kitty-specs/001-x")), Path::new("/a"));
    }
}
