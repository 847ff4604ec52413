//! The service calls as both front ends make them, the command line
//! (`commands`) and the MCP server (`mcp`): the runtime over the real network
//! and the outbox, the search, and the start and bind of a ticket the
//! developer confirmed, with their `--json` shapes (the MCP tools'
//! `structuredContent` is the same JSON).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use kitty_origin_host::egress::NetworkUpstream;
use kitty_origin_host::mission_git::GitSteps;
use kitty_origin_host::outbox::{LazyOutbox, Outbox};
use kitty_origin_host::recovery::RecoveryReport;
use kitty_origin_host::types::{Delivery, MissionFromTicketResult, OriginCandidate, OriginTicket, Routing, SearchOriginResult};
use kitty_origin_host::wire::DEFAULT_SEARCH_LIMIT;
use kitty_origin_host::{Capabilities, Runtime, SaasAccess, SpecTemplates, state_dir};

use crate::confirm;
use crate::failure::Failure;
use crate::output::{self, CommandOutput};
use crate::streams;

/// The component's file name.
const COMPONENT_FILE: &str = "spec_kitty_origin.wasm";
/// Names the component to run.
const COMPONENT_VAR: &str = "KITTY_ORIGIN_COMPONENT";

/// Where the component is: `component` (`--component`), `$KITTY_ORIGIN_COMPONENT`,
/// next to the binary, where `make install` puts it (`<prefix>/lib/kitty-origin`
/// for `<prefix>/bin/kitty-origin`), or in the build tree (`<target>/wasm32-wasip2/guest`
/// for `<target>/<host triple>/release/kitty-origin`, or `<target>/release/kitty-origin`
/// when cargo ran without this repo's `.cargo/config.toml`).
pub fn component_path(component: Option<&Path>) -> PathBuf {
    if let Some(path) = component.map(Path::to_path_buf).or_else(|| std::env::var_os(COMPONENT_VAR).map(PathBuf::from)) {
        return path;
    }
    let exe_dir = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)).unwrap_or_default();
    let up = |levels: usize| exe_dir.ancestors().nth(levels).unwrap_or(&exe_dir).to_path_buf();
    let build_tree = up(2).join("wasm32-wasip2/guest").join(COMPONENT_FILE);
    let candidates = [
        exe_dir.join(COMPONENT_FILE),
        up(1).join("lib/kitty-origin").join(COMPONENT_FILE),
        build_tree.clone(),
        up(1).join("wasm32-wasip2/guest").join(COMPONENT_FILE),
    ];
    candidates.into_iter().find(|path| path.is_file()).unwrap_or(build_tree)
}

/// The control plane and session from the environment or `credentials.json`.
pub fn saas_access() -> Result<SaasAccess, Failure> {
    SaasAccess::from_env(&state_dir()).map_err(|m| Failure::new("invalid_configuration", format!("{m}."), true))
}

/// The durable outbox in the state directory.
pub fn open_outbox(saas: SaasAccess) -> Result<Arc<Outbox>, Failure> {
    Outbox::open(&state_dir(), saas).map(Arc::new).map_err(|m| Failure::new("outbox_unavailable", m, false))
}

/// A mission directory given relative to `repo` (unless absolute).
pub fn mission_path(repo: &Path, mission: &Path) -> PathBuf {
    if mission.is_absolute() { mission.to_path_buf() } else { repo.join(mission) }
}

/// The routing context of a search's candidates.
pub fn routing(found: &SearchOriginResult) -> Routing {
    Routing { provider: found.provider.clone(), resource_type: found.resource_type.clone(), resource_id: found.resource_id.clone() }
}

/// The component loaded with the real network, the outbox and the state
/// directory's compile cache: what every command and tool calls.
pub struct Service {
    runtime: Runtime,
    /// Opened on the first event: a search never touches the database.
    outbox: Arc<LazyOutbox>,
}

impl Service {
    /// Loads the component (`component`, else where [`component_path`] finds it).
    pub fn open(component: Option<&Path>) -> Result<Self, Failure> {
        let saas = saas_access()?;
        let outbox = Arc::new(LazyOutbox::new(&state_dir(), saas.clone()));
        let capabilities = Capabilities {
            saas,
            upstream: Arc::new(NetworkUpstream),
            events: outbox.clone(),
            egress_limits: Default::default(),
            call_limits: Default::default(),
            git: true,
            spec_templates: SpecTemplates::Installed,
        };
        let runtime = Runtime::new(&component_path(component), Some(&state_dir().join("cache")), capabilities)?;
        Ok(Self { runtime, outbox })
    }

