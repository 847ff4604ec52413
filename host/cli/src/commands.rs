//! What each subcommand does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use kitty_origin_host::egress::NetworkUpstream;
use kitty_origin_host::mission_git::GitSteps;
use kitty_origin_host::outbox::Outbox;
use kitty_origin_host::proxy::{Proxy, ProxyLimits};
use kitty_origin_host::recovery::{RecoveryReport, needs_recovery};
use kitty_origin_host::repo_queue;
use kitty_origin_host::repo_root::repo_root_for_mission;
use kitty_origin_host::types::{Delivery, MissionFromTicketResult, OriginCandidate, OriginTicket, Routing};
use kitty_origin_host::wire::DEFAULT_SEARCH_LIMIT;
use kitty_origin_host::{Capabilities, Runtime, SaasAccess, SpecTemplates, state_dir};

use crate::args::{BindArgs, Cli, EventsCommand, ProxyArgs, SearchArgs, StartArgs};
use crate::confirm::{self, Mode};
use crate::failure::Failure;
use crate::output::{self, CommandOutput};

/// The component's file name.
const COMPONENT_FILE: &str = "spec_kitty_origin.wasm";
/// Names the component to run.
const COMPONENT_VAR: &str = "KITTY_ORIGIN_COMPONENT";

/// Where the component is: `--component`, `$KITTY_ORIGIN_COMPONENT`, next to
/// the binary, or in the build tree beside it (`<target>/wasm32-wasip2/release`,
/// wherever `CARGO_TARGET_DIR` put `<target>`).
fn component_path(cli: &Cli) -> PathBuf {
    if let Some(path) = cli.component.clone().or_else(|| std::env::var_os(COMPONENT_VAR).map(PathBuf::from)) {
        return path;
    }
    let exe_dir = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)).unwrap_or_default();
    let beside = exe_dir.join(COMPONENT_FILE);
    if beside.is_file() {
        return beside;
    }
    exe_dir.join("../wasm32-wasip2/release").join(COMPONENT_FILE)
}

fn saas_access() -> Result<SaasAccess, Failure> {
    SaasAccess::from_env(&state_dir()).map_err(|m| Failure::new("invalid_configuration", format!("{m}."), true))
}

fn open_outbox(saas: SaasAccess) -> Result<Arc<Outbox>, Failure> {
    Outbox::open(&state_dir(), saas).map(Arc::new).map_err(|m| Failure::new("outbox_unavailable", m, false))
}

/// The runtime with the real network, the outbox and the state directory's cache.
fn runtime(cli: &Cli) -> Result<(Runtime, Arc<Outbox>), Failure> {
    let saas = saas_access()?;
    let outbox = open_outbox(saas.clone())?;
    let capabilities = Capabilities {
        saas,
        upstream: Arc::new(NetworkUpstream),
        events: outbox.clone(),
        egress_limits: Default::default(),
        call_limits: Default::default(),
        git: true,
        spec_templates: SpecTemplates::Installed,
    };
    let runtime = Runtime::new(&component_path(cli), Some(&state_dir().join("cache")), capabilities)?;
    report_recovery(&runtime.recover(&cli.repo));
    Ok((runtime, outbox))
}

/// Tells the developer on stderr what a recovery after a crash did.
fn report_recovery(report: &RecoveryReport) {
    for mission in &report.completed {
        eprintln!("kitty-origin: completed the interrupted origin bind of mission {mission}.");
    }
    for (mission, why) in &report.postponed {
        eprintln!("kitty-origin: the interrupted origin bind of mission {mission} is still pending: {}", output::clean(why));
    }
}

/// `search`.
pub fn search(cli: &Cli, args: &SearchArgs) -> Result<CommandOutput, Failure> {
    let (runtime, _) = runtime(cli)?;
    let result = runtime.search_origin_candidates(&cli.repo, args.text.as_deref(), args.key.as_deref(), args.limit)?;
    Ok(CommandOutput::new(&result, output::search_text(&result)))
}

/// Searches and has the developer confirm one candidate; returns it with its routing context.
fn confirmed(
    runtime: &Runtime,
    repo: &Path,
    key: Option<&str>,
    text: Option<&str>,
    yes: bool,
) -> Result<(OriginCandidate, Routing), Failure> {
    let found = runtime.search_origin_candidates(repo, text, key, DEFAULT_SEARCH_LIMIT)?;
    let mode = if yes { Mode::PreConfirmedKey } else { Mode::Ask };
    let chosen = confirm::confirm(&found.candidates, key, mode)?;
    Ok((chosen, Routing { provider: found.provider, resource_type: found.resource_type, resource_id: found.resource_id }))
}

