//! `kitty-origin [--repo DIR] mcp`: the three service methods as MCP tools
//! on stdin and stdout (the `rmcp` SDK), for AI agents.
//!
//! Each tool's `structuredContent` is exactly what `kitty-origin --json`
//! prints for the same call, errors included (`isError` with
//! `{"error": {"code", "message", "user_action_required"}}`). Start and bind
//! search the key first and have the developer confirm the ticket before
//! anything is written ([`confirmation`]). stdout carries MCP only; the
//! server logs to stderr and exits when stdin closes.

mod confirmation;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Implementation, ProtocolVersion, ServerCapabilities, ServerConfig};
use rmcp::{Peer, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::OnceCell;

use kitty_origin_host::repo_root::repo_root_for_mission;
use kitty_origin_host::types::{OriginCandidate, Routing};
use kitty_origin_host::wire::DEFAULT_SEARCH_LIMIT;

use crate::args::Cli;
use crate::failure::Failure;
use crate::service::{self, Service};
use crate::streams;
use confirmation::{Decision, Request};
use tokens::{Subject, TOKEN_TTL, Tokens};

/// The tool names.
const SEARCH_TOOL: &str = "search_origin_candidates";
const START_TOOL: &str = "start_mission_from_ticket";
const BIND_TOOL: &str = "bind_mission_origin";

/// The mission type a start uses unless told.
const DEFAULT_MISSION_TYPE: &str = "software-dev";

/// How long calls still running may finish once stdin closed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What the server tells the agent when it connects.
const INSTRUCTIONS: &str = "Start Spec Kitty missions from the repo's Jira or Linear tickets. \
    Find the ticket with search_origin_candidates, then call start_mission_from_ticket (a new mission) or \
    bind_mission_origin (an existing mission) with its exact key. The developer always confirms the ticket: \
    through your client's elicitation prompt, or, if your client has none, by you showing them the ticket the \
    first call returns and calling again with its confirmation_token once they agree. Errors carry \
    error.code, error.message (what to do next) and error.user_action_required.";

/// `search_origin_candidates`' arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct SearchParams {
    /// Free-text query over the tickets' titles and text, e.g. "Clerk auth".
    #[serde(default)]
    pub query_text: Option<String>,
    /// Exact ticket key, e.g. "WEB-123" (case-insensitive); wins over query_text. Give one of the two.
    #[serde(default)]
    pub query_key: Option<String>,
    /// Most candidates to return, 1 to 100.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u32,
}

fn default_limit() -> u32 {
    DEFAULT_SEARCH_LIMIT
}

/// `start_mission_from_ticket`'s arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct StartParams {
    /// The exact key of the ticket to start from, e.g. "WEB-123" (from search_origin_candidates).
    pub ticket_key: String,
    /// The Spec Kitty mission type, e.g. software-dev (the default) or research.
    #[serde(default = "default_mission_type")]
    pub mission_type: String,
    /// A git branch to create (or switch to) and plan the mission on, as Spec Kitty's --start-branch; needed on main.
    #[serde(default)]
    pub start_branch: Option<String>,
    /// Only without elicitation: the token a first call returned, passed once the developer saw that ticket and agreed.
    #[serde(default)]
    pub confirmation_token: Option<String>,
}

fn default_mission_type() -> String {
    DEFAULT_MISSION_TYPE.to_string()
}

/// `bind_mission_origin`'s arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct BindParams {
    /// The mission directory, kitty-specs/<slug>-<mid8>: relative to the repo, or absolute.
    pub mission: String,
    /// The exact key of the ticket to bind, e.g. "WEB-123" (from search_origin_candidates).
    pub ticket_key: String,
    /// Only without elicitation: the token a first call returned, passed once the developer saw that ticket and agreed.
    #[serde(default)]
    pub confirmation_token: Option<String>,
}

/// A ticket found by its key, after the developer was asked.
enum Ticket {
    /// Confirmed: go ahead.
    Confirmed(OriginCandidate, Routing),
    /// Not yet: the pending result (a confirmation token) to return.
    Pending(Value),
}

/// The MCP server of one repo.
#[derive(Clone)]
pub struct OriginServer {
    repo: PathBuf,
    component: Option<PathBuf>,
    /// Loaded on the first call, so a configuration problem reaches the agent as a tool error.
    service: Arc<OnceCell<Arc<Service>>>,
    tokens: Arc<Tokens>,
}

/// A tool's result: its JSON as `structuredContent`, or the `--json` error shape with `isError`.
fn tool_result(outcome: Result<Value, Failure>) -> CallToolResult {
    match outcome {
        Ok(value) => CallToolResult::structured(value),
        Err(failure) => {
            streams::warn(&format!("kitty-origin mcp: {}: {}", failure.code, failure.message));
            CallToolResult::structured_error(failure.json())
        }
    }
}

