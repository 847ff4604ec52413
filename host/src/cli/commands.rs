//! What each subcommand does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};

use kitty_origin_host::devsaas::{DevSaas, DevSaasConfig, Faults, Fixtures};
use kitty_origin_host::egress::NetworkUpstream;
use kitty_origin_host::outbox::Outbox;
use kitty_origin_host::types::OriginCandidate;
use kitty_origin_host::{Capabilities, Runtime, SaasAccess, state_dir};

use super::args::{BindArgs, Cli, DevSaasArgs, EventsCommand, SearchArgs, StartArgs};
use super::confirm::{self, Mode};
use super::failure::Failure;
use super::output;

/// The component's file name.
const COMPONENT_FILE: &str = "spec_kitty_origin.wasm";
/// Names the component to run.
const COMPONENT_VAR: &str = "KITTY_ORIGIN_COMPONENT";

/// What a command prints on success: JSON for `--json`, text otherwise.
pub struct Printed {
    /// The `--json` shape.
    pub json: Value,
    /// The text.
    pub text: String,
}

/// Where the component is: `--component`, `$KITTY_ORIGIN_COMPONENT`, next to
/// the binary, or in the build tree beside it (`target/wasm32-wasip2/release`).
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
    };
    let runtime = Runtime::new(&component_path(cli), Some(&state_dir().join("cache")), capabilities)?;
    Ok((runtime, outbox))
}

/// `search`.
pub fn search(cli: &Cli, args: &SearchArgs) -> Result<Printed, Failure> {
    let (runtime, _) = runtime(cli)?;
    let result = runtime.search_origin_candidates(&cli.repo, args.text.as_deref(), args.key.as_deref(), args.limit)?;
    Ok(Printed { json: output::search_json(&result), text: output::search_text(&result) })
}

/// Searches and has the developer confirm one candidate; returns it with its routing context.
fn confirmed(runtime: &Runtime, repo: &Path, key: Option<&str>, text: Option<&str>, yes: bool) -> Result<(OriginCandidate, [String; 3]), Failure> {
    let found = runtime.search_origin_candidates(repo, text, key, 10)?;
    let mode = if yes { Mode::PreConfirmedKey } else { Mode::Ask };
    let chosen = confirm::confirm(&found.candidates, key, mode)?;
    Ok((chosen, [found.provider, found.resource_type, found.resource_id]))
}

/// `start`.
pub fn start(cli: &Cli, args: &StartArgs) -> Result<Printed, Failure> {
    if args.yes && args.key.is_none() {
        return Err(Failure::usage(
            "usage",
            "--yes confirms only an exact --key match; with --text, run in a terminal and pick the ticket. Run kitty-origin --help for the usage.",
        ));
    }
    let (runtime, outbox) = runtime(cli)?;
    let (candidate, [provider, resource_type, resource_id]) =
        confirmed(&runtime, &cli.repo, args.key.as_deref(), args.text.as_deref(), args.yes)?;
    let result = runtime.start_mission_from_ticket(&cli.repo, &candidate, &provider, &resource_type, &resource_id, &args.mission_type)?;
    let text = format!(
        "Mission {} created at {}\n{}{}",
        result.feature_slug,
        result.feature_dir,
        output::ticket_text(&result.origin_ticket),
        output::event_text(result.event_emitted, outbox.len().unwrap_or(0))
    );
    Ok(Printed { json: output::start_json(&result), text })
}

