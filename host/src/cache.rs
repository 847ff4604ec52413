//! The compiled component, cached on disk so later starts deserialize it
//! (about 2 ms) instead of compiling it (hundreds of ms).
//!
//! A cache file is named by two stable hashes: the SHA-256 of the component's
//! bytes and the SHA-256 of wasmtime's own compatibility hash of the engine
//! (its version and settings). A different build or a different wasmtime
//! therefore never reads another's file.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::Error;

/// Whether the compiled component came from the on-disk cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Deserialized from the cache.
    Hit,
    /// Compiled now (and stored when a cache directory was given).
    Compiled,
}

/// A `Hasher` that feeds SHA-256, so wasmtime's `impl Hash` compatibility
/// value gives the same digest in every Rust release (unlike `DefaultHasher`).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache file name of `wasm` compiled by `engine`.
pub fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    let mut compat = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut compat);
    format!("{}-{}.cwasm", hex(&Sha256::digest(wasm)[..16]), hex(&compat.0.finalize()[..8]))
}

/// Loads the component at `path`: from `cache_dir` when a compiled copy for
/// this engine is there, else from the copy a build precompiled beside the
/// component ([`precompile`]), else compiled now and stored in `cache_dir`.
///
/// # Errors
///
/// The component cannot be read or compiled. A cache that cannot be read or
/// written only costs a compile.
pub fn load_component(engine: &Engine, path: &Path, cache_dir: Option<&Path>) -> Result<(Component, CacheOutcome), Error> {
    let wasm = std::fs::read(path).map_err(|e| {
        Error::Component(format!(
            "cannot read the component {} ({e}). Build it with `make build`, or point KITTY_ORIGIN_COMPONENT at it.",
            path.display()
        ))
    })?;
    let key = cache_key(engine, &wasm);
    let cached = cache_dir.map(|dir| dir.join(&key));
    let bundled = path.parent().map(|dir| dir.join(&key));
    for file in cached.iter().chain(bundled.iter()).filter(|f| f.is_file()) {
        // SAFETY: the file was written by `Component::serialize` of this
        // engine configuration (into the host's private state directory, or
        // beside the component by the build that made it), and its name
        // carries the content and compatibility hashes it was made from.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, file) } {
            return Ok((component, CacheOutcome::Hit));
        }
    }
    let component = Component::new(engine, &wasm).map_err(Error::component("compile the component"))?;
    if let Some(file) = cached {
        let _ = store_compiled(&component, &file);
    }
    Ok((component, CacheOutcome::Compiled))
}

/// Compiles the component at `path` for `engine` and stores the compiled
/// form beside it, where [`load_component`] finds it: a build runs this so
/// that a user's first command does not compile. Returns the file written.
///
/// # Errors
///
/// The component cannot be read or compiled, or the file cannot be written.
pub fn precompile(engine: &Engine, path: &Path) -> Result<PathBuf, Error> {
    let wasm = std::fs::read(path).map_err(|e| Error::Component(format!("cannot read the component {} ({e})", path.display())))?;
    let component = Component::new(engine, &wasm).map_err(Error::component("compile the component"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let file = dir.join(cache_key(engine, &wasm));
    store_compiled(&component, &file).map_err(|e| Error::Component(format!("cannot write {} ({e})", file.display())))?;
    // Earlier builds' compiled copies can never match again: remove them.
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.len() == 32 + 1 + 16 + 6 && name.ends_with(".cwasm") && name.as_bytes()[32] == b'-';
        if ours && entry.path() != file {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(file)
}

/// Writes the compiled form under a unique temporary name, then renames it
/// into place: a reader sees the whole file or none, even with two writers.
fn store_compiled(component: &Component, file: &Path) -> std::io::Result<()> {
    let bytes = component.serialize().map_err(std::io::Error::other)?;
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temp: PathBuf = dir.join(format!(".{}-{}.tmp", std::process::id(), ulid::Ulid::new()));
    let written = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, file));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_stable_and_changes_with_the_component() {
        let engine = Engine::default();
        let key = cache_key(&engine, b"component");
        assert_eq!(key, cache_key(&engine, b"component"));
        assert_ne!(key, cache_key(&engine, b"another component"));
        assert!(key.starts_with(&hex(&Sha256::digest(b"component")[..16])), "{key}");
        assert!(key.ends_with(".cwasm") && key.len() == 32 + 1 + 16 + 6, "{key}");
    }
}
