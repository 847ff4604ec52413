//! The repo-root policy, decided here and nowhere else: which directory a
//! call may touch. The host preopens it; the guest reads it back from its
//! preopens and never guesses.

use std::path::{Path, PathBuf};

use spec_kitty_origin::config::{CONFIG_PATH, NO_TRACKER_BOUND};
use spec_kitty_origin::mission_dir::SPECS_DIR;
use spec_kitty_origin::model::OriginError;

use crate::error::Error;

/// The repo a search or start in `repo_root` may touch: the directory
/// itself, which must hold `.kittify/config.yaml`. Nothing else is ever
/// preopened, so a call cannot reach a parent or a sibling.
///
/// # Errors
///
/// `no-tracker-binding` (Scenario 6) when the directory has no tracker
/// configuration; `io` when it is not a directory.
pub fn granted_repo(repo_root: &Path) -> Result<PathBuf, Error> {
    let root = canonical_dir(repo_root)?;
    require_config(&root)?;
    Ok(root)
}

/// The repo and canonical path of the mission at `feature_dir`: missions
/// live in `<repo>/kitty-specs/<mission>`, where `<repo>` holds
/// `.kittify/config.yaml`, and a mission reached through a symlink must not
/// lead out of the repo the path names.
///
/// # Errors
///
/// `invalid-metadata` when the directory is not a mission of a repo, or a
/// symlink leads it into another repo; `no-tracker-binding` when its repo
/// has no tracker configuration.
pub fn repo_root_for_mission(feature_dir: &Path) -> Result<(PathBuf, PathBuf), Error> {
    let mission = canonical_dir(feature_dir)?;
    let not_a_mission = || {
        Error::Origin(OriginError::InvalidMetadata(format!(
            "{} is not a mission directory: missions live in <repo>/{SPECS_DIR}/<mission>. Pass one of those.",
            feature_dir.display()
        )))
    };
    let specs = mission.parent().filter(|p| p.file_name().is_some_and(|n| n == SPECS_DIR)).ok_or_else(not_a_mission)?;
    let root = specs.parent().ok_or_else(not_a_mission)?.to_path_buf();
    require_config(&root)?;
    let absolute = std::path::absolute(feature_dir).unwrap_or_else(|_| feature_dir.to_path_buf());
    let named_repo = absolute.ancestors().skip(1).find(|dir| dir.join(CONFIG_PATH).is_file()).and_then(|dir| dir.canonicalize().ok());
    if named_repo.is_some_and(|named| named != root) {
        return Err(Error::Origin(OriginError::InvalidMetadata(format!(
            "{} leads through a symlink into another repo ({}). Bind missions of this repo only.",
            feature_dir.display(),
            root.display()
        ))));
    }
    Ok((root, mission))
}

/// `root` must hold a regular `.kittify/config.yaml`.
fn require_config(root: &Path) -> Result<(), Error> {
    let config = root.join(CONFIG_PATH);
    match std::fs::metadata(&config) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(Error::Origin(OriginError::InvalidTrackerConfig(format!(
            "{} is not a regular file. Replace it with the tracker configuration (spec-kitty tracker bind).",
            config.display()
        )))),
        Err(_) => Err(Error::Origin(OriginError::NoTrackerBinding(NO_TRACKER_BOUND.to_string()))),
    }
}

/// Refuses a state directory inside the granted repo: the guest could then
/// read the credentials file and the outbox.
///
/// # Errors
///
/// `io` saying to move `KITTY_ORIGIN_HOME` out of the repo.
pub fn require_state_outside(state_dir: &Path, root: &Path) -> Result<(), Error> {
    let absolute = std::path::absolute(state_dir).unwrap_or_else(|_| state_dir.to_path_buf());
    let resolved = absolute.canonicalize().unwrap_or(absolute);
    if resolved.starts_with(root) {
        return Err(Error::Origin(OriginError::Io(format!(
            "The kitty-origin state directory {} lies inside the repo {}, where the component could read the credentials and the outbox. \
             Set KITTY_ORIGIN_HOME to a directory outside the repo.",
            resolved.display(),
            root.display()
        ))));
    }
    Ok(())
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
    fn a_mission_is_in_its_repos_kitty_specs_and_symlinks_may_not_leave_it() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for repo in [a.path(), b.path()] {
            std::fs::create_dir_all(repo.join(".kittify")).unwrap();
            std::fs::write(repo.join(CONFIG_PATH), "tracker: null\n").unwrap();
            std::fs::create_dir_all(repo.join("kitty-specs/m")).unwrap();
        }
        let (root, mission) = repo_root_for_mission(&a.path().join("kitty-specs/m")).unwrap();
        assert_eq!((root.clone(), mission), (a.path().canonicalize().unwrap(), root.join("kitty-specs/m")));
        std::os::unix::fs::symlink(b.path().join("kitty-specs/m"), a.path().join("kitty-specs/elsewhere")).unwrap();
        let err = repo_root_for_mission(&a.path().join("kitty-specs/elsewhere")).unwrap_err();
        assert!(err.message().contains("symlink into another repo"), "{err}");
        for not_a_mission in [a.path().to_path_buf(), a.path().join("kitty-specs"), a.path().join(".kittify")] {
            assert_eq!(repo_root_for_mission(&not_a_mission).unwrap_err().code(), "invalid_metadata", "{}", not_a_mission.display());
        }
        let bare = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(bare.path().join("kitty-specs/m")).unwrap();
        assert_eq!(repo_root_for_mission(&bare.path().join("kitty-specs/m")).unwrap_err().code(), "no_tracker_binding");
        assert_eq!(granted_repo(bare.path()).unwrap_err().code(), "no_tracker_binding");
        assert_eq!(granted_repo(a.path()).unwrap(), a.path().canonicalize().unwrap());
        assert_eq!(require_state_outside(&a.path().join(".state"), &a.path().canonicalize().unwrap()).unwrap_err().code(), "io");
        assert!(require_state_outside(b.path(), &a.path().canonicalize().unwrap()).is_ok());
    }
}
