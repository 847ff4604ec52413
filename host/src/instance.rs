//! One call's `Store`: WASI with the repo root as the only preopen, the
//! control plane's URL as the only environment variable, wasi:http behind the
//! egress hooks, the event sink, and the memory and time limits.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use spec_kitty_origin::journal::CALL_ID_VAR;
use spec_kitty_origin::model::{Delivery, EmitError, Event};
use spec_kitty_origin::templates::TEMPLATE_DIRS_VAR;
use tokio::task::JoinHandle;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::events;
use crate::capabilities::Capabilities;
use crate::egress::{EgressHooks, EgressPolicy};
use crate::engine::pace_guest;
use crate::error::Error;
use crate::events::EventSink;
use crate::mission_git::StartSteps;
use crate::repo_root::guest_path;

/// What one call grants beyond the repo root: the template directories of
/// the Spec Kitty installation (read-only), and the git steps to take.
#[derive(Default)]
pub struct CallExtras {
    /// Directories the guest may read spec templates from, in tier order.
    pub template_dirs: Vec<PathBuf>,
    /// The git steps of a `start`, told of every event.
    pub git: Option<Arc<StartSteps>>,
    /// The call's id (`KITTY_ORIGIN_CALL_ID`), which names its lock.
    pub call_id: Option<String>,
    /// Whether the call may write to the repo (start, bind): then it holds a call lock.
    pub writes: bool,
}

/// Everything a call's guest can reach.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: EgressHooks,
    events: Arc<dyn EventSink>,
    git: Option<Arc<StartSteps>>,
    limits: StoreLimits,
    /// The emit under way, if any: a call stopped by its deadline still
    /// lets it finish (see [`CallState::finish_emit`]), so an event is never
    /// half kept.
    emitting: Option<JoinHandle<Result<Delivery, EmitError>>>,
}

impl CallState {
    /// The emit a stopped call left under way, finished: it is bounded by
    /// the sink's own bounds (a durable insert, one bounded delivery, git
    /// calls of at most 30 s). Whether one was under way.
    pub async fn finish_emit(&mut self) -> bool {
        match self.emitting.take() {
            Some(task) => {
                let _ = task.await;
                true
            }
            None => false,
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

impl crate::bindings::wit_types::Host for CallState {}

impl events::Host for CallState {
    async fn emit(&mut self, event: Event) -> Result<Delivery, EmitError> {
        let (git, sink) = (self.git.clone(), self.events.clone());
        // The sink and the git steps block (SQLite, a delivery, commits): on
        // a thread of the call's blocking pool, so the call's event loop
        // (and its deadline) keeps running.
        let task = self.emitting.insert(tokio::task::spawn_blocking(move || {
            if let Some(git) = &git {
                git.on_event(&event);
            }
            sink.emit(&event)
        }));
        let delivery = task.await;
        self.emitting = None;
        delivery.unwrap_or_else(|_| {
            Err(EmitError::StorageFailed("the event sink failed unexpectedly; the event may not have been kept".into()))
        })
    }
}

/// A fresh store for one call in `repo_root`: nothing leaks between calls.
///
/// The repo root is preopened read-write at its own absolute path, so paths
/// mean the same inside and outside; sockets and name lookups are off (the
/// guest's only network is wasi:http through the hooks).
pub fn new_store(
    engine: &wasmtime::Engine,
    repo_root: &Path,
    capabilities: &Capabilities,
    policy: &Arc<EgressPolicy>,
    extras: CallExtras,
) -> Result<Store<CallState>, Error> {
    let mut wasi = WasiCtx::builder();
    // File operations run on the call's own thread, not a blocking pool (set
    // before the preopens: each directory takes the setting when opened).
    wasi.allow_blocking_current_thread(true);
    wasi.preopened_dir(repo_root, guest_path(repo_root)?, FsPerms::ReadWrite).map_err(Error::component("preopen the repo root"))?;
    wasi.allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false);
    for (key, value) in capabilities.guest_env() {
        wasi.env(key, value);
    }
    if let Some(id) = &extras.call_id {
        wasi.env(CALL_ID_VAR, id);
    }
    let mut granted = Vec::new();
    for dir in &extras.template_dirs {
        if let Some(path) = dir.to_str()
            && !path.contains(':')
            && wasi.preopened_dir(dir, path, FsPerms::ReadOnly).is_ok()
        {
            granted.push(path);
        }
    }
    if !granted.is_empty() {
        wasi.env(TEMPLATE_DIRS_VAR, granted.join(":"));
    }
    let limits = capabilities.call_limits;
    let state = CallState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        http: WasiHttpCtx::new(),
        hooks: EgressHooks { policy: policy.clone(), upstream: capabilities.upstream.clone() },
        events: capabilities.events.clone(),
        git: extras.git,
        // 16 instances: the component's own core instances (it has a handful).
        limits: StoreLimitsBuilder::new().memory_size(limits.memory_bytes).instances(16).build(),
        emitting: None,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limits);
    // Fuel only paces the yields; the deadline is the call's timeout (see `runtime`).
    pace_guest(&mut store).map_err(Error::component("fuel the store"))?;
    Ok(store)
}
