//! What each subcommand does.

use std::path::Path;

use kitty_origin_host::recovery::needs_recovery;
use kitty_origin_host::repo_root::repo_root_for_mission;
use kitty_origin_host::types::{OriginCandidate, Routing};
use kitty_origin_host::wire::DEFAULT_SEARCH_LIMIT;

use crate::args::{BindArgs, Cli, EventsCommand, SearchArgs, StartArgs};
use crate::confirm::{self, Mode};
use crate::failure::Failure;
use crate::output::{self, CommandOutput};
use crate::service::{self, Service};

/// The service for this command, after recovering what crashed calls left in the repo.
fn open_service(cli: &Cli) -> Result<Service, Failure> {
    let service = Service::open(cli.component.as_deref())?;
    service.recover(&cli.repo);
    Ok(service)
}

/// `search`.
pub fn search(cli: &Cli, args: &SearchArgs) -> Result<CommandOutput, Failure> {
    open_service(cli)?.search(&cli.repo, args.text.as_deref(), args.key.as_deref(), args.limit)
}

/// Searches and has the developer confirm one candidate; returns it with its routing context.
fn confirmed(
    service: &Service,
    repo: &Path,
    key: Option<&str>,
    text: Option<&str>,
    yes: bool,
) -> Result<(OriginCandidate, Routing), Failure> {
    let found = service.runtime().search_origin_candidates(repo, text, key, DEFAULT_SEARCH_LIMIT)?;
    let mode = if yes { Mode::PreConfirmedKey } else { Mode::Ask };
    let chosen = confirm::confirm(&found.candidates, key, mode)?;
    Ok((chosen, service::routing(&found)))
}

/// `start`.
pub fn start(cli: &Cli, args: &StartArgs) -> Result<CommandOutput, Failure> {
    if args.yes && args.key.is_none() {
        return Err(Failure::usage(
            "usage",
            "--yes confirms only an exact --key match; with --text, run in a terminal and pick the ticket. Run kitty-origin --help for the usage.",
        ));
    }
    let service = open_service(cli)?;
    // Spec Kitty's git preflight first: a refusal sends nothing.
    service.runtime().preflight_start(&cli.repo, args.start_branch.as_deref())?;
    let (candidate, routing) = confirmed(&service, &cli.repo, args.key.as_deref(), args.text.as_deref(), args.yes)?;
    service.start_confirmed(&cli.repo, &candidate, &routing, &args.mission_type, args.start_branch.as_deref())
}

/// `bind`.
pub fn bind(cli: &Cli, args: &BindArgs) -> Result<CommandOutput, Failure> {
    let service = open_service(cli)?;
    let mission = service::mission_path(&cli.repo, &args.mission);
    let (repo, _) = repo_root_for_mission(&mission)?;
    let (candidate, routing) = confirmed(&service, &repo, Some(&args.key), None, args.yes)?;
    service.bind_confirmed(&mission, &candidate, &routing)
}

/// `events list` and `events flush`.
pub fn events(cli: &Cli, command: &EventsCommand) -> Result<CommandOutput, Failure> {
    let json_mode = cli.json;
    if needs_recovery(&cli.repo) {
        // Completing an interrupted bind queues its events: recover first.
        open_service(cli)?;
    }
    let outbox = service::open_outbox(service::saas_access()?)?;
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
            let report = outbox.flush(*include_rejected, &mut progress).map_err(|m| {
                Failure::new(
                    "control_plane_unreachable",
                    format!("Could not deliver the outbox: {m}. Retry `kitty-origin events flush` when the control plane is reachable."),
                    false,
                )
            })?;
            if report.remaining > 0 || report.dead > 0 {
                return Err(Failure::new(
                    "events_undelivered",
                    format!(
                        "{} event(s) delivered; {} still waiting and {} rejected by the control plane (dead letters). \
                         See `kitty-origin events list` for the reasons; retry with `kitty-origin events flush --include-rejected`.",
                        report.delivered, report.remaining, report.dead
                    ),
                    true,
                ));
            }
            let text = format!("{} event(s) delivered, 0 waiting.\n", report.delivered);
            Ok(CommandOutput::new(&report, text))
        }
    }
}
