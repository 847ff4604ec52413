//! `<target>`, the cargo target directory, wherever `CARGO_TARGET_DIR` put it:
//! where `make build` leaves the component, the tools and the venvs the tests use.

use std::path::{Path, PathBuf};

/// `<target>`: a test binary's `CARGO_TARGET_TMPDIR` is `<target>/<host triple>/tmp`
/// (`.cargo/config.toml` names the host as every native build's target).
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).ancestors().nth(2).expect("CARGO_TARGET_TMPDIR is <target>/<host triple>/tmp").to_path_buf()
}
