//! The embedding: one `Engine`, the component compiled once (cached on disk),
//! an `InstancePre`, and a fresh `Store` per call with only the repo root,
//! the control plane and the event sink granted.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtx};
use wasmtime_wasi_http::WasiHttpCtx;

use crate::bindings::types::{BindResult, MissionFromTicketResult, OriginCandidate, OriginError, SearchOriginResult};
use crate::bindings::{OriginBinding, OriginBindingPre, events};
use crate::credentials::{SAAS_URL_VAR, SaasAccess};
use crate::egress::{EgressHooks, EgressLimits, EgressPolicy, Upstream};
use crate::error::Error;
use crate::sink::EventSink;
use crate::state::CallState;

/// How often the epoch advances; the unit of the per-call deadline.
const EPOCH_TICK: Duration = Duration::from_millis(50);

/// What a call's guest may reach.
#[derive(Clone)]
pub struct Capabilities {
    /// The control plane and the developer's session.
    pub saas: SaasAccess,
    /// Where allowed HTTP requests go ([`crate::egress::NetworkUpstream`] for real).
    pub upstream: Arc<dyn Upstream>,
    /// Where `MissionOriginBound` events go.
    pub events: Arc<dyn EventSink>,
    /// Time and size bounds of HTTP.
    pub egress_limits: EgressLimits,
    /// Bounds on each call's memory and time.
    pub call_limits: CallLimits,
}

/// Bounds on one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Most linear memory the guest may grow to.
    pub memory_bytes: usize,
    /// Longest a call may run (an epoch deadline; it traps past it).
    pub deadline: Duration,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self { memory_bytes: 64 * 1024 * 1024, deadline: Duration::from_secs(120) }
    }
}

/// Whether the compiled component came from the on-disk cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Deserialized from the cache.
    Hit,
    /// Compiled now (and stored when a cache directory was given).
    Compiled,
}

/// Advances the engine's epoch until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        });
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The component, ready to serve calls.
pub struct Runtime {
    pre: OriginBindingPre<CallState>,
    capabilities: Capabilities,
    policy: Arc<EgressPolicy>,
    cache: CacheOutcome,
    _ticker: EpochTicker,
}

impl Runtime {
    /// Loads the component at `component` (compiling it, or deserializing
    /// it from `cache_dir` when a compiled copy for this wasmtime is there).
    pub fn new(component: &Path, cache_dir: Option<&Path>, capabilities: Capabilities) -> Result<Self, Error> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(Error::component("create the wasmtime engine"))?;
        let (compiled, cache) = load_component(&engine, component, cache_dir)?;
        let mut linker = Linker::<CallState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(Error::component("link WASI"))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker).map_err(Error::component("link wasi:http"))?;
        events::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(&mut linker, |s| s)
            .map_err(Error::component("link the events import"))?;
        let pre = linker.instantiate_pre(&compiled).map_err(Error::component("link the component"))?;
        let pre = OriginBindingPre::new(pre).map_err(Error::component("bind the component's world"))?;
        let policy = Arc::new(EgressPolicy {
            origin: capabilities.saas.origin.clone(),
            credentials: capabilities.saas.credentials.clone(),
            limits: capabilities.egress_limits,
        });
        Ok(Self { pre, capabilities, policy, cache, _ticker: EpochTicker::start(&engine) })
    }

    /// Whether the compiled component came from the cache.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.cache
    }

    /// The environment the guest sees: the control plane's URL and nothing else.
    pub fn guest_env(&self) -> Vec<(String, String)> {
        self.capabilities.saas.origin.iter().map(|o| (SAAS_URL_VAR.to_string(), o.base_url())).collect()
    }

    /// `search-origin-candidates` of the repo at `repo_root`.
    pub fn search_origin_candidates(
        &self,
        repo_root: &Path,
        query_text: Option<&str>,
        query_key: Option<&str>,
        limit: u32,
    ) -> Result<SearchOriginResult, Error> {
        self.require_login()?;
        let root = canonical_dir(repo_root)?;
        let (mut store, instance) = self.instantiate(&root)?;
        let repo = guest_path(&root)?;
        let result = instance.spec_kitty_origin_service().call_search_origin_candidates(&mut store, repo, query_text, query_key, limit);
        flatten(result)
    }

    /// `bind-mission-origin` of the mission at `feature_dir`.
    pub fn bind_mission_origin(
        &self,
        feature_dir: &Path,
        candidate: &OriginCandidate,
        provider: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<BindResult, Error> {
        self.require_login()?;
        let dir = canonical_dir(feature_dir)?;
        let root = repo_root_for(&dir);
        let (mut store, instance) = self.instantiate(&root)?;
        let result = instance.spec_kitty_origin_service().call_bind_mission_origin(
            &mut store,
            guest_path(&dir)?,
            candidate,
            provider,
            resource_type,
            resource_id,
        );
        flatten(result)
    }

    /// `start-mission-from-ticket` in the repo at `repo_root`.
    pub fn start_mission_from_ticket(
        &self,
        repo_root: &Path,
        candidate: &OriginCandidate,
        provider: &str,
        resource_type: &str,
        resource_id: &str,
        mission_key: &str,
    ) -> Result<MissionFromTicketResult, Error> {
        self.require_login()?;
        let root = canonical_dir(repo_root)?;
        let (mut store, instance) = self.instantiate(&root)?;
        let result = instance.spec_kitty_origin_service().call_start_mission_from_ticket(
            &mut store,
            guest_path(&root)?,
            candidate,
            provider,
            resource_type,
            resource_id,
            mission_key,
        );
        flatten(result)
    }

    fn require_login(&self) -> Result<(), Error> {
        match self.capabilities.saas.login_problem(&crate::state_dir()) {
            Some(message) => Err(Error::Origin(OriginError::NotLoggedIn(message))),
            None => Ok(()),
        }
    }

    fn instantiate(&self, repo_root: &Path) -> Result<(Store<CallState>, OriginBinding), Error> {
        let mut wasi = WasiCtx::builder();
        wasi.preopened_dir(repo_root, guest_path(repo_root)?, FsPerms::ReadWrite)
            .map_err(Error::component("preopen the repo root"))?;
        wasi.allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false);
        for (key, value) in self.guest_env() {
            wasi.env(key, value);
        }
        let limits = self.capabilities.call_limits;
        let state = CallState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: EgressHooks { policy: self.policy.clone(), upstream: self.capabilities.upstream.clone() },
            events: self.capabilities.events.clone(),
            limits: StoreLimitsBuilder::new().memory_size(limits.memory_bytes).instances(16).build(),
        };
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|state| &mut state.limits);
        let ticks = (limits.deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        let instance = self.pre.instantiate(&mut store).map_err(Error::component("instantiate the component"))?;
        Ok((store, instance))
    }
}

