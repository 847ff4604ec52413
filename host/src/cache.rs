//! The compiled component, cached on disk so later starts deserialize it
//! (under a millisecond) instead of compiling it.
//!
//! Two tiers ([`Tier`]): a build precompiles the component beside it with
//! the optimizing engine ([`precompile`]); a component found without such a
//! copy is compiled by the quick engine (about half the time) and cached
//! under that engine's key.
//!
//! A cache file is named by two stable hashes: the SHA-256 of the component's
//! bytes and the SHA-256 of wasmtime's own compatibility hash of the engine
//! (its version and settings). A different build or a different wasmtime
//! therefore never reads another's file.
//!
//! So that a warm start need not read and hash the component, the cache
//! directory also keeps a stamp per component file ([`crate::stamps`]).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::engine::{Tier, new_engine};
use crate::error::Error;
use crate::stamps::Stamp;

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
    key_of(engine, &content_hash(wasm))
}

/// The cache file name of the component whose content hash is `content`, compiled by `engine`.
fn key_of(engine: &Engine, content: &str) -> String {
    let mut compat = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut compat);
    format!("{content}-{}.cwasm", hex(&compat.0.finalize()[..8]))
}

/// The content hash part of a cache file name.
fn content_hash(wasm: &[u8]) -> String {
    hex(&Sha256::digest(wasm)[..16])
}

/// A loaded component and the engine that compiled it.
pub struct Loaded {
    /// The engine: calls run on it.
    pub engine: Engine,
    /// The compiled component.
    pub component: Component,
    /// From the cache, or compiled now.
    pub outcome: CacheOutcome,
    /// Which engine compiled it.
    pub tier: Tier,
}

/// The optimizing engine, and the quick one once it is needed.
struct Engines {
    optimizing: Engine,
    quick: Option<Engine>,
}

impl Engines {
    fn quick(&mut self) -> Result<Engine, Error> {
        if let Some(engine) = &self.quick {
            return Ok(engine.clone());
        }
        let engine = new_engine(Tier::Quick)?;
        self.quick = Some(engine.clone());
        Ok(engine)
    }

    /// A compiled copy of the component with content hash `content` (in
    /// `cache_dir` or beside the component at `path`): the optimizing
    /// engine's, else the quick engine's. The quick engine is only made when
    /// there is a cache to look in.
    fn find(&mut self, path: &Path, cache_dir: Option<&Path>, content: &str) -> Result<Option<Loaded>, Error> {
        let optimizing = self.optimizing.clone();
        if let Some(component) = deserialize_cached(&optimizing, path, cache_dir, &key_of(&optimizing, content)) {
            return Ok(Some(Loaded { engine: optimizing, component, outcome: CacheOutcome::Hit, tier: Tier::Optimizing }));
        }
        if cache_dir.is_none() {
            return Ok(None);
        }
        let quick = self.quick()?;
        let found = deserialize_cached(&quick, path, cache_dir, &key_of(&quick, content));
        Ok(found.map(|component| Loaded { engine: quick, component, outcome: CacheOutcome::Hit, tier: Tier::Quick }))
    }
}

/// Loads the component at `path`: the optimizing engine's compiled copy
/// from `cache_dir` or from beside the component ([`precompile`]), else the
/// quick engine's from `cache_dir`, else compiled now by the quick engine
/// and stored in `cache_dir`. With a stamp of the file in `cache_dir`, a
/// cached copy is found without reading the component.
///
/// # Errors
///
/// The component cannot be read or compiled. A cache that cannot be read or
/// written only costs a compile.
pub fn load_component(path: &Path, cache_dir: Option<&Path>) -> Result<Loaded, Error> {
    let mut engines = Engines { optimizing: new_engine(Tier::Optimizing)?, quick: None };
    let stamp = cache_dir.and_then(|dir| Stamp::of(dir, path));
    if let Some(content) = stamp.as_ref().and_then(Stamp::content)
        && let Some(loaded) = engines.find(path, cache_dir, &content)?
    {
        return Ok(loaded);
    }
    let wasm = std::fs::read(path).map_err(|e| {
        Error::Component(format!(
            "cannot read the component {} ({e}). Build it with `make build` (`make install` puts it beside an installed kitty-origin), or point KITTY_ORIGIN_COMPONENT at it.",
            path.display()
        ))
    })?;
    let content = content_hash(&wasm);
    let loaded = match engines.find(path, cache_dir, &content)? {
        Some(loaded) => loaded,
        None => {
            let engine = engines.quick()?;
            let component = Component::new(&engine, &wasm).map_err(Error::component("compile the component"))?;
            if let (Some(dir), Ok(bytes)) = (cache_dir, component.serialize())
                && write_atomically(&dir.join(key_of(&engine, &content)), &bytes).is_ok()
            {
                forget_old(dir, |file| file.extension().is_some_and(|e| e == "cwasm"));
            }
            Loaded { engine, component, outcome: CacheOutcome::Compiled, tier: Tier::Quick }
        }
    };
    // A stamp made now describes the bytes read above only if the file did
    // not change meanwhile: then its identity is still the stamp's name.
    if let (Some(stamp), Some(dir)) = (stamp, cache_dir)
        && Stamp::of(dir, path).is_some_and(|now| now == stamp)
    {
        stamp.record(&content);
    }
    Ok(loaded)
}

/// The compiled component named `key`, from `cache_dir` or beside the component at `path`.
fn deserialize_cached(engine: &Engine, path: &Path, cache_dir: Option<&Path>, key: &str) -> Option<Component> {
    let cached = cache_dir.map(|dir| dir.join(key));
    let bundled = path.parent().map(|dir| dir.join(key));
    cached.iter().chain(bundled.iter()).filter(|f| f.is_file()).find_map(|file| {
        // SAFETY: the file was written by `Component::serialize` of this
        // engine configuration (into the host's private state directory, or
        // beside the component by the build that made it), and its name
        // carries the content and compatibility hashes it was made from.
        unsafe { Component::deserialize_file(engine, file) }.ok()
    })
}

/// Compiles the component at `path` with the optimizing engine and stores
/// the compiled form beside it, where [`load_component`] finds it: a build
/// runs this so that a user's first command does not compile. Returns the
/// file written.
///
/// # Errors
///
/// The component cannot be read or compiled, or the file cannot be written.
pub fn precompile(path: &Path) -> Result<PathBuf, Error> {
    let engine = &new_engine(Tier::Optimizing)?;
    let wasm = std::fs::read(path).map_err(|e| Error::Component(format!("cannot read the component {} ({e})", path.display())))?;
    let component = Component::new(engine, &wasm).map_err(Error::component("compile the component"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let file = dir.join(cache_key(engine, &wasm));
    component
        .serialize()
        .map_err(std::io::Error::other)
        .and_then(|bytes| write_atomically(&file, &bytes))
        .map_err(|e| Error::Component(format!("cannot write {} ({e})", file.display())))?;
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

/// Files of the cache (compiled copies, stamps) not written for this long
/// are removed when another is stored (one still in use is then made again, once).
const FORGOTTEN_AFTER: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Removes the files in `dir` that `matches` accepts and that were not written for [`FORGOTTEN_AFTER`].
pub(crate) fn forget_old(dir: &Path, matches: impl Fn(&Path) -> bool) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if matches(&path) && age.is_some_and(|age| age > FORGOTTEN_AFTER) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Writes `bytes` to `file` under a unique temporary name, then renames it
/// into place: a reader sees the whole file or none, even with two writers.
pub(crate) fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
