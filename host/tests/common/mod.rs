//! Helpers of the host library tests: the built component and a binding.
#![allow(dead_code)]

use std::path::PathBuf;

/// The token the dev control plane accepts in tests.
pub const TOKEN: &str = "test-token";
/// The linear / acme-web binding of the built-in fixtures.
pub const LINEAR: &str = "tracker:\n  provider: linear\n  project_slug: acme-web\n";

#[path = "../../../tests/common/target_dir.rs"]
mod target_dir;
pub use target_dir::target_dir;

/// The component `make build` produces, in this build's target directory.
pub fn wasm_path() -> PathBuf {
    let wasm = target_dir().join("wasm32-wasip2/guest/spec_kitty_origin.wasm");
    assert!(wasm.is_file(), "{} is missing: run `make build` first", wasm.display());
    wasm
}