/// `path`, canonical when it exists (what a confirmation token is bound to).
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Runs blocking host work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, Failure> + Send + 'static) -> Result<T, Failure> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|err| {
        Err(Failure::new(
            "internal_error",
            format!(
                "The call stopped unexpectedly ({err}); it may have been partly done. Check the repo, retry, and report it if it persists."
            ),
            false,
        ))
    })
}

impl OriginServer {
    /// A server for `repo`, running `component` (default: as the command line finds it).
    pub fn new(repo: PathBuf, component: Option<PathBuf>) -> Self {
        Self { repo, component, service: Arc::new(OnceCell::new()), tokens: Arc::new(Tokens::new(TOKEN_TTL)) }
    }

    /// The service, loaded once.
    async fn service(&self) -> Result<Arc<Service>, Failure> {
        let component = self.component.clone();
        self.service.get_or_try_init(|| blocking(move || Service::open(component.as_deref()).map(Arc::new))).await.cloned()
    }

    /// Runs `work` on the service, off the async threads.
    async fn on_service<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Service) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        let service = self.service().await?;
        blocking(move || work(&service)).await
    }

    /// The part start and bind share: redeem the token the agent passed,
    /// recover what crashed calls left in `search_repo`, find the ticket by
    /// its exact key there, have the developer confirm it.
    async fn confirmed_ticket(
        &self,
        peer: &Peer<RoleServer>,
        subject: Subject,
        search_repo: PathBuf,
        token: Option<&str>,
        question: String,
    ) -> Result<Ticket, Failure> {
        let redeemed = token.map(|t| self.tokens.redeem(t, &subject, Instant::now())).transpose()?;
        let key = subject.ticket_key.clone();
        let (candidate, routing) = self
            .on_service(move |s| {
                // Recovery first, as before every command of the command line.
                s.recover(&search_repo);
                s.exact_ticket(&search_repo, &key)
            })
            .await?;
        let subject = Subject { ticket_key: candidate.external_issue_key.clone(), ..subject };
        match confirmation::confirm(peer, &self.tokens, Request { subject, candidate: &candidate, question }, redeemed).await? {
            Decision::Confirmed => Ok(Ticket::Confirmed(candidate, routing)),
            Decision::Pending(value) => Ok(Ticket::Pending(value)),
        }
    }

    /// `start_mission_from_ticket`: preflight, the confirmed ticket, the start.
    async fn start(&self, peer: Peer<RoleServer>, params: StartParams) -> Result<Value, Failure> {
        let repo = self.repo.clone();
        let branch = params.start_branch.clone();
        // Spec Kitty's git preflight first, as the command line's start: a refusal sends nothing.
        self.on_service(move |s| Ok(s.runtime().preflight_start(&repo, branch.as_deref())?)).await?;
        let subject = Subject { tool: START_TOOL, target: canonical(&self.repo), ticket_key: params.ticket_key.trim().to_string() };
        let question = format!("Start a Spec Kitty mission in {} from this ticket?", subject.target.display());
        let confirmed = self.confirmed_ticket(&peer, subject, self.repo.clone(), params.confirmation_token.as_deref(), question).await?;
        let (candidate, routing) = match confirmed {
            Ticket::Confirmed(candidate, routing) => (candidate, routing),
            Ticket::Pending(pending) => return Ok(pending),
        };
        let repo = self.repo.clone();
        self.on_service(move |s| {
            s.start_confirmed(&repo, &candidate, &routing, &params.mission_type, params.start_branch.as_deref()).map(|o| o.json)
        })
        .await
    }

    /// `bind_mission_origin`: the confirmed ticket (searched in the mission's repo), the bind.
    async fn bind(&self, peer: Peer<RoleServer>, params: BindParams) -> Result<Value, Failure> {
        let (repo, mission) = repo_root_for_mission(&service::mission_path(&self.repo, Path::new(&params.mission)))?;
        let subject = Subject { tool: BIND_TOOL, target: mission.clone(), ticket_key: params.ticket_key.trim().to_string() };
        let question = format!("Bind this ticket as the origin of the Spec Kitty mission {}?", mission.display());
        let confirmed = self.confirmed_ticket(&peer, subject, repo, params.confirmation_token.as_deref(), question).await?;
        let (candidate, routing) = match confirmed {
            Ticket::Confirmed(candidate, routing) => (candidate, routing),
            Ticket::Pending(pending) => return Ok(pending),
        };
        self.on_service(move |s| s.bind_confirmed(&mission, &candidate, &routing).map(|o| o.json)).await
    }
}

