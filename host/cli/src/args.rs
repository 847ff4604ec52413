//! The command line's grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use kitty_origin_host::wire::{DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT};

/// Start Spec Kitty missions from Jira or Linear tickets, through the Spec Kitty control plane.
#[derive(Debug, Parser)]
#[command(
    name = "kitty-origin",
    version,
    about = "Start Spec Kitty missions from Jira or Linear tickets, through the Spec Kitty control plane."
)]
pub struct Cli {
    /// The repository (default: the current directory).
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Print the spec's result shapes as JSON on stdout (errors too).
    #[arg(long, global = true)]
    pub json: bool,
    /// The component to run (default: $KITTY_ORIGIN_COMPONENT, else next to this binary).
    #[arg(long, global = true, value_name = "WASM", hide = true)]
    pub component: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Search the repo's bound Jira project or Linear team for tickets.
    Search(SearchArgs),
    /// Start a mission from a ticket you confirm, and bind the ticket as its origin.
    Start(StartArgs),
    /// Bind a ticket you confirm as the origin of an existing mission.
    Bind(BindArgs),
    /// The outbox of MissionOriginBound events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Serve the three service methods to an AI agent as MCP tools, on stdin and stdout
    /// (the developer confirms each ticket through the agent's client).
    Mcp,
    /// Forward a third-party WebAssembly host's requests to the control plane, adding your credentials.
    Proxy(ProxyArgs),
    /// Compile the component for this host and store it beside the `.wasm` (run by `make build`).
    #[command(hide = true)]
    Precompile,
}

/// `proxy`.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Where to listen: a loopback address (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8788", value_name = "ADDR")]
    pub addr: std::net::SocketAddr,
}

/// `search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Free-text query.
    #[arg(long, value_name = "TEXT", value_parser = non_blank)]
    pub text: Option<String>,
    /// Exact ticket key (wins over --text), e.g. WEB-123.
    #[arg(long, value_name = "KEY", value_parser = non_blank)]
    pub key: Option<String>,
    /// Most candidates to return (1-100).
    #[arg(long, default_value_t = DEFAULT_SEARCH_LIMIT, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SEARCH_LIMIT)))]
    pub limit: u32,
}

/// `start`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("query").required(true).args(["key", "text"])))]
pub struct StartArgs {
    /// Exact ticket key, e.g. WEB-123.
    #[arg(long, value_name = "KEY", value_parser = non_blank)]
    pub key: Option<String>,
    /// Free-text query; you pick the ticket from the results.
    #[arg(long, value_name = "TEXT", value_parser = non_blank)]
    pub text: Option<String>,
    /// Confirm without asking (only with --key and an exact match; for scripts).
    #[arg(long)]
    pub yes: bool,
    /// The mission type.
    #[arg(long, default_value = "software-dev", value_name = "TYPE")]
    pub mission_type: String,
    /// Create (or switch to) this branch first and plan the mission there, as
    /// `spec-kitty agent mission create --start-branch` does.
    #[arg(long, value_name = "BRANCH")]
    pub start_branch: Option<String>,
}

/// `bind`.
#[derive(Debug, Args)]
pub struct BindArgs {
    /// The mission directory (kitty-specs/<slug>-<mid8>).
    #[arg(long, value_name = "DIR")]
    pub mission: PathBuf,
    /// Exact ticket key, e.g. WEB-123.
    #[arg(long, value_name = "KEY", value_parser = non_blank)]
    pub key: String,
    /// Confirm without asking (only for an exact match; for scripts).
    #[arg(long)]
    pub yes: bool,
}

/// `events`.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List the events in the outbox: waiting ones, and dead letters with the control plane's reason.
    List,
    /// Deliver the waiting events now, and those the WASI-only build queued in
    /// --repo (.kittify/origin-events/queue.jsonl); exit 1 when any remain undelivered.
    Flush {
        /// Also retry the dead letters (events the control plane rejected).
        #[arg(long)]
        include_rejected: bool,
    },
}

/// A value that is not empty or only whitespace.
fn non_blank(value: &str) -> Result<String, String> {
    if value.trim().is_empty() { Err("must not be empty".into()) } else { Ok(value.to_string()) }
}
