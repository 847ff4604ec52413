//! `kitty-origin`: start Spec Kitty missions from Jira or Linear tickets.

mod args;
mod commands;
mod confirm;
mod failure;
mod mcp;
mod name_services;
mod output;
mod service;
mod streams;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ContextKind;

use args::{Cli, Command};
use failure::Failure;

/// The `--json` usage error of a command line clap refused: its kind and
/// the argument and value it names, from clap's structured context.
fn usage_failure(err: &clap::Error) -> Failure {
    let mut message = err.kind().as_str().unwrap_or("invalid command line").to_string();
    let named = [ContextKind::InvalidArg, ContextKind::InvalidSubcommand, ContextKind::InvalidValue]
        .into_iter()
        .filter_map(|kind| err.get(kind).map(ToString::to_string))
        .filter(|value| !value.is_empty())
        .collect::<Vec<_>>();
    if !named.is_empty() {
        message.push_str(&format!(": {}", named.join(" ")));
    }
    Failure::usage("usage", format!("{message}. Run kitty-origin --help for the usage."))
}

/// `mcp`: stdout carries MCP only, so a failure to serve goes to stderr alone.
fn serve_mcp(cli: &Cli) -> ExitCode {
    match mcp::serve(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            streams::warn(&format!("kitty-origin: {}", failure.message));
            ExitCode::from(failure.exit)
        }
    }
}

fn main() -> ExitCode {
    name_services::pin_builtin();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let wants_json = std::env::args_os().any(|a| a == "--json");
            if wants_json && err.use_stderr() {
                return report(&usage_failure(&err), true);
            }
            err.exit();
        }
    };
    let outcome = match &cli.command {
        Command::Search(args) => commands::search(&cli, args),
        Command::Start(args) => commands::start(&cli, args),
        Command::Bind(args) => commands::bind(&cli, args),
        Command::Events(command) => commands::events(&cli, command),
        Command::Proxy(args) => commands::proxy(&cli, args),
        Command::Precompile => commands::precompile(&cli),
        Command::Mcp => return serve_mcp(&cli),
    };
    match outcome {
        Ok(output) => {
            let text = if cli.json { format!("{}\n", serde_json::to_string_pretty(&output.json).unwrap_or_default()) } else { output.text };
            match streams::say(&text) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    streams::warn(&format!(
                        "kitty-origin: the command succeeded, but its output could not be written to stdout ({e}); \
                         free the space or fix the redirection, then run `kitty-origin events list` or look in kitty-specs/ for what it did."
                    ));
                    ExitCode::FAILURE
                }
            }
        }
        Err(failure) => report(&failure, cli.json),
    }
}

/// A failure: its JSON on stdout with `--json`, its message on stderr, its exit status.
fn report(failure: &Failure, json: bool) -> ExitCode {
    if json {
        // The failure's own status stands, whether or not stdout still takes it.
        let _ = streams::say(&format!("{}\n", failure.json()));
    }
    streams::warn(&format!("kitty-origin: {}", output::clean(&failure.message)));
    ExitCode::from(failure.exit)
}