/// The repo root the host preopens for a mission directory (see the guest's `config::repo_root_of`).
pub fn repo_root_for(feature_dir: &Path) -> PathBuf {
    spec_kitty_origin::config::repo_root_of(feature_dir)
}

fn flatten<T>(result: wasmtime::Result<Result<T, OriginError>>) -> Result<T, Error> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(Error::Origin(err)),
        Err(trap) => Err(Error::Component(format!(
            "the component failed ({trap:#}); nothing further was done. Retry, and report it if it persists."
        ))),
    }
}

fn canonical_dir(path: &Path) -> Result<PathBuf, Error> {
    let canonical = path.canonicalize().map_err(|e| {
        Error::Origin(OriginError::Io(format!("{} cannot be opened ({e}). Pass an existing directory.", path.display())))
    })?;
    if canonical.is_dir() {
        Ok(canonical)
    } else {
        Err(Error::Origin(OriginError::Io(format!("{} is not a directory. Pass the repo or mission directory.", path.display()))))
    }
}

fn guest_path(path: &Path) -> Result<&str, Error> {
    path.to_str().ok_or_else(|| {
        Error::Origin(OriginError::Io(format!("{} is not valid UTF-8; move the repo to a UTF-8 path.", path.display())))
    })
}

/// The cache file name: the component's content hash and the engine's compatibility hash.
fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    let content: String = Sha256::digest(wasm).iter().take(16).map(|b| format!("{b:02x}")).collect();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{content}-{:016x}.cwasm", hasher.finish())
}

fn load_component(engine: &Engine, path: &Path, cache_dir: Option<&Path>) -> Result<(Component, CacheOutcome), Error> {
    let wasm = std::fs::read(path).map_err(|e| {
        Error::Component(format!(
            "cannot read the component {} ({e}). Build it with `make build`, or point KITTY_ORIGIN_COMPONENT at it.",
            path.display()
        ))
    })?;
    let cached = cache_dir.map(|dir| dir.join(cache_key(engine, &wasm)));
    if let Some(file) = cached.as_ref().filter(|f| f.is_file()) {
        // SAFETY: the file was written by `Component::serialize` of this
        // engine configuration into the host's private state directory, and
        // its name carries the content and compatibility hashes it was made from.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, file) } {
            return Ok((component, CacheOutcome::Hit));
        }
    }
    let component = Component::new(engine, &wasm).map_err(Error::component("compile the component"))?;
    if let Some(file) = cached {
        // A cache that cannot be written only costs the next start a compile.
        let _ = store_compiled(&component, &file);
    }
    Ok((component, CacheOutcome::Compiled))
}

fn store_compiled(component: &Component, file: &Path) -> std::io::Result<()> {
    let bytes = component.serialize().map_err(std::io::Error::other)?;
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temp = tempfile_in(dir)?;
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, file)
}

fn tempfile_in(dir: &Path) -> std::io::Result<PathBuf> {
    let unique = format!(".{}-{}.tmp", std::process::id(), ulid::Ulid::new());
    Ok(dir.join(unique))
}
