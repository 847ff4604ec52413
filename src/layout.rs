//! Which Spec Kitty layout the repo has. kitty-origin writes the layout of
//! Spec Kitty 3.2 (project schema 3); `.kittify/metadata.yaml` says which
//! schema a repo was set up with. Like Spec Kitty's own gate, a repo on an
//! older schema must run `spec-kitty upgrade` first, and a newer one needs a
//! newer kitty-origin. A repo without the file (never `spec-kitty init`-ed)
//! gets the current layout.

use std::path::Path;

use crate::error::{ErrorKind, OriginError, Result};

/// The project metadata file, relative to the repo root.
pub const METADATA_PATH: &str = ".kittify/metadata.yaml";
/// The project schema this kitty-origin writes (Spec Kitty 3.2).
pub const SCHEMA_VERSION: u64 = 3;
/// The most bytes of `metadata.yaml` read: Spec Kitty's own is under 1 KiB.
const MAX_METADATA_BYTES: u64 = 256 * 1024;

/// Checks that the repo at `repo_root` has the layout kitty-origin writes.
///
/// # Errors
///
/// `unsupported-project-layout` for an older or newer schema, or a metadata
/// file that cannot be read; nothing has been sent or written then.
pub fn check(repo_root: &Path) -> Result<()> {
    let path = repo_root.join(METADATA_PATH);
    let text = match crate::files::read_bounded(&path, MAX_METADATA_BYTES) {
        Ok(Some(text)) => text,
        Ok(None) => return Ok(()),
        Err(err) => {
            return Err(unsupported(format!(
                "{} cannot be read ({err}). Repair it, or run `spec-kitty upgrade` in the repo, then retry.",
                path.display()
            )));
        }
    };
    let schema =
        crate::yaml::load(&text).ok().and_then(|doc| doc["spec_kitty"]["schema_version"].as_i64()).and_then(|v| u64::try_from(v).ok());
    match schema {
        Some(SCHEMA_VERSION) => Ok(()),
        Some(newer) if newer > SCHEMA_VERSION => Err(unsupported(format!(
            "This repo uses Spec Kitty project schema {newer}, newer than the schema {SCHEMA_VERSION} (Spec Kitty 3.2) kitty-origin writes. \
             Upgrade kitty-origin, then retry. Nothing was sent."
        ))),
        older => Err(unsupported(format!(
            "This repo was set up by an older Spec Kitty ({}: schema_version {}, kitty-origin writes schema {SCHEMA_VERSION}). \
             Run `spec-kitty upgrade` in the repo, then retry. Nothing was sent.",
            path.display(),
            older.map_or("missing".to_string(), |v| v.to_string()),
        ))),
    }
}

fn unsupported(message: String) -> OriginError {
    OriginError::new(ErrorKind::UnsupportedProjectLayout, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::write;

    #[test]
    fn schema_3_and_no_metadata_pass_older_and_newer_do_not() {
        let repo = tempfile::tempdir().unwrap();
        assert!(check(repo.path()).is_ok());
        write(repo.path(), METADATA_PATH, "# Spec Kitty Project Metadata\nspec_kitty:\n  schema_version: 3\n  version: 3.2.7\n");
        assert!(check(repo.path()).is_ok());
        for (text, says) in [
            ("spec_kitty:\n  version: 2.0.0\n", "spec-kitty upgrade"),
            ("spec_kitty:\n  schema_version: 2\n", "schema_version 2"),
            ("spec_kitty:\n  schema_version: 4\n", "Upgrade kitty-origin"),
            (": not yaml: [", "spec-kitty upgrade"),
        ] {
            write(repo.path(), METADATA_PATH, text);
            let err = check(repo.path()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnsupportedProjectLayout, "{text}");
            assert!(err.message().contains(says), "{text}: {}", err.message());
        }
    }
}
