//! Helpers of the host library tests: the built component and a binding.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The token the dev control plane accepts in tests.
pub const TOKEN: &str = "test-token";
/// The linear / acme-web binding of the built-in fixtures.
pub const LINEAR: &str = "tracker:\n  provider: linear\n  project_slug: acme-web\n";

/// The component `make build` produces, wherever the target directory is
/// (`CARGO_TARGET_DIR` included): the test binary's `CARGO_TARGET_TMPDIR` is `<target>/tmp`.
pub fn wasm_path() -> PathBuf {
    let wasm = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../wasm32-wasip2/guest/spec_kitty_origin.wasm");
    assert!(wasm.is_file(), "{} is missing: run `make build` first", wasm.display());
    wasm
}
