//! `<target>`, the cargo target directory, wherever `CARGO_TARGET_DIR` put it:
//! where `make build` leaves the component, the tools and the venvs the tests use.

use std::path::{Path, PathBuf};

/// `<target>`: `$KITTY_ORIGIN_TARGET_DIR` (the Makefile exports it), else
/// derived from the test binary's `CARGO_TARGET_TMPDIR`, which is
/// `<target>/<host triple>/tmp` (`.cargo/config.toml` names the host as every
/// native build's target).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KITTY_ORIGIN_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir);
    }
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.ancestors().nth(2).expect("CARGO_TARGET_TMPDIR is <target>/<host triple>/tmp");
    assert!(
        dir.join("CACHEDIR.TAG").is_file() && tmp.parent().is_some_and(|triple| triple.join("CACHEDIR.TAG").is_file()),
        "{} is not <target>/<host triple>/tmp: set KITTY_ORIGIN_TARGET_DIR to the target directory (make test does)",
        tmp.display()
    );
    dir.to_path_buf()
}
