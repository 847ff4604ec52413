//! [`Runtime`]: the component loaded once, serving the spec's three service
//! methods, each call in a fresh store with only what [`Capabilities`] grants.

use std::path::Path;
use std::sync::Arc;

use spec_kitty_origin::model::{BindResult, MissionFromTicketResult, OriginCandidate, OriginError, SearchOriginResult};
use wasmtime::Store;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::exports::spec_kitty::origin::service::Guest;
use crate::bindings::{OriginBindingPre, events};
use crate::cache::{CacheOutcome, load_component};
use crate::capabilities::Capabilities;
use crate::egress::EgressPolicy;
use crate::engine::{EpochTicker, new_engine};
use crate::error::Error;
use crate::instance::{CallState, new_store};
use crate::repo_root::{canonical_dir, guest_path, repo_root_for_mission};

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
    /// it from `cache_dir` when a compiled copy for this wasmtime is there)
    /// and links it against WASI, wasi:http and the event sink.
    ///
    /// # Errors
    ///
    /// [`Error::Component`] when the file cannot be read, compiled or linked
    /// (for example a component built against another WIT world).
    pub fn new(component: &Path, cache_dir: Option<&Path>, capabilities: Capabilities) -> Result<Self, Error> {
        let engine = new_engine()?;
        let (compiled, cache) = load_component(&engine, component, cache_dir)?;
        let mut linker = Linker::<CallState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(Error::component("link WASI"))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker).map_err(Error::component("link wasi:http"))?;
        events::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |s| s).map_err(Error::component("link the events import"))?;
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

    /// The environment the guest sees (see [`Capabilities::guest_env`]).
    pub fn guest_env(&self) -> Vec<(String, String)> {
        self.capabilities.guest_env()
    }

    /// `search-origin-candidates` of the repo at `repo_root`.
    ///
    /// # Errors
    ///
    /// [`Error::Origin`] with the spec's failures (`no-tracker-binding`,
    /// `user-link-required`, `invalid-query`, ...); `not-logged-in` before
    /// the guest runs when the host holds no session; [`Error::Component`]
    /// when the guest traps or overruns its limits.
    pub fn search_origin_candidates(
        &self,
        repo_root: &Path,
        query_text: Option<&str>,
        query_key: Option<&str>,
        limit: u32,
    ) -> Result<SearchOriginResult, Error> {
        let root = canonical_dir(repo_root)?;
        let repo = guest_path(&root)?;
        self.call(&root, |service, store| service.call_search_origin_candidates(store, repo, query_text, query_key, limit))
    }

    /// `bind-mission-origin` of the mission at `feature_dir`. The call may
    /// touch the mission's repo (see [`repo_root_for_mission`]) and nothing else.
    ///
    /// # Errors
    ///
    /// As [`Runtime::search_origin_candidates`], plus `origin-conflict`,
    /// `invalid-metadata` and `invalid-candidate`. A failure of the control
    /// plane leaves `meta.json` untouched.
    pub fn bind_mission_origin(
        &self,
        feature_dir: &Path,
        candidate: &OriginCandidate,
        provider: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<BindResult, Error> {
        let dir = canonical_dir(feature_dir)?;
        let mission = guest_path(&dir)?;
        self.call(&repo_root_for_mission(&dir), |service, store| {
            service.call_bind_mission_origin(store, mission, candidate, provider, resource_type, resource_id)
        })
    }

    /// `start-mission-from-ticket` in the repo at `repo_root`.
    ///
    /// # Errors
    ///
    /// As [`Runtime::bind_mission_origin`]. When the mission was created but
    /// the bind failed, the message names the directory and how to retry.
    pub fn start_mission_from_ticket(
        &self,
        repo_root: &Path,
        candidate: &OriginCandidate,
        provider: &str,
        resource_type: &str,
        resource_id: &str,
        mission_key: &str,
    ) -> Result<MissionFromTicketResult, Error> {
        let root = canonical_dir(repo_root)?;
        let repo = guest_path(&root)?;
        self.call(&root, |service, store| {
            service.call_start_mission_from_ticket(store, repo, candidate, provider, resource_type, resource_id, mission_key)
        })
    }

    /// Refuses a call that cannot succeed before the guest creates anything.
    fn require_login(&self) -> Result<(), Error> {
        match self.capabilities.saas.login_problem(&crate::state_dir()) {
            Some(message) => Err(Error::Origin(OriginError::NotLoggedIn(message))),
            None => Ok(()),
        }
    }

    /// One call: refused without a session, else a fresh store granting
    /// `repo_root`, a fresh instance, and `invoke` on its `service` export.
    fn call<T>(
        &self,
        repo_root: &Path,
        invoke: impl FnOnce(&Guest, &mut Store<CallState>) -> wasmtime::Result<Result<T, OriginError>>,
    ) -> Result<T, Error> {
        self.require_login()?;
        let mut store = new_store(self.pre.engine(), repo_root, &self.capabilities, &self.policy)?;
        let instance = self.pre.instantiate(&mut store).map_err(Error::component("instantiate the component"))?;
        into_host_result(invoke(instance.spec_kitty_origin_service(), &mut store))
    }
}

/// A call's outcome as the host reports it: the guest's `origin-error`, or a
/// trap (limits, deadline, a bug) as [`Error::Component`].
fn into_host_result<T>(result: wasmtime::Result<Result<T, OriginError>>) -> Result<T, Error> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(Error::Origin(err)),
        Err(trap) => Err(Error::Component(format!(
            "the component failed ({trap:#}); nothing further was done. Retry, and report it if it persists."
        ))),
    }
}