    /// Repairs what crashed calls left in `repo` (see `Runtime::recover`) and
    /// tells the developer on stderr what it did. Hosts call it before their other calls.
    pub fn recover(&self, repo: &Path) {
        report_recovery(&self.runtime.recover(repo));
    }

    /// The runtime, for calls the shapes here do not cover.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// `search`: the spec's `SearchOriginResult`.
    pub fn search(&self, repo: &Path, text: Option<&str>, key: Option<&str>, limit: u32) -> Result<CommandOutput, Failure> {
        let result = self.runtime.search_origin_candidates(repo, text, key, limit)?;
        Ok(CommandOutput::new(&result, output::search_text(&result)))
    }

    /// Searches `key` and returns the single exact match with its routing
    /// context (the ticket a developer then confirms).
    pub fn exact_ticket(&self, repo: &Path, key: &str) -> Result<(OriginCandidate, Routing), Failure> {
        let found = self.runtime.search_origin_candidates(repo, None, Some(key), DEFAULT_SEARCH_LIMIT)?;
        let candidate = confirm::exact_match(&found.candidates, key).ok_or_else(|| confirm::no_exact_match(&found.candidates, key))?;
        Ok((candidate, routing(&found)))
    }

    /// `start` of a confirmed `candidate`: the spec's `MissionFromTicketResult` and `git`.
    pub fn start_confirmed(
        &self,
        repo: &Path,
        candidate: &OriginCandidate,
        routing: &Routing,
        mission_type: &str,
        start_branch: Option<&str>,
    ) -> Result<CommandOutput, Failure> {
        let started = self.runtime.start_mission_from_ticket(
            repo,
            candidate,
            &routing.provider,
            &routing.resource_type,
            &routing.resource_id,
            mission_type,
            start_branch,
        )?;
        let mission = &started.result;
        let text = format!(
            "Mission {} created at {}\n{}{}{}{}",
            mission.feature_slug,
            mission.feature_dir,
            output::ticket_text(&mission.origin_ticket),
            output::event_text(mission.event_delivery, self.outbox.get().and_then(Outbox::len).unwrap_or(0)),
            output::spec_text(Path::new(&mission.feature_dir)),
            output::git_text(&started.git),
        );
        Ok(CommandOutput::new(&StartOutput { mission, git: &started.git }, text))
    }

    /// `bind` of a confirmed `candidate` to the mission at `mission`: the
    /// updated metadata, the origin ticket, the event and `git`.
    pub fn bind_confirmed(&self, mission: &Path, candidate: &OriginCandidate, routing: &Routing) -> Result<CommandOutput, Failure> {
        let bound =
            self.runtime.bind_mission_origin(mission, candidate, &routing.provider, &routing.resource_type, &routing.resource_id)?;
        let result = &bound.result;
        let text = format!(
            "Mission {} bound.\n{}{}{}",
            mission.display(),
            output::ticket_text(&result.origin_ticket),
            output::event_text(result.event_delivery, self.outbox.get().and_then(Outbox::len).unwrap_or(0)),
            output::git_text(&bound.git),
        );
        let shape = BindOutput {
            metadata: serde_json::from_str(&result.metadata_json).unwrap_or(Value::Null),
            origin_ticket: &result.origin_ticket,
            event_emitted: result.event_emitted,
            event_delivery: result.event_delivery,
            git: &bound.git,
        };
        Ok(CommandOutput::new(&shape, text))
    }
}

/// The `--json` shape of `start`: the spec's `MissionFromTicketResult`, and
/// what the git steps did.
#[derive(Serialize)]
struct StartOutput<'a> {
    #[serde(flatten)]
    mission: &'a MissionFromTicketResult,
    git: &'a GitSteps,
}

/// The `--json` shape of `bind`: the updated metadata as JSON, not as text.
#[derive(Serialize)]
struct BindOutput<'a> {
    metadata: Value,
    origin_ticket: &'a OriginTicket,
    event_emitted: bool,
    event_delivery: Option<Delivery>,
    git: &'a GitSteps,
}

/// Tells the developer on stderr what a recovery after a crash did.
fn report_recovery(report: &RecoveryReport) {
    for mission in &report.completed {
        streams::warn(&format!("kitty-origin: completed the interrupted origin bind of mission {mission}."));
    }
    for (mission, why) in &report.postponed {
        streams::warn(&format!("kitty-origin: the interrupted origin bind of mission {mission} is still pending: {}", output::clean(why)));
    }
}
