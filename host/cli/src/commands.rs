//! What each subcommand does.

use std::io::Write;
use std::path::Path;

use kitty_origin_host::proxy::{Proxy, ProxyLimits};
use kitty_origin_host::recovery::needs_recovery;
use kitty_origin_host::repo_queue;
use kitty_origin_host::repo_root::repo_root_for_mission;
use kitty_origin_host::types::{OriginCandidate, Routing};
use kitty_origin_host::wire::DEFAULT_SEARCH_LIMIT;

use crate::args::{BindArgs, Cli, EventsCommand, ProxyArgs, SearchArgs, StartArgs};
use crate::confirm::{self, Mode};
use crate::failure::Failure;
use crate::output::{self, CommandOutput};
use crate::service::{self, Service};
use crate::streams;

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
                    streams::warn(&format!("delivered {done}/{total} event(s)"));
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
    let saas = service::saas_access()?;
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

/// `precompile`: the compiled component beside the `.wasm`, for the build.
pub fn precompile(cli: &Cli) -> Result<CommandOutput, Failure> {
    let component = service::component_path(cli.component.as_deref());
    let written = kitty_origin_host::Runtime::precompile(&component)?;
    Ok(CommandOutput::new(&serde_json::json!({"precompiled": written}), format!("Precompiled {}\n", written.display())))
}