/// `bind`.
pub fn bind(cli: &Cli, args: &BindArgs) -> Result<Printed, Failure> {
    let (runtime, outbox) = runtime(cli)?;
    let mission = if args.mission.is_absolute() { args.mission.clone() } else { cli.repo.join(&args.mission) };
    let repo = kitty_origin_host::runtime::repo_root_for(&mission);
    let (candidate, [provider, resource_type, resource_id]) = confirmed(&runtime, &repo, Some(&args.key), None, args.yes)?;
    let result = runtime.bind_mission_origin(&mission, &candidate, &provider, &resource_type, &resource_id)?;
    let metadata: Value = serde_json::from_str(&result.metadata_json).unwrap_or(Value::Null);
    let text = format!(
        "Mission {} bound.\n{}{}",
        mission.display(),
        output::ticket_text(&result.origin_ticket),
        output::event_text(result.event_emitted, outbox.len().unwrap_or(0))
    );
    let json = json!({"metadata": metadata, "origin_ticket": output::ticket_json(&result.origin_ticket), "event_emitted": result.event_emitted});
    Ok(Printed { json, text })
}

/// `events list` and `events flush`.
pub fn events(command: &EventsCommand, json_mode: bool) -> Result<Printed, Failure> {
    let outbox = open_outbox(saas_access()?)?;
    match command {
        EventsCommand::List => {
            let waiting = outbox.pending().map_err(|m| Failure::new("outbox_unavailable", m, false))?;
            let mut text = format!("{} event(s) wait in {}\n", waiting.len(), outbox.path().display());
            for q in &waiting {
                let e = &q.envelope;
                text.push_str(&format!(
                    "  #{} {} {} {} attempts={}{}\n",
                    q.seq,
                    e["event_id"].as_str().unwrap_or("?"),
                    e["event_type"].as_str().unwrap_or("?"),
                    e["payload"]["external_issue_key"].as_str().unwrap_or(""),
                    q.attempts,
                    q.last_error.as_ref().map(|m| format!(" last_error={m:?}")).unwrap_or_default()
                ));
            }
            let events: Vec<Value> = waiting
                .iter()
                .map(|q| json!({"seq": q.seq, "envelope": q.envelope, "attempts": q.attempts, "last_error": q.last_error}))
                .collect();
            Ok(Printed { json: json!({"events": events}), text })
        }
        EventsCommand::Flush => {
            let mut progress = |done: usize, total: usize| {
                if total > 0 && !json_mode {
                    eprintln!("delivered {done}/{total} event(s)");
                }
            };
            let report = outbox.flush(&mut progress).map_err(|m| {
                Failure::new("control_plane_unreachable", format!("Could not deliver the outbox: {m}. Retry `kitty-origin events flush` when the control plane is reachable."), false)
            })?;
            let text = format!("{} event(s) delivered, {} waiting.\n", report.delivered, report.remaining);
            Ok(Printed { json: json!({"delivered": report.delivered, "remaining": report.remaining}), text })
        }
    }
}

/// `dev-saas`: serves until the process is stopped.
pub fn dev_saas(args: &DevSaasArgs) -> Result<Printed, Failure> {
    let fixtures = match &args.fixtures {
        Some(path) => Fixtures::load(path).map_err(|m| Failure::usage("invalid_fixtures", m))?,
        None => Fixtures::built_in(),
    };
    let token = args.token.clone().unwrap_or_else(|| format!("dev-{}", ulid::Ulid::new().to_string().to_lowercase()));
    let faults = Faults {
        search: args.fail_search,
        bind: args.fail_bind,
        events: args.fail_events,
        times: args.fail_times,
        retry_after: args.retry_after,
        delay: std::time::Duration::from_millis(args.delay_ms),
    };
    let config = DevSaasConfig { token: token.clone(), team_slug: args.team.clone(), fixtures, faults };
    let server = DevSaas::start(args.addr, config)
        .map_err(|e| Failure::new("address_unavailable", format!("Cannot listen on {}: {e}. Pick another --addr.", args.addr), true))?;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "dev-saas: the Spec Kitty control plane stand-in is listening on {}", server.url());
    let _ = writeln!(out, "export SPEC_KITTY_SAAS_URL={}", server.url());
    let _ = writeln!(out, "export SPEC_KITTY_TOKEN={token}");
    let _ = writeln!(out, "export SPEC_KITTY_TEAM_SLUG={}", args.team);
    let _ = out.flush();
    server.wait();
    Ok(Printed { json: Value::Null, text: String::new() })
}
