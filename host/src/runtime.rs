//! [`Runtime`]: the component loaded once, serving the spec's three service
//! methods, each call in a fresh store with only what [`Capabilities`] grants.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use spec_kitty_origin::model::{BindResult, MissionFromTicketResult, OriginCandidate, OriginError, SearchOriginResult};
use wasmtime::Store;

use crate::bindings::OriginBindingPre;
use crate::bindings::exports::spec_kitty::origin::service::Guest;
use crate::cache::{CacheOutcome, Loaded, load_component};
use crate::capabilities::Capabilities;
use crate::egress::EgressPolicy;
pub use crate::engine::Tier;
use crate::error::Error;
use crate::instance::{CallExtras, CallState, new_store};
use crate::linking::world_linker;
use crate::mission_git::{self, GitSteps, StartSteps};
use crate::recovery::{self, CallLock, RecoveryReport};
use crate::repo_root::{granted_repo, guest_path, repo_root_for_mission, require_state_outside};

/// A call's result with what the host's git steps did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<T> {
    /// The component's result.
    pub result: T,
    /// The branch and commits (empty outside a git work tree or without [`Capabilities::git`]).
    pub git: GitSteps,
}

/// The component, ready to serve calls.
///
/// Its methods block until the call is done: each runs on an event loop of
/// its own. From async code, call them on a blocking thread
/// (`tokio::task::spawn_blocking`); called on a thread that is driving async
/// tasks, they panic. Several threads may call one `Runtime` at once.
pub struct Runtime {
    pre: OriginBindingPre<CallState>,
    capabilities: Capabilities,
    policy: Arc<EgressPolicy>,
    cache: CacheOutcome,
    tier: Tier,
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
        let Loaded { engine, component: compiled, outcome: cache, tier } = load_component(component, cache_dir)?;
        let linker = world_linker(&engine)?;
        let pre = linker.instantiate_pre(&compiled).map_err(Error::component("link the component"))?;
        let pre = OriginBindingPre::new(pre).map_err(Error::component("bind the component's world"))?;
        let policy = Arc::new(EgressPolicy {
            origin: capabilities.saas.origin.clone(),
            credentials: capabilities.saas.credentials.clone(),
            limits: capabilities.egress_limits,
        });
        Ok(Self { pre, capabilities, policy, cache, tier })
    }

    /// Compiles the component at `component` for this host's engine and
    /// stores it beside the component, so no user's first command compiles
    /// it (`make build` runs this). Returns the file written.
    ///
    /// # Errors
    ///
    /// [`Error::Component`] when it cannot be read, compiled or written.
    pub fn precompile(component: &Path) -> Result<PathBuf, Error> {
        crate::cache::precompile(component)
    }

    /// Whether the compiled component came from the cache.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.cache
    }

    /// Which engine compiled the component: the build's optimizing one, or
    /// the quick one when no build had precompiled it.
    pub fn tier(&self) -> Tier {
        self.tier
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
        let root = granted_repo(repo_root)?;
        let repo = guest_path(&root)?;
        self.call(&root, CallExtras::default(), async |service, store| {
            service.call_search_origin_candidates(store, repo, query_text, query_key, limit).await
        })
    }

    /// `bind-mission-origin` of the mission at `feature_dir`. The call may
    /// touch the mission's repo (see [`repo_root_for_mission`]) and nothing
    /// else. With [`Capabilities::git`], the bound `meta.json` is committed.
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
    ) -> Result<Outcome<BindResult>, Error> {
        let (root, dir) = repo_root_for_mission(feature_dir)?;
        let mission = guest_path(&dir)?;
        let bound = self.call(&root, CallExtras { writes: true, ..CallExtras::default() }, async |service, store| {
            service.call_bind_mission_origin(store, mission, candidate, provider, resource_type, resource_id).await
        })?;
        let git = if self.capabilities.git { mission_git::commit_bound_meta(&root, &dir) } else { GitSteps::default() };
        Ok(Outcome { result: bound, git })
    }

    /// `start-mission-from-ticket` in the repo at `repo_root`, with Spec
    /// Kitty's layout. The spec template is read from the Spec Kitty
    /// installation when there is one ([`crate::spec_kitty_install`]). With
    /// [`Capabilities::git`] and a git work tree, Spec Kitty's git steps are
    /// taken: a protected branch is refused before anything is sent,
    /// `start_branch` is switched to (and created) first, the scaffold and
    /// then the bound `meta.json` are committed.
    ///
    /// # Errors
    ///
    /// As [`Runtime::bind_mission_origin`], plus [`Error::Git`] when a git
    /// step refuses (nothing was sent then). When the mission was created but
    /// the bind failed, the message names the directory and how to retry.
    #[allow(clippy::too_many_arguments)]
    pub fn start_mission_from_ticket(
        &self,
        repo_root: &Path,
        candidate: &OriginCandidate,
        provider: &str,
        resource_type: &str,
        resource_id: &str,
        mission_key: &str,
        start_branch: Option<&str>,
    ) -> Result<Outcome<MissionFromTicketResult>, Error> {
        let root = granted_repo(repo_root)?;
        let repo = guest_path(&root)?;
        self.require_login()?;
        let git = self.git_steps(&root, start_branch)?;
        let extras =
            CallExtras { template_dirs: self.capabilities.spec_templates.dirs(mission_key), git: git.clone(), call_id: None, writes: true };
        let started = self.call(&root, extras, async |service, store| {
            service.call_start_mission_from_ticket(store, repo, candidate, provider, resource_type, resource_id, mission_key).await
        });
        let git = git.map(|steps| steps.finish(started.as_ref().ok().map(|m| m.feature_slug.as_str()))).unwrap_or_default();
        started.map(|mission| Outcome { result: mission, git })
    }

    /// Checks, changing nothing, that a start in `repo_root` (on
    /// `start_branch`) would pass Spec Kitty's git preflight; callers run it
    /// before they search, so a refusal sends nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Git`] with Spec Kitty's advice.
    pub fn preflight_start(&self, repo_root: &Path, start_branch: Option<&str>) -> Result<(), Error> {
        if !self.capabilities.git {
            return Ok(());
        }
        mission_git::preflight(&granted_repo(repo_root)?, start_branch)
    }

    fn git_steps(&self, root: &Path, start_branch: Option<&str>) -> Result<Option<Arc<StartSteps>>, Error> {
        if !self.capabilities.git {
            return Ok(None);
        }
        StartSteps::begin(root, start_branch)
    }

    /// Repairs what crashed calls left in the repo at `repo_root`: completes
    /// the binds they journaled, removes their staging directories and
    /// temporary files (see [`crate::recovery`]). Cheap when nothing is left;
    /// hosts call it before their other calls.
    pub fn recover(&self, repo_root: &Path) -> RecoveryReport {
        match granted_repo(repo_root) {
            Ok(root) => recovery::recover(self, &root),
            Err(_) => RecoveryReport::default(),
        }
    }

    /// Queues the control plane's copies of a mission's creation events again
    /// (the same ids: the control plane counts them once) and, with git
    /// steps, commits its scaffold if it is not committed yet.
    pub(crate) fn requeue_creation_events(&self, repo_root: &Path, feature_dir: &Path) {
        let project_slug = spec_kitty_origin::config::load_binding(repo_root).ok().and_then(|b| b.project_slug);
        for event in spec_kitty_origin::events::creation_events(feature_dir, project_slug.as_deref()) {
            let _ = self.capabilities.events.emit(&event);
        }
        if self.capabilities.git {
            mission_git::commit_scaffold(repo_root, feature_dir);
        }
    }

    /// Refuses a call that cannot succeed before the guest creates anything.
    fn require_login(&self) -> Result<(), Error> {
        match self.capabilities.saas.login_problem(&crate::state_dir()) {
            Some(message) => Err(Error::Origin(OriginError::NotLoggedIn(message))),
            None => Ok(()),
        }
    }

    /// One call: refused without a session, else a fresh store granting
    /// `repo_root`, a fresh instance, and `invoke` on its `service` export,
    /// run to completion on a current-thread tokio runtime of the call's own
    /// (no worker threads; blocking work goes to its blocking pool).
    ///
    /// Blocks: from async code, call it on a blocking thread (`spawn_blocking`).
    fn call<T>(
        &self,
        repo_root: &Path,
        extras: CallExtras,
        invoke: impl AsyncFnOnce(&Guest, &mut Store<CallState>) -> wasmtime::Result<Result<T, OriginError>>,
    ) -> Result<T, Error> {
        self.require_login()?;
        require_state_outside(&crate::state_dir(), repo_root)?;
        // Held until the call returns; the kernel releases it if the process
        // dies. A search writes nothing, so it needs none (and works in a
        // read-only checkout).
        let lock = if extras.writes { Some(CallLock::acquire(repo_root)?) } else { None };
        let extras = CallExtras { call_id: lock.as_ref().map(|l| l.id().to_string()), ..extras };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::Component(format!("cannot start the call's event loop ({e}). Retry.")))?;
        // The store (and the connections it holds) lives and is dropped inside the runtime.
        let _context = runtime.enter();
        let mut store = new_store(self.pre.engine(), repo_root, &self.capabilities, &self.policy, extras)?;
        let deadline = self.capabilities.call_limits.deadline;
        let result = runtime.block_on(async {
            let call = async {
                let instance = self.pre.instantiate_async(&mut store).await.map_err(Error::component("instantiate the component"))?;
                Ok::<_, Error>(invoke(instance.spec_kitty_origin_service(), &mut store).await)
            };
            // The guest yields every YIELD_INTERVAL_FUEL, and waits on the
            // host in futures: the timeout fires in either, and dropping the
            // call stops it there.
            let outcome = tokio::time::timeout(deadline, call).await;
            match outcome {
                Ok(result) => result,
                Err(_) => {
                    // Stopped where it stood; an event it was handing over is kept whole.
                    let emitting = store.data_mut().finish_emit().await;
                    Err(Error::Component(format!(
                        "the component failed (it ran past its deadline of {} s) and was stopped{}; nothing further was done. \
                         Retry (a start or bind picks up where it stopped), and report it if it persists.",
                        deadline.as_secs_f64(),
                        if emitting { " after the event it was emitting was kept" } else { "" }
                    )))
                }
            }
        });
        into_host_result(result?)
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
