//! The origin-binding component's link unit. The guest crate's exports
//! (`spec-kitty:origin/service`) and the WIT it was built against come with
//! it; on wasm32 the linker stops at the core module (see `build.rs`), which
//! `make build` shrinks with `wasm-opt` and wraps with `wasm-tools component new`.

pub use spec_kitty_origin;