#[tool_router]
impl OriginServer {
    /// Searches the repo's bound Jira project or Linear team.
    #[tool(
        name = "search_origin_candidates",
        description = "Search the repo's bound Jira project or Linear team for tickets to start a Spec Kitty mission from. \
            Give query_key (an exact key such as WEB-123; it wins) or query_text (words), and optionally limit (1-100, default 10). \
            Returns the provider, resource_type, resource_id, query_used and candidates (external_issue_id, external_issue_key, \
            title, status, url, match_type exact|text). Reads only; an empty candidates list means no match.",
        annotations(title = "Search tickets", read_only_hint = true, open_world_hint = true)
    )]
    async fn search_origin_candidates(&self, Parameters(params): Parameters<SearchParams>) -> CallToolResult {
        let repo = self.repo.clone();
        tool_result(
            self.on_service(move |s| {
                s.recover(&repo);
                s.search(&repo, params.query_text.as_deref(), params.query_key.as_deref(), params.limit).map(|o| o.json)
            })
            .await,
        )
    }

    /// Starts a mission from a ticket the developer confirms.
    #[tool(
        name = "start_mission_from_ticket",
        description = "Create a Spec Kitty mission (kitty-specs/<slug>-<mid8>) from the ticket with this exact key and bind the \
            ticket as its origin. The developer must confirm the ticket first: if your client supports elicitation they are asked \
            directly; otherwise the first call writes nothing and returns confirmation_required, a confirmation_token and the ticket; \
            show the ticket to the developer and, only once they agree, call again with the same arguments plus confirmation_token. \
            On success returns feature_dir, feature_slug, origin_ticket, event_emitted and git (branch, commits). On a protected \
            branch (main) pass start_branch.",
        annotations(title = "Start a mission from a ticket", read_only_hint = false, destructive_hint = false, open_world_hint = true)
    )]
    async fn start_mission_from_ticket(&self, peer: Peer<RoleServer>, Parameters(params): Parameters<StartParams>) -> CallToolResult {
        tool_result(self.start(peer, params).await)
    }

    /// Binds a ticket the developer confirms to an existing mission.
    #[tool(
        name = "bind_mission_origin",
        description = "Record the ticket with this exact key as the origin of an existing Spec Kitty mission (its meta.json and the \
            control plane). mission is the mission directory, relative to the repo or absolute. The developer must confirm the ticket \
            first, as for start_mission_from_ticket (elicitation, or a confirmation_token from a first call that writes nothing). \
            Returns the updated metadata, origin_ticket, event_emitted and git. A mission bound to another ticket is refused \
            (origin_conflict).",
        annotations(title = "Bind a ticket to a mission", read_only_hint = false, destructive_hint = false, open_world_hint = true)
    )]
    async fn bind_mission_origin(&self, peer: Peer<RoleServer>, Parameters(params): Parameters<BindParams>) -> CallToolResult {
        tool_result(self.bind(peer, params).await)
    }
}

#[tool_handler]
impl ServerHandler for OriginServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("kitty-origin", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS);
        info.protocol_version = ProtocolVersion::LATEST_WITH_INITIALIZE;
        info
    }

    /// The revisions with the `initialize` handshake, in which the server
    /// asks the developer through an elicitation request during the call.
    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        std::borrow::Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::LATEST_WITH_INITIALIZE))
    }
}

/// Serves the repo's tools on stdin and stdout until stdin closes.
pub fn serve(cli: &Cli) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|err| {
        Failure::new(
            "mcp_unavailable",
            format!("Could not start the MCP server's runtime ({err}). Retry; report it if it persists."),
            false,
        )
    })?;
    let server = OriginServer::new(cli.repo.clone(), cli.component.clone());
    streams::warn(&format!(
        "kitty-origin mcp: serving {} on stdin/stdout (tools: {SEARCH_TOOL}, {START_TOOL}, {BIND_TOOL})",
        cli.repo.display()
    ));
    let served = runtime.block_on(async move {
        match server.serve(rmcp::transport::stdio()).await {
            Ok(running) => running.waiting().await.map(|_| ()).map_err(|err| err.to_string()),
            // Closed before the handshake: nothing to serve.
            Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => Ok(()),
            Err(err) => Err(err.to_string()),
        }
    });
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    streams::warn("kitty-origin mcp: stdin closed, stopped");
    served.map_err(|err| {
        Failure::new("mcp_failed", format!("The MCP session failed ({err}). Restart the server from your MCP client."), false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_router_serves_exactly_the_three_named_tools() {
        let mut names: Vec<String> = OriginServer::tool_router().list_all().into_iter().map(|tool| tool.name.to_string()).collect();
        names.sort();
        assert_eq!(names, [BIND_TOOL, SEARCH_TOOL, START_TOOL]);
    }

    #[test]
    fn arguments_take_their_defaults() {
        let search: SearchParams = serde_json::from_value(serde_json::json!({"query_text": "x"})).unwrap();
        assert_eq!(search.limit, DEFAULT_SEARCH_LIMIT);
        let start: StartParams = serde_json::from_value(serde_json::json!({"ticket_key": "WEB-1"})).unwrap();
        assert_eq!((start.mission_type.as_str(), start.start_branch, start.confirmation_token), (DEFAULT_MISSION_TYPE, None, None));
    }
}