/// `start`.
pub fn start(cli: &Cli, args: &StartArgs) -> Result<CommandOutput, Failure> {
    if args.yes && args.key.is_none() {
        return Err(Failure::usage(
            "usage",
            "--yes confirms only an exact --key match; with --text, run in a terminal and pick the ticket. Run kitty-origin --help for the usage.",
        ));
    }
    let (runtime, outbox) = runtime(cli)?;
    // Spec Kitty's git preflight first: a refusal sends nothing.
    runtime.preflight_start(&cli.repo, args.start_branch.as_deref())?;
    let (candidate, routing) = confirmed(&runtime, &cli.repo, args.key.as_deref(), args.text.as_deref(), args.yes)?;
    let started = runtime.start_mission_from_ticket(
        &cli.repo,
        &candidate,
        &routing.provider,
        &routing.resource_type,
        &routing.resource_id,
        &args.mission_type,
        args.start_branch.as_deref(),
    )?;
    let mission = &started.result;
    let text = format!(
        "Mission {} created at {}\n{}{}{}{}",
        mission.feature_slug,
        mission.feature_dir,
        output::ticket_text(&mission.origin_ticket),
        output::event_text(mission.event_delivery, outbox.len().unwrap_or(0)),
        output::spec_text(Path::new(&mission.feature_dir)),
        output::git_text(&started.git),
    );
    Ok(CommandOutput::new(&StartOutput { mission, git: &started.git }, text))
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

/// `bind`.
pub fn bind(cli: &Cli, args: &BindArgs) -> Result<CommandOutput, Failure> {
    let (runtime, outbox) = runtime(cli)?;
    let mission = if args.mission.is_absolute() { args.mission.clone() } else { cli.repo.join(&args.mission) };
    let (repo, _) = repo_root_for_mission(&mission)?;
    let (candidate, routing) = confirmed(&runtime, &repo, Some(&args.key), None, args.yes)?;
    let bound = runtime.bind_mission_origin(&mission, &candidate, &routing.provider, &routing.resource_type, &routing.resource_id)?;
    let result = &bound.result;
    let text = format!(
        "Mission {} bound.\n{}{}{}",
        mission.display(),
        output::ticket_text(&result.origin_ticket),
        output::event_text(result.event_delivery, outbox.len().unwrap_or(0)),
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

/// `events list` and `events flush`.
pub fn events(cli: &Cli, command: &EventsCommand) -> Result<CommandOutput, Failure> {
    let json_mode = cli.json;
    if needs_recovery(&cli.repo) {
        // Completing an interrupted bind queues its events: recover first.
        runtime(cli)?;
    }
    let outbox = open_outbox(saas_access()?)?;
    match command {
        EventsCommand::List => {
            let events = outbox.pending().map_err(|m| Failure::new("outbox_unavailable", m, false))?;
            let mut text = format!("{} event(s) in {}\n", events.len(), outbox.path().display());
            for q in &events {
                text.push_str(&output::queued_text(q));
            }
            Ok(CommandOutput::new(&serde_json::json!({ "events": events }), text))
        }
        EventsCommand::Flush { include_rejected } => {
            let mut progress = |done: usize, total: usize| {
                if total > 0 && !json_mode {
                    eprintln!("delivered {done}/{total} event(s)");
                }
            };
            // The outbox, with what the WASI-only build queued in the repo.
            let (queue, report) = repo_queue::flush(&outbox, &cli.repo, *include_rejected, &mut progress).map_err(|m| {
                Failure::new(
                    "control_plane_unreachable",
                    format!("Could not deliver the outbox: {m}. Retry `kitty-origin events flush` when the control plane is reachable."),
                    false,
                )
            })?;
            let queue_text = queue.as_ref().map(output::repo_queue_text).unwrap_or_default();
            if report.remaining > 0 || report.dead > 0 || queue.as_ref().is_some_and(|q| q.remaining > 0) {
                return Err(Failure::new(
                    "events_undelivered",
                    format!(
                        "{} event(s) delivered; {} still waiting and {} rejected by the control plane (dead letters). {queue_text}\
                         See `kitty-origin events list` for the reasons; retry with `kitty-origin events flush --include-rejected`.",
                        report.delivered, report.remaining, report.dead
                    ),
                    true,
                ));
            }
            let text = format!("{} event(s) delivered, 0 waiting.\n{queue_text}", report.delivered);
            let mut json = serde_json::to_value(report).unwrap_or_default();
            if let Some(queue) = &queue {
                json["repo_queue"] = serde_json::to_value(queue).unwrap_or_default();
            }
            Ok(CommandOutput::new(&json, text))
        }
    }
}

/// `proxy`: serves until stopped; tells, before it serves, the URL to give a
/// third-party host.
pub fn proxy(cli: &Cli, args: &ProxyArgs) -> Result<CommandOutput, Failure> {
    let saas = saas_access()?;
    let proxy = Proxy::start(args.addr, &saas, ProxyLimits::default()).map_err(|m| Failure::new("proxy_failed", m, true))?;
    let url = proxy.url();
    let mut out = std::io::stdout();
    let said = if cli.json {
        writeln!(out, "{}", serde_json::json!({"saas_url": url, "forwards_to": proxy.origin().base_url()}))
    } else {
        writeln!(
            out,
            "kitty-origin proxy: forwarding {url} to {} with your credentials (Ctrl-C stops it).\n\
             Give the WebAssembly host this URL, and grant its network access to {}:\n\
             export SPEC_KITTY_SAAS_URL={url}",
            proxy.origin().base_url(),
            args.addr.ip(),
        )
    };
    said.and_then(|()| out.flush())
        .map_err(|e| Failure::new("proxy_failed", format!("cannot write to stdout ({e}); run the proxy with stdout open."), false))?;
    proxy.wait();
    Ok(CommandOutput::new(&serde_json::json!({"stopped": url}), String::new()))
}
